//! `hotline serve`'s web server (axum): the demo shop page, the voice widget, and the browser
//! call API. The routes:
//!
//! - `GET /shop` (`/` redirects there): the demo shop, products from the database.
//! - `GET /widget.js`: the voice widget, for any shop page (`<script src=".../widget.js">`).
//! - `GET /call/config`: the ICE servers the widget's peer connection uses.
//! - `POST /call` `{"sdp": offer, "token": optional, "lang": optional}` → `201 {"id", "sdp":
//!   answer}` (a `zh` page's call is greeted in Mandarin); refused
//!   with 400 (bad offer), 403 (origin), 429 (rate, Retry-After), 503 (lines busy).
//! - `GET /call/{id}/events`: the call's captions and state (server-sent events).
//! - `DELETE /call/{id}`: hang up.
//!
//! The call id is 128 random bits: knowing it is what lets a page see its call's captions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::browser_call::{NoStream, OfferError, WebContext};
use super::captions::{Caption, State as CallState};
use super::customer_token::TokenKey;
use super::limits::{CallSlots, OfferRate, Refusal, origin_allowed};
use super::shop_page;
use super::webrtc_transport::{MAX_OFFER_BYTES, PeerError, PeerSettings};
use crate::call::actor::CallEvent;
use crate::call::engines::Engines;
use crate::config::WebConfig;
use crate::console::routes::ConsoleContext;
use crate::dialog::language::Language;
use crate::store::Store;

/// The widget's script, served as is.
const WIDGET_JS: &str = include_str!("assets/widget.js");
/// Largest request body (an SDP offer and a token in JSON).
const MAX_BODY: usize = MAX_OFFER_BYTES + 4096;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("web.listen {0:?} is not an address")]
    Listen(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("web.customer_token_secret: {0}")]
    Secret(#[from] super::customer_token::TokenError),
}

/// A running web server.
pub struct WebServer {
    /// Where HTTP listens (the real port when the configuration asked for port 0).
    pub addr: SocketAddr,
    pub context: Arc<WebContext>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl WebServer {
    /// Starts serving; `console` adds the supervisor console (and registers every browser
    /// call with its live-call table).
    pub async fn start(
        engines: Engines,
        store: Store,
        config: WebConfig,
        console: Option<Arc<ConsoleContext>>,
    ) -> Result<WebServer, WebError> {
        let listen: SocketAddr = config
            .listen
            .parse()
            .map_err(|_| WebError::Listen(config.listen.clone()))?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| WebError::Bind {
                addr: config.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| WebError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let token_key = config
            .customer_token_secret
            .as_deref()
            .map(TokenKey::new)
            .transpose()?;
        let context = Arc::new(WebContext {
            engines,
            store,
            peer: PeerSettings {
                udp: config.ice_udp.clone(),
                ice_servers: config.ice_servers.clone(),
            },
            token_key,
            rate: Mutex::new(OfferRate::new(config.offers_per_minute)),
            slots: CallSlots::new(config.max_calls, config.calls_per_address),
            calls: Mutex::new(HashMap::new()),
            registry: console.as_ref().map(|c| c.registry.clone()),
            hold_for_person: console.as_ref().and_then(|c| c.config.hold_for_person()),
            config,
        });
        let mut app = router(context.clone());
        if let Some(console) = console {
            app = app.merge(crate::console::routes::router(console));
        }
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
            if let Err(e) = served {
                tracing::warn!("web server: {e}");
            }
        });
        Ok(WebServer {
            addr,
            context,
            cancel,
            task,
        })
    }

    pub fn active_calls(&self) -> usize {
        self.context.active_calls()
    }

    /// Hangs up the browser calls and stops serving.
    pub async fn shutdown(self) {
        let ids: Vec<String> = self
            .context
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        for id in ids {
            self.context.hang_up(&id).await;
        }
        self.cancel.cancel();
        // Caption streams stay open until their calls end; do not wait on them for long.
        let _ = tokio::time::timeout(Duration::from_secs(3), self.task).await;
    }
}

fn router(context: Arc<WebContext>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/shop") }))
        .route("/shop", get(shop))
        .route("/widget.js", get(widget))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/call/config", get(call_config))
        .route("/call", post(place_call).options(preflight))
        .route(
            "/call/{id}",
            axum::routing::delete(hang_up).options(preflight),
        )
        .route("/call/{id}/events", get(events))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(context)
}

/// A JSON error body with a status.
fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": message.to_string() })),
    )
        .into_response()
}

/// `response` with CORS headers for an allowed cross-origin page.
fn with_cors(headers: &HeaderMap, context: &WebContext, mut response: Response) -> Response {
    cors(headers, context, &mut response);
    response
}

/// CORS headers for an allowed cross-origin page.
fn cors(headers: &HeaderMap, context: &WebContext, response: &mut Response) {
    if let Some(origin) = headers.get(header::ORIGIN)
        && origin_allowed(origin.to_str().ok(), None, &context.config.allowed_origins)
    {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, DELETE, GET"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
    }
}

/// Whether the request's page may use the call API.
fn origin_ok(headers: &HeaderMap, context: &WebContext) -> bool {
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("?"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    origin_allowed(origin, host, &context.config.allowed_origins)
}

#[derive(Deserialize)]
struct ShopQuery {
    token: Option<String>,
}

async fn shop(State(context): State<Arc<WebContext>>, Query(q): Query<ShopQuery>) -> Response {
    match context.store.products().await {
        Ok(products) => Html(shop_page::render(&products, q.token.as_deref())).into_response(),
        Err(e) => {
            tracing::warn!("shop page: {e}");
            error(StatusCode::SERVICE_UNAVAILABLE, "the shop is not available")
        }
    }
}

async fn widget() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

async fn call_config(State(context): State<Arc<WebContext>>, headers: HeaderMap) -> Response {
    let mut response =
        Json(serde_json::json!({ "ice_servers": context.config.ice_servers })).into_response();
    cors(&headers, &context, &mut response);
    response
}

async fn preflight(
    State(context): State<Arc<WebContext>>,
    headers: HeaderMap,
    method: Method,
) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if method == Method::OPTIONS {
        cors(&headers, &context, &mut response);
    }
    response
}

#[derive(Deserialize)]
struct OfferBody {
    sdp: String,
    #[serde(default)]
    token: Option<String>,
    /// The shop page's language (`<html lang>`, e.g. `zh-CN`): the greeting's language.
    #[serde(default)]
    lang: Option<String>,
}

/// The greeting's language for a page in `lang` (a BCP 47 tag): Mandarin for any `zh` tag,
/// English for anything else.
fn greeting_language(lang: Option<&str>) -> Language {
    match lang.map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if l == "zh" || l.starts_with("zh-") => Language::Zh,
        _ => Language::En,
    }
}

async fn place_call(
    State(context): State<Arc<WebContext>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !origin_ok(&headers, &context) {
        return error(StatusCode::FORBIDDEN, Refusal::Origin);
    }
    let mut response = match serde_json::from_slice::<OfferBody>(&body) {
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"sdp\": \"...\", \"token\": \"...\"}}: {e}"),
        ),
        // On its own task: a browser that goes away mid-answer does not cancel it half-way.
        Ok(offer) => match tokio::spawn({
            let context = context.clone();
            async move {
                context
                    .place(
                        &offer.sdp,
                        offer.token.as_deref(),
                        greeting_language(offer.lang.as_deref()),
                        peer.ip(),
                    )
                    .await
            }
        })
        .await
        .unwrap_or_else(|e| Err(OfferError::Pipeline(e.to_string())))
        {
            Ok(placed) => (
                StatusCode::CREATED,
                [(header::LOCATION, format!("/call/{}", placed.call_id))],
                Json(serde_json::json!({ "id": placed.call_id, "sdp": placed.sdp })),
            )
                .into_response(),
            Err(OfferError::Refused(r @ Refusal::TooManyOffers { retry_after_s })) => {
                let mut resp = error(StatusCode::TOO_MANY_REQUESTS, r);
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
                resp
            }
            Err(OfferError::Refused(r @ Refusal::TooManyCalls(_))) => {
                let mut resp = error(StatusCode::TOO_MANY_REQUESTS, r);
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(60u32));
                resp
            }
            Err(OfferError::Refused(r @ Refusal::Busy)) => {
                let mut resp = error(StatusCode::SERVICE_UNAVAILABLE, r);
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(60u32));
                resp
            }
            Err(OfferError::Refused(r @ Refusal::Origin)) => error(StatusCode::FORBIDDEN, r),
            Err(OfferError::Peer(e @ PeerError::Offer(_))) => error(StatusCode::BAD_REQUEST, e),
            Err(e) => {
                tracing::warn!("browser call from {}: {e}", peer.ip());
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the call could not be set up",
                )
            }
        },
    };
    cors(&headers, &context, &mut response);
    response
}

async fn hang_up(
    State(context): State<Arc<WebContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = if !origin_ok(&headers, &context) {
        return error(StatusCode::FORBIDDEN, Refusal::Origin);
    } else if context.hang_up(&id).await {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "no such call")
    };
    with_cors(&headers, &context, response)
}

async fn events(
    State(context): State<Arc<WebContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !origin_ok(&headers, &context) {
        return error(StatusCode::FORBIDDEN, Refusal::Origin);
    }
    let stream = match context.events_of(&id) {
        Ok(stream) => stream,
        Err(NoStream::NoSuchCall) => return error(StatusCode::NOT_FOUND, "no such call"),
        Err(NoStream::TooMany) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "this call's captions are already open elsewhere",
            );
        }
    };
    // Each event gives zero or more updates; the stream ends after the call's end (and gives
    // its place back when dropped).
    let updates = futures_util::stream::unfold(Some(stream), |stream| async move {
        let (mut receiver, place) = stream?;
        loop {
            match receiver.recv().await {
                Ok(event) => {
                    let captions = Caption::from_event(&event);
                    if captions.is_empty() {
                        continue;
                    }
                    let next = (!matches!(event, CallEvent::Ended(_))).then_some((receiver, place));
                    return Some((captions, next));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => {
                    let ended = Caption::State {
                        state: CallState::Ended,
                    };
                    return Some((vec![ended], None));
                }
            }
        }
    });
    let stream = updates
        .map(|captions| {
            futures_util::stream::iter(captions.into_iter().map(|c| Event::default().json_data(c)))
        })
        .flatten();
    let response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    with_cors(&headers, &context, response)
}
