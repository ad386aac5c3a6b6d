//! Bad input from the network while a call is in progress: garbage and truncated datagrams,
//! oversized headers, torture-style messages in the spirit of RFC 4475, invalid SDP, garbage
//! over TCP and onto the call's RTP port, an unsupported method, a call beyond the limit. The
//! server answers 400/405/488/503 where it can parse enough to answer, stays silent where it
//! cannot, and the call in progress (SIPp) completes untouched.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::sip::{Serve, field, sipp, sipp_errors};

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";

struct Probe {
    socket: UdpSocket,
    server: std::net::SocketAddr,
    n: u32,
}

impl Probe {
    fn new(server: std::net::SocketAddr) -> Probe {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Probe {
            socket,
            server,
            n: 0,
        }
    }

    /// A well-formed request with our Via, tags and Call-ID.
    fn request(&mut self, method: &str, headers: &str, body: &str) -> String {
        self.n += 1;
        let local = self.socket.local_addr().unwrap();
        format!(
            "{method} sip:hotline@{s} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-probe-{n}\r\n\
             From: <sip:probe@{local}>;tag=probe{n}\r\n\
             To: <sip:hotline@{s}>\r\n\
             Call-ID: probe-{n}@test\r\n\
             CSeq: 1 {method}\r\n\
             Contact: <sip:probe@{local}>\r\n\
             Max-Forwards: 70\r\n\
             {headers}\
             Content-Length: {len}\r\n\r\n{body}",
            s = self.server,
            n = self.n,
            len = body.len(),
        )
    }

    /// Sends a datagram; returns the status line of the final response, if any came.
    fn send(&self, datagram: &[u8]) -> Option<String> {
        self.socket.send_to(datagram, self.server).unwrap();
        let mut buf = [0u8; 8192];
        loop {
            let Ok((len, _)) = self.socket.recv_from(&mut buf) else {
                return None;
            };
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            let status = text.lines().next().unwrap_or("").to_string();
            // Skip provisional responses.
            if !status.starts_with("SIP/2.0 1") {
                return Some(text);
            }
        }
    }
}

fn status(response: &Option<String>) -> Option<u16> {
    response
        .as_ref()?
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                     m=audio 9 RTP/AVP 0\r\n";

#[test]
fn garbage_and_torture_leave_the_call_in_progress_untouched() {
    common::model("ggml-base.bin");
    let mut serve = Serve::start(
        &common::root().join(SCENARIO),
        &[("HOTLINE_SIP_MAX_CALLS", "1".to_string())],
    );
    let dir = tempfile::tempdir().unwrap();
    let port = common::sip::free_sip_port().to_string();
    // The load scenario's call, held for 20 s instead of 8.
    let scenario = dir.path().join("long-call.xml");
    let xml = std::fs::read_to_string(common::root().join("sip/scenarios/load.xml")).unwrap();
    std::fs::write(
        &scenario,
        xml.replace("milliseconds=\"8000\"", "milliseconds=\"20000\""),
    )
    .unwrap();
    let server = serve.sip.to_string();

    // A call in progress (20 s), by SIPp in the background.
    let call_dir = dir.path().to_path_buf();
    let caller = std::thread::spawn(move || {
        sipp(
            &call_dir,
            &[
                "-sf",
                scenario.to_str().unwrap(),
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-p",
                &port,
                "-m",
                "1",
                &server,
            ],
            Duration::from_secs(60),
        )
    });
    let started = std::time::Instant::now();
    while !serve.log().contains("call answered") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rtp_port: u16 = serve
        .log()
        .lines()
        .find(|l| l.contains("call answered"))
        .and_then(|l| {
            l.split("rtp_port=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("the call's RTP port is logged");

    // Garbage onto the call's media port: counted and dropped.
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in 0..50u8 {
        let _ = rtp.send_to(&vec![n; usize::from(n) * 7], ("127.0.0.1", rtp_port));
    }

    let mut probe = Probe::new(serve.sip);

    // Garbage, empty, binary, truncated: nothing sensible to answer; silence is right.
    for datagram in [
        b"".to_vec(),
        b"\r\n\r\n".to_vec(),
        vec![0xff; 1200],
        (0..=255u8).cycle().take(4000).collect(),
        b"INVITE sip:hotline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP".to_vec(),
        b"SIP/2.0 200 OK\r\n\r\n".to_vec(),
        b"NOTAMETHOD sip:x SIP/2.0\r\n\r\n".to_vec(),
    ] {
        let r = probe.send(&datagram);
        // A double CRLF is a keep-alive ping (RFC 5626): a CRLF pong is right.
        let pong = datagram == b"\r\n\r\n" && r.as_deref() == Some("\r\n");
        assert!(
            r.is_none() || pong || status(&r) == Some(400),
            "garbage got {r:?}"
        );
    }
    // Oversized header (beyond one datagram's worth) and torture-style messages (RFC 4475):
    // a 400 or silence, never a crash.
    let huge = format!("X-Huge: {}\r\n", "a".repeat(9000));
    let torture = [
        probe.request("OPTIONS", &huge, ""),
        // Content-Length larger than the body.
        probe
            .request("OPTIONS", "", "")
            .replace("Content-Length: 0", "Content-Length: 5000"),
        // Negative Content-Length, two CSeqs, no Call-ID.
        probe
            .request("OPTIONS", "CSeq: 2 OPTIONS\r\n", "")
            .replace("Content-Length: 0", "Content-Length: -7"),
        probe
            .request("OPTIONS", "", "")
            .lines()
            .filter(|l| !l.starts_with("Call-ID"))
            .collect::<Vec<_>>()
            .join("\r\n"),
        // Escaped and odd whitespace in headers, a scheme we do not speak.
        probe
            .request("OPTIONS", "Subject  :\t  odd\r\n", "")
            .replace("sip:hotline@", "sips:%68otline@"),
        probe
            .request("INVITE", "", OFFER)
            .replace("sip:hotline@", "tel:+1555;"),
    ];
    for message in &torture {
        let r = probe.send(message.as_bytes());
        assert!(
            r.is_none()
                || matches!(
                    status(&r),
                    Some(200 | 400 | 403 | 404 | 416 | 481 | 488 | 503)
                ),
            "torture message got {r:?}:\n{message}"
        );
    }

    // Invalid SDP: a clear refusal, nothing allocated.
    let bad_sdp = probe.request(
        "INVITE",
        "Content-Type: application/sdp\r\n",
        "v=0\r\nthis is not sdp\r\n",
    );
    let r = probe.send(bad_sdp.as_bytes());
    assert_eq!(status(&r), Some(400), "{r:?}");
    let video_only = probe.request(
        "INVITE",
        "Content-Type: application/sdp\r\n",
        "v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 9 RTP/AVP 96\r\n",
    );
    assert_eq!(status(&probe.send(video_only.as_bytes())), Some(488));
    let no_sdp = probe.request("INVITE", "", "");
    assert_eq!(status(&probe.send(no_sdp.as_bytes())), Some(488));

    // A second call while the one allowed is in progress: 503 with Retry-After.
    let second = probe.request("INVITE", "Content-Type: application/sdp\r\n", OFFER);
    let r = probe.send(second.as_bytes());
    assert_eq!(status(&r), Some(503), "{r:?}");
    assert!(r.as_ref().unwrap().contains("Retry-After: 30"), "{r:?}");

    // Unsupported methods: 405 with Allow.
    let register = probe.request("REGISTER", "", "");
    let r = probe.send(register.as_bytes());
    assert_eq!(status(&r), Some(405), "{r:?}");
    assert!(r.as_ref().unwrap().contains("Allow:"), "{r:?}");

    // Garbage over TCP.
    if let Ok(mut tcp) = TcpStream::connect(serve.sip) {
        let _ = tcp.write_all(&[0u8; 3000]);
        let _ = tcp.write_all(b"INVITE sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n");
    }

    // The call in progress completed as if nothing had happened.
    let out = caller.join().unwrap();
    assert!(
        out.status.success(),
        "the call in progress failed:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        sipp_errors(dir.path()),
        serve.log()
    );
    let calls = serve.wait_finished(1, Duration::from_secs(30));
    assert!(field(&calls[0], "rejected") >= 50, "{:?}", calls[0]);
    assert!(field(&calls[0], "speech_sent") > 0, "{:?}", calls[0]);

    // Still serving.
    let options = probe.request("OPTIONS", "", "");
    assert_eq!(status(&probe.send(options.as_bytes())), Some(200));
    assert!(serve.alive(), "{}", serve.log());
    assert!(!serve.log().contains("panicked"), "{}", serve.log());
}
