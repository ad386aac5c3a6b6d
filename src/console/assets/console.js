// The hotline supervisor console: the log-in form, and the app (live calls over server-sent
// events, a call's transcript, listen-in and take-over over a WebSocket, guidance, the queue of
// handed-over calls, history, the dashboard, users). Everything the server sends is shown with
// textContent, never as HTML. State for tests and tools is on window.hotlineConsole.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const state = { me: null, calls: new Map(), selected: null, log: null, audio: null, listen: { frames: 0, sumSquares: 0, samples: 0 }, sent: 0 };
  window.hotlineConsole = state;

  async function api(path, options = {}) {
    const headers = { "content-type": "application/json" };
    if (state.me) headers["x-csrf-token"] = state.me.csrf;
    const r = await fetch(path, { credentials: "same-origin", ...options, headers });
    if (r.status === 401 && !$("login")) location.href = "/console/login";
    return r;
  }

  // ----- log-in page -----
  if ($("login")) {
    $("login").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("error").textContent = "";
      const r = await fetch("/console/login", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ user: $("user").value, password: $("password").value }) });
      if (r.ok) { location.href = "/console"; return; }
      const body = await r.json().catch(() => ({}));
      $("error").textContent = body.error || ("log-in failed (" + r.status + ")");
    });
    return;
  }

  // ----- the app -----
  const since = (unix) => { const s = Math.max(0, Math.floor(Date.now() / 1000 - unix)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };

  function tabs() {
    document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
      document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("on", x === b));
      document.querySelectorAll("main section").forEach((s) => s.classList.toggle("on", s.id === b.dataset.tab));
      if (b.dataset.tab === "dashboard") dashboard();
      if (b.dataset.tab === "users") users();
    }));
  }

  function renderCalls() {
    const body = $("calls"); body.replaceChildren();
    const waiting = $("waiting"); waiting.replaceChildren();
    let queued = 0;
    for (const c of state.calls.values()) {
      const tr = el("tr", undefined, "pick" + (c.id === state.selected ? " sel" : ""));
      tr.dataset.id = c.id;
      const stateText = c.person ? c.state + " (" + c.person + ")" : c.state;
      for (const t of [c.id, c.channel, c.caller || c.customer || "unknown", since(c.started), c.wants || "", stateText]) tr.append(el("td", t));
      tr.addEventListener("click", () => select(c.id));
      body.append(tr);
      if (c.state === "waiting for a person") {
        queued += 1;
        const q = el("tr"); q.dataset.id = c.id;
        for (const t of [c.id, c.caller || c.customer || "unknown", since(c.started), c.handover || ""]) q.append(el("td", t));
        const pick = el("button", "Pick up"); pick.className = "pick-up";
        pick.addEventListener("click", async () => { await select(c.id); await takeOver(); document.querySelector('nav button[data-tab="live"]').click(); });
        const td = el("td"); td.append(pick); q.append(td); waiting.append(q);
      }
    }
    $("queue-count").textContent = String(queued);
    $("no-calls").hidden = state.calls.size > 0;
  }

  function live() {
    const source = new EventSource("/console/api/live");
    source.addEventListener("calls", (e) => { state.calls = new Map(JSON.parse(e.data).map((c) => [c.id, c])); renderCalls(); });
    source.addEventListener("update", (e) => { const c = JSON.parse(e.data); delete c.kind; state.calls.set(c.id, c); renderCalls(); });
    source.addEventListener("ended", (e) => { const c = JSON.parse(e.data); state.calls.delete(c.id); renderCalls(); });
    source.addEventListener("reload", () => { source.close(); live(); });
    setInterval(renderCalls, 1000);
  }

  function logLine(entry) {
    switch (entry.kind) {
      case "caller": return el("div", "Caller: " + (entry.dtmf ? "(keys) " : "") + entry.text, "caller");
      case "partial": return el("div", "Caller (hearing): " + entry.text, "partial");
      case "assistant": return el("div", "Assistant" + (entry.filler ? " (filler)" : "") + ": " + entry.text, "assistant");
      case "tool": return el("div", "tool " + entry.name + " " + JSON.stringify(entry.args) + " → " + entry.outcome + (entry.detail ? ": " + entry.detail : ""), "tool");
      case "supervisor": return el("div", "Supervisor " + entry.by + " — " + entry.action + (entry.text ? ": " + entry.text : ""), "supervisor");
      case "latency": {
        const d = el("div", "turn " + entry.turn + ": first audio " + entry.first_audio_ms + " ms, answer " + entry.answer_ms + " ms", "tool");
        const bar = el("span", undefined, "bar" + (entry.filler ? " filler" : "")); bar.style.width = Math.min(400, entry.answer_ms / 10) + "px";
        d.append(bar); return d;
      }
      case "verified": return el("div", "verified as " + entry.customer, "tool");
      case "transferred": return el("div", entry.waiting ? "handed over: waiting for a person" : "handed over", "supervisor");
      case "barge-in": return el("div", "caller interrupted", "tool");
      case "error": return el("div", "error: " + entry.detail, "error");
      case "ended": return el("div", "call ended: " + entry.how, "tool");
      default: return null;
    }
  }

  async function select(id) {
    if (state.selected === id) return;
    stopAudio();
    if (state.log) state.log.close();
    state.selected = id;
    $("call").hidden = false;
    $("call-title").textContent = "Call " + id;
    $("log").replaceChildren();
    $("hand-back").disabled = true; $("take-over").disabled = false;
    const source = new EventSource("/console/api/calls/" + encodeURIComponent(id) + "/log");
    state.log = source;
    let partial = null;
    source.onmessage = (e) => {
      const entry = JSON.parse(e.data);
      const line = logLine(entry);
      if (!line) return;
      if (partial) { partial.remove(); partial = null; }
      $("log").append(line);
      if (entry.kind === "partial") partial = line;
      $("log").scrollTop = $("log").scrollHeight;
      if (entry.kind === "ended") source.close();
    };
    renderCalls();
  }

  async function act(action, text) {
    if (!state.selected) return false;
    const r = await api("/console/api/calls/" + encodeURIComponent(state.selected) + "/" + action,
      { method: "POST", body: text === undefined ? "" : JSON.stringify({ text }) });
    if (!r.ok) { const b = await r.json().catch(() => ({})); $("audio-state").textContent = b.error || ("refused: " + r.status); }
    return r.ok;
  }

  // Listen-in (and, once taken over, the microphone) on one WebSocket. Audio goes both ways
  // at the call's rate; the browser's own rate is converted here.
  async function startAudio(withMic) {
    if (state.audio && (!withMic || state.audio.mic)) return;
    if (state.audio && withMic) { await startMic(state.audio); return; }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/console/api/calls/" + encodeURIComponent(state.selected) + "/audio");
    ws.binaryType = "arraybuffer";
    const audio = { ws, ctx: new AudioContext(), rate: 0, next: 0, mic: null, wantMic: withMic };
    state.audio = audio;
    ws.onmessage = async (e) => {
      if (typeof e.data === "string") {
        audio.rate = JSON.parse(e.data).rate;
        $("audio-state").textContent = "listening";
        if (audio.wantMic) await startMic(audio);
        return;
      }
      if (!audio.rate) return;
      const pcm = new Int16Array(e.data);
      if (pcm.length === 0) return;
      const buffer = audio.ctx.createBuffer(1, pcm.length, audio.rate);
      const ch = buffer.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) { ch[i] = pcm[i] / 32768; state.listen.sumSquares += ch[i] * ch[i]; }
      state.listen.frames += 1; state.listen.samples += pcm.length;
      const src = audio.ctx.createBufferSource(); src.buffer = buffer; src.connect(audio.ctx.destination);
      const now = audio.ctx.currentTime;
      if (audio.next < now || audio.next > now + 0.5) audio.next = now + 0.06;
      src.start(audio.next); audio.next += buffer.duration;
    };
    ws.onclose = () => { if (state.audio === audio) { state.audio = null; $("audio-state").textContent = ""; audio.ctx.close(); } };
  }

  async function startMic(audio) {
    if (audio.mic) return;
    if (!audio.rate) { audio.wantMic = true; return; }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true } });
    const source = audio.ctx.createMediaStreamSource(stream);
    const proc = audio.ctx.createScriptProcessor(2048, 1, 1);
    const step = audio.ctx.sampleRate / audio.rate;
    let pos = 0;
    proc.onaudioprocess = (e) => {
      // Linear interpolation from the browser's rate to the call's; `pos` carries over.
      const input = e.inputBuffer.getChannelData(0);
      const out = [];
      for (; pos < input.length - 1; pos += step) {
        const i = Math.max(0, Math.floor(pos)), f = Math.max(0, pos - i);
        out.push(input[i] * (1 - f) + input[i + 1] * f);
      }
      pos -= input.length;
      const pcm = new Int16Array(out.length);
      for (let i = 0; i < out.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(out[i] * 32767)));
      if (audio.ws.readyState === WebSocket.OPEN) { audio.ws.send(pcm.buffer); state.sent += 1; }
    };
    source.connect(proc); proc.connect(audio.ctx.destination);
    audio.mic = { stream, proc };
    $("audio-state").textContent = "on the call (microphone)";
  }

  function stopAudio() {
    const audio = state.audio; state.audio = null;
    if (!audio) return;
    if (audio.mic) { audio.mic.proc.disconnect(); audio.mic.stream.getTracks().forEach((t) => t.stop()); }
    audio.ws.close(); audio.ctx.close();
    $("audio-state").textContent = "";
  }

  async function takeOver() {
    if (await act("take-over")) {
      await startAudio(true);
      $("take-over").disabled = true; $("hand-back").disabled = false;
    }
  }

  function controls() {
    $("listen").addEventListener("click", () => (state.audio ? stopAudio() : startAudio(false)));
    $("take-over").addEventListener("click", takeOver);
    $("hand-back").addEventListener("click", async () => {
      if (await act("hand-back")) {
        if (state.audio && state.audio.mic) { state.audio.mic.proc.disconnect(); state.audio.mic.stream.getTracks().forEach((t) => t.stop()); state.audio.mic = null; }
        $("take-over").disabled = false; $("hand-back").disabled = true; $("audio-state").textContent = state.audio ? "listening" : "";
      }
    });
    $("hang-up").addEventListener("click", () => act("hang-up"));
    for (const action of ["guide", "say"]) {
      $(action).addEventListener("click", async () => {
        const text = $("guidance").value.trim();
        // Cleared once sent, unless something new was typed meanwhile.
        if (text && await act(action, text) && $("guidance").value.trim() === text) $("guidance").value = "";
      });
    }
    $("logout").addEventListener("click", async () => { await api("/console/logout", { method: "POST" }); location.href = "/console/login"; });
    $("search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
    $("add-user").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const r = await api("/console/api/users", { method: "POST", body: JSON.stringify(Object.fromEntries(f)) });
      $("user-error").textContent = r.ok ? "" : ((await r.json().catch(() => ({}))).error || String(r.status));
      if (r.ok) { e.target.reset(); users(); }
    });
  }

  async function search() {
    const q = new URLSearchParams(new FormData($("search")));
    const r = await api("/console/api/history?" + q.toString());
    const body = $("past"); body.replaceChildren();
    if (!r.ok) return;
    for (const c of await r.json()) {
      const tr = el("tr", undefined, "pick");
      for (const t of [c.started, c.channel, c.caller || "", c.customer_id || "", c.outcome || (c.ended ? "" : "in progress")]) tr.append(el("td", t));
      tr.addEventListener("click", () => pastCall(c.id));
      body.append(tr);
    }
  }

  async function pastCall(id) {
    const r = await api("/console/api/history/" + encodeURIComponent(id));
    if (!r.ok) return;
    const d = await r.json();
    $("past-call").hidden = false;
    $("past-title").textContent = "Call " + id + " (" + (d.call.outcome || "in progress") + ")" + (d.survey ? ", survey " + d.survey.score + "/5" : "");
    const audio = $("past-audio");
    audio.hidden = !d.recording;
    if (d.recording) audio.src = "/console/api/history/" + encodeURIComponent(id) + "/recording";
    const log = $("past-log"); log.replaceChildren();
    for (const t of d.turns) log.append(el("div", (t.role === "caller" ? "Caller: " : t.role === "assistant" ? "Assistant: " : "") + t.text + (t.end_to_end_ms != null ? "  [" + t.end_to_end_ms + " ms]" : ""), t.role));
    for (const a of d.tools) log.append(el("div", "tool " + a.tool + " " + a.args + " → " + a.outcome + ": " + a.detail, "tool"));
    for (const n of d.notes) log.append(el("div", "Supervisor " + n.author + " — " + n.kind + (n.text ? ": " + n.text : ""), "supervisor"));
  }

  async function dashboard() {
    const r = await api("/console/api/kpis");
    if (!r.ok) return;
    const { kpis: k, live_calls } = await r.json();
    const pct = (x) => (x == null ? "–" : Math.round(x * 100) + " %");
    const figures = [["Live calls", live_calls], ["Calls (" + k.window_hours + " h)", k.calls], ["Containment", pct(k.containment)],
      ["Transferred", k.transferred], ["Avg handle time", k.average_handle_s == null ? "–" : Math.round(k.average_handle_s) + " s"],
      ["Satisfaction", k.satisfaction == null ? "–" : k.satisfaction.toFixed(1) + " / 5 (" + k.surveys + ")"]];
    $("kpis").replaceChildren(...figures.map(([name, value]) => { const d = el("div", name, "kpi"); d.append(el("b", String(value))); return d; }));
    const max = Math.max(1, ...k.calls_per_hour.map((h) => h[1]));
    $("per-hour").replaceChildren(...k.calls_per_hour.map(([hour, n]) => { const d = el("div"); d.style.height = (100 * n / max) + "%"; d.title = hour + ": " + n; return d; }));
    $("reasons").replaceChildren(...k.transfer_reasons.map(([why, n]) => { const d = el("div", why + ": " + n); const bar = el("span", undefined, "bar"); bar.style.width = (n * 20) + "px"; d.append(bar); return d; }));
    $("latency").replaceChildren(...k.latency.map((s) => { const d = el("div", s.stage + ": " + (s.p50_ms ?? "–") + " / " + (s.p95_ms ?? "–") + " (" + s.turns + " turns)"); const bar = el("span", undefined, "bar"); bar.style.width = Math.min(400, (s.p50_ms || 0) / 5) + "px"; d.append(bar); return d; }));
  }

  async function users() {
    const r = await api("/console/api/users");
    const body = $("user-list"); body.replaceChildren();
    if (!r.ok) return;
    for (const u of await r.json()) {
      const tr = el("tr");
      for (const t of [u.name, u.role, u.created]) tr.append(el("td", t));
      const remove = el("button", "Remove");
      remove.addEventListener("click", async () => { await api("/console/api/users/" + encodeURIComponent(u.name), { method: "DELETE" }); users(); });
      const td = el("td"); if (u.name !== state.me.user) td.append(remove); tr.append(td); body.append(tr);
    }
  }

  (async () => {
    const r = await fetch("/console/api/me", { credentials: "same-origin" });
    if (!r.ok) { location.href = "/console/login"; return; }
    state.me = await r.json();
    $("who").textContent = state.me.user + " (" + state.me.role + ")";
    $("users-tab").hidden = state.me.role !== "admin";
    tabs(); controls(); live(); search();
  })();
})();
