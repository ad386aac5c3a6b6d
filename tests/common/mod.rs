//! Shared test harness: where the fetched models are, and running the `hotline` binary.
//!
//! Tests use the real models that `make test` fetched first; a missing model is a failure with
//! the command that fixes it, never a silent skip.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod baresip;
pub mod http;
pub mod sip;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fetched artifact in models/, by file name.
pub fn model(file: &str) -> PathBuf {
    let path = root().join("models").join(file);
    assert!(
        path.exists(),
        "{} is missing: run `make setup` (or `target/release/hotline models fetch`) first",
        path.display()
    );
    path
}

pub fn ort() -> hotline::onnx_runtime::OrtRuntime {
    hotline::onnx_runtime::init(&model("libonnxruntime.so")).expect("ONNX Runtime initialises")
}

pub fn python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make setup`",
        python.display()
    );
    python
}

/// Lower-case words without punctuation, for word-for-word comparison of transcripts.
pub fn words(text: &str) -> Vec<String> {
    hotline::bench::wer::normalize_words(text)
}

/// Whether Whisper's transcript `heard` of synthesized speech is `said`, give or take one word
/// in `words_per_slip` (Piper's voice is random noise-driven, so one clip in many is heard a word
/// off), with every word of `keys` heard as said. Asserts with the transcript on failure.
#[track_caller]
pub fn assert_heard(said: &str, heard: &str, words_per_slip: usize, keys: &[&str]) {
    let error = hotline::bench::wer::wer(said, heard);
    let allowed = 1.0 / words_per_slip as f64 + 1e-9;
    let heard_words = words(heard);
    let missing: Vec<&&str> = keys
        .iter()
        .filter(|k| !heard_words.iter().any(|w| *w == k.to_lowercase()))
        .collect();
    assert!(
        error <= allowed && missing.is_empty(),
        "said {said:?}, heard {heard:?}: word error rate {error:.2} (at most {allowed:.2}), \
         key words missing: {missing:?}"
    );
}

pub const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

/// Every `hotline` the tests start says each sentence the same way every run (Piper's
/// randomness off, `[tts] variation = 0`): what Whisper hears of the assistant is then the same
/// on every run, so a check that passes here passes in CI, and one that fails, fails again.
/// The product's default voice varies (`variation = 1`); `bench::wer` measures Whisper on that.
pub const STEADY_VOICE: (&str, &str) = ("HOTLINE_TTS_VARIATION", "0");

/// The Piper voice the tests speak with, steady as [`STEADY_VOICE`].
pub fn piper() -> hotline::tts::PiperVoice {
    hotline::tts::PiperVoice::load(&ort(), &model("en_US-joe-medium.onnx"))
        .expect("the Piper voice loads")
        .with_variation(0.0)
}

/// Runs the release `hotline` binary in the repository root with extra environment, killing
/// it if it runs longer than `limit` (so a hang is a test failure, not a stuck CI job).
pub fn hotline(args: &[&str], env: &[(&str, &Path)], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .current_dir(root())
        .env(STEADY_VOICE.0, STEADY_VOICE.1)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hotline binary starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for hotline").is_some() {
            return child
                .wait_with_output()
                .expect("collecting hotline's output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child
                .wait_with_output()
                .expect("collecting hotline's output");
            panic!(
                "hotline {args:?} hung for more than {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What `hotline transcribe` hears in a recording (lower case; the last line it prints).
pub fn transcribe(path: &Path) -> String {
    let out = hotline(
        &["transcribe", path.to_str().expect("a UTF-8 path")],
        &[],
        Duration::from_secs(180),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().last().unwrap_or("").to_lowercase()
}

/// A fresh SQLite shop in `dir` holding the fixture of `scenario` (a YAML file); its URL.
pub fn shop_db(scenario: &Path, dir: &Path) -> String {
    use hotline::eval::scenario::load_scenarios;
    use hotline::store::{Store, load_fixture};
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
    let scenarios = load_scenarios(&[scenario.to_path_buf()]).expect("the scenario loads");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open(&db_url).await.expect("the shop opens");
        load_fixture(&store, &scenarios[0].fixture)
            .await
            .expect("the fixture loads");
        store.close().await;
    });
    db_url
}

/// `hotline user add NAME --role ROLE` on the database at `db_url`, the password on standard
/// input as a person would type it; the command's output.
pub fn user_add(db_url: &str, name: &str, role: &str, password: &str) -> Output {
    user_command(db_url, &["add", name, "--role", role], password)
}

/// `hotline user ARGS...` on the database at `db_url` with `password` on standard input.
pub fn user_command(db_url: &str, args: &[&str], password: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("user")
        .args(args)
        .current_dir(root())
        .env("HOTLINE_STORE_URL", db_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hotline binary starts");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("writing the password");
    drop(stdin);
    child.wait_with_output().expect("hotline user ends")
}
