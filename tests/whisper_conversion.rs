//! The Whisper models converted from CTranslate2 packages transcribe real speech word for word.

mod common;

use hotline::asr::WhisperEngine;
use hotline::audio::wav;

fn transcribe(file: &str) -> String {
    let clip = wav::read(&common::model("jfk.wav")).unwrap();
    assert_eq!(clip.sample_rate, 16_000, "jfk.wav is 16 kHz");
    let engine = WhisperEngine::load(&common::model(file), 2).unwrap();
    engine.transcribe(&clip.samples, "en").unwrap()
}

#[test]
fn converted_base_transcribes_jfk_word_for_word() {
    assert_eq!(
        common::words(&transcribe("ggml-base.bin")),
        common::words(common::JFK)
    );
}

#[test]
fn converted_tiny_en_transcribes_jfk_word_for_word() {
    assert_eq!(
        common::words(&transcribe("ggml-tiny.en.bin")),
        common::words(common::JFK)
    );
}

#[test]
fn a_file_that_is_not_a_model_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ggml-bad.bin");
    std::fs::write(&bad, b"ggml? no").unwrap();
    assert!(WhisperEngine::load(&bad, 1).is_err());
    assert!(WhisperEngine::load(&dir.path().join("missing.bin"), 1).is_err());
}
