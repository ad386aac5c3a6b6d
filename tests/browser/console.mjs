// A supervisor at the console in headless Chromium, for tests/console_browser.rs.
//
//   node console.mjs BASE_URL USER PASSWORD SUPERVISOR_WAV OUT_DIR SAY_TEXT NOTE_TEXT
//
// Chromium's fake microphone plays SUPERVISOR_WAV (the supervisor's voice when they take a call
// over). The script logs in (after one wrong password), waits for a call in the live list,
// opens it, listens in, has the assistant say SAY_TEXT and notes NOTE_TEXT for it, waits for the
// call to be handed over to the queue, picks it up (take-over with the microphone), talks for a
// while and hands it back. It keeps screenshots in OUT_DIR and prints a JSON summary.
import { launch } from "./chromium.mjs";
import { writeFileSync } from "node:fs";

const [base, user, password, wav, outDir, sayText, noteText] = process.argv.slice(2);
if (!noteText) {
  console.error("usage: node console.mjs BASE_URL USER PASSWORD SUPERVISOR_WAV OUT_DIR SAY_TEXT NOTE_TEXT");
  process.exit(2);
}
const TALK_MS = 9000;

const browser = await launch(wav);
const summary = { steps: [] };
const step = (name) => { summary.steps.push(name); console.error(`console.mjs: ${name}`); };
let exitCode = 0;
try {
  const context = await browser.newContext({ permissions: ["microphone"] });
  const page = await context.newPage();
  page.on("console", (m) => console.error(`page ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  const logText = () => page.$$eval("#log div", (ds) => ds.map((d) => `${d.className}|${d.textContent}`));

  // Not logged in: the console sends the browser to the log-in page.
  await page.goto(`${base}/console`);
  summary.redirected_to = new URL(page.url()).pathname;
  await page.fill("#user", user);
  await page.fill("#password", "not the password");
  await page.click("#submit");
  await page.waitForFunction(() => document.getElementById("error").textContent.length > 0);
  summary.wrong_password_message = await page.textContent("#error");
  await page.screenshot({ path: `${outDir}/login-refused.png` });
  await page.fill("#password", password);
  await page.click("#submit");
  await page.waitForURL(`${base}/console`);
  await page.waitForFunction(() => window.hotlineConsole && window.hotlineConsole.me);
  step("logged in");

  // The call appears; open it and read its transcript.
  await page.waitForSelector("#calls tr.pick", { timeout: 60000 });
  summary.row = await page.$eval("#calls tr.pick", (tr) => Array.from(tr.cells).map((c) => c.textContent));
  await page.click("#calls tr.pick");
  await page.click("#listen");
  step("listening");
  await page.waitForFunction(() => {
    const lines = Array.from(document.querySelectorAll("#log div.assistant")).map((d) => d.textContent);
    return lines.some((l) => /delivered|shipped|order/i.test(l) && !/filler/.test(l) && !/^Assistant: Hello/.test(l));
  }, null, { timeout: 60000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: `${outDir}/live-call.png` });
  summary.listen = await page.evaluate(() => {
    const l = window.hotlineConsole.listen;
    return { frames: l.frames, rms: l.samples ? Math.sqrt(l.sumSquares / l.samples) : 0 };
  });
  step("transcript seen");

  // Guidance: a note for the assistant, and words for it to say now.
  // The answer plays out, and a pause, so the caller hears the supervisor's line on its own.
  await page.waitForFunction(() => {
    const row = document.querySelector("#calls tr.pick");
    return row && row.cells[5].textContent === "listening";
  }, null, { timeout: 30000 });
  await page.waitForTimeout(1500);
  await page.fill("#guidance", noteText);
  await page.click("#guide");
  await page.waitForFunction((t) => Array.from(document.querySelectorAll("#log div.supervisor")).some((d) => d.textContent.includes(t)), noteText, { timeout: 10000 });
  await page.fill("#guidance", sayText);
  await page.click("#say");
  await page.waitForFunction((t) => Array.from(document.querySelectorAll("#log div.assistant")).some((d) => d.textContent.includes(t)), sayText, { timeout: 10000 });
  step("guidance given");

  // The caller asks for a person: the call lands in the queue; pick it up and talk.
  await page.waitForFunction(() => Number(document.getElementById("queue-count").textContent) > 0, null, { timeout: 90000 });
  await page.click('nav button[data-tab="queue"]');
  summary.queue_row = await page.$eval("#waiting tr", (tr) => Array.from(tr.cells).map((c) => c.textContent));
  await page.screenshot({ path: `${outDir}/queue.png` });
  await page.click("#waiting button.pick-up");
  await page.waitForFunction(() => window.hotlineConsole.sent > 0, null, { timeout: 10000 });
  step("taken over");
  await page.waitForTimeout(TALK_MS);
  summary.state_taken_over = await page.$eval("#calls tr.pick", (tr) => tr.cells[5].textContent);
  await page.screenshot({ path: `${outDir}/taken-over.png` });
  summary.mic_messages = await page.evaluate(() => window.hotlineConsole.sent);
  await page.click("#hand-back");
  await page.waitForFunction(() => Array.from(document.querySelectorAll("#log div.supervisor")).some((d) => d.textContent.includes("hand-back")), null, { timeout: 10000 });
  step("handed back");
  await page.waitForTimeout(1500);
  summary.state_handed_back = await page.$eval("#calls tr.pick", (tr) => tr.cells[5].textContent).catch(() => "gone");
  await page.screenshot({ path: `${outDir}/handed-back.png` });
  summary.log = await logText();
} catch (e) {
  console.error(`console.mjs: ${e.stack || e}`);
  exitCode = 1;
} finally {
  writeFileSync(`${outDir}/console.json`, JSON.stringify(summary, null, 1));
  console.log(JSON.stringify(summary));
  await browser.close();
}
process.exit(exitCode);
