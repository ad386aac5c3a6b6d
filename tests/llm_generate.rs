//! Generation on the converted SmolLM2: prefix KV-cache reuse across turns gives the same
//! reply as computing everything, text streams out without stop strings, and stop strings,
//! token limits, cancellation and seeded sampling behave.

mod common;

use hotline::cancel::CancelToken;
use hotline::llm::chat_template::Role;
use hotline::llm::generate::READ_AHEAD_STEP;
use hotline::llm::{GenerateOptions, Generator, Sampling, StopReason};

fn generator() -> Generator {
    Generator::load(
        &common::ort(),
        &common::model("smollm2-135m-instruct.q8.onnx"),
        &common::model("smollm2-135m-instruct.tokenizer.json"),
        &common::model("smollm2-135m-instruct.hotline-llm.json"),
        2,
    )
    .unwrap()
}

const SYSTEM: &str = "You are the assistant of an online shop's customer-service hotline. Answer briefly and politely.";

#[test]
fn reading_ahead_leaves_only_the_words_to_compute_and_changes_nothing() {
    let mut g = generator();
    let template = g.config().chat_template;
    let options = GenerateOptions {
        max_new_tokens: 16,
        ..GenerateOptions::default()
    };
    let prompt = template.render(&[
        (Role::System, SYSTEM),
        (Role::User, "Orders: 100042\nCaller: Where is my parcel?"),
    ]);
    let ahead = &prompt[..prompt.find("Caller:").unwrap() + "Caller:".len()];
    // Told to stop, it stops between steps and keeps what it computed.
    let mut seq = g.new_sequence().unwrap();
    assert_eq!(g.read_ahead(&mut seq, ahead, || false).unwrap(), 0);
    let mut steps = 0;
    let one_step = g
        .read_ahead(&mut seq, ahead, || {
            steps += 1;
            steps == 1
        })
        .unwrap();
    assert_eq!(one_step, READ_AHEAD_STEP);
    assert_eq!(seq.len(), READ_AHEAD_STEP);
    let computed = one_step + g.read_ahead(&mut seq, ahead, || true).unwrap();
    assert_eq!(computed, seq.len());
    assert!(computed > 20, "{computed}");
    let planned = g
        .generate(&mut seq, &prompt, &options, &CancelToken::new(), |_| {})
        .unwrap();
    // All that was read ahead came from the cache: the words and the template's tail remain.
    assert_eq!(planned.reused_tokens, computed);
    assert!(planned.prompt_tokens - computed < 15, "{planned:?}");
    // What is read already is not read again.
    assert_eq!(g.read_ahead(&mut seq, ahead, || true).unwrap(), 0);
    let mut fresh_seq = g.new_sequence().unwrap();
    let fresh = g
        .generate(
            &mut fresh_seq,
            &prompt,
            &options,
            &CancelToken::new(),
            |_| {},
        )
        .unwrap();
    assert_eq!(planned.text, fresh.text);
}

#[test]
fn prefix_reuse_across_turns_matches_a_fresh_computation() {
    let mut g = generator();
    let template = g.config().chat_template;
    let options = GenerateOptions {
        max_new_tokens: 24,
        ..GenerateOptions::default()
    };
    let turn1 = template.render(&[
        (Role::System, SYSTEM),
        (Role::User, "Hi, what are your opening hours?"),
    ]);
    let mut seq = g.new_sequence().unwrap();
    let first = g
        .generate(&mut seq, &turn1, &options, &CancelToken::new(), |_| {})
        .unwrap();
    assert_eq!(first.reused_tokens, 0);
    assert!(!first.text.trim().is_empty());

    let turn2 = template.render(&[
        (Role::System, SYSTEM),
        (Role::User, "Hi, what are your opening hours?"),
        (Role::Assistant, first.text.as_str()),
        (Role::User, "And where is my order?"),
    ]);
    let reused = g
        .generate(&mut seq, &turn2, &options, &CancelToken::new(), |_| {})
        .unwrap();
    // Everything up to the end of the first reply came from the cache.
    assert!(
        reused.reused_tokens >= first.prompt_tokens + first.tokens.saturating_sub(2),
        "reused {} of {}",
        reused.reused_tokens,
        reused.prompt_tokens
    );
    let mut fresh_seq = g.new_sequence().unwrap();
    let fresh = g
        .generate(
            &mut fresh_seq,
            &turn2,
            &options,
            &CancelToken::new(),
            |_| {},
        )
        .unwrap();
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(reused.text, fresh.text);

    // A different conversation on the same sequence reuses only the shared system prompt.
    let other = template.render(&[
        (Role::System, SYSTEM),
        (Role::User, "Do you ship to Canada?"),
    ]);
    let third = g
        .generate(&mut seq, &other, &options, &CancelToken::new(), |_| {})
        .unwrap();
    assert!(
        third.reused_tokens > 10 && third.reused_tokens < first.prompt_tokens,
        "{}",
        third.reused_tokens
    );
}

#[test]
fn streamed_pieces_make_the_reply_and_stop_strings_end_it() {
    let mut g = generator();
    let prompt = g
        .config()
        .chat_template
        .render(&[(Role::User, "What is the capital of France?")]);
    let mut seq = g.new_sequence().unwrap();
    let mut pieces = Vec::new();
    let r = g
        .generate(
            &mut seq,
            &prompt,
            &GenerateOptions::default(),
            &CancelToken::new(),
            |p| pieces.push(p.to_string()),
        )
        .unwrap();
    assert_eq!(pieces.concat(), r.text);
    assert!(pieces.len() > 3);
    assert_eq!(r.stop, StopReason::EndOfText);
    assert!(!r.text.contains("<|im_end|>"));
    assert!(r.text.contains("Paris"), "{}", r.text);

    let stop = GenerateOptions {
        stop: vec!["Paris".into()],
        ..GenerateOptions::default()
    };
    let mut pieces = Vec::new();
    let r = g
        .generate(&mut seq, &prompt, &stop, &CancelToken::new(), |p| {
            pieces.push(p.to_string())
        })
        .unwrap();
    assert_eq!(r.stop, StopReason::StopString);
    assert!(
        !r.text.contains("Paris") && !pieces.concat().contains("Par"),
        "{:?}",
        pieces
    );
    assert_eq!(pieces.concat(), r.text);
}

#[test]
fn limits_cancellation_and_seeded_sampling() {
    let mut g = generator();
    let prompt = g
        .config()
        .chat_template
        .render(&[(Role::User, "Tell me a long story about a parcel.")]);
    let mut seq = g.new_sequence().unwrap();
    let short = GenerateOptions {
        max_new_tokens: 3,
        ..GenerateOptions::default()
    };
    let r = g
        .generate(&mut seq, &prompt, &short, &CancelToken::new(), |_| {})
        .unwrap();
    assert_eq!((r.tokens, r.stop), (3, StopReason::MaxTokens));

    let cancel = CancelToken::new();
    let r = g
        .generate(
            &mut seq,
            &prompt,
            &GenerateOptions::default(),
            &cancel,
            |_| cancel.cancel(),
        )
        .unwrap();
    assert_eq!(r.stop, StopReason::Cancelled);
    assert!(r.tokens <= 2, "{}", r.tokens);

    let sampled = |seed| GenerateOptions {
        max_new_tokens: 20,
        sampling: Sampling::TopP {
            temperature: 0.8,
            top_p: 0.9,
            seed,
        },
        stop: vec![],
    };
    let a = g
        .generate(&mut seq, &prompt, &sampled(5), &CancelToken::new(), |_| {})
        .unwrap();
    let b = g
        .generate(&mut seq, &prompt, &sampled(5), &CancelToken::new(), |_| {})
        .unwrap();
    assert_eq!(a.text, b.text);
}

#[test]
fn prompts_beyond_the_context_are_refused() {
    let mut g = generator();
    let huge = "order ".repeat(g.config().context_length + 10);
    let mut seq = g.new_sequence().unwrap();
    let err = g
        .generate(
            &mut seq,
            &huge,
            &GenerateOptions::default(),
            &CancelToken::new(),
            |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("context"), "{err}");
    // The sequence is still usable afterwards.
    let prompt = g.config().chat_template.render(&[(Role::User, "Hello")]);
    assert!(
        g.generate(
            &mut seq,
            &prompt,
            &GenerateOptions::default(),
            &CancelToken::new(),
            |_| {}
        )
        .is_ok()
    );
}
