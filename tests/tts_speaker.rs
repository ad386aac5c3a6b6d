//! Speaking into a call: frames at the call's rate, cancellation within one frame, the phrase
//! and clause caches, and text with nothing to say.

mod common;

use hotline::tts::PiperVoice;
use hotline::tts::speaker::{CancelToken, MAX_TEXT_CHARS, STOCK_PHRASES_EN, SpeakOutcome, Speaker};

fn speaker(rate: u32) -> Speaker {
    let voice = common::piper();
    Speaker::new(voice, rate, 20).unwrap()
}

#[test]
fn frames_come_at_the_call_rate() {
    for rate in [8_000, 16_000, 48_000] {
        let mut s = speaker(rate);
        let mut frames = Vec::new();
        let outcome = s
            .speak(
                "Your refund of $79.99 was issued on November 28.",
                &CancelToken::new(),
                |f| frames.push(f.to_vec()),
            )
            .unwrap();
        assert!(matches!(outcome, SpeakOutcome::Finished { frames: n } if n == frames.len()));
        assert!(frames.iter().all(|f| f.len() == rate as usize / 50));
        let seconds = frames.len() as f64 * 0.02;
        assert!((1.5..12.0).contains(&seconds), "{seconds} s at {rate} Hz");
        let energy: f32 = frames.iter().flatten().map(|s| s * s).sum();
        assert!(energy > 1.0, "silent speech at {rate} Hz");
    }
}

#[test]
fn cancel_stops_within_one_frame() {
    let mut s = speaker(8_000);
    let cancel = CancelToken::new();
    let mut frames = 0;
    let outcome = s
        .speak("This is a long answer. It has several sentences, so that there is a lot to say. And it goes on.", &cancel, |_| {
            frames += 1;
            if frames == 5 {
                cancel.cancel(); // the caller barged in while frame 5 was playing
            }
        })
        .unwrap();
    assert_eq!(outcome, SpeakOutcome::Cancelled { frames: 5 });
    assert_eq!(frames, 5, "no frame after the cancel");
}

#[test]
fn stock_phrases_are_cached() {
    let mut s = speaker(8_000);
    s.warm_cache(&STOCK_PHRASES_EN).unwrap();
    assert!(s.is_cached(STOCK_PHRASES_EN[1]));
    let mut frames = 0;
    s.speak(STOCK_PHRASES_EN[1], &CancelToken::new(), |_| frames += 1)
        .unwrap();
    assert!(frames > 50);
}

#[test]
fn symbols_emoji_and_absurd_text_are_handled() {
    let mut s = speaker(8_000);
    let mut frames = 0;
    for nothing in ["", "   ", "!!! ??? ...", "🙂🙂🙂", "— * # —"] {
        let outcome = s
            .speak(nothing, &CancelToken::new(), |_| frames += 1)
            .unwrap();
        assert_eq!(outcome, SpeakOutcome::Finished { frames: 0 }, "{nothing:?}");
    }
    let long = "a".repeat(MAX_TEXT_CHARS + 1);
    assert!(s.speak(&long, &CancelToken::new(), |_| {}).is_err());
    // One very long word with no spaces is cut, not fed whole to Piper.
    let outcome = s
        .speak(&"ab".repeat(400), &CancelToken::new(), |_| {})
        .unwrap();
    assert!(matches!(outcome, SpeakOutcome::Finished { .. }));
}

#[test]
fn a_cancelled_phrase_leaves_nothing_for_the_next_one() {
    let mut s = speaker(8_000);
    s.warm_cache(&STOCK_PHRASES_EN).unwrap();
    let mut clean = Vec::new();
    s.speak(STOCK_PHRASES_EN[0], &CancelToken::new(), |f| {
        clean.push(f.to_vec())
    })
    .unwrap();
    // Barge-in while the last whole frame plays: the partial frame after it must be dropped.
    let cancel = CancelToken::new();
    let total = clean.len();
    let mut played = 0;
    s.speak(STOCK_PHRASES_EN[0], &cancel, |_| {
        played += 1;
        if played == total - 1 {
            cancel.cancel();
        }
    })
    .unwrap();
    let mut again = Vec::new();
    s.speak(STOCK_PHRASES_EN[0], &CancelToken::new(), |f| {
        again.push(f.to_vec())
    })
    .unwrap();
    assert_eq!(again, clean);
}

#[test]
fn voices_on_several_threads_speak_at_once() {
    // espeak-ng has one global state; calls on parallel engine threads must not corrupt it.
    let ort = common::ort();
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let ort = ort.clone();
            std::thread::spawn(move || {
                let mut voice =
                    PiperVoice::load(&ort, &common::model("en_US-joe-medium.onnx")).unwrap();
                for n in 0..4 {
                    let clip = voice
                        .speak(&format!("Caller {i}, this is answer number {n}."))
                        .unwrap();
                    assert!(clip.samples.len() > 10_000);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a speaking thread panicked");
    }
}

#[test]
fn short_clauses_a_reply_repeats_are_synthesized_once() {
    // The voice file's own randomness renders a clause a little differently each time, so
    // equal frames mean the clause's audio was kept, and different ones that it was
    // synthesized again.
    let voice = PiperVoice::load(&common::ort(), &common::model("en_US-joe-medium.onnx")).unwrap();
    let mut s = Speaker::new(voice, 8_000, 20).unwrap();
    let say = |s: &mut Speaker, text: &str| {
        let mut frames = Vec::new();
        s.speak(text, &CancelToken::new(), |f| frames.push(f.to_vec()))
            .unwrap();
        frames
    };
    let short = "Which order is it about? Please tell me the number.";
    let first = say(&mut s, short);
    assert_eq!(s.cached_clauses(), 2);
    assert!(
        say(&mut s, short) == first,
        "a kept clause is played as it was"
    );
    let long = "I can look up orders and parcels and handle returns and refunds and exchanges and cancellations for you today.";
    let once = say(&mut s, long);
    assert_eq!(s.cached_clauses(), 2, "a long clause is not kept");
    assert!(
        say(&mut s, long) != once,
        "a long clause is synthesized again"
    );
}

#[test]
fn the_voice_varies_by_default_and_is_steady_at_variation_zero() {
    let ort = common::ort();
    let path = common::model("en_US-joe-medium.onnx");
    let text = "Your parcel was delivered on Monday.";
    let mut natural = PiperVoice::load(&ort, &path).unwrap();
    let (a, b) = (natural.speak(text).unwrap(), natural.speak(text).unwrap());
    assert_ne!(
        a.samples, b.samples,
        "the voice file's own randomness makes each rendering a little different"
    );
    let mut steady = PiperVoice::load(&ort, &path).unwrap().with_variation(0.0);
    let (c, d) = (steady.speak(text).unwrap(), steady.speak(text).unwrap());
    assert_eq!(
        c.samples, d.samples,
        "variation 0 renders a sentence the same way"
    );
    assert!(
        c.samples.iter().map(|s| s * s).sum::<f32>() > 1.0,
        "and it still speaks"
    );
}
