// Headless Chromium (Debian's, or $CHROMIUM) as the browser tests launch it: a fake microphone
// that plays `wav` (Chromium loops it), microphone permission without a prompt, autoplay
// allowed; `extraArgs` for what one test needs besides.
import { chromium } from "playwright-core";

export function launch(wav, extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
      "--autoplay-policy=no-user-gesture-required",
      ...extraArgs,
    ],
  });
}
