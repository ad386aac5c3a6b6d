//! Silero VAD at both telephone (8 kHz) and wideband (16 kHz) rates, with per-stream state.

mod common;

use hotline::audio::{Clip, resample};
use hotline::vad::{SileroVad, TurnConfig, TurnDetector, TurnEvent};
use std::time::Duration;

fn speech() -> Clip {
    let mut voice = common::piper();
    let said = voice.speak("Hello, I am calling about my order.").unwrap();
    // Half a second of silence on both sides, as on a call.
    let pad = vec![0.0; said.sample_rate as usize / 2];
    let mut samples = pad.clone();
    samples.extend_from_slice(&said.samples);
    samples.extend_from_slice(&pad);
    Clip {
        samples,
        sample_rate: said.sample_rate,
    }
}

#[test]
fn finds_speech_at_8_and_16_khz_and_drives_the_turn_detector() {
    let speech = speech();
    for rate in [8_000, 16_000] {
        let clip = resample::to_rate(&speech, rate).unwrap();
        let mut vad =
            SileroVad::load(&common::ort(), &common::model("silero_vad.onnx"), rate).unwrap();
        let chunk = vad.chunk_len();
        let frame = Duration::from_secs_f64(chunk as f64 / f64::from(rate));
        let mut turns = TurnDetector::new(TurnConfig::default());
        let mut events = Vec::new();
        let mut now = Duration::ZERO;
        for piece in clip.samples.chunks_exact(chunk) {
            now += frame;
            let p = vad.probability(piece).unwrap();
            events.extend(turns.handle(p, frame, now));
        }
        events.extend(turns.handle_timeout(now + Duration::from_secs(1)));
        assert!(
            matches!(events.first(), Some(TurnEvent::SpeechStarted { at }) if *at >= Duration::from_millis(300) && *at <= Duration::from_millis(800)),
            "{rate} Hz: {events:?}"
        );
        assert!(
            matches!(events.last(), Some(TurnEvent::SpeechEnded { .. })),
            "{rate} Hz: {events:?}"
        );
        assert!(
            vad.probability(&vec![0.0; chunk + 1]).is_err(),
            "a wrong chunk size is an error"
        );
    }
    assert!(SileroVad::load(&common::ort(), &common::model("silero_vad.onnx"), 44_100).is_err());
}
