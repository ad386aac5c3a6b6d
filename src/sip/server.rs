//! The SIP user agent of `hotline serve`: listens on UDP and TCP (rsipstack does transactions,
//! retransmissions and dialogs), answers INVITEs with an SDP answer and hands each call to a
//! [`PhoneCall`](super::phone_call) task. In-dialog requests (ACK, BYE, re-INVITE, NOTIFY) go
//! to their dialog; out-of-dialog OPTIONS are answered; other methods get 405; calls beyond
//! the limit get 503 with Retry-After. Who may call: sources on `sip.allow`, and/or callers
//! who answer a digest challenge for one of `sip.accounts` (401, then 403 for a wrong one).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::{Header, HeadersExt, Method, StatusCode, ToTypedHeader};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{TcpListenerConnection, TransportLayer};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::access::Allowlist;
use super::digest::{Account, DigestAuth, DigestError};
use super::phone_call::{CallSlot, PhoneCall, PhoneCallSetup};
use super::rtp_ports::RtpPorts;
use crate::call::engines::Engines;
use crate::call::registry::CallRegistry;
use crate::config::SipConfig;
use crate::store::Store;
use hotline_wire::sdp;

/// Methods we answer, for `Allow` headers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY";

#[derive(Debug, thiserror::Error)]
pub enum SipError {
    #[error("sip.listen {0:?} is not an address")]
    Listen(String),
    #[error("cannot listen for SIP on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: rsipstack::Error,
    },
    #[error("SIP endpoint: {0}")]
    Endpoint(rsipstack::Error),
}

/// What every call of this server shares.
pub struct ServerContext {
    pub engines: Engines,
    pub store: Store,
    pub config: SipConfig,
    /// The address in our Contact and SDP.
    pub public_ip: IpAddr,
    pub sip_addr: SocketAddr,
    pub ports: RtpPorts,
    pub active: AtomicUsize,
    pub calls_total: AtomicU64,
    pub dialogs: Arc<DialogLayer>,
    /// The console's live calls (None: no console).
    pub registry: Option<CallRegistry>,
    /// How long a handed-over caller holds for someone in the console (without
    /// `sip.agent_uri`).
    pub hold_for_person: Option<std::time::Duration>,
}

/// A running server.
pub struct SipServer {
    /// Where SIP listens (the real port when the configuration asked for port 0).
    pub sip_addr: SocketAddr,
    pub context: Arc<ServerContext>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl SipServer {
    /// Binds UDP and TCP and starts answering calls.
    /// Binds and answers calls. With `console` (the console's live calls and how long a
    /// handed-over caller holds for a person there), every call shows in the console.
    pub async fn start(
        engines: Engines,
        store: Store,
        config: SipConfig,
        console: Option<(CallRegistry, Option<std::time::Duration>)>,
    ) -> Result<SipServer, SipError> {
        let listen: SocketAddr = config
            .listen
            .parse()
            .map_err(|_| SipError::Listen(config.listen.clone()))?;
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.child_token());
        let udp = UdpConnection::create_connection(listen, None, Some(cancel.child_token()))
            .await
            .map_err(|source| SipError::Bind {
                addr: listen,
                source,
            })?;
        let sip_addr = udp
            .get_addr()
            .get_socketaddr()
            .map_err(SipError::Endpoint)?;
        transport.add_transport(udp.into());
        // TCP on the same port as UDP (rsipstack binds it when the endpoint serves).
        let tcp_addr = SocketAddr::new(listen.ip(), sip_addr.port());
        let tcp = TcpListenerConnection::new(tcp_addr, None)
            .await
            .map_err(|source| SipError::Bind {
                addr: tcp_addr,
                source,
            })?;
        transport.add_transport(tcp.into());
        let public_ip = match &config.public_address {
            Some(a) => a.parse().unwrap_or(sip_addr.ip()),
            None => sip_addr.ip(),
        };
        let endpoint = EndpointBuilder::new()
            .with_user_agent(concat!("hotline/", env!("CARGO_PKG_VERSION")))
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(SipError::Endpoint)?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let endpoint_inner = endpoint.inner.clone();
        let context = Arc::new(ServerContext {
            ports: RtpPorts::new(
                listen.ip(),
                config.rtp_port_min,
                config.rtp_port_max,
                crate::rng::os_random_or_clock_u64(),
            ),
            engines,
            store,
            public_ip,
            sip_addr,
            active: AtomicUsize::new(0),
            calls_total: AtomicU64::new(0),
            dialogs,
            registry: console.as_ref().map(|c| c.0.clone()),
            hold_for_person: console.and_then(|c| c.1),
            config,
        });
        let serve_cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = endpoint.serve() => {}
                _ = serve_cancel.cancelled() => {}
            }
        });
        if let Some(register) = context.config.register.clone() {
            tokio::spawn(super::registration::keep_registered(
                endpoint_inner,
                register,
                cancel.child_token(),
            ));
        }
        let task = tokio::spawn(accept_loop(context.clone(), incoming));
        tracing::info!("SIP listening on {sip_addr} (UDP and TCP), media from {public_ip}");
        if context.config.allow.is_empty() && context.config.accounts.is_empty() {
            tracing::warn!(
                "anyone who reaches {sip_addr} can call, and caller ids are not trusted (callers \
                 verify with an order number and ZIP code); set sip.allow or sip.accounts for a \
                 trunk or PBX"
            );
        }
        Ok(SipServer {
            sip_addr,
            context,
            cancel,
            task,
        })
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.context.active.load(Ordering::SeqCst)
    }

    /// Stops listening (calls in progress end with their sockets).
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The source of a request: the `received` parameter the transport layer wrote into the top
/// Via, else the Via's host.
fn source_ip(tx: &Transaction) -> Option<IpAddr> {
    let via = tx.original.via_header().ok()?.typed().ok()?;
    if let Some(Ok(ip)) = via.received() {
        return Some(ip);
    }
    match via.uri.host_with_port.host {
        rsipstack::sip::Host::IpAddr(ip) => Some(ip),
        rsipstack::sip::Host::Domain(_) => None,
    }
}

fn has_to_tag(tx: &Transaction) -> bool {
    tx.original
        .to_header()
        .ok()
        .and_then(|to| to.tag().ok().flatten())
        .is_some()
}

async fn reply(tx: &mut Transaction, code: StatusCode, headers: Vec<Header>) {
    if let Err(e) = tx.reply_with(code, headers, None).await {
        tracing::debug!("SIP reply: {e}");
    }
}

/// Who may place calls: the allowlist and the digest accounts (see `SipConfig::accounts`).
struct Gate {
    allow: Allowlist,
    auth: Option<DigestAuth>,
    started: std::time::Instant,
}

enum Admission {
    /// `trusted`: admitted by the allowlist or a password (not merely an open door).
    Admit {
        trusted: bool,
    },
    Challenge(String),
    Refuse(String),
}

impl Gate {
    fn new(config: &SipConfig) -> Gate {
        let accounts: Vec<Account> = config
            .accounts
            .iter()
            .map(|a| Account {
                user: a.user.clone(),
                password: a.password.clone(),
            })
            .collect();
        let secret = crate::rng::os_random_or_clock_u64();
        Gate {
            allow: Allowlist::new(&config.allow),
            auth: (!accounts.is_empty())
                .then(|| DigestAuth::new(config.realm.clone(), accounts, secret)),
            started: std::time::Instant::now(),
        }
    }

    /// Whether an INVITE from `source` may place a call.
    fn admit(&self, tx: &Transaction, source: Option<IpAddr>) -> Admission {
        if !self.allow.is_empty() && self.allow.allows(source) {
            return Admission::Admit { trusted: true };
        }
        let Some(auth) = &self.auth else {
            return if self.allow.is_empty() {
                Admission::Admit { trusted: false }
            } else {
                Admission::Refuse(format!("{source:?} is not on sip.allow"))
            };
        };
        let now = self.started.elapsed().as_secs();
        let header = tx.original.authorization_header().map(|h| h.value());
        let uri = tx.original.uri.to_string();
        match auth.verify(header, &tx.original.method.to_string(), &uri, now) {
            Ok(_) => Admission::Admit { trusted: true },
            Err(DigestError::Missing | DigestError::StaleNonce) => {
                Admission::Challenge(auth.challenge(now))
            }
            Err(e) => Admission::Refuse(format!("{source:?}: {e}")),
        }
    }
}

/// Out-of-dialog requests handled at once; beyond it new ones are dropped (the peer
/// retransmits), so a peer that stops reading its TCP connection cannot stall the server.
const REQUESTS_IN_FLIGHT: usize = 64;

async fn accept_loop(
    context: Arc<ServerContext>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
) {
    let gate = Arc::new(Gate::new(&context.config));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(REQUESTS_IN_FLIGHT));
    while let Some(mut tx) = incoming.recv().await {
        if has_to_tag(&tx) {
            // In-dialog: ACK, BYE, re-INVITE, NOTIFY, INFO, OPTIONS of a call we hold.
            match context.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            tracing::debug!("in-dialog request: {e}");
                        }
                    });
                }
                None if tx.original.method == Method::Ack => {}
                None => {
                    tokio::spawn(async move {
                        reply(&mut tx, StatusCode::CallTransactionDoesNotExist, vec![]).await
                    });
                }
            }
            continue;
        }
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            tracing::warn!(
                "{REQUESTS_IN_FLIGHT} requests in flight: dropped a {}",
                tx.original.method
            );
            continue;
        };
        let context = context.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            out_of_dialog(&context, &gate, tx).await;
            drop(permit);
        });
    }
}

async fn out_of_dialog(context: &Arc<ServerContext>, gate: &Gate, mut tx: Transaction) {
    let source = source_ip(&tx);
    match tx.original.method {
        Method::Invite => match gate.admit(&tx, source) {
            Admission::Admit { trusted } => on_invite(context, tx, trusted, source).await,
            Admission::Challenge(challenge) => {
                reply(
                    &mut tx,
                    StatusCode::Unauthorized,
                    vec![Header::WwwAuthenticate(challenge.into())],
                )
                .await
            }
            Admission::Refuse(why) => {
                tracing::warn!("refused a call: {why}");
                reply(&mut tx, StatusCode::Forbidden, vec![]).await
            }
        },
        Method::Options => {
            reply(
                &mut tx,
                StatusCode::OK,
                vec![
                    Header::Allow(ALLOW.into()),
                    Header::Accept("application/sdp".into()),
                ],
            )
            .await
        }
        Method::Ack => {}
        Method::Bye | Method::Cancel => {
            reply(&mut tx, StatusCode::CallTransactionDoesNotExist, vec![]).await
        }
        _ => {
            reply(
                &mut tx,
                StatusCode::MethodNotAllowed,
                vec![Header::Allow(ALLOW.into())],
            )
            .await
        }
    }
}

/// 503 with Retry-After: a trunk tries another server or comes back later.
async fn refuse_busy(context: &ServerContext, tx: &mut Transaction) {
    let retry = context.config.retry_after_s.to_string();
    reply(
        tx,
        StatusCode::ServiceUnavailable,
        vec![Header::RetryAfter(retry.into())],
    )
    .await;
}

/// The offer of an INVITE, negotiated; or the status and the reason to refuse it with.
fn read_offer(body: &[u8]) -> Result<sdp::Negotiated, (StatusCode, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        // No late offers: we answer, we do not offer in the 200.
        return Err((
            StatusCode::NotAcceptableHere,
            "an INVITE without an SDP offer".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| (StatusCode::BadRequest, "the SDP is not UTF-8".to_string()))?;
    let offer = sdp::parse(text).map_err(|e| (StatusCode::BadRequest, e.to_string()))?;
    sdp::negotiate(&offer).map_err(|e| (StatusCode::NotAcceptableHere, e.to_string()))
}

/// `trusted`: the source is on the allowlist or authenticated, so its caller id (the From
/// user) is believed and verifies a known customer; from anyone else it is not used.
/// `signalling_ip`: where the INVITE came from (media is accepted from there too).
async fn on_invite(
    context: &Arc<ServerContext>,
    mut tx: Transaction,
    trusted: bool,
    signalling_ip: Option<IpAddr>,
) {
    // The offer first: a call we cannot carry is refused before anything is allocated.
    let negotiated = match read_offer(tx.original.body()) {
        Ok(n) => n,
        Err((code, why)) => {
            tracing::info!("refused an INVITE: {why}");
            reply(
                &mut tx,
                code,
                vec![Header::Warning(format!("399 hotline \"{why}\"").into())],
            )
            .await;
            return;
        }
    };
    let Some(slot) = CallSlot::take(context) else {
        tracing::warn!(
            "refused a call: {} calls in progress (sip.max_calls)",
            context.config.max_calls
        );
        return refuse_busy(context, &mut tx).await;
    };
    let Some(sockets) = context.ports.bind().await else {
        tracing::warn!("refused a call: no free RTP port pair in the configured range");
        return refuse_busy(context, &mut tx).await;
    };
    let (state_tx, state_rx) = context.dialogs.new_dialog_state_channel();
    let contact = format!(
        "sip:hotline@{}",
        SocketAddr::new(context.public_ip, context.sip_addr.port())
    );
    let contact = match rsipstack::sip::Uri::try_from(contact.as_str()) {
        Ok(uri) => uri,
        Err(e) => {
            tracing::warn!("bad contact {contact}: {e}");
            reply(&mut tx, StatusCode::ServerInternalError, vec![]).await;
            return;
        }
    };
    let mut dialog =
        match context
            .dialogs
            .get_or_create_server_invite(&tx, state_tx, None, Some(contact))
        {
            Ok(d) => d,
            Err(e) => {
                tracing::info!("refused an INVITE: {e}");
                reply(&mut tx, StatusCode::BadRequest, vec![]).await;
                return;
            }
        };
    let from_user = tx
        .original
        .from_header()
        .ok()
        .and_then(|f| f.uri().ok())
        .and_then(|u| u.user().map(str::to_string));
    if !trusted && from_user.is_some() {
        tracing::info!(
            "caller id {from_user:?} not used: the call came from a source that is neither on \
             sip.allow nor authenticated"
        );
    }
    let caller_id = from_user.filter(|_| trusted);
    // The number dialled picks the greeting's language (a shop's Mandarin line).
    let dialled = tx.original.uri.user().map(str::to_string);
    let language = context.config.language_of_number(dialled.as_deref());
    let call = PhoneCall::new(
        context.clone(),
        PhoneCallSetup {
            dialog: dialog.clone(),
            states: state_rx,
            sockets,
            negotiated,
            caller_id,
            signalling_ip,
            slot,
            language,
        },
    );
    tokio::spawn(async move {
        if let Err(e) = dialog.handle(&mut tx).await {
            tracing::debug!("INVITE transaction: {e}");
        }
    });
    tokio::spawn(call.run());
}
