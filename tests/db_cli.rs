//! `hotline db seed` as a user runs it.

mod common;

use std::path::Path;
use std::time::Duration;

#[test]
fn seed_is_deterministic_and_bad_urls_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let run = |args: &[&str], url: &str| {
        common::hotline(
            args,
            &[("HOTLINE_STORE_URL", Path::new(url))],
            Duration::from_secs(60),
        )
    };
    let first = run(&["db", "seed", "--seed", "3"], &url);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run(&["db", "seed", "--seed", "3"], &url);
    assert_eq!(first.stdout, second.stdout);
    assert!(String::from_utf8_lossy(&first.stdout).contains("12 products"));
    let bad = run(&["db", "seed"], "mysql://nowhere");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("store.url"));
    let unreachable = run(
        &["db", "seed"],
        "sqlite:///nonexistent-dir/x/shop.db?mode=rwc",
    );
    assert!(!unreachable.status.success());
    assert!(!String::from_utf8_lossy(&unreachable.stderr).contains("panicked"));
}
