//! Kokoro speaks Mandarin shop sentences through the same `Speaker` as Piper (clauses, frames,
//! the call's rate), and Whisper transcribes them back: the Mandarin text front end (numbers,
//! segmentation, pinyin, tones) and the voice together make speech a recogniser understands.

mod common;

use hotline::asr::WhisperEngine;
use hotline::bench::wer::cer;
use hotline::tts::speaker::{CancelToken, SpeakOutcome, Speaker};
use hotline::tts::{KokoroFiles, KokoroVoice};

fn voice() -> KokoroVoice {
    let files = KokoroFiles {
        model: common::model("kokoro-v1.0.int8.onnx"),
        vocab: common::model("kokoro-v1.0.vocab.json"),
        voice: common::model("kokoro-zf_xiaobei.bin"),
    };
    KokoroVoice::load(&common::ort(), &files, 2).unwrap()
}

#[test]
fn kokoro_speaks_mandarin_that_whisper_understands() {
    let mut speaker = Speaker::new(voice(), 16_000, 20).unwrap();
    let whisper = WhisperEngine::load(&common::model("ggml-base.bin"), 2).unwrap();
    // (sentence, words that must come back as written)
    for (sentence, keys) in [
        (
            "您的订单已经发货了，预计明天送达。",
            &["订单", "发货", "明天"][..],
        ),
        ("请问您要退货还是换货？", &["退货", "换货"][..]),
        // The amount is read 七十九点九九元 and written back in digits.
        (
            "订单号100042，退款79.99元。",
            &["订单", "退款", "79.99"][..],
        ),
    ] {
        let mut pcm = Vec::new();
        let started = std::time::Instant::now();
        let outcome = speaker
            .speak(sentence, &CancelToken::new(), |f| pcm.extend_from_slice(f))
            .unwrap();
        let took = started.elapsed();
        assert!(matches!(outcome, SpeakOutcome::Finished { frames } if frames > 50));
        let heard = whisper.transcribe(&pcm, "zh").unwrap();
        let error = cer(sentence, &heard);
        let seconds = pcm.len() as f64 / 16_000.0;
        eprintln!(
            "said {sentence} ({seconds:.1} s in {:.2} s), heard {heard} (character error rate \
             {error:.2})",
            took.as_secs_f64()
        );
        assert!(!heard.contains('\u{FFFD}'), "{heard}");
        let missing: Vec<_> = keys.iter().filter(|k| !heard.contains(**k)).collect();
        assert!(missing.is_empty(), "heard {heard:?}, missing {missing:?}");
        // Whisper base drops a digit of a long number now and then (100042 -> 10042); the
        // sentences without one come back nearly character for character.
        if !sentence.contains("100042") {
            assert!(
                error <= 0.2,
                "heard {heard:?}: character error rate {error:.2}"
            );
        }
    }
}

#[test]
fn a_mandarin_reply_can_be_cancelled_between_frames() {
    let mut speaker = Speaker::new(voice(), 8_000, 20).unwrap();
    let cancel = CancelToken::new();
    let mut frames = 0;
    let outcome = speaker
        .speak(
            "您好，这里是客服中心。请问有什么可以帮您？",
            &cancel,
            |_| {
                frames += 1;
                if frames == 10 {
                    cancel.cancel();
                }
            },
        )
        .unwrap();
    assert_eq!(outcome, SpeakOutcome::Cancelled { frames: 10 });
}
