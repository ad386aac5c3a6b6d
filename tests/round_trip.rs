//! Piper speaks a customer-service sentence, it goes through the phone path (8 kHz, G.711
//! mu-law and A-law), Whisper transcribes it back, and the words match (one slip in nine words
//! allowed, never in the words that carry the meaning).

mod common;

use hotline::asr::WhisperEngine;
use hotline::audio::g711::Law;
use hotline::audio::{Clip, resample};
use hotline::tts::speaker::{CancelToken, Speaker};

#[test]
fn speech_survives_the_phone_line() {
    let voice = common::piper();
    let mut speaker = Speaker::new(voice, 8_000, 20).unwrap();
    let sentence = "Your order has shipped and should arrive on Friday.";
    let mut pcm = Vec::new();
    speaker
        .speak(sentence, &CancelToken::new(), |f| pcm.extend_from_slice(f))
        .unwrap();
    let whisper = WhisperEngine::load(&common::model("ggml-base.bin"), 2).unwrap();
    for law in [Law::MuLaw, Law::ALaw] {
        let mut wire = Vec::new();
        law.encode_f32(&pcm, &mut wire);
        let mut decoded = Vec::new();
        law.decode_f32(&wire, &mut decoded);
        let clip = resample::to_rate(
            &Clip {
                samples: decoded,
                sample_rate: 8_000,
            },
            16_000,
        )
        .unwrap();
        let heard = whisper.transcribe(&clip.samples, "en").unwrap();
        eprintln!("{law:?}: heard {heard:?}");
        common::assert_heard(sentence, &heard, 9, &["shipped", "friday"]);
    }
}

#[test]
fn an_order_number_read_digit_by_digit_comes_back_as_digits() {
    let voice = common::piper();
    let mut speaker = Speaker::new(voice, 8_000, 20).unwrap();
    let mut pcm = Vec::new();
    // The caller reads the number digit by digit, as people do on the phone.
    speaker
        .speak(
            "My order number is 4 7 1 5 2 9.",
            &CancelToken::new(),
            |f| pcm.extend_from_slice(f),
        )
        .unwrap();
    let clip = resample::to_rate(
        &Clip {
            samples: pcm,
            sample_rate: 8_000,
        },
        16_000,
    )
    .unwrap();
    let whisper = WhisperEngine::load(&common::model("ggml-base.bin"), 2).unwrap();
    let heard = whisper.transcribe(&clip.samples, "en").unwrap();
    assert!(heard.contains("471529"), "heard {heard:?}");
    // Language detection on the same audio finds English and gives the same words.
    let auto = whisper.transcribe(&clip.samples, "auto").unwrap();
    assert!(auto.contains("471529"), "heard {auto:?}");
}
