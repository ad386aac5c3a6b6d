//! `hotline transcribe` and `hotline speak` as a user runs them, good input and bad.

mod common;

use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

fn last_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

#[test]
fn transcribe_prints_the_transcript_last() {
    let jfk = common::model("jfk.wav");
    for model in ["base", "tiny.en"] {
        let out = common::hotline(
            &[
                "transcribe",
                jfk.to_str().unwrap(),
                "--model",
                model,
                "--lang",
                "en",
            ],
            &[],
            LIMIT,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            common::words(&last_line(&out)),
            common::words(common::JFK),
            "{model}"
        );
    }
}

#[test]
fn speak_then_transcribe_at_phone_rate() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("reply.wav");
    let sentence = "Your return has been approved.";
    let out = common::hotline(
        &[
            "speak",
            sentence,
            "-o",
            wav.to_str().unwrap(),
            "--rate",
            "8000",
        ],
        &[],
        LIMIT,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clip = hotline::audio::wav::read(&wav).unwrap();
    assert_eq!(clip.sample_rate, 8000);
    let out = common::hotline(&["transcribe", wav.to_str().unwrap()], &[], LIMIT);
    assert!(out.status.success());
    common::assert_heard(sentence, &last_line(&out), 5, &["return", "approved"]);
}

#[test]
fn mandarin_text_is_spoken_by_the_mandarin_voice() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("reply.wav");
    let sentence = "您的订单已经发货了。";
    let out = common::hotline(
        &["speak", sentence, "-o", wav.to_str().unwrap()],
        &[],
        LIMIT,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kokoro's own rate, not Piper's 22,050 Hz.
    assert_eq!(hotline::audio::wav::read(&wav).unwrap().sample_rate, 24_000);
    let out = common::hotline(
        &["transcribe", wav.to_str().unwrap(), "--lang", "zh"],
        &[],
        LIMIT,
    );
    assert!(out.status.success());
    let heard = last_line(&out);
    assert!(
        heard.contains("订单") && heard.contains("发货"),
        "heard {heard:?}"
    );
}

#[test]
fn bad_audio_is_a_clear_error_or_an_empty_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let check = |path: &Path, expect_ok: bool| {
        let out = common::hotline(&["transcribe", path.to_str().unwrap()], &[], LIMIT);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.success(),
            expect_ok,
            "{}: {stderr}",
            path.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        (last_line(&out), stderr)
    };
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "this is not audio").unwrap();
    let (_, err) = check(&text, false);
    assert!(err.contains("not a readable WAV"), "{err}");
    check(&dir.path().join("missing.wav"), false);
    let jfk = std::fs::read(common::model("jfk.wav")).unwrap();
    let truncated = dir.path().join("truncated.wav");
    std::fs::write(&truncated, &jfk[..30]).unwrap();
    check(&truncated, false);
    let empty = dir.path().join("empty.wav");
    hotline::audio::wav::write(
        &empty,
        &hotline::audio::Clip {
            samples: vec![],
            sample_rate: 16000,
        },
    )
    .unwrap();
    check(&empty, false);
    // Silence at an unusual rate: resampled, gated by the VAD, no words.
    let silence = dir.path().join("silence.wav");
    hotline::audio::wav::write(
        &silence,
        &hotline::audio::Clip {
            samples: vec![0.0; 44_100 * 2],
            sample_rate: 44_100,
        },
    )
    .unwrap();
    let (line, _) = check(&silence, true);
    assert_eq!(line, "");
    // White noise at 8 kHz: no speech for the VAD, so no words.
    let mut x: u32 = 7;
    let noise: Vec<f32> = (0..8_000 * 3)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((x >> 16) as f32 / 32768.0 - 1.0) * 0.1
        })
        .collect();
    let noisy = dir.path().join("noise.wav");
    hotline::audio::wav::write(
        &noisy,
        &hotline::audio::Clip {
            samples: noise,
            sample_rate: 8_000,
        },
    )
    .unwrap();
    let (line, _) = check(&noisy, true);
    assert_eq!(line, "");
}

#[test]
fn speak_refuses_bad_rates_and_handles_emoji() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("x.wav");
    let out = common::hotline(
        &[
            "speak",
            "hello",
            "-o",
            wav.to_str().unwrap(),
            "--rate",
            "12345",
        ],
        &[],
        LIMIT,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rate"));
    let out = common::hotline(&["speak", "🙂🙂", "-o", wav.to_str().unwrap()], &[], LIMIT);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(hotline::audio::wav::read(&wav).unwrap().samples.len(), 0);
}
