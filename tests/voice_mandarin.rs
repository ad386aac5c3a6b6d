//! Mandarin calls end to end (`hotline eval --voice tests/scenarios-voice-zh`): a Mandarin
//! caller (a male Kokoro voice) in 8 kHz G.711 through the call pipeline, Whisper detecting the
//! language of each utterance (`asr.language = "auto"`), the dialog answering in Mandarin, the
//! female Kokoro voice speaking the replies, and Whisper transcribing what the caller heard.
//! One call is greeted in Mandarin (a shop's Mandarin line); in the other the caller answers an
//! English greeting in Mandarin and the call follows.

mod common;

use std::time::Duration;

#[test]
fn mandarin_callers_are_understood_and_answered_in_mandarin() {
    common::model("ggml-base.bin");
    common::model("kokoro-zm_yunjian.bin");
    let out = common::hotline(
        &[
            "eval",
            "--voice",
            "tests/scenarios-voice-zh",
            "--verbose",
            "--min-pass-rate",
            "1.0",
        ],
        // The default: each utterance's language is checked (`asr.language = "auto"`).
        &[],
        Duration::from_secs(600),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let heard = |name: &str, turn: u64| -> String {
        let block: String = stdout
            .split("PASS ")
            .find(|b| b.starts_with(name))
            .unwrap_or_else(|| panic!("{name} did not pass"))
            .to_string();
        block
            .lines()
            .find(|l| l.contains(&format!("caller hears (turn {turn})")))
            .unwrap_or_else(|| panic!("no reply to turn {turn} in {block}"))
            .to_string()
    };
    let is_mandarin = |line: &str| line.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    // The Mandarin line greets in Mandarin; the caller hears it as Mandarin.
    let greeting = heard("voice-zh-status-on-the-mandarin-line", 0);
    assert!(is_mandarin(&greeting), "{greeting}");
    // Greeted in English, answered in Mandarin after the caller's first Mandarin words.
    let greeting = heard("voice-zh-caller-switches-from-english", 0);
    assert!(!is_mandarin(&greeting), "{greeting}");
    let reply = heard("voice-zh-caller-switches-from-english", 1);
    assert!(is_mandarin(&reply), "{reply}");
}
