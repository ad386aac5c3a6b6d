//! The supervisor console, served by `hotline serve`'s web server under `/console` (and
//! `/metrics`): log-in for named users with a role, the live calls with their transcripts,
//! listen-in and take-over over a WebSocket, guidance to the assistant, the queue of calls
//! handed to a person, call history and the KPIs.
//!
//! - `password.rs`: argon2 hashes; `sessions.rs`: logins, cookies, CSRF tokens;
//! - `routes.rs`: the HTTP routes (each checks the login, the role and, when it changes
//!   anything, the CSRF token and origin); `audio.rs`: the listen-in / take-over socket;
//! - `kpis.rs`: the dashboard's figures and their Prometheus text;
//! - `assets/`: the console page.
//!   The live calls themselves are `call::registry`.

pub mod audio;
pub mod kpis;
pub mod password;
pub mod routes;
pub mod sessions;
