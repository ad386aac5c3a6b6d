//! One phone call from INVITE to BYE: answers with SDP, runs the call pipeline over an
//! [`RtpTransport`], follows the dialog (re-INVITE for hold and resume, BYE or CANCEL from the
//! caller) and hangs up with a BYE when the conversation is over.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Method, StatusCode};
use tokio::sync::{broadcast, watch};

use super::bridge::{Leg, bridge};
use super::rtp_ports::MediaSockets;
use super::rtp_transport::{MediaDirection, RtpTransport};
use super::sdp_header;
use super::server::ServerContext;
use crate::call::actor::{CallCommand, CallEnd, CallEvent};
use crate::call::pipeline::{CallSetup, start_call};
use crate::dialog::language::Language;
use crate::dialog::session::Clock;
use hotline_wire::sdp::{self, Direction, LocalMedia, Negotiated};

/// One of `sip.max_calls`; given back when dropped.
pub struct CallSlot(Arc<ServerContext>);

impl CallSlot {
    pub fn take(context: &Arc<ServerContext>) -> Option<CallSlot> {
        let max = context.config.max_calls;
        context
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| CallSlot(context.clone()))
    }
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct PhoneCallSetup {
    pub dialog: InviteDialog,
    pub states: DialogStateReceiver,
    pub sockets: MediaSockets,
    pub negotiated: Negotiated,
    /// The caller id, when the source is trusted to tell it (see `server::on_invite`).
    pub caller_id: Option<String>,
    /// Where the INVITE came from: media is taken from there or from the SDP's address.
    pub signalling_ip: Option<std::net::IpAddr>,
    pub slot: CallSlot,
    /// The greeting's language (by the number dialled, `sip.mandarin_numbers`).
    pub language: Language,
}

/// Removes the call's dialog from the dialog layer however the call ends (rsipstack keeps
/// server dialogs until told).
struct DialogCleanup {
    context: Arc<ServerContext>,
    id: DialogId,
}

impl Drop for DialogCleanup {
    fn drop(&mut self) {
        self.context.dialogs.remove_dialog(&self.id);
    }
}

pub struct PhoneCall {
    context: Arc<ServerContext>,
    setup: PhoneCallSetup,
}

fn media_direction(n: &Negotiated) -> MediaDirection {
    MediaDirection {
        remote: SocketAddr::new(n.remote_addr, n.remote_port),
        send: matches!(n.direction, Direction::SendRecv | Direction::SendOnly)
            && n.remote_port != 0,
    }
}

impl PhoneCall {
    pub fn new(context: Arc<ServerContext>, setup: PhoneCallSetup) -> PhoneCall {
        PhoneCall { context, setup }
    }

    pub async fn run(self) {
        let PhoneCall { context, setup } = self;
        let PhoneCallSetup {
            dialog,
            mut states,
            sockets,
            mut negotiated,
            caller_id,
            signalling_ip,
            language,
            slot,
        } = setup;
        let _cleanup = DialogCleanup {
            context: context.clone(),
            id: dialog.id(),
        };
        let n = context.calls_total.fetch_add(1, Ordering::SeqCst) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let call_id = format!("sip-{}-{n}", now.as_millis());
        // SSRC, sequence and timestamp starts, and the SDP session id: random (RFC 3550).
        let seed = crate::rng::os_random_or_clock_u64();
        let mut local = LocalMedia {
            address: context.public_ip,
            port: sockets.port,
            session_id: seed >> 16,
            version: 1,
        };
        let (direction_tx, direction_rx) = watch::channel(media_direction(&negotiated));
        // Kept for a bridged transfer once the assistant's part of the call is over.
        let caller_socket = Arc::new(sockets.rtp);
        let transport = RtpTransport::new(
            caller_socket.clone(),
            (!negotiated.rtcp_mux).then_some(sockets.rtcp),
            (negotiated.codec, negotiated.payload_type),
            negotiated.telephone_event,
            direction_rx,
            seed,
            format!("hotline@{}", context.public_ip),
        )
        .with_media_timeout(
            (context.config.media_timeout_s > 0)
                .then(|| std::time::Duration::from_secs(context.config.media_timeout_s)),
        )
        .with_sources(
            std::iter::once(negotiated.remote_addr)
                .chain(signalling_ip)
                .filter(|ip| !ip.is_unspecified())
                .collect(),
        );
        let stats = transport.stats();

        // Answer at once: the caller hears the greeting as soon as the pipeline speaks.
        let answer = sdp::answer(&negotiated, &local);
        if let Err(e) = dialog.accept(Some(sdp_header()), Some(answer.into_bytes())) {
            tracing::warn!(call = %call_id, "cannot answer: {e}");
            return;
        }
        let setup = CallSetup {
            call_id: call_id.clone(),
            channel: "sip".into(),
            caller_id: caller_id.clone(),
            known_customer: None,
            // A hand-over goes to sip.agent_uri (REFER), or waits for someone in the console.
            live_transfer: context.config.agent_uri.is_some() || context.hold_for_person.is_some(),
            clock: Clock::System,
            language,
            use_lexicon: true,
            store: context.store.clone(),
            record_to: context
                .config
                .record_dir
                .as_ref()
                .map(|d| d.join(format!("{call_id}.wav"))),
            hold_for_person: context
                .hold_for_person
                .filter(|_| context.config.agent_uri.is_none()),
            registry: context.registry.clone(),
        };
        let handle = match start_call(&context.engines, Box::new(transport), setup) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(call = %call_id, "cannot start the call pipeline: {e}");
                let _ = dialog.bye().await;
                return;
            }
        };
        tracing::info!(
            call = %call_id,
            caller = ?caller_id,
            codec = negotiated.codec.name(),
            rtp_port = local.port,
            "call answered"
        );
        let commands = handle.commands.clone();
        let mut events = handle.subscribe();
        let mut handle = Some(handle);
        let mut far_end_gone = false;
        let max_call = context.config.max_call_s;
        let call_deadline = tokio::time::Instant::now()
            + std::time::Duration::from_secs(if max_call == 0 {
                86_400 * 365
            } else {
                max_call
            });
        let mut transfer: Option<String> = None;
        let mut finished = false;
        let mut handle_report = None;
        loop {
            tokio::select! {
                state = states.recv() => {
                    let Some(state) = state else { break };
                    match state {
                        DialogState::Updated(_, request, handle) if request.method == Method::Invite => {
                            // A re-INVITE: hold, resume, or the media moved.
                            let offer = std::str::from_utf8(request.body()).ok().map(str::trim).unwrap_or("");
                            if offer.is_empty() {
                                local.version += 1;
                                let _ = handle.respond(StatusCode::OK, Some(sdp_header()), Some(sdp::answer(&negotiated, &local).into_bytes())).await;
                                continue;
                            }
                            match sdp::parse(offer).and_then(|o| sdp::negotiate_preferring(&o, Some(negotiated.codec))) {
                                Ok(n) if n.codec == negotiated.codec => {
                                    tracing::info!(call = %call_id, on_hold = n.on_hold, "re-INVITE");
                                    negotiated = n;
                                    local.version += 1;
                                    let _ = direction_tx.send(media_direction(&negotiated));
                                    let _ = handle.respond(StatusCode::OK, Some(sdp_header()), Some(sdp::answer(&negotiated, &local).into_bytes())).await;
                                }
                                Ok(_) => {
                                    let _ = handle.respond(StatusCode::NotAcceptableHere, Some(vec![Header::Warning("305 hotline \"the codec cannot change mid-call\"".into())]), None).await;
                                }
                                Err(e) => {
                                    let _ = handle.respond(StatusCode::NotAcceptableHere, Some(vec![Header::Warning(format!("399 hotline \"{e}\"").into())]), None).await;
                                }
                            }
                        }
                        DialogState::Updated(_, _, handle)
                        | DialogState::Options(_, _, handle)
                        | DialogState::Info(_, _, handle)
                        | DialogState::Notify(_, _, handle) => {
                            handle.reply(StatusCode::OK).await.ok();
                        }
                        DialogState::Refer(_, _, handle)
                        | DialogState::Message(_, _, handle)
                        | DialogState::Publish(_, _, handle) => {
                            handle.reply(StatusCode::Forbidden).await.ok();
                        }
                        DialogState::Terminated(_, reason) => {
                            tracing::info!(call = %call_id, "dialog ended: {}", describe(&reason));
                            far_end_gone = true;
                            let _ = commands.send(CallCommand::Hangup).await;
                            break;
                        }
                        _ => {}
                    }
                }
                _ = tokio::time::sleep_until(call_deadline) => {
                    tracing::warn!(call = %call_id, "the call reached sip.max_call_s ({max_call} s); hanging up");
                    let _ = commands.send(CallCommand::Hangup).await;
                    break;
                }
                event = events.recv() => {
                    match event {
                        Ok(CallEvent::Tool { record, .. }) if record.name == "transfer_to_human" => {
                            let summary = record.args["summary"].as_str().unwrap_or_default();
                            transfer = Some(summary.to_string());
                        }
                        Ok(CallEvent::Ended(end)) => {
                            tracing::info!(call = %call_id, "call over: {end:?}");
                            // Only a conversation that ended as planned hands over; not a call
                            // whose media went silent or that was cut short.
                            finished = end == CallEnd::Finished;
                            break;
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            }
        }
        // The media side stops with the signalling.
        drop(direction_tx);
        if !far_end_gone
            && finished
            && let (Some(summary), Some(agent)) = (&transfer, &context.config.agent_uri)
        {
            let headers = transfer_headers(summary, &call_id);
            local.version += 1;
            let current = sdp::answer(&negotiated, &local);
            match blind_transfer(
                &dialog,
                &mut states,
                agent,
                summary,
                headers.clone(),
                &current,
                &call_id,
            )
            .await
            {
                Transfer::Done => {}
                Transfer::CallerGone => far_end_gone = true,
                Transfer::Refused => {
                    // The pipeline's transport lets go of the caller's socket first.
                    if let Some(h) = handle.take() {
                        handle_report = h.finished().await;
                    }
                    let caller = Leg {
                        socket: caller_socket.clone(),
                        remote: media_direction(&negotiated).remote,
                        codec: negotiated.codec,
                        payload_type: negotiated.payload_type,
                        telephone_event: negotiated.telephone_event,
                        answer: current,
                    };
                    match bridge(
                        &context,
                        &dialog,
                        &mut states,
                        caller,
                        agent,
                        headers,
                        &call_id,
                    )
                    .await
                    {
                        Ok(relayed) => {
                            tracing::info!(
                                call = %call_id,
                                relayed_to_agent = relayed.to_agent,
                                relayed_to_caller = relayed.to_caller,
                                "bridge finished"
                            );
                            far_end_gone = true;
                        }
                        Err(why) => tracing::warn!(
                            call = %call_id,
                            "no bridge to the agent: {why}; hanging up, the summary is in the call record"
                        ),
                    }
                }
            }
        }
        if !far_end_gone && let Err(e) = dialog.bye().await {
            tracing::debug!(call = %call_id, "BYE: {e}");
        }
        let report = match handle.take() {
            Some(h) => h.finished().await,
            None => handle_report,
        };
        let s = stats.snapshot();
        tracing::info!(
            call = %call_id,
            rtp_sent = s.sent,
            speech_sent = s.speech_sent,
            first_speech_ms = s.first_speech.map_or(-1, |d| d.as_millis() as i64),
            rtp_received = s.received,
            rejected = s.rejected,
            lost_frames = s.lost_frames,
            dtmf = s.dtmf,
            turns = report.as_ref().map_or(0, |r| r.latencies.len()),
            "call finished"
        );
        drop(slot);
    }
}

/// How long the caller's phone has to report the transfer's outcome.
const TRANSFER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A header value of at most `max` bytes with no line breaks or control characters.
fn header_safe(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut end = clean.len().min(max);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].trim().to_string()
}

/// The status code of a `message/sipfrag` body ("SIP/2.0 200 OK").
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines()
        .next()?
        .strip_prefix("SIP/2.0 ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The headers that carry the hand-over to the agent: the summary and our call id.
fn transfer_headers(summary: &str, call_id: &str) -> Vec<Header> {
    vec![
        Header::Other("X-Hotline-Summary".into(), header_safe(summary, 600)),
        Header::Other("X-Hotline-Call".into(), call_id.to_string()),
    ]
}

/// How a blind transfer went.
enum Transfer {
    /// The caller's phone reached the agent (or the outcome never came): hang up our leg.
    Done,
    /// The caller's side ended the dialog itself: nothing left to hang up.
    CallerGone,
    /// The caller's phone refused or failed the transfer: bridge the call instead.
    Refused,
}

/// A blind transfer (RFC 5589): REFER the caller's phone to `agent` with the summary in an
/// `X-Hotline-Summary` header, wait for its NOTIFY that the new call is up.
#[allow(clippy::too_many_arguments)]
async fn blind_transfer(
    dialog: &InviteDialog,
    states: &mut DialogStateReceiver,
    agent: &str,
    summary: &str,
    headers: Vec<Header>,
    current_sdp: &str,
    call_id: &str,
) -> Transfer {
    // The summary rides in the Refer-To URI too, so the caller's phone copies it into its
    // INVITE to the agent (RFC 3261 section 19.1.1 headers in a URI).
    let refer_to = format!(
        "<{agent}?X-Hotline-Summary={}>",
        uri_escape(&header_safe(summary, 300))
    );
    match dialog.refer(refer_to, Some(headers), None).await {
        Ok(Some(response))
            if response.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {}
        Ok(Some(response)) => {
            tracing::warn!(call = %call_id, "the caller's phone refused the transfer ({}); bridging instead", response.status_code);
            return Transfer::Refused;
        }
        Ok(None) | Err(_) => {
            tracing::warn!(call = %call_id, "no answer to the transfer; bridging instead");
            return Transfer::Refused;
        }
    }
    let deadline = tokio::time::Instant::now() + TRANSFER_WAIT;
    loop {
        let state = match tokio::time::timeout_at(deadline, states.recv()).await {
            Ok(Some(state)) => state,
            Ok(None) => return Transfer::CallerGone,
            Err(_) => {
                tracing::warn!(call = %call_id, "the transfer's outcome never came; hanging up");
                return Transfer::Done;
            }
        };
        match state {
            DialogState::Notify(_, request, handle) => {
                handle.reply(StatusCode::OK).await.ok();
                match sipfrag_status(request.body()) {
                    Some(code) if (200..300).contains(&code) => {
                        tracing::info!(call = %call_id, "transferred to {agent}");
                        return Transfer::Done;
                    }
                    Some(code) if code >= 300 => {
                        tracing::warn!(call = %call_id, "the transfer to {agent} failed ({code}); bridging instead");
                        return Transfer::Refused;
                    }
                    _ => {}
                }
            }
            DialogState::Terminated(..) => {
                tracing::info!(call = %call_id, "transferred to {agent} (the caller's side hung up)");
                return Transfer::CallerGone;
            }
            DialogState::Updated(_, _, handle) => {
                // A phone may hold the call before it transfers: it gets our answer.
                let _ = handle
                    .respond(
                        StatusCode::OK,
                        Some(sdp_header()),
                        Some(current_sdp.as_bytes().to_vec()),
                    )
                    .await;
            }
            DialogState::Options(_, _, handle) | DialogState::Info(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            _ => {}
        }
    }
}

/// Percent-escapes a header value for a SIP URI's header part (unreserved characters stay).
fn uri_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn describe(reason: &TerminatedReason) -> String {
    match reason {
        TerminatedReason::UacBye => "the caller hung up".into(),
        TerminatedReason::UacCancel => "the caller cancelled".into(),
        TerminatedReason::Timeout => "no ACK (timeout)".into(),
        TerminatedReason::UasBye => "we hung up".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_fit_in_one_header_line() {
        assert_eq!(header_safe("a\r\nb: c\u{7}", 100), "a  b: c");
        assert_eq!(header_safe("ééé", 3), "é");
    }

    #[test]
    fn summaries_escape_into_a_uri() {
        assert_eq!(
            uri_escape("Order 100042: late <x>"),
            "Order%20100042%3A%20late%20%3Cx%3E"
        );
        assert_eq!(uri_escape("é"), "%C3%A9");
    }

    #[test]
    fn sipfrag_bodies_give_their_status() {
        assert_eq!(sipfrag_status(b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(b"SIP/2.0 100 Trying"), Some(100));
        assert_eq!(sipfrag_status(b"garbage"), None);
        assert_eq!(sipfrag_status(&[0xff, 0xfe]), None);
    }
}
