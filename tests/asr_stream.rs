//! Streaming recognition: partial transcripts while the caller talks, a final one at the end
//! of the turn, and no words out of silence or noise.

mod common;

use std::sync::Arc;
use std::time::Duration;

use hotline::asr::stream::{DEFAULT_CONTEXT_MARGIN, audio_ctx_for};
use hotline::asr::{AsrOptions, AsrStream, WhisperEngine};
use hotline::audio::wav;
use hotline::tts::speaker::{CancelToken, Speaker};
use hotline::vad::SileroVad;

fn engine() -> Arc<WhisperEngine> {
    Arc::new(WhisperEngine::load(&common::model("ggml-base.bin"), 2).unwrap())
}

#[test]
fn partials_while_talking_then_the_final_transcript() {
    let clip = wav::read(&common::model("jfk.wav")).unwrap();
    let mut stream = AsrStream::new(
        engine(),
        AsrOptions {
            partial_every: Duration::from_secs(2),
            ..AsrOptions::default()
        },
    )
    .unwrap();
    let mut partials = Vec::new();
    // 20 ms frames, as the pipeline delivers them.
    for frame in clip.samples.chunks(320) {
        if let Some(p) = stream.push(frame).unwrap() {
            assert!(!p.is_final);
            partials.push(p);
        }
    }
    assert!(partials.len() >= 4, "{} partials", partials.len());
    // Partials grow with the utterance and start with its first words.
    assert!(
        common::words(&partials[1].text).starts_with(&["and".to_string(), "so".to_string()]),
        "{:?}",
        partials[1].text
    );
    assert!(partials.windows(2).all(|w| w[0].audio < w[1].audio));
    let last = stream.finish().unwrap();
    assert!(last.is_final);
    assert_eq!(common::words(&last.text), common::words(common::JFK));
    assert_eq!(
        stream.buffered(),
        Duration::ZERO,
        "finish() empties the stream"
    );
}

/// White noise at a phone-line level (deterministic generator).
fn noise(seconds: usize) -> Vec<f32> {
    let mut x: u32 = 12345;
    (0..16_000 * seconds)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((x >> 16) as f32 / 32768.0 - 1.0) * 0.05
        })
        .collect()
}

#[test]
fn silence_gives_no_text() {
    let mut stream = AsrStream::new(engine(), AsrOptions::default()).unwrap();
    stream.push(&vec![0.0; 16_000 * 2]).unwrap();
    assert_eq!(stream.finish().unwrap().text, "");
    // Digital near-silence (dither) too.
    stream
        .push(&noise(2).iter().map(|s| s * 0.005).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(stream.finish().unwrap().text, "");
}

#[test]
fn noise_is_gated_by_the_vad_before_whisper_hears_it() {
    // Whisper alone may "hear" words in noise; the pipeline only feeds it what Silero calls
    // speech, and Silero hears none here, while it does hear the real speech of jfk.wav.
    let mut vad =
        SileroVad::load(&common::ort(), &common::model("silero_vad.onnx"), 16_000).unwrap();
    assert_eq!(vad.speech_fraction(&noise(3), 0.5).unwrap(), 0.0);
    let jfk = wav::read(&common::model("jfk.wav")).unwrap();
    assert!(vad.speech_fraction(&jfk.samples, 0.5).unwrap() > 0.5);
}

#[test]
fn short_utterances_are_padded_and_contexts_scale() {
    assert_eq!(audio_ctx_for(16_000, DEFAULT_CONTEXT_MARGIN), 384);
    assert_eq!(audio_ctx_for(16_000 * 5, DEFAULT_CONTEXT_MARGIN), 506);
    assert_eq!(audio_ctx_for(16_000 * 40, DEFAULT_CONTEXT_MARGIN), 1500);
    // A one-word answer, shorter than whisper.cpp's one-second minimum.
    let voice = common::piper();
    let mut speaker = Speaker::new(voice, 16_000, 20).unwrap();
    let mut yes = Vec::new();
    speaker
        .speak("Yes.", &CancelToken::new(), |f| yes.extend_from_slice(f))
        .unwrap();
    assert!(yes.len() < 16_000, "{} samples", yes.len());
    let mut stream = AsrStream::new(engine(), AsrOptions::default()).unwrap();
    stream.push(&yes).unwrap();
    let text = stream.finish().unwrap().text;
    // Whisper hears Piper's "Yes." as "Yes." or, in some runs, "Yeah.": the same answer.
    let heard = common::words(&text);
    assert!(heard == ["yes"] || heard == ["yeah"], "{text:?}");
}

/// English first: while the call is in English, tiny.en's words are kept when it is sure; a
/// caller who switches to Mandarin sounds like nothing English to it, the multilingual model's
/// language check hears Mandarin and decodes it; from then on the multilingual model decodes,
/// until the caller speaks English again. (Whether the check's encoder context stayed at 200
/// frames is a matter of speed, measured by `cargo bench --bench asr_context`, not tested.)
#[test]
fn english_first_keeps_english_and_hands_mandarin_to_the_multilingual_model() {
    use hotline::asr::stream::Language;
    use hotline::tts::{KokoroFiles, KokoroVoice};

    let load = |f: &str| Arc::new(WhisperEngine::load(&common::model(f), 2).unwrap());
    let mut stream = AsrStream::new(
        load("ggml-base-q8_0.bin"),
        AsrOptions {
            language: Language::Auto,
            partial_every: Duration::ZERO,
            ..AsrOptions::default()
        },
    )
    .unwrap()
    .with_english_first(load("ggml-tiny.en-q8_0.bin"))
    .unwrap();
    // Not readied with `prepare_language_check`: the first check sets itself up.
    let jfk = wav::read(&common::model("jfk.wav")).unwrap().samples;
    let say = |stream: &mut AsrStream, audio: &[f32]| {
        stream.push(audio).unwrap();
        stream.finish().unwrap()
    };

    let english = say(&mut stream, &jfk);
    assert!(english.english_first, "{english:?}");
    assert_eq!(english.language, Language::En);
    assert_eq!(common::words(&english.text), common::words(common::JFK));

    // A man's Kokoro voice (the caller's in the Mandarin voice evals).
    let files = KokoroFiles {
        model: common::model("kokoro-v1.0.int8.onnx"),
        vocab: common::model("kokoro-v1.0.vocab.json"),
        voice: common::model("kokoro-zm_yunjian.bin"),
    };
    let mut speaker = Speaker::new(
        KokoroVoice::load(&common::ort(), &files, 2).unwrap(),
        16_000,
        20,
    )
    .unwrap();
    let mut mandarin = Vec::new();
    speaker
        .speak(
            "你好，我想问一下我的订单到哪儿了？",
            &CancelToken::new(),
            |f| mandarin.extend_from_slice(f),
        )
        .unwrap();
    let switched = say(&mut stream, &mandarin);
    assert_eq!(switched.language, Language::Zh, "{switched:?}");
    assert!(!switched.english_first);
    assert!(switched.text.contains("订单"), "{switched:?}");

    // In Mandarin now: the multilingual model decodes, and hears the switch back.
    let back = say(&mut stream, &jfk);
    assert_eq!(back.language, Language::En, "{back:?}");
    assert!(!back.english_first);
    assert_eq!(common::words(&back.text), common::words(common::JFK));
    let again = say(&mut stream, &jfk);
    assert!(
        again.english_first,
        "English again: tiny.en first: {again:?}"
    );

    // While an English caller talks, the language check runs once the utterance holds its
    // 4 s window, once per utterance, and the utterance is decoded as before.
    stream.push(&jfk[..16_000 * 3]).unwrap();
    assert!(!stream.check_language_ahead().unwrap(), "not under 4 s");
    stream.push(&jfk[16_000 * 3..]).unwrap();
    assert!(stream.check_language_ahead().unwrap());
    assert!(
        !stream.check_language_ahead().unwrap(),
        "once per utterance"
    );
    let ahead = stream.finish().unwrap();
    assert_eq!(ahead.language, Language::En, "{ahead:?}");
    assert_eq!(common::words(&ahead.text), common::words(common::JFK));
    stream.push(&jfk).unwrap();
    assert!(
        stream.check_language_ahead().unwrap(),
        "a new utterance is checked again"
    );
    stream.reset();
}

/// A caller who says two sentences with a pause between them: the first is decoded in the
/// pause (a speculation) and kept when they go on; at the end of the turn Whisper hears only
/// the second sentence, and the transcript has both.
#[test]
fn a_closed_sentence_is_kept_and_not_decoded_again() {
    use hotline::vad::finished_words::sentence_closed;
    let mut speaker = Speaker::new(common::piper(), 16_000, 20).unwrap();
    let mut say = |text: &str| {
        let mut pcm = Vec::new();
        speaker
            .speak(text, &CancelToken::new(), |f| pcm.extend_from_slice(f))
            .unwrap();
        pcm
    };
    let (first, second) = (
        "I want to make a complaint.",
        "The headphones from my order arrived broken.",
    );
    let (first_pcm, second_pcm) = (say(first), say(second));
    let pause = vec![0.0f32; 16_000 * 3 / 10];
    let seconds = |samples: usize| Duration::from_secs_f64(samples as f64 / 16_000.0);

    let mut stream = AsrStream::new(engine(), AsrOptions::default()).unwrap();
    assert!(
        !stream.commit_sentence(),
        "nothing decoded yet, nothing kept"
    );
    stream.push(&first_pcm).unwrap();
    stream.push(&pause).unwrap();
    let in_the_pause = stream.tentative().unwrap();
    assert_eq!(in_the_pause.decoded, in_the_pause.audio);
    assert!(
        sentence_closed(&in_the_pause.text),
        "{:?}",
        in_the_pause.text
    );
    common::assert_heard(first, &in_the_pause.text, 5, &["complaint"]);
    assert!(stream.commit_sentence());

    stream.push(&second_pcm).unwrap();
    stream.push(&pause).unwrap();
    let last = stream.finish().unwrap();
    assert_eq!(last.decoded, seconds(second_pcm.len() + pause.len()));
    assert_eq!(
        last.audio,
        seconds(first_pcm.len() + second_pcm.len() + 2 * pause.len())
    );
    assert!(
        last.text.starts_with(&in_the_pause.text),
        "the kept words come first: {:?}",
        last.text
    );
    common::assert_heard(
        &format!("{first} {second}"),
        &last.text,
        7,
        &["complaint", "headphones", "broken"],
    );

    // finish() forgot the kept sentence: the next turn is decoded whole.
    stream.push(&second_pcm).unwrap();
    let next = stream.finish().unwrap();
    assert_eq!(next.decoded, next.audio);
    common::assert_heard(second, &next.text, 7, &["headphones", "broken"]);
}
