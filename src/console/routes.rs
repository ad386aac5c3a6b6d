//! The console's HTTP routes. Every route but the log-in page refuses a request without a live
//! login (401); admin routes refuse supervisors (403); every request that changes something
//! must carry the login's CSRF token in `X-CSRF-Token` and come from the console's own origin
//! (403). `/metrics` answers loopback clients only (a Prometheus on the same host or behind
//! the same proxy).
//!
//! - `GET /console` (the app; logged out: to `/console/login`), `GET /console/login`
//! - `POST /console/login` `{"user", "password"}` → `{"user", "role", "csrf"}` and the cookie;
//!   `POST /console/logout`; `GET /console/api/me`
//! - `GET /console/api/calls`; `GET /console/api/live` (server-sent events: the list, then
//!   its changes); `GET /console/api/calls/{id}/log` (events: the call's log so far, then live)
//! - `POST /console/api/calls/{id}/{guide|say}` `{"text"}`,
//!   `POST /console/api/calls/{id}/{take-over|hand-back|hang-up}`
//! - `GET /console/api/calls/{id}/audio`: the listen-in / take-over WebSocket (`audio.rs`)
//! - `GET /console/api/history?phone=&order=&from=&to=`, `GET /console/api/history/{id}`,
//!   `GET /console/api/history/{id}/recording`
//! - `GET /console/api/kpis`; `GET /metrics`
//! - admin: `GET /console/api/users`, `POST /console/api/users` `{"name", "role",
//!   "password"}`, `DELETE /console/api/users/{name}`

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;

use super::kpis::Kpis;
use super::password::{hash_password, verify_password};
use super::sessions::{
    CSRF_HEADER, Login, Logins, Role, digest, same_secret, set_cookie, token_of,
};
use crate::call::actor::{CallCommand, SupervisorAction};
use crate::call::registry::{CallRegistry, ListChange};
use crate::config::ConsoleConfig;
use crate::store::Store;
use crate::store::console::CallSearch;
use crate::web::limits::{OfferRate, Refusal};

const APP_HTML: &str = include_str!("assets/console.html");
const LOGIN_HTML: &str = include_str!("assets/login.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
/// Longest guidance or line a supervisor may type.
pub const MAX_TEXT_CHARS: usize = 500;
/// Password checks at once; more log-ins at the same moment get 503.
const PASSWORD_CHECKS: usize = 2;
/// A take-over whose supervisor has no audio socket open this long is handed back.
const TAKE_OVER_AUDIO_WAIT: Duration = Duration::from_secs(10);
/// Calls the KPIs read at most.
const KPI_CALLS: i64 = 20_000;

/// What the console's routes share.
pub struct ConsoleContext {
    pub store: Store,
    pub registry: CallRegistry,
    pub config: ConsoleConfig,
    /// Where calls' recordings are written (`web.record_dir`, `sip.record_dir`).
    pub record_dirs: Vec<PathBuf>,
    logins: Mutex<Logins>,
    failed_logins: Mutex<OfferRate>,
    /// Password checks running at once (each is argon2: memory and CPU).
    password_checks: Arc<tokio::sync::Semaphore>,
    /// Supervisors' audio sockets open now, by call and user.
    sockets: Mutex<HashMap<(String, String), usize>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ConsoleContext {
    pub fn new(
        store: Store,
        registry: CallRegistry,
        config: ConsoleConfig,
        record_dirs: Vec<PathBuf>,
    ) -> ConsoleContext {
        ConsoleContext {
            logins: Mutex::new(Logins::new(Duration::from_secs(config.login_lifetime_s))),
            failed_logins: Mutex::new(OfferRate::new(config.failed_logins_per_minute)),
            password_checks: Arc::new(tokio::sync::Semaphore::new(PASSWORD_CHECKS)),
            sockets: Mutex::default(),
            store,
            registry,
            config,
            record_dirs,
        }
    }

    fn lifetime(&self) -> Duration {
        Duration::from_secs(self.config.login_lifetime_s)
    }

    /// Whether the login cookie gets `Secure` for a request to `host`.
    fn secure_cookie(&self, headers: &HeaderMap) -> bool {
        match self.config.secure_cookie.as_str() {
            "always" => true,
            "never" => false,
            _ => !host_of(headers).is_some_and(is_loopback_host),
        }
    }
}

fn host_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(n, _)| n)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A JSON error body with a status.
fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

/// The request comes from a page of this server (or from no page at all: not a browser's
/// cross-site request).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (origin.to_str(), host_of(headers)) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// Why a request was refused before it was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    NotLoggedIn,
    NeedsAdmin,
    Csrf,
    Unavailable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NotLoggedIn => error(StatusCode::UNAUTHORIZED, "log in first"),
            Refused::NeedsAdmin => error(StatusCode::FORBIDDEN, "this needs the admin role"),
            Refused::Csrf => error(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token, or another site's page",
            ),
            Refused::Unavailable => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the user database is not available",
            ),
        }
    }
}

/// Who is asking: a live login with at least `role` whose user still exists with the same
/// role and password (`hotline user passwd` or `remove` in another process ends its logins);
/// for a request that changes something, also the CSRF token and the console's own origin.
async fn require(
    context: &ConsoleContext,
    headers: &HeaderMap,
    role: Role,
    changes: bool,
) -> Result<Login, Refused> {
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let token = token_of(cookies).ok_or(Refused::NotLoggedIn)?;
    let login = lock(&context.logins)
        .get(token, Instant::now())
        .ok_or(Refused::NotLoggedIn)?;
    let stored = context.store.console_user(&login.user).await.map_err(|e| {
        tracing::warn!("console: {e}");
        Refused::Unavailable
    })?;
    let current = stored.is_some_and(|u| {
        Role::parse(&u.role) == Some(login.role) && digest(&u.password_hash) == login.credential
    });
    if !current {
        lock(&context.logins).close(token);
        return Err(Refused::NotLoggedIn);
    }
    if role == Role::Admin && login.role != Role::Admin {
        return Err(Refused::NeedsAdmin);
    }
    if changes {
        let token = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_secret(token, &login.csrf) || !same_origin(headers) {
            return Err(Refused::Csrf);
        }
    }
    Ok(login)
}

pub fn router(context: Arc<ConsoleContext>) -> Router {
    Router::new()
        .route("/console", get(app))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/console.js", get(script))
        .route("/console/api/me", get(me))
        .route("/console/api/calls", get(calls))
        .route("/console/api/live", get(live))
        .route("/console/api/calls/{id}/log", get(call_log))
        .route("/console/api/calls/{id}/audio", get(audio))
        .route("/console/api/calls/{id}/{action}", post(act))
        .route("/console/api/history", get(history))
        .route("/console/api/history/{id}", get(history_call))
        .route("/console/api/history/{id}/recording", get(recording))
        .route("/console/api/kpis", get(kpis))
        .route("/console/api/users", get(users).post(add_user))
        .route(
            "/console/api/users/{name}",
            axum::routing::delete(remove_user),
        )
        .route("/metrics", get(metrics))
        .with_state(context)
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
            ),
        ],
        Html(html),
    )
        .into_response()
}

async fn app(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    match require(&context, &headers, Role::Supervisor, false).await {
        Ok(_) => page(APP_HTML),
        Err(_) => Redirect::to("/console/login").into_response(),
    }
}

async fn login_page() -> Response {
    page(LOGIN_HTML)
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        CONSOLE_JS,
    )
        .into_response()
}

#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

async fn login(
    State(context): State<Arc<ConsoleContext>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !same_origin(&headers) {
        return error(StatusCode::FORBIDDEN, "another site's page");
    }
    let Ok(creds) = serde_json::from_slice::<Credentials>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"user\": \"...\", \"password\": \"...\"}",
        );
    };
    // Only failures count against the address; a refused address is not even checked.
    if let Err(Refusal::TooManyOffers { retry_after_s }) =
        lock(&context.failed_logins).peek(peer.ip(), Instant::now())
    {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed log-ins; wait a minute",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        return r.into_response();
    }
    let user = match context.store.console_user(creds.user.trim()).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!("console log-in: {e}");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the user database is not available",
            );
        }
    };
    // Each check costs argon2's memory and tens of milliseconds: a burst of log-ins waits
    // for none of it, it is refused.
    let Ok(_checking) = context.password_checks.clone().try_acquire_owned() else {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy checking log-ins; try again",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
        return r;
    };
    let password = creds.password;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
        .await
        .unwrap_or(false);
    let role = user.as_ref().and_then(|u| Role::parse(&u.role));
    let (Some(user), Some(role), true) = (user, role, ok) else {
        let _ = lock(&context.failed_logins).check(peer.ip(), Instant::now());
        tracing::info!(ip = %peer.ip(), user = %creds.user.chars().take(64).collect::<String>(), "console log-in refused");
        return error(StatusCode::UNAUTHORIZED, "wrong user name or password");
    };
    let opened = lock(&context.logins).open(&user.name, role, &user.password_hash, Instant::now());
    match opened {
        Ok((token, login)) => {
            tracing::info!(user = %user.name, role = role.as_str(), "console log-in");
            let cookie = set_cookie(
                Some(&token),
                context.lifetime(),
                context.secure_cookie(&headers),
            );
            (
                [(header::SET_COOKIE, cookie)],
                Json(json!({ "user": login.user, "role": login.role, "csrf": login.csrf })),
            )
                .into_response()
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no randomness for the login: {e}"),
        ),
    }
}

async fn logout(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, true).await {
        return r.into_response();
    }
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    if let Some(token) = token_of(cookies) {
        lock(&context.logins).close(token);
    }
    let cookie = set_cookie(None, Duration::ZERO, context.secure_cookie(&headers));
    ([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response()
}

async fn me(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    match require(&context, &headers, Role::Supervisor, false).await {
        Ok(l) => Json(json!({ "user": l.user, "role": l.role, "csrf": l.csrf })).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn calls(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    Json(context.registry.list().0).into_response()
}

fn sse<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<Event, axum::Error>> + Send + 'static,
{
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn live(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    let (list, changes) = context.registry.list();
    let first =
        futures_util::stream::once(async move { Event::default().event("calls").json_data(list) });
    let rest = futures_util::stream::unfold(changes, |mut changes| async move {
        match changes.recv().await {
            Ok(change) => {
                let name = match &change {
                    ListChange::Updated(_) => "update",
                    ListChange::Ended { .. } => "ended",
                };
                Some((Event::default().event(name).json_data(change), changes))
            }
            // The page reloads the whole list when told it missed changes.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                Some((Ok(Event::default().event("reload").data("{}")), changes))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    sse(first.chain(rest))
}

async fn call_log(
    State(context): State<Arc<ConsoleContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    let Some(view) = context.registry.log(&id) else {
        return error(StatusCode::NOT_FOUND, "no such call in progress");
    };
    let backlog = futures_util::stream::iter(
        view.backlog
            .into_iter()
            .map(|e| Event::default().json_data(e)),
    );
    let live = futures_util::stream::unfold(Some(view.live), |live| async move {
        let mut live = live?;
        match live.recv().await {
            Ok(entry) => {
                let next = (entry["kind"] != "ended").then_some(live);
                Some((Event::default().json_data(entry), next))
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                let gap = json!({ "kind": "error", "detail": format!("{n} updates missed: reopen the call") });
                Some((Event::default().json_data(gap), Some(live)))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    sse(backlog.chain(live))
}

async fn audio(
    State(context): State<Arc<ConsoleContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Who asks is checked before what they ask for.
    let login = match require(&context, &headers, Role::Supervisor, false).await {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    // A WebSocket carries no CSRF header: its origin is what keeps other sites out.
    if !same_origin(&headers) || headers.get(header::ORIGIN).is_none() {
        return error(StatusCode::FORBIDDEN, "another site's page");
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let Some(access) = context.registry.access(&id) else {
        return error(StatusCode::NOT_FOUND, "no such call in progress");
    };
    upgrade
        .max_message_size(super::audio::MAX_MESSAGE_SAMPLES * 2 + 64)
        .on_upgrade(move |socket| async move {
            let key = (id.clone(), login.user.clone());
            *lock(&context.sockets).entry(key.clone()).or_default() += 1;
            // The supervisor's microphone reaches the caller only while they have the call.
            let may_speak = {
                let (registry, id, user) =
                    (context.registry.clone(), id.clone(), login.user.clone());
                move || registry.person(&id).as_deref() == Some(user.as_str())
            };
            super::audio::serve(socket, access.listen, access.agent, may_speak).await;
            {
                let mut sockets = lock(&context.sockets);
                if let Some(n) = sockets.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        sockets.remove(&key);
                    }
                }
            }
            // A supervisor whose audio went away (tab closed, network lost) while they had the
            // call would leave the caller in silence: the assistant takes it back.
            hand_back_if_silent(&context, &id, &login.user, "audio closed").await;
        })
}

/// Hands the call back when `user` has it and no audio socket of theirs is open.
async fn hand_back_if_silent(context: &ConsoleContext, id: &str, user: &str, why: &str) {
    let theirs = context.registry.person(id).as_deref() == Some(user);
    let listening = lock(&context.sockets).contains_key(&(id.to_string(), user.to_string()));
    if !theirs || listening {
        return;
    }
    let Some(access) = context.registry.access(id) else {
        return;
    };
    tracing::warn!(call = %id, user, "no audio from the supervisor who took the call ({why}): handing back");
    let back = CallCommand::HandBack {
        by: user.to_string(),
    };
    let _ = access
        .commands
        .send_timeout(back, Duration::from_secs(1))
        .await;
    if let Err(e) = context
        .store
        .record_note(id, &crate::store::now_utc(), user, "hand-back", why)
        .await
    {
        tracing::warn!(call = %id, "supervisor note not stored: {e}");
    }
}

#[derive(Deserialize, Default)]
struct TextBody {
    #[serde(default)]
    text: String,
}

async fn act(
    State(context): State<Arc<ConsoleContext>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let login = match require(&context, &headers, Role::Supervisor, true).await {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let text = if body.is_empty() {
        String::new()
    } else {
        match serde_json::from_slice::<TextBody>(&body) {
            Ok(b) => b.text.trim().to_string(),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("expected {{\"text\": \"...\"}}: {e}"),
                );
            }
        }
    };
    let by = login.user.clone();
    let (command, note) = match action.as_str() {
        "guide" | "say" => {
            if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the text must have 1 to {MAX_TEXT_CHARS} characters"),
                );
            }
            if action == "guide" {
                (
                    CallCommand::Guide {
                        by,
                        text: text.clone(),
                    },
                    SupervisorAction::Guided(text),
                )
            } else {
                (
                    CallCommand::Say {
                        by,
                        text: text.clone(),
                    },
                    SupervisorAction::Said(text),
                )
            }
        }
        "take-over" => (CallCommand::TakeOver { by }, SupervisorAction::TookOver),
        "hand-back" => (CallCommand::HandBack { by }, SupervisorAction::HandedBack),
        "hang-up" => (CallCommand::Hangup, SupervisorAction::Said(String::new())),
        _ => return error(StatusCode::NOT_FOUND, "no such action"),
    };
    let Some(access) = context.registry.access(&id) else {
        return error(StatusCode::NOT_FOUND, "no such call in progress");
    };
    if let Some(person) = &access.summary.person
        && *person != login.user
        && matches!(action.as_str(), "take-over" | "hand-back")
    {
        return error(StatusCode::CONFLICT, format!("{person} has this call"));
    }
    if access
        .commands
        .send_timeout(command, Duration::from_secs(1))
        .await
        .is_err()
    {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the call did not take the command",
        );
    }
    let kind = if action == "hang-up" {
        "hang-up"
    } else {
        note.kind()
    };
    if let Err(e) = context
        .store
        .record_note(
            &id,
            &crate::store::now_utc(),
            &login.user,
            kind,
            note.text(),
        )
        .await
    {
        tracing::warn!(call = %id, "supervisor note not stored: {e}");
    }
    tracing::info!(call = %id, user = %login.user, action = kind, "supervisor action");
    if action == "take-over" {
        // A take-over from a page whose audio never connects must not leave the caller in
        // silence.
        let (context, user) = (context.clone(), login.user.clone());
        tokio::spawn(async move {
            tokio::time::sleep(TAKE_OVER_AUDIO_WAIT).await;
            hand_back_if_silent(&context, &id, &user, "no audio").await;
        });
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, Default)]
struct HistoryQuery {
    phone: Option<String>,
    order: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn filled(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn history(
    State(context): State<Arc<ConsoleContext>>,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    for date in [&q.from, &q.to].into_iter().flatten() {
        if !date.trim().is_empty() && crate::store::unix_of(date.trim()).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{date:?} is not a date like 2026-11-28"),
            );
        }
    }
    let search = CallSearch {
        phone: filled(q.phone),
        order: filled(q.order),
        from: filled(q.from),
        to: filled(q.to),
        limit: 200,
    };
    match context.store.search_calls(&search).await {
        Ok(calls) => Json(calls).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// A call id as files are named after it: nothing that could leave the recordings' folder.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !id.contains("..")
}

fn recording_path(context: &ConsoleContext, id: &str) -> Option<PathBuf> {
    if !safe_id(id) {
        return None;
    }
    context
        .record_dirs
        .iter()
        .map(|d| d.join(format!("{id}.wav")))
        .find(|p| p.is_file())
}

async fn history_call(
    State(context): State<Arc<ConsoleContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    let store = &context.store;
    let call = match store.call(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such call"),
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let (turns, tools, notes, survey) = (
        store.turns_of_call(&id).await,
        store.audit_of_call(&id).await,
        store.notes_of_call(&id).await,
        store.survey(&id).await,
    );
    match (turns, tools, notes, survey) {
        (Ok(turns), Ok(tools), Ok(notes), Ok(survey)) => Json(json!({
            "call": call, "turns": turns, "tools": tools, "notes": notes, "survey": survey,
            "recording": recording_path(&context, &id).is_some(),
        }))
        .into_response(),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e)
        }
    }
}

async fn recording(
    State(context): State<Arc<ConsoleContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    let Some(path) = recording_path(&context, &id) else {
        return error(StatusCode::NOT_FOUND, "no recording of this call");
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response(),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read the recording: {e}"),
        ),
    }
}

async fn compute_kpis(context: &ConsoleContext) -> Result<Kpis, crate::store::StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let window = context.config.kpi_window_hours;
    let from = crate::store::timestamp(now - window as i64 * 3600);
    let store = &context.store;
    Ok(Kpis::compute(
        &store.calls_since(&from, KPI_CALLS).await?,
        &store.transfers_since(&from, KPI_CALLS).await?,
        &store.survey_scores_since(&from).await?,
        &store.turn_times_since(&from, KPI_CALLS * 10).await?,
        now,
        window,
    ))
}

async fn kpis(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&context, &headers, Role::Supervisor, false).await {
        return r.into_response();
    }
    match compute_kpis(&context).await {
        Ok(k) => Json(json!({ "kpis": k, "live_calls": context.registry.len() })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn metrics(
    State(context): State<Arc<ConsoleContext>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !peer.ip().is_loopback() {
        return error(StatusCode::FORBIDDEN, "/metrics answers this host only");
    }
    match compute_kpis(&context).await {
        Ok(k) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            k.prometheus(context.registry.len()),
        )
            .into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn users(State(context): State<Arc<ConsoleContext>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&context, &headers, Role::Admin, false).await {
        return r.into_response();
    }
    match context.store.console_users().await {
        Ok(users) => Json(
            users
                .into_iter()
                .map(|u| json!({ "name": u.name, "role": u.role, "created": u.created }))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    role: String,
    password: String,
}

/// A user name: 1-64 letters, digits, `.`, `-`, `_`, `@`.
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_@".contains(&b))
}

async fn add_user(
    State(context): State<Arc<ConsoleContext>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = require(&context, &headers, Role::Admin, true).await {
        return r.into_response();
    }
    let Ok(new) = serde_json::from_slice::<NewUser>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"name\", \"role\", \"password\"}",
        );
    };
    if !valid_user_name(&new.name) {
        return error(
            StatusCode::BAD_REQUEST,
            "a user name has 1 to 64 letters, digits, . - _ or @",
        );
    }
    let Some(role) = Role::parse(&new.role) else {
        return error(StatusCode::BAD_REQUEST, "the role is supervisor or admin");
    };
    let password = new.password;
    let hash = match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return error(StatusCode::BAD_REQUEST, e),
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    match context
        .store
        .add_console_user(&new.name, role.as_str(), &hash, &crate::store::now_utc())
        .await
    {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(crate::store::StoreError::Conflict { .. }) => {
            error(StatusCode::CONFLICT, "that user exists")
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn remove_user(
    State(context): State<Arc<ConsoleContext>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let login = match require(&context, &headers, Role::Admin, true).await {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    if login.user == name {
        return error(StatusCode::BAD_REQUEST, "an admin cannot remove themselves");
    }
    match context.store.remove_console_user(&name).await {
        Ok(true) => {
            lock(&context.logins).close_user(&name);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => error(StatusCode::NOT_FOUND, "no such user"),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_origins() {
        for h in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["shop.example.com", "10.0.0.1:8080", "localhost.evil.com"] {
            assert!(!is_loopback_host(h), "{h}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
    }

    #[test]
    fn ids_and_names_that_may_be_used() {
        assert!(safe_id("web-0123abcd") && safe_id("sip-1.2_3"));
        for bad in ["", "../x", "a/b", "a\\b", ".."] {
            assert!(!safe_id(bad), "{bad}");
        }
        assert!(valid_user_name("ana.supervisor@shop"));
        assert!(!valid_user_name("ana bob") && !valid_user_name(""));
    }
}
