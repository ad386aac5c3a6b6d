//! The browser-call API of `hotline serve` over real HTTP on loopback, with real WebRTC offers
//! (made by the `webrtc` crate as the browser would): the shop page and widget are served; a
//! signed token makes the shopper known while a tampered one leaves them anonymous; foreign
//! origins, broken bodies and offers, floods of offers and too many calls at once are refused
//! with clear statuses; unknown calls are 404; and the server goes on serving throughout.
//! A real TURN server (coturn, started on loopback) is configured: the answers carry its relay
//! candidates, so the configured ICE servers are what the server's peer uses.
//! The full call in a real browser is `tests/web_browser.rs`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::http::{Response, http};
use common::sip::Serve;
use hotline::web::customer_token::TokenKey;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler};

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const SECRET: &str = "the demo shop's token secret";
const SHOP: &str = "https://shop.example.com";
const TURN_USER: &str = "hotline";
const TURN_PASSWORD: &str = "turn-secret";

/// coturn on loopback, killed when dropped.
struct Turn {
    child: std::process::Child,
    port: u16,
}

impl Turn {
    fn start() -> Turn {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let relay = 49152 + (std::process::id() % 100) as u16 * 50;
        let child = std::process::Command::new("turnserver")
            .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1"])
            .arg(format!("--listening-port={port}"))
            .arg(format!("--min-port={relay}"))
            .arg(format!("--max-port={}", relay + 49))
            .args([
                "--lt-cred-mech",
                "--realm=hotline.test",
                "--no-tls",
                "--no-dtls",
            ])
            .args(["--no-cli", "--allow-loopback-peers", "--log-file=stdout"])
            .arg(format!("--user={TURN_USER}:{TURN_PASSWORD}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("turnserver runs (Debian package coturn; make setup installs it)");
        std::thread::sleep(Duration::from_millis(500));
        Turn { child, port }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post_offer(addr: SocketAddr, sdp: &str, token: Option<&str>, origin: Option<&str>) -> Response {
    let body = serde_json::json!({ "sdp": sdp, "token": token }).to_string();
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(o) = origin {
        headers.push(("Origin", o));
    }
    http(addr, "POST", "/call", &headers, body.as_bytes())
}

/// The first assistant caption of a call, read from its event stream.
fn greeting(addr: SocketAddr, call_id: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /call/{call_id}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let line = line.expect("the event stream stays open until the greeting");
        if let Some(data) = line.strip_prefix("data: ")
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
            && v["type"] == "assistant"
        {
            return v["text"].as_str().unwrap_or("").to_string();
        }
    }
    panic!("the event stream ended without a greeting");
}

/// The test's peer ignores its events.
struct Quiet;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Quiet {}

/// A browser-like offer: one send-receive Opus stream, ICE candidates gathered.
async fn browser_offer() -> (Arc<dyn PeerConnection>, String) {
    let mut media = MediaEngine::default();
    media.register_default_codecs().unwrap();
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .with_handler(Arc::new(Quiet))
            .with_runtime(webrtc::runtime::default_runtime().unwrap())
            .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
            .build()
            .await
            .unwrap(),
    );
    let opus = rtc::rtp_transceiver::rtp_sender::RTCRtpCodec {
        mime_type: "audio/opus".into(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    };
    let track = Arc::new(
        TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "shopper".into(),
                "mic".into(),
                "mic".into(),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(4242),
                        ..Default::default()
                    },
                    codec: opus,
                    ..Default::default()
                }],
            ),
        )
        .unwrap(),
    );
    pc.add_track(track as Arc<dyn TrackLocal>).await.unwrap();
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sdp = pc.local_description().await.unwrap().sdp;
    (pc, sdp)
}

fn call_id(r: &Response) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.body));
    assert!(
        v["sdp"].as_str().is_some_and(|s| s.contains("m=audio")),
        "{v}"
    );
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn the_call_api_serves_pages_knows_signed_in_shoppers_and_refuses_abuse() {
    common::model("ggml-base.bin");
    let turn = Turn::start();
    let serve = Serve::start(
        &common::root().join(SCENARIO),
        &[
            ("HOTLINE_WEB_CUSTOMER_TOKEN_SECRET", SECRET.to_string()),
            ("HOTLINE_WEB_MAX_CALLS", "2".to_string()),
            ("HOTLINE_WEB_OFFERS_PER_MINUTE", "6".to_string()),
            ("HOTLINE_WEB_ALLOWED_ORIGINS", format!("[\"{SHOP}\"]")),
            // A TURN server: both peers are told of it.
            (
                "HOTLINE_WEB_ICE_SERVERS",
                format!(
                    r#"[{{ urls = ["turn:127.0.0.1:{}"], username = "{TURN_USER}", credential = "{TURN_PASSWORD}" }}]"#,
                    turn.port
                ),
            ),
        ],
    );
    let web = serve.web;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The test's peers: each answered one is connected (so no call ends for want of a
    // browser while the test runs), and all are closed at the end.
    let peers = std::cell::RefCell::new(Vec::new());
    let offer = || {
        let (pc, sdp) = runtime.block_on(browser_offer());
        peers.borrow_mut().push(pc);
        sdp
    };
    let connect = |r: &Response| {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let answer = RTCSessionDescription::answer(v["sdp"].as_str().unwrap().to_string()).unwrap();
        let pc = peers.borrow().last().cloned().unwrap();
        runtime.block_on(pc.set_remote_description(answer)).unwrap();
    };

    // The shop page and the widget.
    let shop = http(web, "GET", "/shop", &[], b"");
    assert_eq!(shop.status, 200);
    assert!(shop.body.contains("Wireless Headphones") && shop.body.contains("$79.99"));
    assert!(shop.body.contains(r#"<script src="/widget.js""#));
    let widget = http(web, "GET", "/widget.js", &[], b"");
    assert_eq!(widget.status, 200);
    assert!(widget.head.contains("text/javascript") && widget.body.contains("RTCPeerConnection"));

    let ice = http(web, "GET", "/call/config", &[], b"");
    assert_eq!(ice.status, 200);
    assert!(
        ice.body
            .contains(&format!(r#""urls":["turn:127.0.0.1:{}"]"#, turn.port)),
        "{}",
        ice.body
    );

    // Refused before any offer is counted: a foreign page, a body that is not the API's.
    let foreign = post_offer(web, &offer(), None, Some("https://evil.example"));
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert_eq!(
        http(
            web,
            "POST",
            "/call",
            &[("Content-Type", "application/json")],
            b"{not json"
        )
        .status,
        400
    );
    let huge = vec![b'x'; 200_000];
    assert_eq!(http(web, "POST", "/call", &[], &huge).status, 413);

    // 1: an offer that is not SDP.
    let bad = post_offer(web, "v=0\r\nm=audio but this is not an offer", None, None);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("error"));

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = TokenKey::new(SECRET).unwrap();
    let valid = key.sign("C1", now + 600).unwrap();
    let tampered = valid.replacen("C1", "C2", 1);
    let expired = key.sign("C1", now - 1).unwrap();

    // 2: a tampered token: the caller is anonymous, never Bob (C2) nor Alice.
    let anonymous = post_offer(web, &offer(), Some(&tampered), None);
    assert_eq!(anonymous.status, 201, "{}", anonymous.body);
    assert!(anonymous.head.contains("location: /call/web-"));
    let first = call_id(&anonymous);
    connect(&anonymous);
    // The answer offers a relay through the configured TURN server beside the host address.
    assert!(
        anonymous.body.contains("typ relay"),
        "no TURN relay candidate in the answer: {}",
        anonymous.body
    );
    let hello = greeting(web, &first);
    assert_eq!(hello, "Hello, thanks for calling. How can I help?");

    // 3: a valid token from an allowed shop's page: Alice is greeted by name, with CORS.
    let known = post_offer(web, &offer(), Some(&valid), Some(SHOP));
    assert_eq!(known.status, 201, "{}", known.body);
    assert!(
        known
            .head
            .contains(&format!("access-control-allow-origin: {SHOP}"))
    );
    let second = call_id(&known);
    connect(&known);
    assert!(
        greeting(web, &second).starts_with("Hello Alice"),
        "the signed-in shopper was not known"
    );

    // 4: both lines are busy.
    let busy = post_offer(web, &offer(), None, None);
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(busy.head.contains("retry-after"));

    // Hanging up frees a line; unknown calls are 404.
    assert_eq!(
        http(web, "DELETE", &format!("/call/{first}"), &[], b"").status,
        204
    );
    assert_eq!(http(web, "DELETE", "/call/web-nope", &[], b"").status, 404);
    assert_eq!(
        http(web, "GET", "/call/web-nope/events", &[], b"").status,
        404
    );
    let freed = Instant::now();
    while serve.finished_calls().is_empty() {
        assert!(
            freed.elapsed() < Duration::from_secs(20),
            "the call did not end:\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // 5: an expired token, on the freed line: anonymous again.
    let late = post_offer(web, &offer(), Some(&expired), None);
    assert_eq!(late.status, 201, "{}", late.body);
    assert!(greeting(web, &call_id(&late)).starts_with("Hello, thanks"));

    // 6 offers in the minute are allowed; the 7th is refused with Retry-After.
    assert_eq!(post_offer(web, "not sdp", None, None).status, 400);
    let flood = post_offer(web, "not sdp", None, None);
    assert_eq!(flood.status, 429, "{}", flood.body);
    assert!(flood.head.contains("retry-after"));

    // Still serving.
    assert_eq!(http(web, "GET", "/shop", &[], b"").status, 200);
    let log = serve.log();
    assert!(!log.contains("panicked"), "{log}");

    // The token a shop's site would make, from the command line, verifies.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["token", "C1", "--ttl-s", "60"])
        .current_dir(common::root())
        .env("HOTLINE_WEB_CUSTOMER_TOKEN_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(key.verify(&token, now).unwrap(), "C1");
    for pc in peers.into_inner() {
        let _ = runtime.block_on(pc.close());
    }
}
