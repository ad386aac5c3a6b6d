//! `hotline chat`, the text channel, as a user runs it: a seeded demo shop, the caller known
//! by caller ID, a question about an order answered from the database.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn chat_answers_from_the_shop_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let seeded = common::hotline(
        &["db", "seed", "--seed", "7"],
        &[("HOTLINE_STORE_URL", Path::new(&url))],
        Duration::from_secs(60),
    );
    assert!(seeded.status.success());
    let seeded = String::from_utf8_lossy(&seeded.stdout).to_string();
    // "for example: NAME calls from PHONE"
    let example = seeded
        .lines()
        .find(|l| l.starts_with("for example:"))
        .unwrap();
    let (name, phone) = example
        .trim_start_matches("for example: ")
        .split_once(" calls from ")
        .unwrap();
    let first_name = name.split_whitespace().next().unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["chat", "--caller-id", phone])
        .current_dir(common::root())
        .env("HOTLINE_STORE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"What's the status of my order?\nThanks, that's all. Bye!\n")
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(120), "chat hung");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("Hello {first_name}, thanks for calling")),
        "{stdout}"
    );
    // The seeded customer's orders are listed or one is read out, from the database.
    assert!(
        stdout.contains("Which order do you mean? I see") || stdout.contains("placed"),
        "{stdout}"
    );
    assert!(stdout.contains("Goodbye"), "{stdout}");
}
