//! The shop database on a real PostgreSQL 15 server that this test starts itself on loopback
//! (Debian's binaries; `scripts/setup.sh` installs them): the same migrations, seed, queries
//! and checks as on SQLite, and the same rows for the same seed on both.

mod store_checks;

use hotline::store::{self, Backend, Store, StoreError};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway PostgreSQL server in a temporary directory, stopped when dropped (also when a
/// check panics).
struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PgServer {
    fn start() -> PgServer {
        assert!(
            Path::new(BIN).join("initdb").exists(),
            "{BIN}/initdb is missing: install Debian's postgresql package (scripts/setup.sh does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        // initdb refuses to run as root: then the server runs as the `postgres` user.
        let as_postgres = run(Command::new("id").arg("-u")).stdout.trim_ascii() == b"0";
        if as_postgres {
            check(
                run(Command::new("chown").arg("postgres:").arg(dir.path())),
                "chown",
            );
        }
        let server = PgServer {
            port: free_port(),
            dir,
            as_postgres,
        };
        let data = server.data();
        let out = server.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--locale=C",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        check(out, "initdb");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            server.port,
            server.dir.path().display()
        );
        let log = server.dir.path().join("server.log").display().to_string();
        let out = server.pg(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "30", "start",
            ],
        );
        if !out.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}\n{log}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        server
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs a PostgreSQL program, as `postgres` when we are root.
    fn pg(&self, program: &str, args: &[&str]) -> Output {
        let path = PathBuf::from(BIN).join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        run(cmd.args(args))
    }

    /// Creates database `name` and returns its URL.
    fn create_db(&self, name: &str) -> String {
        let port = self.port.to_string();
        check(
            self.pg(
                "createdb",
                &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
            ),
            "createdb",
        );
        format!(
            "postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.pg(
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "-t", "10", "stop"],
        );
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check(out: Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn open(server: &PgServer, name: &str) -> Store {
    let db = Store::open(&server.create_db(name))
        .await
        .expect("open postgres");
    assert_eq!(db.backend(), Backend::Postgres);
    db
}

/// One server for every check (each in its own database), so the guard surely stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_shop_checks() {
    let started = Instant::now();
    let server = PgServer::start();
    eprintln!("server up in {:.1} s", started.elapsed().as_secs_f64());

    let db = open(&server, "seed").await;
    store_checks::seed_is_deterministic(&db).await;
    db.close().await;
    // Reopening applies no migration twice and keeps the rows.
    let db = Store::open(&format!(
        "postgres://postgres@127.0.0.1:{}/seed?sslmode=disable",
        server.port
    ))
    .await
    .unwrap();

    // The same seed gives the same rows on SQLite and PostgreSQL.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shop.db").display()
    ))
    .await
    .unwrap();
    let on_sqlite = store::seed(&sqlite, 7, 40).await.unwrap();
    store::seed(&db, 7, 40).await.unwrap();
    assert_eq!(db.dump_shop().await.unwrap(), on_sqlite);
    assert_eq!(sqlite.dump_shop().await.unwrap(), on_sqlite);

    store_checks::queries_answer_the_tools(&open(&server, "queries").await).await;
    store_checks::requests_are_idempotent(&open(&server, "requests").await).await;
    store_checks::calls_are_recorded(&open(&server, "calls").await).await;
    store_checks::fixture_round_trip(&open(&server, "fixture").await).await;
    store_checks::console_records(&open(&server, "console").await).await;

    // A database that does not exist is a clear error naming it, password hidden.
    let url = format!(
        "postgres://postgres:secret@127.0.0.1:{}/nosuchdb?sslmode=disable",
        server.port
    );
    let err = Store::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(
        err.to_string().contains("nosuchdb") && !err.to_string().contains("secret"),
        "{err}"
    );
    eprintln!("all checks in {:.1} s", started.elapsed().as_secs_f64());
}

/// Nobody listening: an `Open` error within the acquire timeout, not a hang or a panic.
#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/shop?sslmode=disable",
        free_port()
    );
    let started = Instant::now();
    let err = Store::open_with(&url, 1, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    eprintln!("{err}");
}
