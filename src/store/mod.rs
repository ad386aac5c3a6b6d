//! The shop database: customers, catalogue, orders, shipments, after-sales requests, and the
//! record of every call (turns, audited tool calls, surveys).
//!
//! One [`Store`] over `sqlx`'s `Any` driver serves SQLite (the default, a file:
//! `sqlite://hotline.db?mode=rwc`) and PostgreSQL (`postgres://user@host:port/db`) with the same
//! migrations (`migrations/`, embedded at build time) and the same runtime-checked SQL, written
//! with `$1` placeholders, which both drivers accept. Nothing is checked against a database at
//! build time, so no `DATABASE_URL` is needed to compile.

mod calls;
pub mod console;
mod dates;
pub mod fixture;
pub mod model;
mod orders;
pub mod redact;
mod requests;
pub mod seed;
mod shop;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection};
use std::time::Duration;

pub use dates::{MONTH_NAMES, date_of_day, day_of_date, now_utc, timestamp, unix_of};
pub use fixture::{Fixture, load_fixture, parse_price_cents};
pub use model::*;
pub use requests::{NewTicket, Upserted};
pub use seed::seed;

/// The migrations of `migrations/`, compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What can go wrong with the shop database. Every failure is one of these, never a panic: a
/// missing, locked, read-only or corrupt file, or an unreachable server, is an `Open` or
/// `Migrate` error naming the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL {url:?}: want sqlite://PATH?mode=rwc or postgres://USER@HOST:PORT/DB"
    )]
    Url { url: String },
    #[error("cannot open the database {url}: {detail}")]
    Open { url: String, detail: String },
    #[error("cannot migrate the database {url}: {detail}")]
    Migrate { url: String, detail: String },
    #[error("database query failed ({what}): {detail}")]
    Query { what: &'static str, detail: String },
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    #[error("{what} conflicts with what is stored: {detail}")]
    Conflict { what: &'static str, detail: String },
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

/// Results of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the migrated shop database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl Store {
    /// Opens the database at `url` and applies the pending migrations.
    ///
    /// SQLite URLs create the file only with `?mode=rwc`; `sqlite::memory:` is refused, since
    /// every pooled connection would see its own empty database.
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, 4, Duration::from_secs(5)).await
    }

    /// [`Store::open`] with the pool size and how long to wait for a connection (which bounds
    /// how long an unreachable server is tried).
    pub async fn open_with(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Store> {
        let shown = redact(url);
        let backend = if url.starts_with("sqlite:") && !url.contains(":memory:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url { url: shown });
        };
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(acquire_timeout)
            .connect(url)
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            // The pool only says it timed out: one direct attempt tells why (refused, unknown
            // host, bad password...).
            Err(sqlx::Error::PoolTimedOut) => {
                let detail = match sqlx::AnyConnection::connect(url).await {
                    Err(e) => e.to_string(),
                    Ok(_) => "timed out waiting for a connection".to_string(),
                };
                return Err(StoreError::Open { url: shown, detail });
            }
            Err(e) => {
                return Err(StoreError::Open {
                    url: shown,
                    detail: e.to_string(),
                });
            }
        };
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate {
            url: shown.clone(),
            detail: migrate_detail(e),
        })?;
        Ok(Store {
            pool,
            backend,
            url: shown,
        })
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL opened, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection pool, for queries this module does not offer yet.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The root cause of a migration failure, which sqlx wraps in a generic message.
fn migrate_detail(e: sqlx::migrate::MigrateError) -> String {
    match e {
        sqlx::migrate::MigrateError::Execute(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// Maps a query failure: a unique or check violation is a `Conflict`, anything else a `Query`.
fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db)
            if db.is_unique_violation()
                || db.is_check_violation()
                || db.is_foreign_key_violation() =>
        {
            StoreError::Conflict {
                what,
                detail: db.message().to_string(),
            }
        }
        _ => StoreError::Query {
            what,
            detail: e.to_string(),
        },
    }
}
