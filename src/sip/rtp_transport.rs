//! A phone call's media: the async shell around the sans-IO RTP parts of `hotline_wire`. It
//! owns the call's RTP and RTCP sockets and the media clock: every 20 ms it hands one frame
//! from the jitter buffer to the pipeline and sends one frame of the assistant's voice, paced
//! by the clock's absolute deadlines so the stream does not drift. RFC 4733 key presses become
//! DTMF events; RTCP reports go out every 5 s; hold (from a re-INVITE) stops sending.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hotline_wire::jitter::{JitterBuffer, JitterConfig, Slot};
use hotline_wire::rtcp::{self, RtcpPacket, SenderInfo};
use hotline_wire::rtp::{self, RtpSender, SymmetricLatch};
use hotline_wire::sdp::G711;
use hotline_wire::telephone_event::EventReceiver;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::audio::g711::Law;
use crate::call::inbound::InboundFrame;
use crate::call::transport::{
    MediaFormat, MediaTransport, TransportError, TransportEvent, TransportFuture, TransportIo,
};

/// RTCP reports this often (RFC 3550's minimum interval).
const RTCP_EVERY: Duration = Duration::from_secs(5);
/// A latched media source silent this long may be replaced by another.
const RELATCH_AFTER: Duration = Duration::from_secs(2);
/// Lost frames filled with the last frame, fading, before silence.
const CONCEAL_FRAMES: u32 = 3;

/// What signalling changes about the media mid-call (a re-INVITE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaDirection {
    /// Where the far end wants our audio (from its SDP).
    pub remote: SocketAddr,
    /// Whether we send audio (false while the caller holds the call).
    pub send: bool,
}

/// Counters for logs, tests and the RTP-edge latency.
#[derive(Debug, Clone, Default)]
pub struct RtpStats {
    pub sent: u64,
    /// Packets that carried the assistant's voice.
    pub speech_sent: u64,
    /// From the first frame time to the first packet of the assistant's voice (the greeting).
    pub first_speech: Option<Duration>,
    pub received: u64,
    pub rejected: u64,
    pub dtmf: u64,
    pub lost_frames: u64,
    pub late: u64,
    pub rtcp_received: u64,
    /// Peer's latest view of our stream (fraction lost, jitter), from its reports.
    pub peer_fraction_lost: u8,
    pub peer_jitter: u32,
}

/// A handle on the stats while the call runs.
#[derive(Clone, Default)]
pub struct RtpStatsHandle(Arc<Mutex<RtpStats>>);

impl RtpStatsHandle {
    pub fn snapshot(&self) -> RtpStats {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, RtpStats> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct RtpTransport {
    rtp: UdpSocket,
    rtcp: Option<UdpSocket>,
    codec: G711,
    telephone_event: Option<u8>,
    direction: watch::Receiver<MediaDirection>,
    stats: RtpStatsHandle,
    seed: u64,
    cname: String,
}

impl RtpTransport {
    /// `rtcp`: the socket on the port above (none with rtcp-mux). `seed` draws the SSRC and
    /// starting sequence number and timestamp.
    pub fn new(
        rtp: UdpSocket,
        rtcp: Option<UdpSocket>,
        codec: G711,
        telephone_event: Option<u8>,
        direction: watch::Receiver<MediaDirection>,
        seed: u64,
        cname: String,
    ) -> RtpTransport {
        RtpTransport {
            rtp,
            rtcp,
            codec,
            telephone_event,
            direction,
            stats: RtpStatsHandle::default(),
            seed,
            cname,
        }
    }

    pub fn stats(&self) -> RtpStatsHandle {
        self.stats.clone()
    }
}

fn law(codec: G711) -> Law {
    match codec {
        G711::MuLaw => Law::MuLaw,
        G711::ALaw => Law::ALaw,
    }
}

/// NTP time (RFC 3550 section 4) of the wall clock.
fn ntp_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() + 2_208_988_800;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The receive side's state between frames.
struct Receiver {
    jitter: JitterBuffer,
    events: EventReceiver,
    latch: SymmetricLatch<SocketAddr>,
    last_audio: Vec<f32>,
    lost_run: u32,
    noise: crate::rng::SplitMix64,
    /// Middle 32 bits of the last sender report's NTP time and when it came (for RTCP).
    last_sr: Option<(u32, Instant)>,
}

impl MediaTransport for RtpTransport {
    fn format(&self) -> MediaFormat {
        MediaFormat::telephone(law(self.codec))
    }

    fn run(self: Box<Self>, mut io: TransportIo) -> TransportFuture {
        Box::pin(async move {
            let this = *self;
            let format = MediaFormat::telephone(law(this.codec));
            let frame_samples = format.frame_len() as u32;
            let payload_type = this.codec.payload_type();
            let start = Instant::now();
            let mut direction = this.direction.clone();
            let initial = *direction.borrow();
            let mut rx = Receiver {
                jitter: JitterBuffer::new(JitterConfig::default()),
                events: EventReceiver::default(),
                latch: SymmetricLatch::new(initial.remote, RELATCH_AFTER),
                last_audio: vec![0.0; format.frame_len()],
                lost_run: CONCEAL_FRAMES,
                noise: crate::rng::SplitMix64::new(this.seed ^ 0x5eed),
                last_sr: None,
            };
            let mut tx = RtpSender::new(this.seed);
            let mut media = initial;
            let mut ticker = tokio::time::interval(format.frame);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let mut rtcp_timer = tokio::time::interval(RTCP_EVERY);
            rtcp_timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let mut buf = vec![0u8; 2048];
            let mut rtcp_buf = vec![0u8; 1500];
            let mut packet = Vec::with_capacity(256);
            let mut samples = Vec::with_capacity(format.frame_len());
            let mut encoded = Vec::with_capacity(format.frame_len());
            let mut frame_no: u64 = 0;
            loop {
                tokio::select! {
                    biased;
                    changed = io.hangup.changed() => {
                        if changed.is_err() || *io.hangup.borrow() {
                            update_stats(&this.stats, &rx.jitter);
                            rtcp::write_bye(tx.ssrc, &mut packet);
                            send_rtcp(&this, &rx, media, &packet).await;
                            io.inbound.close();
                            return Ok(());
                        }
                    }
                    changed = direction.changed() => {
                        if changed.is_err() {
                            // Signalling is gone: the call is over.
                            update_stats(&this.stats, &rx.jitter);
                            io.inbound.close();
                            return Ok(());
                        }
                        media = *direction.borrow();
                        rx.latch.resignal(media.remote);
                    }
                    _ = ticker.tick() => {
                        // In: one frame from the jitter buffer.
                        let media_time = format.frame * frame_no as u32;
                        // `received` is when the packet arrived: the pipeline's turn latency is
                        // then measured at the RTP edge (last caller packet to our first).
                        let arrival = next_inbound(&mut rx, &format, &mut samples);
                        format.encode(&samples, &mut encoded);
                        io.inbound.push(InboundFrame {
                            payload: encoded.clone(),
                            media_time,
                            received: arrival.map_or_else(Instant::now, |a| start + a),
                        });
                        // Out: one frame of the assistant.
                        let out = io.playout.next_frame();
                        if media.send {
                            let header = tx.next(payload_type, frame_samples, out.speech, out.payload.len());
                            rtp::write(&header, &out.payload, &mut packet);
                            match this.rtp.send_to(&packet, rx.latch.target()).await {
                                Ok(_) => {
                                    let mut s = this.stats.lock();
                                    s.sent += 1;
                                    if out.speech {
                                        s.speech_sent += 1;
                                        s.first_speech.get_or_insert_with(|| start.elapsed());
                                    }
                                }
                                Err(e) => tracing::debug!("RTP send: {e}"),
                            }
                        } else {
                            tx.skip(frame_samples);
                        }
                        frame_no += 1;
                    }
                    received = this.rtp.recv_from(&mut buf) => {
                        let (len, from) = match received {
                            Ok(r) => r,
                            Err(e) => {
                                // ICMP port unreachable and the like: not fatal for UDP.
                                tracing::debug!("RTP receive: {e}");
                                continue;
                            }
                        };
                        let datagram = &buf[..len];
                        if rtp::looks_like_rtcp(datagram) {
                            on_rtcp(&this.stats, &mut rx, datagram);
                            continue;
                        }
                        let key = on_rtp(&this, &mut rx, datagram, from, start.elapsed());
                        if let Some(key) = key {
                            let at = format.frame * frame_no as u32;
                            if io.events.send(TransportEvent::Dtmf { key, at }).await.is_err() {
                                return Err(TransportError::Other("the call is gone".into()));
                            }
                        }
                    }
                    received = recv_rtcp(this.rtcp.as_ref(), &mut rtcp_buf) => {
                        if let Some(len) = received {
                            on_rtcp(&this.stats, &mut rx, &rtcp_buf[..len]);
                        }
                    }
                    _ = rtcp_timer.tick() => {
                        if frame_no == 0 {
                            continue;
                        }
                        let block = {
                            let (lsr, dlsr) = match rx.last_sr {
                                Some((mid, at)) => (mid, (at.elapsed().as_secs_f64() * 65536.0) as u32),
                                None => (0, 0),
                            };
                            rx.jitter.report(lsr, dlsr)
                        };
                        let sender = (tx.packets > 0).then(|| SenderInfo {
                            ntp: ntp_now(),
                            rtp_timestamp: tx.timestamp(),
                            packets: tx.packets,
                            octets: tx.octets,
                        });
                        rtcp::write_report(tx.ssrc, sender, block.as_ref(), &this.cname, &mut packet);
                        send_rtcp(&this, &rx, media, &packet).await;
                        update_stats(&this.stats, &rx.jitter);
                    }
                }
            }
        })
    }
}

fn update_stats(stats: &RtpStatsHandle, jitter: &JitterBuffer) {
    let js = jitter.stats();
    let mut s = stats.lock();
    s.lost_frames = js.lost_frames;
    s.late = js.late;
}

async fn recv_rtcp(socket: Option<&UdpSocket>, buf: &mut [u8]) -> Option<usize> {
    match socket {
        Some(s) => s.recv_from(buf).await.ok().map(|(len, _)| len),
        None => std::future::pending().await,
    }
}

async fn send_rtcp(this: &RtpTransport, rx: &Receiver, media: MediaDirection, packet: &[u8]) {
    let target = rx.latch.target();
    let result = match &this.rtcp {
        Some(socket) => {
            let port = target.port().wrapping_add(1);
            socket
                .send_to(packet, SocketAddr::new(target.ip(), port))
                .await
        }
        None => this.rtp.send_to(packet, target).await,
    };
    if let Err(e) = result
        && media.send
    {
        tracing::debug!("RTCP send: {e}");
    }
}

/// Handles one RTP datagram; returns a DTMF key when one starts.
fn on_rtp(
    this: &RtpTransport,
    rx: &mut Receiver,
    datagram: &[u8],
    from: SocketAddr,
    now: Duration,
) -> Option<char> {
    let Ok(packet) = rtp::parse(datagram) else {
        this.stats.lock().rejected += 1;
        return None;
    };
    let h = packet.header;
    let audio = h.payload_type == this.codec.payload_type()
        || h.payload_type == hotline_wire::jitter::COMFORT_NOISE;
    let event = Some(h.payload_type) == this.telephone_event;
    if !(audio || event) || !rx.latch.accept(from, now) {
        this.stats.lock().rejected += 1;
        return None;
    }
    let mut s = this.stats.lock();
    s.received += 1;
    if event {
        let key = rx.events.receive(h.ssrc, h.timestamp, packet.payload);
        s.dtmf += u64::from(key.is_some());
        return key;
    }
    drop(s);
    rx.jitter.push(
        h.ssrc,
        h.sequence,
        h.timestamp,
        h.payload_type,
        packet.payload,
        now,
    );
    None
}

fn on_rtcp(stats: &RtpStatsHandle, rx: &mut Receiver, datagram: &[u8]) {
    let Ok(packets) = rtcp::parse(datagram) else {
        stats.lock().rejected += 1;
        return;
    };
    let mut s = stats.lock();
    s.rtcp_received += 1;
    for p in packets {
        match p {
            RtcpPacket::SenderReport { ntp, reports, .. } => {
                rx.last_sr = Some(((ntp >> 16) as u32, Instant::now()));
                if let Some(b) = reports.first() {
                    s.peer_fraction_lost = b.fraction_lost;
                    s.peer_jitter = b.jitter;
                }
            }
            RtcpPacket::ReceiverReport { reports, .. } => {
                if let Some(b) = reports.first() {
                    s.peer_fraction_lost = b.fraction_lost;
                    s.peer_jitter = b.jitter;
                }
            }
            RtcpPacket::Bye { .. } | RtcpPacket::Other { .. } => {}
        }
    }
}

/// The next inbound frame as samples (concealed, comfort noise or silence where there is no
/// audio); returns when its audio arrived.
fn next_inbound(
    rx: &mut Receiver,
    format: &MediaFormat,
    samples: &mut Vec<f32>,
) -> Option<Duration> {
    let n = format.frame_len();
    match rx.jitter.pop() {
        Slot::Audio {
            payload, arrival, ..
        } => {
            format.decode(&payload, samples);
            samples.resize(n, 0.0);
            rx.last_audio.clear();
            rx.last_audio.extend_from_slice(samples);
            rx.lost_run = 0;
            Some(arrival)
        }
        Slot::Lost => {
            // Repeat the last frame, fading by half each time, then silence.
            rx.lost_run += 1;
            let gain = if rx.lost_run <= CONCEAL_FRAMES {
                0.5f32.powi(rx.lost_run as i32)
            } else {
                0.0
            };
            samples.clear();
            samples.extend(rx.last_audio.iter().map(|s| s * gain));
            None
        }
        Slot::ComfortNoise { level } => {
            // -level dBov, as white noise.
            let amp = 10f32.powf(-f32::from(level) / 20.0);
            samples.clear();
            samples.extend((0..n).map(|_| (rx.noise.next_f32() * 2.0 - 1.0) * amp));
            None
        }
        Slot::Silence => {
            samples.clear();
            samples.resize(n, 0.0);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_time_is_after_1900_by_the_right_offset() {
        let secs = ntp_now() >> 32;
        assert!(secs > 2_208_988_800 + 1_700_000_000);
    }
}
