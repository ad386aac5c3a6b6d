//! A caller handed over to a person holds for the console's queue; when nobody picks the call up
//! in `console.hold_for_person_s`, the assistant promises a call back and ends the call. A real
//! softphone (baresip) calls `hotline serve`, asks for a person and listens; what it heard is
//! transcribed. The call showed in the queue while it held (the console's API, logged in).
//! And a supervisor who took a call over and whose audio socket went away (a closed tab) does
//! not leave the caller in silence: the assistant takes the call back.

mod common;

use std::time::{Duration, Instant};

use common::baresip::says;
use common::http::http;
use common::sip::Serve;

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const CALLER: &str = "+15551230001";
const PASSWORD: &str = "a supervisor's password";

/// A supervisor `name` made with `hotline user add` and logged in: the cookie and CSRF token.
fn supervisor(serve: &Serve, name: &str) -> (String, String) {
    let added = common::user_add(&serve.db_url, name, "supervisor", PASSWORD);
    assert!(added.status.success());
    let body = serde_json::json!({ "user": name, "password": PASSWORD }).to_string();
    let login = http(serve.web, "POST", "/console/login", &[], body.as_bytes());
    let cookie = login.header("set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    (cookie, login.json()["csrf"].as_str().unwrap().to_string())
}

/// The console's list of calls in progress.
fn live_calls(serve: &Serve, cookie: &str) -> Vec<serde_json::Value> {
    let calls = http(
        serve.web,
        "GET",
        "/console/api/calls",
        &[("Cookie", cookie)],
        b"",
    );
    calls.json().as_array().cloned().unwrap_or_default()
}

/// The calls of this file run one at a time: each is timed, and their softphones would share
/// ports.
static ONE_CALL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_handed_over_caller_holds_and_is_promised_a_call_back_when_nobody_picks_up() {
    let _turn = ONE_CALL_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    common::model("ggml-base.bin");
    let serve = Serve::start(
        &common::root().join(SCENARIO),
        &[("HOTLINE_CONSOLE_HOLD_FOR_PERSON_S", "6".to_string())],
    );
    let (cookie, _) = supervisor(&serve, "supervisor");

    let rate = 8000;
    let mic = says(6.0, "I would like to talk to a person, please.", 40.0, rate);
    let phone = common::baresip::Softphone::new(&mic, rate, CALLER);
    let started = Instant::now();
    let mut baresip = phone.dial(serve.sip, 0);

    // While the caller holds, the call is in the console's list, waiting for a person, with
    // the assistant's summary.
    let mut waiting = None;
    while waiting.is_none() && started.elapsed() < Duration::from_secs(40) {
        waiting = live_calls(&serve, &cookie)
            .into_iter()
            .find(|c| c["state"] == "waiting for a person");
        std::thread::sleep(Duration::from_millis(200));
    }
    let waiting = waiting.expect("the call waited for a person");
    assert!(
        waiting["handover"]
            .as_str()
            .unwrap()
            .contains("asked for a person"),
        "{waiting}"
    );

    // Nobody picks up: the server ends the call well before the softphone would.
    let calls = serve.wait_finished(1, Duration::from_secs(40));
    let ended_after = started.elapsed();
    let _ = baresip.kill();
    let _ = baresip.wait();
    assert!(
        ended_after < Duration::from_secs(38),
        "the call went on: {ended_after:?}"
    );
    let call_id = calls[0]["call"].clone();
    let call = serve.with_store(async |s| s.call(&call_id).await.unwrap().unwrap());
    assert_eq!(call.outcome.as_deref(), Some("transferred"));

    let recording = phone.recording().expect("baresip recorded the call");
    let transcript = common::transcribe(&recording);
    eprintln!("baresip heard: {transcript}");
    // "I'm connecting you with a colleague now" and "A colleague will get back to you": one
    // part of each that Whisper cannot miss whole.
    let heard = transcript.to_lowercase();
    assert!(
        heard.contains("connect") && heard.contains("get back"),
        "{transcript}"
    );
}

/// Opens the console's audio WebSocket for `call` (a real upgrade over TCP) and returns the
/// connection once the server has switched protocols.
fn open_audio_socket(serve: &Serve, cookie: &str, call: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(serve.web).unwrap();
    let request = format!(
        "GET /console/api/calls/{call}/audio HTTP/1.1\r\nHost: {web}\r\nOrigin: http://{web}\r\n\
         Cookie: {cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        web = serve.web
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101", "the socket opened");
    stream
}

#[test]
fn a_take_over_whose_audio_goes_away_hands_the_call_back() {
    let _turn = ONE_CALL_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    common::model("ggml-base.bin");
    let serve = Serve::start(&common::root().join(SCENARIO), &[]);
    let (cookie, csrf) = supervisor(&serve, "ana");

    let rate = 8000;
    let mic = says(4.0, "Hi, where is my order?", 20.0, rate);
    let phone = common::baresip::Softphone::new(&mic, rate, CALLER);
    let mut baresip = phone.dial(serve.sip, 0);

    let state = |id: &str| -> Option<serde_json::Value> {
        live_calls(&serve, &cookie)
            .into_iter()
            .find(|c| c["id"] == id)
    };
    let started = Instant::now();
    let id = loop {
        if let Some(c) = live_calls(&serve, &cookie).first() {
            break c["id"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no call showed"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let socket = open_audio_socket(&serve, &cookie, &id);
    let origin = format!("http://{}", serve.web);
    let took = http(
        serve.web,
        "POST",
        &format!("/console/api/calls/{id}/take-over"),
        &[
            ("Cookie", &cookie),
            ("X-CSRF-Token", &csrf),
            ("Origin", &origin),
        ],
        b"",
    );
    assert_eq!(took.status, 204);
    let until = Instant::now() + Duration::from_secs(5);
    while state(&id).is_some_and(|c| c["person"] != "ana") {
        assert!(Instant::now() < until, "the call was not taken over");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Another supervisor cannot take it from her, nor hand it back.
    let (bo_cookie, bo_csrf) = supervisor(&serve, "bo");
    for action in ["take-over", "hand-back"] {
        let r = http(
            serve.web,
            "POST",
            &format!("/console/api/calls/{id}/{action}"),
            &[
                ("Cookie", &bo_cookie),
                ("X-CSRF-Token", &bo_csrf),
                ("Origin", &origin),
            ],
            b"",
        );
        assert_eq!(r.status, 409, "{action}: {}", r.body);
    }
    // The supervisor's tab goes away: the assistant takes the call back.
    drop(socket);
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let c = state(&id).expect("the call goes on");
        if c["person"].is_null() && c["state"] != "taken over" {
            break;
        }
        assert!(Instant::now() < until, "the call stayed taken over: {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The softphone hangs up when its file has played.
    let _ = baresip.wait();
    serve.wait_finished(1, Duration::from_secs(30));
    let notes = serve.with_store(async |s| s.notes_of_call(&id).await.unwrap());
    let kinds: Vec<(&str, &str)> = notes
        .iter()
        .map(|n| (n.kind.as_str(), n.text.as_str()))
        .collect();
    assert_eq!(kinds, [("take-over", ""), ("hand-back", "audio closed")]);
}
