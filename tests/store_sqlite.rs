//! The shop database on a real SQLite file: migrations, the deterministic seed, the queries
//! the dialog tools use, idempotent requests, the call record, fixtures, and clear errors for
//! databases that cannot be used.

mod store_checks;

use hotline::store::{Backend, Store, StoreError};
use std::path::Path;

async fn open(dir: &Path) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
    let db = Store::open(&url).await.expect("open");
    assert_eq!(db.backend(), Backend::Sqlite);
    db
}

#[tokio::test]
async fn seed_is_deterministic_and_migrations_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    store_checks::seed_is_deterministic(&db).await;
    let before = db.dump_shop().await.unwrap();
    db.close().await;
    // Reopening an up-to-date database applies nothing and keeps the data.
    let db = open(dir.path()).await;
    assert_eq!(db.dump_shop().await.unwrap(), before);

    // A second database seeded alike holds the same rows.
    let other = tempfile::tempdir().unwrap();
    let db2 = open(other.path()).await;
    hotline::store::seed(&db2, 43, 25).await.unwrap();
    assert_eq!(db2.dump_shop().await.unwrap(), before);
}

#[tokio::test]
async fn queries_answer_the_tools() {
    let dir = tempfile::tempdir().unwrap();
    store_checks::queries_answer_the_tools(&open(dir.path()).await).await;
}

#[tokio::test]
async fn requests_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    store_checks::requests_are_idempotent(&open(dir.path()).await).await;
}

#[tokio::test]
async fn calls_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    store_checks::calls_are_recorded(&open(dir.path()).await).await;
}

#[tokio::test]
async fn console_records() {
    let dir = tempfile::tempdir().unwrap();
    store_checks::console_records(&open(dir.path()).await).await;
}

#[tokio::test]
async fn fixture_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    store_checks::fixture_round_trip(&open(dir.path()).await).await;
}

#[tokio::test]
async fn unusable_databases_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();

    // Not a database at all.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&format!("sqlite://{}", garbage.display()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Migrate { .. } | StoreError::Open { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a database"), "{err}");
    assert!(
        err.to_string().contains("garbage.db"),
        "the error names the file: {err}"
    );

    // Missing without mode=rwc.
    let missing = dir.path().join("missing.db");
    let err = Store::open(&format!("sqlite://{}", missing.display()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(!missing.exists());

    // Read-only and not yet migrated.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open(&format!("sqlite://{}?mode=ro", empty.display()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Migrate { .. } | StoreError::Open { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("readonly"), "{err}");

    // Neither SQLite nor PostgreSQL, or an in-memory database each connection would not share.
    for url in ["mysql://localhost/shop", "sqlite::memory:", "shop.db"] {
        assert!(
            matches!(Store::open(url).await, Err(StoreError::Url { .. })),
            "{url}"
        );
    }
}

/// Another process holding the write lock: after SQLite's busy timeout (5 s) a clear
/// "database is locked" error, not a hang or a panic; once released, the store opens.
#[tokio::test]
async fn a_locked_database_is_a_clear_error() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shop.db").display());
    let mut holder = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE t (x INTEGER)")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    let err = Store::open(&url).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Migrate { .. } | StoreError::Open { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("locked"), "{err}");
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    Store::open(&url)
        .await
        .expect("opens once the lock is gone");
}
