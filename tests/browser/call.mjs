// A shopper's call from the demo shop page in headless Chromium, for tests/web_browser.rs.
//
//   node call.mjs URL CALLER_WAV OUT_DIR SECONDS
//
// Chromium's fake microphone plays CALLER_WAV (it loops: make it longer than the call). The
// script presses the widget's button, keeps the page's captions and states, records what the
// page hears from the assistant (the widget's "hotline:track" stream through Web Audio, 16
// kHz), takes a screenshot once the assistant has answered, hangs up after SECONDS, and writes
// OUT_DIR/heard.wav, OUT_DIR/call.png and OUT_DIR/page.json.
import { launch } from "./chromium.mjs";
import { writeFileSync } from "node:fs";

const [url, wav, outDir, seconds] = process.argv.slice(2);
if (!url || !wav || !outDir) {
  console.error("usage: node call.mjs URL CALLER_WAV OUT_DIR SECONDS");
  process.exit(2);
}
const callMs = 1000 * Number(seconds || 20);

const browser = await launch(wav, [
  "--disable-quic",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
]);
let exitCode = 0;
try {
  const context = await browser.newContext({ permissions: ["microphone"] });
  const page = await context.newPage();
  page.on("console", (m) => console.error(`page ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.addInitScript(() => {
    const log = { states: [], captions: [], chunks: [], rate: 0 };
    window.__call = log;
    window.addEventListener("hotline:state", (e) => log.states.push(e.detail.state));
    window.addEventListener("hotline:caption", (e) => {
      if (!e.detail.partial) log.captions.push({ type: e.detail.type, text: e.detail.text });
    });
    window.addEventListener("hotline:track", (e) => {
      const ctx = new AudioContext({ sampleRate: 16000 });
      log.rate = ctx.sampleRate;
      const source = ctx.createMediaStreamSource(e.detail.stream);
      const tap = ctx.createScriptProcessor(4096, 1, 1);
      tap.onaudioprocess = (ev) => log.chunks.push(Array.from(ev.inputBuffer.getChannelData(0)));
      source.connect(tap);
      tap.connect(ctx.destination);
      log.ctx = ctx;
    });
  });
  await page.goto(url);
  await page.click("#hotline-widget button.talk");
  // The screenshot once the assistant has answered the question (or at the end).
  const answered = page
    .waitForFunction(() => window.__call.captions.filter((c) => c.type === "assistant").length >= 2, null, {
      timeout: callMs,
    })
    .then(() => true, () => false);
  const start = Date.now();
  if (await answered) {
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${outDir}/call.png` });
  }
  await page.waitForTimeout(Math.max(0, callMs - (Date.now() - start)));
  if (!(await answered)) await page.screenshot({ path: `${outDir}/call.png` });
  await page.click("#hotline-widget button.talk");
  await page.waitForTimeout(500);
  const result = await page.evaluate(() => {
    const log = window.__call;
    const samples = log.chunks.flat();
    return { states: log.states, captions: log.captions, rate: log.rate, samples };
  });
  writeWav(`${outDir}/heard.wav`, result.samples, result.rate || 16000);
  const summary = { states: result.states, captions: result.captions, heard_s: result.samples.length / (result.rate || 16000) };
  writeFileSync(`${outDir}/page.json`, JSON.stringify(summary, null, 1));
  console.log(JSON.stringify(summary));
} catch (e) {
  console.error(`call.mjs: ${e.stack || e}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);

function writeWav(path, samples, rate) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2));
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}
