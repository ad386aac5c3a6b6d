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
    pub async fn start(
        engines: Engines,
        store: Store,
        config: SipConfig,
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
            ports: RtpPorts::new(listen.ip(), config.rtp_port_min, config.rtp_port_max),
            engines,
            store,
            public_ip,
            sip_addr,
            active: AtomicUsize::new(0),
            calls_total: AtomicU64::new(0),
            dialogs,
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
    Admit,
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
        let secret = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64
            ^ u64::from(std::process::id()).rotate_left(40);
        Gate {
            allow: Allowlist::new(&config.allow),
            auth: (!accounts.is_empty())
                .then(|| DigestAuth::new(config.realm.clone(), accounts, secret)),
            started: std::time::Instant::now(),
        }
    }

    /// Whether an INVITE may place a call.
    fn admit(&self, tx: &Transaction) -> Admission {
        let source = source_ip(tx);
        if !self.allow.is_empty() && self.allow.allows(source) {
            return Admission::Admit;
        }
        let Some(auth) = &self.auth else {
            return if self.allow.is_empty() {
                Admission::Admit
            } else {
                Admission::Refuse(format!("{source:?} is not on sip.allow"))
            };
        };
        let now = self.started.elapsed().as_secs();
        let header = tx.original.authorization_header().map(|h| h.value());
        match auth.verify(header, &tx.original.method.to_string(), now) {
            Ok(_) => Admission::Admit,
            Err(DigestError::Missing | DigestError::StaleNonce) => {
                Admission::Challenge(auth.challenge(now))
            }
            Err(e) => Admission::Refuse(format!("{source:?}: {e}")),
        }
    }
}

async fn accept_loop(
    context: Arc<ServerContext>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
) {
    let gate = Gate::new(&context.config);
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
                None => reply(&mut tx, StatusCode::CallTransactionDoesNotExist, vec![]).await,
            }
            continue;
        }
        match tx.original.method {
            Method::Invite => match gate.admit(&tx) {
                Admission::Admit => on_invite(&context, tx).await,
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

async fn on_invite(context: &Arc<ServerContext>, mut tx: Transaction) {
    // The offer first: a call we cannot carry is refused before anything is allocated.
    let negotiated = match std::str::from_utf8(tx.original.body())
        .map_err(|_| "the SDP is not UTF-8".to_string())
        .and_then(|text| {
            if text.trim().is_empty() {
                Err("an INVITE without an SDP offer".to_string())
            } else {
                sdp::parse(text).map_err(|e| e.to_string())
            }
        }) {
        Ok(offer) => sdp::negotiate(&offer),
        Err(why) => {
            tracing::info!("refused an INVITE: {why}");
            let code = if why.contains("without") {
                StatusCode::NotAcceptableHere
            } else {
                StatusCode::BadRequest
            };
            reply(
                &mut tx,
                code,
                vec![Header::Warning(format!("399 hotline \"{why}\"").into())],
            )
            .await;
            return;
        }
    };
    let negotiated = match negotiated {
        Ok(n) => n,
        Err(e) => {
            tracing::info!("refused an INVITE: {e}");
            reply(
                &mut tx,
                StatusCode::NotAcceptableHere,
                vec![Header::Warning(format!("304 hotline \"{e}\"").into())],
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
    let caller_id = tx
        .original
        .from_header()
        .ok()
        .and_then(|f| f.uri().ok())
        .and_then(|u| u.user().map(str::to_string));
    let call = PhoneCall::new(
        context.clone(),
        PhoneCallSetup {
            dialog: dialog.clone(),
            states: state_rx,
            sockets,
            negotiated,
            caller_id,
            slot,
        },
    );
    tokio::spawn(async move {
        if let Err(e) = dialog.handle(&mut tx).await {
            tracing::debug!("INVITE transaction: {e}");
        }
    });
    tokio::spawn(call.run());
}
