//! The transfer's fallback when the caller's phone refuses REFER: hotline calls the agent
//! itself (an outbound INVITE with our SDP offer and the summary in `X-Hotline-Summary`) and
//! relays RTP between the two legs, turning PCMU into PCMA and back where the legs differ and
//! mapping the telephone-event payload types, until either side hangs up; then it hangs up the
//! other. Each leg's media is latched to where it actually comes from (symmetric RTP).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode, StatusCodeKind};
use tokio::net::UdpSocket;

use super::server::ServerContext;
use super::{law, sdp_header};
use hotline_wire::rtp::{self, SymmetricLatch};
use hotline_wire::sdp::{self, Direction, G711, LocalMedia};

/// How long the agent's phone may ring before the bridge gives up.
const AGENT_ANSWER_WAIT: Duration = Duration::from_secs(40);

/// One side of the bridge: its socket, where its media goes, what it speaks.
pub struct Leg {
    pub socket: Arc<UdpSocket>,
    pub remote: SocketAddr,
    pub codec: G711,
    /// The payload type this leg's peer uses for the codec.
    pub payload_type: u8,
    pub telephone_event: Option<u8>,
    /// Our current SDP towards this leg (the answer for a re-INVITE without an offer).
    pub answer: String,
}

/// Packets relayed each way, for the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct Relayed {
    pub to_agent: u64,
    pub to_caller: u64,
}

/// Rewrites one RTP packet from `from` for `to`: the audio payload type (transcoded when the
/// laws differ) and the telephone-event type; `None` for what `to` cannot take.
fn translate(datagram: &[u8], from: &Leg, to: &Leg, scratch: &mut Vec<f32>) -> Option<Vec<u8>> {
    let packet = rtp::parse(datagram).ok()?;
    let mut header = packet.header;
    let mut out = Vec::with_capacity(datagram.len());
    if header.payload_type == from.payload_type {
        header.payload_type = to.payload_type;
        if from.codec == to.codec {
            rtp::write(&header, packet.payload, &mut out);
        } else {
            law(from.codec).decode_f32(packet.payload, scratch);
            let mut payload = Vec::with_capacity(scratch.len());
            law(to.codec).encode_f32(scratch, &mut payload);
            rtp::write(&header, &payload, &mut out);
        }
        return Some(out);
    }
    if Some(header.payload_type) == from.telephone_event {
        header.payload_type = to.telephone_event?;
        rtp::write(&header, packet.payload, &mut out);
        return Some(out);
    }
    None
}

/// Calls `agent` and bridges the caller to it. Returns the packets relayed, or why not.
pub async fn bridge(
    context: &Arc<ServerContext>,
    caller_dialog: &InviteDialog,
    caller_states: &mut DialogStateReceiver,
    caller: Leg,
    agent: &str,
    headers: Vec<Header>,
    call_id: &str,
) -> Result<Relayed, String> {
    let sockets = context
        .ports
        .bind()
        .await
        .ok_or("no free RTP port pair for the agent's leg")?;
    let local = LocalMedia {
        address: context.public_ip,
        port: sockets.port,
        session_id: u64::from(sockets.port),
        version: 1,
    };
    let me = format!(
        "sip:hotline@{}",
        SocketAddr::new(context.public_ip, context.sip_addr.port())
    );
    let uri = |text: &str| {
        rsipstack::sip::Uri::try_from(text).map_err(|e| format!("bad SIP URI {text:?}: {e}"))
    };
    let option = InviteOption {
        caller: uri(&me)?,
        callee: uri(agent)?,
        contact: uri(&me)?,
        content_type: Some("application/sdp".into()),
        offer: Some(sdp::offer(&local, Direction::SendRecv).into_bytes()),
        headers: Some(headers),
        ..InviteOption::default()
    };
    let (state_tx, mut agent_states) = context.dialogs.new_dialog_state_channel();
    let invite = context.dialogs.do_invite(option, state_tx);
    let (agent_dialog, response) = match tokio::time::timeout(AGENT_ANSWER_WAIT, invite).await {
        Ok(Ok(answered)) => answered,
        Ok(Err(e)) => return Err(format!("calling {agent}: {e}")),
        Err(_) => return Err(format!("{agent} did not answer")),
    };
    let response = response.ok_or_else(|| format!("{agent} did not answer"))?;
    if response.status_code.kind() != StatusCodeKind::Successful {
        return Err(format!("{agent} answered {}", response.status_code));
    }
    let answer = std::str::from_utf8(response.body())
        .map_err(|_| "the agent's SDP is not UTF-8".to_string())
        .and_then(|text| sdp::parse(text).map_err(|e| e.to_string()))
        .and_then(|sdp| sdp::negotiate(&sdp).map_err(|e| e.to_string()));
    let answer = match answer {
        Ok(a) => a,
        Err(why) => {
            let _ = agent_dialog.bye().await;
            return Err(format!("the agent's answer: {why}"));
        }
    };
    let agent_leg = Leg {
        socket: Arc::new(sockets.rtp),
        remote: SocketAddr::new(answer.remote_addr, answer.remote_port),
        codec: answer.codec,
        payload_type: answer.payload_type,
        telephone_event: answer.telephone_event,
        answer: sdp::offer(&local, Direction::SendRecv),
    };
    tracing::info!(call = %call_id, "bridged to {agent} ({} <-> {})", caller.codec.name(), agent_leg.codec.name());

    let relayed = relay(&caller, &agent_leg, caller_states, &mut agent_states).await;
    // Whoever is still there is hung up.
    match relayed.1 {
        Ended::Caller => {
            let _ = agent_dialog.bye().await;
        }
        Ended::Agent => {
            let _ = caller_dialog.bye().await;
        }
    }
    context.dialogs.remove_dialog(&agent_dialog.id());
    Ok(relayed.0)
}

enum Ended {
    Caller,
    Agent,
}

async fn relay(
    caller: &Leg,
    agent: &Leg,
    caller_states: &mut DialogStateReceiver,
    agent_states: &mut DialogStateReceiver,
) -> (Relayed, Ended) {
    let start = Instant::now();
    let relatch = Duration::from_secs(2);
    let mut caller_latch = SymmetricLatch::new(caller.remote, relatch);
    let mut agent_latch = SymmetricLatch::new(agent.remote, relatch);
    let mut counts = Relayed::default();
    let mut scratch = Vec::with_capacity(160);
    let mut from_caller = vec![0u8; 2048];
    let mut from_agent = vec![0u8; 2048];
    loop {
        tokio::select! {
            state = caller_states.recv() => match state {
                Some(DialogState::Terminated(..)) | None => return (counts, Ended::Caller),
                Some(other) => answer_in_bridge(other, caller).await,
            },
            state = agent_states.recv() => match state {
                Some(DialogState::Terminated(..)) | None => return (counts, Ended::Agent),
                Some(other) => answer_in_bridge(other, agent).await,
            },
            received = caller.socket.recv_from(&mut from_caller) => {
                if let Ok((len, source)) = received
                    && forward(&from_caller[..len], source, start.elapsed(),
                        (caller, &mut caller_latch), (agent, &agent_latch), &mut scratch).await
                {
                    counts.to_agent += 1;
                }
            }
            received = agent.socket.recv_from(&mut from_agent) => {
                if let Ok((len, source)) = received
                    && forward(&from_agent[..len], source, start.elapsed(),
                        (agent, &mut agent_latch), (caller, &caller_latch), &mut scratch).await
                {
                    counts.to_caller += 1;
                }
            }
        }
    }
}

/// Relays one datagram that arrived on `from`'s socket from `source` to the other leg, when
/// it comes from `from`'s far end and is something the other side can take.
async fn forward(
    datagram: &[u8],
    source: SocketAddr,
    now: Duration,
    (from, from_latch): (&Leg, &mut SymmetricLatch<SocketAddr>),
    (to, to_latch): (&Leg, &SymmetricLatch<SocketAddr>),
    scratch: &mut Vec<f32>,
) -> bool {
    if !from_latch.accept(source, now) {
        return false;
    }
    match translate(datagram, from, to, scratch) {
        Some(packet) => to.socket.send_to(&packet, to_latch.target()).await.is_ok(),
        None => false,
    }
}

/// Answers a request within one leg while bridged: a re-INVITE gets our SDP (media stays as
/// it is), the rest 200.
async fn answer_in_bridge(state: DialogState, leg: &Leg) {
    match state {
        DialogState::Updated(_, _, h) => {
            let _ = h
                .respond(
                    StatusCode::OK,
                    Some(sdp_header()),
                    Some(leg.answer.clone().into_bytes()),
                )
                .await;
        }
        DialogState::Options(_, _, h)
        | DialogState::Info(_, _, h)
        | DialogState::Notify(_, _, h) => {
            h.reply(StatusCode::OK).await.ok();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn leg(codec: G711, te: Option<u8>) -> Leg {
        Leg {
            socket: Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()),
            remote: "127.0.0.1:9".parse().unwrap(),
            codec,
            payload_type: codec.payload_type(),
            telephone_event: te,
            answer: String::new(),
        }
    }

    #[tokio::test]
    async fn packets_change_law_and_event_type_between_legs() {
        let pcmu = leg(G711::MuLaw, Some(101)).await;
        let pcma = leg(G711::ALaw, Some(96)).await;
        let silent_mu = vec![0xffu8; 160];
        let mut datagram = Vec::new();
        let header = rtp::RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: 9,
            timestamp: 1600,
            ssrc: 5,
        };
        rtp::write(&header, &silent_mu, &mut datagram);
        let mut scratch = Vec::new();
        let out = translate(&datagram, &pcmu, &pcma, &mut scratch).unwrap();
        let p = rtp::parse(&out).unwrap();
        assert_eq!((p.header.payload_type, p.header.sequence), (8, 9));
        // Mu-law silence is A-law silence on the other side.
        assert!(
            p.payload.iter().all(|&b| b == 0xd5 || b == 0x55),
            "{:?}",
            &p.payload[..4]
        );
        // A key keeps its payload under the other side's event type.
        let event_header = rtp::RtpHeader {
            payload_type: 101,
            ..header
        };
        rtp::write(&event_header, &[5, 0x8a, 0, 160], &mut datagram);
        let out = translate(&datagram, &pcmu, &pcma, &mut scratch).unwrap();
        let p = rtp::parse(&out).unwrap();
        assert_eq!(
            (p.header.payload_type, p.payload),
            (96, &[5, 0x8a, 0, 160][..])
        );
        // Without an event type on the far side, keys are not relayed; garbage never is.
        let no_events = leg(G711::ALaw, None).await;
        assert!(translate(&datagram, &pcmu, &no_events, &mut scratch).is_none());
        assert!(translate(&[1, 2, 3], &pcmu, &pcma, &mut scratch).is_none());
    }
}
