// hotline voice widget: one <script src="https://HOTLINE/widget.js"> on a shop page adds a
// "Talk to us" button. It asks for the microphone, calls the hotline assistant over WebRTC,
// plays its voice, and shows captions of both sides and the call's state. A signed-in
// shopper is passed with data-customer-token="..." (signed by the shop; see the README).
//
// The page can follow the call: window events "hotline:state" {state},
// "hotline:caption" {type, text, partial} and "hotline:track" {stream} (the assistant's audio).
(() => {
  "use strict";
  const script = document.currentScript;
  const base = new URL(script.src, location.href).origin;
  const token = script.dataset.customerToken || "";
  const labels = {
    idle: "",
    connecting: "Connecting…",
    listening: "Listening",
    thinking: "One moment…",
    speaking: "Speaking",
    transferring: "Handing you over to a colleague…",
    colleague: "Talking with a colleague",
    ended: "Call ended",
    error: "",
  };

  const host = document.createElement("div");
  host.id = "hotline-widget";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
<style>
  .panel { position: fixed; right: 1.5rem; bottom: 1.5rem; width: 22rem; max-width: calc(100vw - 3rem);
    font: 15px/1.4 system-ui, sans-serif; color: #222; z-index: 2147483000; }
  .box { background: white; border: 1px solid #ccd; border-radius: .75rem; box-shadow: 0 6px 24px #0003;
    padding: .75rem; margin-bottom: .5rem; }
  .box[hidden] { display: none; }
  button { font: inherit; border: 0; border-radius: 2rem; padding: .7rem 1.3rem; cursor: pointer;
    background: #1f6f43; color: white; float: right; }
  button.live { background: #b3261e; }
  button:disabled { opacity: .6; cursor: wait; }
  .state { font-weight: 600; margin-bottom: .4rem; }
  .state[data-state="speaking"]::before, .state[data-state="listening"]::before { content: "● "; color: #1f6f43; }
  ol { list-style: none; margin: 0; padding: 0; max-height: 16rem; overflow-y: auto; }
  li { margin: .3rem 0; padding: .35rem .55rem; border-radius: .5rem; }
  li.caller { background: #e8f0fe; margin-left: 2rem; }
  li.assistant { background: #f1f3f1; margin-right: 2rem; }
  li.partial { opacity: .6; }
  .error { color: #b3261e; }
</style>
<div class="panel" role="region" aria-label="Talk to the shop's assistant">
  <div class="box" hidden>
    <div class="state" aria-live="polite"></div>
    <ol class="captions" aria-live="polite"></ol>
  </div>
  <button class="talk" type="button">Talk to us</button>
</div>`;
  const box = root.querySelector(".box");
  const stateLine = root.querySelector(".state");
  const captions = root.querySelector(".captions");
  const button = root.querySelector("button");
  const player = document.createElement("audio");
  player.autoplay = true;

  let call = null; // { pc, mic, id, events }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent(name, { detail }));
  }

  function setState(state, message) {
    stateLine.dataset.state = state;
    stateLine.textContent = message || labels[state] || state;
    stateLine.classList.toggle("error", state === "error");
    emit("hotline:state", { state, message });
  }

  function caption(c) {
    let last = captions.lastElementChild;
    if (!(last && last.classList.contains("partial") && last.classList.contains(c.type))) {
      last = document.createElement("li");
      captions.appendChild(last);
    }
    last.className = c.type + (c.partial ? " partial" : "");
    last.textContent = c.text;
    captions.scrollTop = captions.scrollHeight;
    emit("hotline:caption", c);
  }

  function onUpdate(update) {
    if (update.type === "state") {
      setState(update.state);
      if (update.state === "ended") finish(false);
    } else {
      caption(update);
    }
  }

  function gathered(pc, ms) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => pc.iceGatheringState === "complete" && resolve();
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, ms);
    });
  }

  async function start() {
    button.disabled = true;
    box.hidden = false;
    captions.textContent = "";
    setState("connecting");
    const pc = new RTCPeerConnection({ iceServers: await iceServers() });
    call = { pc, mic: null, id: null, events: null };
    try {
      call.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      finish(false);
      setState("error", "The microphone is blocked: allow it for this page to talk.");
      return;
    }
    try {
      call.mic.getAudioTracks().forEach((t) => pc.addTrack(t, call.mic));
      pc.ontrack = (e) => {
        const stream = e.streams[0] || new MediaStream([e.track]);
        player.srcObject = stream;
        player.play().catch(() => {});
        emit("hotline:track", { stream });
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "connected" && stateLine.dataset.state === "connecting") {
          setState("listening");
        } else if (pc.connectionState === "failed") {
          finish(true);
          setState("error", "The connection failed. Please try again.");
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 3000);
      const response = await fetch(base + "/call", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, token, lang: document.documentElement.lang || "en" }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || response.statusText);
      if (!call || call.pc !== pc) {
        // Hung up while the offer was on its way: end the call the server just made.
        fetch(base + "/call/" + encodeURIComponent(body.id), { method: "DELETE", keepalive: true }).catch(() => {});
        return;
      }
      call.id = body.id;
      await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
      call.events = new EventSource(base + "/call/" + encodeURIComponent(body.id) + "/events");
      call.events.onmessage = (m) => {
        try {
          onUpdate(JSON.parse(m.data));
        } catch (e) {
          /* a malformed update is skipped */
        }
      };
      button.textContent = "Hang up";
      button.classList.add("live");
      button.disabled = false;
    } catch (e) {
      finish(true);
      setState("error", "The call could not be started: " + e.message);
    }
  }

  async function iceServers() {
    try {
      const r = await fetch(base + "/call/config");
      const c = await r.json();
      return (c.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    } catch (e) {
      return [];
    }
  }

  function finish(tellServer) {
    const c = call;
    call = null;
    if (c) {
      if (tellServer && c.id) {
        fetch(base + "/call/" + encodeURIComponent(c.id), { method: "DELETE", keepalive: true }).catch(() => {});
      }
      if (c.events) c.events.close();
      if (c.mic) c.mic.getTracks().forEach((t) => t.stop());
      c.pc.close();
    }
    player.srcObject = null;
    button.textContent = "Talk to us";
    button.classList.remove("live");
    button.disabled = false;
  }

  button.addEventListener("click", () => {
    if (call) {
      finish(true);
      setState("ended");
    } else {
      start();
    }
  });
  window.addEventListener("pagehide", () => call && finish(true));

  const mount = () => document.body.appendChild(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
