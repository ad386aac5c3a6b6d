//! An American English Kokoro voice (af_heart) as the English voice: `tts.voice` naming a Kokoro
//! `.bin` picks Kokoro instead of Piper, English text goes through Piper's normalizer and then
//! espeak-ng in misaki's symbols, and Whisper understands what it says through the same
//! `Speaker` a call uses.

mod common;

use hotline::asr::WhisperEngine;
use hotline::config::TtsConfig;
use hotline::tts::speaker::{CancelToken, SpeakOutcome, Speaker};
use hotline::tts::{TtsError, english_voice};

fn kokoro_english(voice: std::path::PathBuf) -> TtsConfig {
    TtsConfig {
        voice,
        kokoro_model: common::model("kokoro-v1.0.int8.onnx"),
        kokoro_vocab: common::model("kokoro-v1.0.vocab.json"),
        ..TtsConfig::default()
    }
}

#[test]
fn an_english_kokoro_voice_speaks_what_whisper_understands() {
    let tts = kokoro_english(common::model("kokoro-af_heart.bin"));
    let voice = english_voice(&common::ort(), &tts).unwrap();
    assert_eq!(voice.sample_rate(), 24_000, "Kokoro speaks, not Piper");
    let mut speaker = Speaker::new(voice, 16_000, 20).unwrap();
    let whisper = WhisperEngine::load(&common::model("ggml-base.bin"), 2).unwrap();
    // (sentence, words that must come back as written)
    for (sentence, keys) in [
        (
            "Your order was delivered on Tuesday, and the parcel is at your front door.",
            &["order", "delivered", "tuesday", "parcel"][..],
        ),
        (
            "I can refund the headphones to your card. Shall I go ahead?",
            &["refund", "headphones", "card"][..],
        ),
    ] {
        let mut pcm = Vec::new();
        let started = std::time::Instant::now();
        let outcome = speaker
            .speak(sentence, &CancelToken::new(), |f| pcm.extend_from_slice(f))
            .unwrap();
        assert!(matches!(outcome, SpeakOutcome::Finished { frames } if frames > 50));
        let heard = whisper.transcribe(&pcm, "en").unwrap();
        eprintln!(
            "said {sentence:?} ({:.1} s of speech in {:.2} s), heard {heard:?}",
            pcm.len() as f64 / 16_000.0,
            started.elapsed().as_secs_f64()
        );
        common::assert_heard(sentence, &heard, 6, keys);
    }
}

#[test]
fn a_kokoro_voice_of_another_language_is_refused_as_the_english_voice() {
    let dir = tempfile::tempdir().unwrap();
    let japanese = dir.path().join("kokoro-jf_alpha.bin");
    std::fs::copy(common::model("kokoro-af_heart.bin"), &japanese).unwrap();
    match english_voice(&common::ort(), &kokoro_english(japanese)) {
        Err(TtsError::Load { detail, .. }) => assert!(detail.contains("first letter"), "{detail}"),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a Japanese voice was taken for English"),
    }
    let mandarin = kokoro_english(common::model("kokoro-zf_xiaobei.bin"));
    match english_voice(&common::ort(), &mandarin) {
        Err(TtsError::Load { detail, .. }) => {
            assert!(detail.contains("cannot speak English"), "{detail}")
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a Mandarin voice was taken for English"),
    }
}
