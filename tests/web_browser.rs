//! A shopper calls from the demo shop page in a real browser: headless Chromium (Debian's,
//! driven by playwright-core from npm) opens `/shop` as a signed-in customer, its fake
//! microphone plays a synthesized question, the widget's button is pressed, and the reply the
//! page hears (recorded from the widget's audio through Web Audio) is transcribed by Whisper:
//! it must give the status of that customer's order from the shop database. The page's
//! captions and states are checked, and a screenshot of the call is kept in
//! `target/test-artifacts/web_browser/`.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::sip::{Serve, field};
use hotline::audio::{Clip, wav};
use hotline::eval::voice::CallerVoice;
use hotline::web::customer_token::TokenKey;

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const SECRET: &str = "the demo shop's token secret";
/// Alice, the fixture's customer C1, whose order 100042 was delivered.
const CUSTOMER: &str = "C1";
const RATE: u32 = 16_000;
/// Silence while the greeting plays, then the question.
const GREETING_S: f32 = 5.0;
/// How long the page stays in the call.
const CALL_S: u32 = 24;

fn node_script() -> std::path::PathBuf {
    let dir = common::root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed in tests/browser (make setup runs npm install there)"
    );
    dir.join("call.mjs")
}

#[test]
fn a_signed_in_shopper_asks_from_the_shop_page_and_hears_the_answer() {
    common::model("ggml-base.bin");
    let script = node_script();
    let serve = Serve::start(
        &common::root().join(SCENARIO),
        &[("HOTLINE_WEB_CUSTOMER_TOKEN_SECRET", SECRET.to_string())],
    );
    let out = common::root().join("target/test-artifacts/web_browser");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();

    // The microphone: silence for the greeting, the question, and silence past the call's end
    // (Chromium loops the file).
    let question = CallerVoice::default()
        .synthesize("Hi, where is my order?", RATE)
        .expect("espeak-ng speaks");
    let mut mic = vec![0.0f32; (GREETING_S * RATE as f32) as usize];
    mic.extend_from_slice(&question);
    mic.extend(std::iter::repeat_n(
        0.0,
        (CALL_S + 10) as usize * RATE as usize,
    ));
    let mic_path = out.join("caller.wav");
    wav::write(
        &mic_path,
        &Clip {
            samples: mic,
            sample_rate: RATE,
        },
    )
    .unwrap();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = TokenKey::new(SECRET)
        .unwrap()
        .sign(CUSTOMER, now + 600)
        .unwrap();
    let url = format!("http://{}/shop?token={token}", serve.web);
    let started = Instant::now();
    let page = Command::new("node")
        .arg(&script)
        .arg(&url)
        .arg(&mic_path)
        .arg(&out)
        .arg(CALL_S.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("node runs (make setup installs nodejs)");
    let stderr = String::from_utf8_lossy(&page.stderr);
    eprintln!("the page ran {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        page.status.success(),
        "the browser run failed:\n{stderr}\nserver log:\n{}",
        serve.log()
    );
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&page.stdout).trim()).unwrap_or_else(|e| {
            panic!(
                "no summary from the page ({e}): {}\n{stderr}",
                String::from_utf8_lossy(&page.stdout)
            )
        });
    eprintln!("page: {summary}");
    assert!(out.join("call.png").exists(), "no screenshot");

    // The server's side: media flowed both ways.
    let calls = serve.wait_finished(1, Duration::from_secs(30));
    let call = &calls[0];
    eprintln!("server: {call:?}");
    assert!(field(call, "packets_received") > 300, "{call:?}");
    assert!(field(call, "speech_sent") > 100, "{call:?}");

    // The page: the greeting named the signed-in shopper, both sides were captioned, and the
    // states went from connecting to listening and speaking, and ended.
    let captions = summary["captions"].as_array().cloned().unwrap_or_default();
    let said = |who: &str| -> Vec<String> {
        captions
            .iter()
            .filter(|c| c["type"] == who)
            .map(|c| c["text"].as_str().unwrap_or("").to_lowercase())
            .collect()
    };
    let assistant = said("assistant");
    assert!(
        assistant.first().is_some_and(|g| g.contains("alice")),
        "the greeting did not name the signed-in shopper: {assistant:?}"
    );
    assert!(
        said("caller").iter().any(|c| c.contains("order")),
        "the question was not captioned: {captions:?}"
    );
    assert!(
        assistant.iter().any(|a| a.contains("delivered")),
        "no captioned answer: {assistant:?}"
    );
    let states: Vec<&str> = summary["states"]
        .as_array()
        .map(|s| s.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for state in ["connecting", "listening", "speaking", "ended"] {
        assert!(states.contains(&state), "no {state:?} state: {states:?}");
    }

    // The latency at the server's WebRTC edge, as stored with the turn: the question's last
    // packet to the first packet of our reply (a filler or the answer) and to the answer.
    let call_id = call["call"].clone();
    let turns = serve.with_store(async |store| store.turns_of_call(&call_id).await.unwrap());
    common::sip::question_latency(&turns, "WebRTC");

    // What the page heard, transcribed.
    let heard = out.join("heard.wav");
    let transcript = common::transcribe(&heard);
    eprintln!("the page heard: {transcript}");
    assert!(
        transcript.contains("delivered"),
        "the reply the page heard did not give the order's status: {transcript}\n(recording: {})",
        heard.display()
    );
    // The greeting from its first word: the playout waits for the browser to connect.
    // "Hello Alice, thanks for calling": two words came before "thanks". Whisper writes the
    // first word of a random Piper clip in more than one way ("hello", "hallo", once "below");
    // a greeting whose start was lost begins at "alice".
    let words = common::words(&transcript);
    let thanks = words.iter().take(5).position(|w| w == "thanks");
    assert!(
        thanks.is_some_and(|at| at >= 2),
        "the start of the greeting did not reach the page: {transcript}"
    );
}
