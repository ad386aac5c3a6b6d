//! Harness of the phone-call tests: `hotline serve` as a real process on loopback with a shop
//! loaded from a scenario fixture, caller audio as G.711 RTP in a pcap file (what SIPp plays),
//! and the server's "call finished" log lines read back as numbers.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hotline::audio::g711::Law;
use hotline::store::Store;

/// A free port on loopback for both UDP and TCP (SIP listens on both).
pub fn free_sip_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// A running `hotline serve`; killed when dropped.
pub struct Serve {
    child: Child,
    pub sip: SocketAddr,
    /// Where the web server (shop page, widget, browser calls) listens.
    pub web: SocketAddr,
    pub db_url: String,
    pub dir: tempfile::TempDir,
    log: PathBuf,
}

impl Serve {
    /// Loads the fixture of `scenario` (a YAML file) into a fresh SQLite shop and starts the
    /// server on it with `env` on top (e.g. `HOTLINE_SIP_MAX_CALLS`).
    pub fn start(scenario: &Path, env: &[(&str, String)]) -> Serve {
        Serve::start_with(scenario, env, "")
    }

    /// The same with a `hotline.toml` holding `toml` (for what the environment cannot set:
    /// accounts, `[sip.register]`).
    pub fn start_with(scenario: &Path, env: &[(&str, String)], toml: &str) -> Serve {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db_url = super::shop_db(scenario, dir.path());
        let port = free_sip_port();
        // RTP ports apart from other test processes on the machine.
        let rtp_min = 30000 + (std::process::id() % 150) as u16 * 200;
        let log = dir.path().join("serve.log");
        let log_file = File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
        if !toml.is_empty() {
            let config = dir.path().join("hotline.toml");
            std::fs::write(&config, toml).unwrap();
            command.arg("--config").arg(config);
        }
        command
            .arg("serve")
            .current_dir(super::root())
            .env("HOTLINE_SIP_LISTEN", format!("127.0.0.1:{port}"))
            .env("HOTLINE_STORE_URL", &db_url)
            .env("HOTLINE_SIP_RTP_PORT_MIN", rtp_min.to_string())
            .env("HOTLINE_SIP_RTP_PORT_MAX", (rtp_min + 199).to_string())
            .env("HOTLINE_WEB_LISTEN", "127.0.0.1:0")
            .env("HOTLINE_WEB_ICE_UDP", "[\"127.0.0.1:0\"]")
            .env(super::STEADY_VOICE.0, super::STEADY_VOICE.1)
            // TEST_SERVE_LOG widens the server's log when a test needs looking into.
            .env(
                "RUST_LOG",
                std::env::var("TEST_SERVE_LOG")
                    .unwrap_or_else(|_| "info,rsipstack=warn,ort=warn,whisper_rs=warn".into()),
            )
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        let child = command.spawn().expect("hotline serve starts");
        let mut serve = Serve {
            child,
            sip: SocketAddr::from(([127, 0, 0, 1], port)),
            web: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_url,
            dir,
            log,
        };
        let started = Instant::now();
        while !serve.log().contains("answering calls at") {
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!("hotline serve exited ({status}):\n{}", serve.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "hotline serve did not come up:\n{}",
                serve.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = serve.log();
        if let Some(addr) = log
            .lines()
            .find_map(|l| l.split("voice button is at http://").nth(1))
            .and_then(|rest| rest.split('/').next()?.parse().ok())
        {
            serve.web = addr;
        }
        serve
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The `call finished` lines so far, as key/value maps (`call`, `rtp_sent`, ...).
    pub fn finished_calls(&self) -> Vec<HashMap<String, String>> {
        self.log()
            .lines()
            .filter(|l| l.contains("call finished"))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                    .collect()
            })
            .collect()
    }

    /// Waits until `n` calls have finished (or panics after `limit`).
    pub fn wait_finished(&self, n: usize, limit: Duration) -> Vec<HashMap<String, String>> {
        let started = Instant::now();
        loop {
            let calls = self.finished_calls();
            if calls.len() >= n {
                return calls;
            }
            assert!(
                started.elapsed() < limit,
                "{} of {n} calls finished in {limit:?}:\n{}",
                calls.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Opens the shop database the server writes.
    pub fn with_store<T>(&self, f: impl AsyncFnOnce(&Store) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = Store::open(&self.db_url).await.expect("the shop opens");
            let out = f(&store).await;
            store.close().await;
            out
        })
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A number from a `call finished` line.
pub fn field(call: &HashMap<String, String>, key: &str) -> i64 {
    call.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key} in {call:?}"))
}

/// Caller speech at 8 kHz as 20 ms G.711 payloads.
pub fn g711_frames(samples: &[f32], law: Law) -> Vec<Vec<u8>> {
    samples
        .chunks(160)
        .map(|c| {
            let mut frame = c.to_vec();
            frame.resize(160, 0.0);
            let mut bytes = Vec::new();
            law.encode_f32(&frame, &mut bytes);
            bytes
        })
        .collect()
}

/// Writes RTP packets (one per 20 ms payload, payload type `pt`) as a pcap of Ethernet/IPv4/
/// UDP frames, 20 ms apart: what SIPp's `play_pcap_audio` sends (it rewrites the addresses).
pub fn write_pcap(path: &Path, payloads: &[Vec<u8>], pt: u8) {
    let mut f = File::create(path).expect("the pcap file");
    // Global header: magic, v2.4, GMT offset, accuracy, snaplen, Ethernet.
    f.write_all(&0xa1b2_c3d4u32.to_le_bytes()).unwrap();
    f.write_all(&2u16.to_le_bytes()).unwrap();
    f.write_all(&4u16.to_le_bytes()).unwrap();
    f.write_all(&[0; 8]).unwrap();
    f.write_all(&65535u32.to_le_bytes()).unwrap();
    f.write_all(&1u32.to_le_bytes()).unwrap();
    for (i, payload) in payloads.iter().enumerate() {
        let mut rtp = vec![0x80, pt];
        rtp.extend_from_slice(&(i as u16).to_be_bytes());
        rtp.extend_from_slice(&((i as u32) * 160).to_be_bytes());
        rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        rtp.extend_from_slice(payload);
        let udp_len = 8 + rtp.len();
        let ip_len = 20 + udp_len;
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&(ip_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
        frame.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        frame.extend_from_slice(&6000u16.to_be_bytes());
        frame.extend_from_slice(&6002u16.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(&rtp);
        let micros = i as u64 * 20_000;
        f.write_all(&((micros / 1_000_000) as u32).to_le_bytes())
            .unwrap();
        f.write_all(&((micros % 1_000_000) as u32).to_le_bytes())
            .unwrap();
        f.write_all(&(frame.len() as u32).to_le_bytes()).unwrap();
        f.write_all(&(frame.len() as u32).to_le_bytes()).unwrap();
        f.write_all(&frame).unwrap();
    }
}

/// Runs `sipp` in `dir`, killed after `limit`.
pub fn sipp(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new("sipp")
        .args(args)
        .args(["-nostdin", "-trace_err", "-trace_stat", "-fd", "1"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp runs (Debian package sip-tester; make setup installs it)");
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("sipp output")
}

/// The text of SIPp's error log in `dir`, if any.
pub fn sipp_errors(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("_errors.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

/// The latency of the caller's question about an order, as the server stored it with the turn:
/// the end of the question to our first packet back (a filler or the answer) and to the
/// answer, in ms; printed with `edge` naming where it was measured, and checked for sense.
pub fn question_latency(turns: &[hotline::store::Turn], edge: &str) -> (i64, i64) {
    let asked = turns
        .iter()
        .find(|t| t.role == "caller" && t.text.to_lowercase().contains("order"))
        .unwrap_or_else(|| panic!("the question was not stored: {turns:?}"));
    let first = asked.end_to_end_ms.expect("latency measured");
    let answer = asked.answer_ms.expect("answer latency measured");
    eprintln!(
        "{edge} edge: end of the question to our first packet back {first} ms, to the answer {answer} ms"
    );
    assert!(first > 0 && answer >= first && answer < 6000, "{asked:?}");
    (first, answer)
}
