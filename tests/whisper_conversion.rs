//! The Whisper models converted from CTranslate2 packages transcribe real speech word for word.

mod common;

use hotline::asr::WhisperEngine;
use hotline::audio::wav;

/// `file` transcribes jfk.wav word for word.
fn hears_jfk(file: &str) {
    let clip = wav::read(&common::model("jfk.wav")).unwrap();
    assert_eq!(clip.sample_rate, 16_000, "jfk.wav is 16 kHz");
    let engine = WhisperEngine::load(&common::model(file), 2).unwrap();
    let heard = engine.transcribe(&clip.samples, "en").unwrap();
    assert_eq!(common::words(&heard), common::words(common::JFK), "{file}");
}

#[test]
fn converted_base_transcribes_jfk_word_for_word() {
    hears_jfk("ggml-base.bin");
}

#[test]
fn converted_tiny_en_transcribes_jfk_word_for_word() {
    hears_jfk("ggml-tiny.en.bin");
}

/// The 8-bit (Q8_0) conversions: every weight matrix in blocks of 32 with one scale each. A
/// block written in the wrong layout or scale would not transcribe at all.
#[test]
fn converted_base_in_8_bit_blocks_transcribes_jfk_word_for_word() {
    hears_jfk("ggml-base-q8_0.bin");
}

#[test]
fn converted_tiny_en_in_8_bit_blocks_transcribes_jfk_word_for_word() {
    hears_jfk("ggml-tiny.en-q8_0.bin");
}

/// Half the bytes of the f16 files (a Q8_0 block of 32 weights is 34 bytes, f16 takes 64).
#[test]
fn the_8_bit_files_are_about_half_the_size() {
    for (f16, q8) in [
        ("ggml-base.bin", "ggml-base-q8_0.bin"),
        ("ggml-tiny.en.bin", "ggml-tiny.en-q8_0.bin"),
    ] {
        let size = |f: &str| std::fs::metadata(common::model(f)).unwrap().len() as f64;
        let ratio = size(q8) / size(f16);
        assert!((0.5..0.6).contains(&ratio), "{q8} is {ratio:.2} of {f16}");
    }
}

#[test]
fn a_file_that_is_not_a_model_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ggml-bad.bin");
    std::fs::write(&bad, b"ggml? no").unwrap();
    assert!(WhisperEngine::load(&bad, 1).is_err());
    assert!(WhisperEngine::load(&dir.path().join("missing.bin"), 1).is_err());
}
