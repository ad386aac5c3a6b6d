//! One browser call from offer to hang-up: the limits are checked, the shopper's token read,
//! the WebRTC offer answered, the call pipeline started, and the call kept in the server's
//! table of live calls (for its captions and its hang-up) until it ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc};

use super::customer_token::TokenKey;
use super::limits::{CallSlots, OfferRate, Refusal};
use super::webrtc_transport::{self, PeerError, PeerSettings};
use crate::call::actor::{CallCommand, CallEvent};
use crate::call::engines::Engines;
use crate::call::pipeline::{CallSetup, start_call};
use crate::call::registry::CallRegistry;
use crate::config::WebConfig;
use crate::dialog::language::Language;
use crate::dialog::session::Clock;
use crate::store::Store;

/// What every browser call of this server shares.
pub struct WebContext {
    pub engines: Engines,
    pub store: Store,
    pub config: WebConfig,
    pub peer: PeerSettings,
    pub token_key: Option<TokenKey>,
    pub rate: Mutex<OfferRate>,
    pub slots: CallSlots,
    pub calls: Mutex<HashMap<String, LiveCall>>,
    /// The console's live calls (None: no console).
    pub registry: Option<CallRegistry>,
    /// How long a handed-over shopper holds for someone in the console.
    pub hold_for_person: Option<Duration>,
}

/// Caption streams one call may have open at once (a page, and its reload).
pub const STREAMS_PER_CALL: usize = 2;
/// How long a hang-up waits for the call to take it.
const HANG_UP_WAIT: Duration = Duration::from_secs(1);

/// Why a caption stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoStream {
    NoSuchCall,
    TooMany,
}

/// A caption stream's place; given back when dropped.
pub struct StreamPlace(Arc<AtomicUsize>);

impl Drop for StreamPlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A call in progress, as the web server reaches it.
pub struct LiveCall {
    pub commands: mpsc::Sender<CallCommand>,
    /// Caption streams open.
    streams: Arc<AtomicUsize>,
    /// Subscribed before the call started: the first caption stream gets the greeting too.
    first: Option<broadcast::Receiver<CallEvent>>,
    /// Kept only to subscribe later streams from.
    tap: broadcast::Receiver<CallEvent>,
}

impl LiveCall {
    /// The call's events for a caption stream: from the start for the first one.
    pub fn events(&mut self) -> broadcast::Receiver<CallEvent> {
        self.first.take().unwrap_or_else(|| self.tap.resubscribe())
    }
}

/// Why an offer got no call.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Peer(#[from] PeerError),
    #[error("cannot start the call: {0}")]
    Pipeline(String),
    #[error("no randomness for the call's id: {0}")]
    Random(std::io::Error),
}

/// The answer to a browser's offer.
pub struct Placed {
    pub call_id: String,
    pub sdp: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl WebContext {
    /// The customer a token vouches for; anything but a valid token is an anonymous caller.
    fn customer_of(&self, token: Option<&str>) -> Option<String> {
        let token = token.filter(|t| !t.is_empty())?;
        let Some(key) = &self.token_key else {
            tracing::info!("a customer token came but web.customer_token_secret is not set");
            return None;
        };
        match key.verify(token, unix_now()) {
            Ok(customer) => Some(customer),
            Err(e) => {
                tracing::info!("customer token refused ({e}): the caller is anonymous");
                None
            }
        }
    }

    /// Places a call for a browser's offer from `ip`.
    pub async fn place(
        self: &Arc<Self>,
        offer: &str,
        token: Option<&str>,
        language: Language,
        ip: IpAddr,
    ) -> Result<Placed, OfferError> {
        lock(&self.rate).check(ip, Instant::now())?;
        webrtc_transport::check_offer(offer)?;
        let slot = self.slots.take(ip)?;
        let known_customer = self.customer_of(token);
        // The id is the key to the call's captions: never from anything guessable.
        let random = || crate::rng::os_random_u64().map_err(OfferError::Random);
        let call_id = format!("web-{:016x}{:016x}", random()?, random()?);
        let (transport, sdp) =
            webrtc_transport::answer(offer, &self.peer, random()? as u32).await?;
        let stats = transport.stats();
        let setup = CallSetup {
            call_id: call_id.clone(),
            channel: "webrtc".into(),
            caller_id: None,
            known_customer: known_customer.clone(),
            // A hand-over waits for someone in the console; without one it is a call back.
            live_transfer: self.hold_for_person.is_some(),
            clock: Clock::System,
            language,
            use_lexicon: true,
            store: self.store.clone(),
            record_to: self
                .config
                .record_dir
                .as_ref()
                .map(|d| d.join(format!("{call_id}.wav"))),
            hold_for_person: self.hold_for_person,
            registry: self.registry.clone(),
        };
        let mut handle = start_call(&self.engines, Box::new(transport), setup)
            .map_err(|e| OfferError::Pipeline(e.to_string()))?;
        let tap = handle.subscribe();
        let first = std::mem::replace(&mut handle.events, tap.resubscribe());
        lock(&self.calls).insert(
            call_id.clone(),
            LiveCall {
                commands: handle.commands.clone(),
                streams: Arc::default(),
                first: Some(first),
                tap,
            },
        );
        tracing::info!(
            call = %call_id,
            %ip,
            signed_in = known_customer.is_some(),
            "browser call answered"
        );
        let context = self.clone();
        let id = call_id.clone();
        let max_call = self.config.max_call_s;
        tokio::spawn(async move {
            let commands = handle.commands.clone();
            let finished = handle.finished();
            tokio::pin!(finished);
            let report = if max_call == 0 {
                finished.await
            } else {
                tokio::select! {
                    report = &mut finished => report,
                    _ = tokio::time::sleep(Duration::from_secs(max_call)) => {
                        tracing::warn!(call = %id, "the call reached web.max_call_s ({max_call} s); hanging up");
                        let _ = commands.send(CallCommand::Hangup).await;
                        finished.await
                    }
                }
            };
            lock(&context.calls).remove(&id);
            drop(slot);
            let s = lock(&stats).clone();
            tracing::info!(
                call = %id,
                packets_received = s.received,
                late = s.late,
                flooded = s.flooded,
                corrupt = s.corrupt,
                concealed = s.concealed,
                packets_sent = s.sent,
                speech_sent = s.speech_sent,
                first_speech_ms = s.first_speech.map_or(-1, |d| d.as_millis() as i64),
                turns = report.as_ref().map_or(0, |r| r.latencies.len()),
                "browser call finished"
            );
        });
        Ok(Placed { call_id, sdp })
    }

    /// Hangs up a live call; false when there is no such call.
    pub async fn hang_up(&self, call_id: &str) -> bool {
        let commands = lock(&self.calls).get(call_id).map(|c| c.commands.clone());
        match commands {
            Some(c) => {
                // A call stuck behind a full queue still gets its hang-up soon, and the
                // request never waits on it for long.
                if c.send_timeout(CallCommand::Hangup, HANG_UP_WAIT)
                    .await
                    .is_err()
                {
                    tracing::warn!(call = %call_id, "the call did not take the hang-up");
                }
                true
            }
            None => false,
        }
    }

    /// The events of a live call for a caption stream, and the stream's place (a call has at
    /// most [`STREAMS_PER_CALL`]).
    pub fn events_of(
        &self,
        call_id: &str,
    ) -> Result<(broadcast::Receiver<CallEvent>, StreamPlace), NoStream> {
        let mut calls = lock(&self.calls);
        let call = calls.get_mut(call_id).ok_or(NoStream::NoSuchCall)?;
        let taken = call
            .streams
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < STREAMS_PER_CALL).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(NoStream::TooMany);
        }
        Ok((call.events(), StreamPlace(call.streams.clone())))
    }

    pub fn active_calls(&self) -> usize {
        self.slots.active()
    }
}
