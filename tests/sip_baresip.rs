//! A real softphone calls in: baresip (Debian package) with a WAV file as its microphone (a
//! customer asking where their order is, synthesized with espeak-ng) and its `sndfile` module
//! recording what it hears. The recording is transcribed with Whisper and must give the status
//! of the caller's order from the shop database; the latency at the RTP edge is read from the
//! turn the server stored.

mod common;

use std::time::{Duration, Instant};

use common::sip::{Serve, field};

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const CALLER: &str = "+15551230001";
/// The caller waits this long for the greeting, asks, then listens until the file ends.
const GREETING_S: f32 = 6.0;
const LISTEN_S: f32 = 16.0;

#[test]
fn baresip_asks_where_its_order_is_and_hears_the_answer() {
    common::model("ggml-base.bin");
    let serve = Serve::start(&common::root().join(SCENARIO), &[]);
    // The microphone: silence while the greeting plays, the question, silence to listen.
    let rate = 8000;
    let mic = common::baresip::says(GREETING_S, "Hi, where is my order?", LISTEN_S, rate);
    let phone = common::baresip::Softphone::new(&mic, rate, CALLER);
    let started = Instant::now();
    let mut baresip = phone.dial(serve.sip, 3);
    let _ = baresip.wait();
    let baresip_log = phone.log();
    eprintln!("baresip ran {:.1} s", started.elapsed().as_secs_f64());

    let calls = serve.wait_finished(1, Duration::from_secs(30));
    let call = &calls[0];
    eprintln!("call: {call:?}");
    assert!(field(call, "rtp_received") > 500, "{call:?}\n{baresip_log}");
    assert!(field(call, "speech_sent") > 100, "{call:?}");

    // What the softphone heard, transcribed.
    let recording = phone.recording().unwrap_or_else(|| {
        panic!(
            "baresip recorded nothing in {}:\n{baresip_log}",
            phone.heard.display()
        )
    });
    let transcript = common::transcribe(&recording);
    eprintln!("baresip heard: {transcript}");
    // The status, given without asking for an order number or ZIP code: the caller id (from
    // this machine, a trusted source) verified the customer. Whisper hears the greeting's
    // name as "Alice" or "alas" through G.711, so the name itself is not checked.
    // The server's side of the conversation, to say what went wrong if anything did.
    let call_id = call["call"].clone();
    let turns = serve.with_store(async |store| store.turns_of_call(&call_id).await.unwrap());
    if !transcript.contains("delivered") {
        // The recording stays for a listen: what reached the softphone, or what Whisper missed.
        let kept = common::root().join("target/test-artifacts/sip_baresip-heard.wav");
        let _ = std::fs::create_dir_all(kept.parent().unwrap());
        let _ = std::fs::copy(&recording, &kept);
        panic!(
            "the answer did not give the order's status: {transcript}\n\
             the server's turns: {turns:?}\nthe recording: {}",
            kept.display()
        );
    }

    // The RTP-edge latency of the question, as stored with the turn.
    common::sip::question_latency(&turns, "RTP");
}
