//! `hotline talk` through ALSA as a real process: an ALSA configuration (in the test's own
//! HOME) makes the default capture device read a file of synthesized caller speech and the
//! default playback device write a file. The assistant's side of that file, transcribed by
//! Whisper, must answer the question from the shop database; the printed conversation must
//! show both turns. ALSA's file plugin runs faster than real time, which the device
//! transport's rings pace to the call's clock.

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use hotline::audio::{Clip, wav};
use hotline::eval::voice::CallerVoice;

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const RATE: u32 = 16_000;
const GREETING_S: usize = 5;
const CALL_S: u64 = 20;

fn s16le(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect()
}

#[test]
fn talk_hears_the_microphone_and_answers_on_the_speaker() {
    common::model("ggml-base.bin");
    let dir = tempfile::tempdir().unwrap();
    let db_url = common::shop_db(&common::root().join(SCENARIO), dir.path());

    // The microphone file: silence for the greeting, the question, silence past the call.
    let question = CallerVoice::default()
        .synthesize("Hi, where is my order?", RATE)
        .expect("espeak-ng speaks");
    let mut mic = vec![0.0f32; GREETING_S * RATE as usize];
    mic.extend_from_slice(&question);
    mic.extend(std::iter::repeat_n(
        0.0,
        (CALL_S as usize + 10) * RATE as usize,
    ));
    let mic_path = dir.path().join("mic.raw");
    let speaker_path = dir.path().join("speaker.raw");
    std::fs::write(&mic_path, s16le(&mic)).unwrap();
    std::fs::write(
        dir.path().join(".asoundrc"),
        format!(
            r#"pcm.nullsink {{ type null }}
pcm.micfile {{ type file; slave.pcm "nullsink"; file "/dev/null"; infile "{mic}"; format "raw" }}
pcm.mic {{ type plug; slave {{ pcm "micfile"; format S16_LE; rate {RATE}; channels 1 }} }}
pcm.speakerfile {{ type file; slave.pcm "nullsink"; file "{speaker}"; format "raw" }}
pcm.speaker {{ type plug; slave {{ pcm "speakerfile"; format S16_LE; rate {RATE}; channels 1 }} }}
pcm.!default {{ type asym; playback.pcm "speaker"; capture.pcm "mic" }}
"#,
            mic = mic_path.display(),
            speaker = speaker_path.display(),
        ),
    )
    .unwrap();

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["talk", "--caller-id", "+15551230001", "--seconds"])
        .arg(CALL_S.to_string())
        .current_dir(common::root())
        .env("HOME", dir.path())
        .env("HOTLINE_STORE_URL", &db_url)
        .env(common::STEADY_VOICE.0, common::STEADY_VOICE.1)
        .stdin(Stdio::null())
        .output()
        .expect("hotline talk runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "hotline talk ran {:.1} s:\n{stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let caller = stdout
        .lines()
        .find_map(|l| l.strip_prefix("caller: "))
        .unwrap_or_else(|| panic!("no caller line: {stdout}\n{stderr}"));
    // "Hi, where's my order?" is the same question: two words' slip allowed, but it must ask
    // where.
    common::assert_heard("Hi, where is my order?", caller, 2, &["my", "order"]);
    assert!(
        common::words(caller)
            .iter()
            .any(|w| w == "where" || w == "where's"),
        "{caller}"
    );
    assert!(stdout.contains("was delivered"), "{stdout}\n{stderr}");

    // What the speaker played.
    let raw = std::fs::read(&speaker_path).expect("the speaker file was written");
    let samples: Vec<f32> = raw
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let played_s = samples.len() as f64 / f64::from(RATE);
    eprintln!("the speaker played {played_s:.1} s");
    // Paced to the call's clock, not the file plugin's speed (which would write minutes).
    assert!(
        (played_s - CALL_S as f64).abs() < 1.5,
        "the speaker played {played_s:.1} s in a {CALL_S} s call"
    );
    let heard = dir.path().join("speaker.wav");
    wav::write(
        &heard,
        &Clip {
            samples,
            sample_rate: RATE,
        },
    )
    .unwrap();
    let transcript = common::transcribe(&heard);
    eprintln!("the speaker said: {transcript}");
    assert!(
        transcript.contains("delivered"),
        "the speaker did not give the order's status: {transcript}\n{stderr}"
    );
}
