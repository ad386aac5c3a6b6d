//! Phone calls from SIPp (Debian `sip-tester`), a real SIP peer, to `hotline serve` on
//! loopback: an OPTIONS probe over UDP and TCP; a customer's call that asks where their order is (speech the
//! test synthesizes with espeak-ng and plays as PCMA RTP from a pcap), keys a digit (RFC 2833,
//! SIPp's own pcap), holds and resumes (re-INVITE), and hangs up; a caller who asks for a person
//! and is transferred (REFER, NOTIFY, BYE), and one whose phone refuses REFER and is bridged
//! to the agent's phone (SIPp again, PCMU against the caller's PCMA); then 30 concurrent calls at
//! 5 calls a second, each answered with the greeting. Memory per call and the latency spread
//! are printed (README, "Phone calls"). One test: the calls are timed on the real clock and
//! must not share the CPU with another server.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::sip::{Serve, field, g711_frames, sipp, sipp_errors, write_pcap};
use hotline::audio::g711::Law;
use hotline::eval::quantile;
use hotline::eval::voice::CallerVoice;

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const CALLER: &str = "+15551230001";
const LOAD_CALLS: usize = 30;

fn sipp_args<'a>(serve: &Serve, port: &'a str, scenario: &'a str) -> Vec<String> {
    let scenarios = common::root().join("sip/scenarios");
    vec![
        "-sf".into(),
        scenarios.join(scenario).display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-mi".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.into(),
        serve.sip.to_string(),
    ]
}

fn run_sipp(dir: &Path, args: &[String], limit: Duration) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sipp(dir, &args, limit)
}

fn assert_ok(out: &std::process::Output, dir: &Path, serve: &Serve) {
    assert!(
        out.status.success(),
        "sipp failed ({}):\n{}\n{}\nerrors:\n{}\nserver:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        sipp_errors(dir),
        serve.log()
    );
}

#[test]
fn sipp_calls_flow_key_hold_and_load() {
    common::model("ggml-base.bin");
    // The person's phone transfers go to (SIPp, when a bridge is needed).
    let agent_port = common::sip::free_sip_port().to_string();
    let agent_uri = format!("sip:agent@127.0.0.1:{agent_port}");
    let mut serve = Serve::start(
        &common::root().join(SCENARIO),
        &[
            ("HOTLINE_SIP_MAX_CALLS", (LOAD_CALLS + 2).to_string()),
            ("HOTLINE_SIP_AGENT_URI", agent_uri.clone()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let port = common::sip::free_sip_port().to_string();

    // A trunk's OPTIONS probe, over UDP and over TCP.
    for transport in ["u1", "t1"] {
        let out = run_sipp(
            dir.path(),
            &[
                sipp_args(&serve, &port, "options.xml"),
                vec!["-m".into(), "1".into(), "-t".into(), transport.into()],
            ]
            .concat(),
            Duration::from_secs(30),
        );
        assert_ok(&out, dir.path(), &serve);
    }

    // The customer's call.
    let speech = CallerVoice::default()
        .synthesize("Hi, where is my order?", 8000)
        .expect("espeak-ng speaks");
    let frames = g711_frames(&speech, Law::ALaw);
    write_pcap(&dir.path().join("speech.pcap"), &frames, 8);
    std::fs::copy(
        "/usr/share/sip-tester/dtmf_2833_1.pcap",
        dir.path().join("dtmf.pcap"),
    )
    .expect("SIPp's RFC 2833 pcap (Debian sip-tester)");
    let out = run_sipp(
        dir.path(),
        &[
            sipp_args(&serve, &port, "caller.xml"),
            vec!["-key".into(), "caller".into(), CALLER.into()],
            vec!["-m".into(), "1".into()],
        ]
        .concat(),
        Duration::from_secs(90),
    );
    assert_ok(&out, dir.path(), &serve);
    let calls = serve.wait_finished(1, Duration::from_secs(30));
    let call = &calls[0];
    eprintln!("caller call: {call:?}");
    // Every packet SIPp played arrived (the speech, and the key's event packets).
    assert!(
        field(call, "rtp_received") > frames.len() as i64,
        "{} speech packets played: {call:?}",
        frames.len()
    );
    assert!(field(call, "rtp_sent") > 500, "{call:?}");
    assert!(field(call, "speech_sent") > 100, "{call:?}");
    assert!(field(call, "dtmf") >= 1, "{call:?}");
    assert_eq!(field(call, "rejected"), 0, "{call:?}");
    let log = serve.log();
    assert!(
        log.contains("re-INVITE") && log.contains("on_hold=true"),
        "{log}"
    );
    assert!(log.contains("on_hold=false"), "{log}");

    let call_id = call["call"].clone();
    let (turns, audit) = serve.with_store(async |store| {
        (
            store.turns_of_call(&call_id).await.unwrap(),
            store.audit_of_call(&call_id).await.unwrap(),
        )
    });
    for t in &turns {
        eprintln!(
            "  {:<9} {:?} (end to end {:?} ms)",
            t.role, t.text, t.end_to_end_ms
        );
    }
    let asked = turns
        .iter()
        .find(|t| t.role == "caller" && t.text.to_lowercase().contains("order"))
        .unwrap_or_else(|| panic!("the question was not heard: {turns:?}"));
    // Latency at the RTP edge: from the last packet of the question to our first packet back.
    let edge = asked
        .end_to_end_ms
        .expect("the turn's latency was measured");
    assert!(edge > 0 && edge < 5000, "{asked:?}");
    eprintln!("RTP edge latency of the question: {edge} ms");
    assert!(
        turns
            .iter()
            .any(|t| t.role == "caller" && t.text.contains('1')),
        "the key press was not a turn: {turns:?}"
    );
    assert!(
        audit.iter().any(|a| a.tool == "verify_identity"),
        "{audit:?}"
    );
    let answered = turns
        .iter()
        .filter(|t| t.role == "assistant")
        .any(|t| t.text.contains("delivered"));
    assert!(answered, "no reply gave the order's status: {turns:?}");

    // The caller asks for a person: a blind transfer to the agent, the summary in a header.
    let ask = CallerVoice::default()
        .synthesize("Let me talk to a person, please.", 8000)
        .expect("espeak-ng speaks");
    write_pcap(
        &dir.path().join("speech.pcap"),
        &g711_frames(&ask, Law::ALaw),
        8,
    );
    let out = run_sipp(
        dir.path(),
        &[
            sipp_args(&serve, &port, "transfer.xml"),
            vec!["-key".into(), "caller".into(), CALLER.into()],
            vec!["-m".into(), "1".into()],
        ]
        .concat(),
        Duration::from_secs(90),
    );
    assert_ok(&out, dir.path(), &serve);
    serve.wait_finished(2, Duration::from_secs(30));
    assert!(
        serve.log().contains(&format!("transferred to {agent_uri}")),
        "{}",
        serve.log()
    );

    // The same, but the caller's phone refuses REFER: hotline calls the agent (PCMU) and
    // bridges the caller (PCMA) to it, both ways, until the caller hangs up.
    let agent_voice = CallerVoice::default()
        .synthesize("Hello, this is Sam from customer care.", 8000)
        .expect("espeak-ng speaks");
    write_pcap(
        &dir.path().join("agent.pcap"),
        &g711_frames(&agent_voice, Law::MuLaw),
        0,
    );
    let agent_dir = dir.path().to_path_buf();
    let agent_xml = common::root().join("sip/scenarios/agent.xml");
    let agent = std::thread::spawn(move || {
        sipp(
            &agent_dir,
            &[
                "-sf",
                agent_xml.to_str().unwrap(),
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-mp",
                "6100",
                "-p",
                &agent_port,
                "-m",
                "1",
            ],
            Duration::from_secs(120),
        )
    });
    let out = run_sipp(
        dir.path(),
        &[
            sipp_args(&serve, &port, "transfer_refused.xml"),
            vec!["-key".into(), "caller".into(), CALLER.into()],
            vec!["-m".into(), "1".into()],
        ]
        .concat(),
        Duration::from_secs(90),
    );
    assert_ok(&out, dir.path(), &serve);
    let agent_out = agent.join().unwrap();
    assert_ok(&agent_out, dir.path(), &serve);
    let calls = serve.wait_finished(3, Duration::from_secs(30));
    let log = serve.log();
    let bridged = log
        .lines()
        .find(|l| l.contains("bridge finished"))
        .unwrap_or_else(|| panic!("no bridge:\n{log}"));
    eprintln!("{bridged}");
    let relayed = |key: &str| -> i64 {
        bridged
            .split(&format!("{key}="))
            .nth(1)
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    assert!(relayed("relayed_to_agent") > 50, "{bridged}");
    assert!(relayed("relayed_to_caller") > 50, "{bridged}");
    assert_eq!(calls.len(), 3);

    // Load: 30 calls at once, 5 new a second, each hears the greeting.
    let idle_kib = serve.rss_kib();
    let started = Instant::now();
    let load_dir = dir.path().to_path_buf();
    let args = [
        sipp_args(&serve, &port, "load.xml"),
        vec!["-r".into(), "5".into()],
        vec!["-l".into(), LOAD_CALLS.to_string()],
        vec!["-m".into(), LOAD_CALLS.to_string()],
    ]
    .concat();
    let runner = std::thread::spawn(move || run_sipp(&load_dir, &args, Duration::from_secs(120)));
    let mut peak_kib = idle_kib;
    while !runner.is_finished() {
        peak_kib = peak_kib.max(serve.rss_kib());
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = runner.join().unwrap();
    assert_ok(&out, dir.path(), &serve);
    let calls = serve.wait_finished(3 + LOAD_CALLS, Duration::from_secs(60));
    let load: Vec<_> = calls[3..].to_vec();
    let mut first_speech: Vec<f64> = Vec::new();
    for c in &load {
        assert!(field(c, "speech_sent") > 0, "a call heard nothing: {c:?}");
        assert!(field(c, "rtp_sent") > 100, "{c:?}");
        first_speech.push(field(c, "first_speech_ms") as f64);
    }
    first_speech.sort_by(f64::total_cmp);
    let per_call_mib = (peak_kib.saturating_sub(idle_kib)) as f64 / 1024.0 / LOAD_CALLS as f64;
    eprintln!(
        "load: {LOAD_CALLS} calls at 5/s in {:.1} s, all answered; greeting's first audio after \
         answering: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; memory: idle {} MiB, peak {} MiB, \
         {per_call_mib:.1} MiB per call",
        started.elapsed().as_secs_f64(),
        quantile(&first_speech, 0.5),
        quantile(&first_speech, 0.95),
        first_speech.last().copied().unwrap_or(0.0),
        idle_kib / 1024,
        peak_kib / 1024,
    );
    assert!(
        serve.alive(),
        "the server died under load:\n{}",
        serve.log()
    );
}
