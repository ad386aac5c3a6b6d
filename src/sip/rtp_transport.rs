//! A phone call's media: the async shell around the sans-IO RTP parts of `hotline_wire`. It
//! owns the call's RTP and RTCP sockets and the media clock: every 20 ms it hands one frame
//! from the jitter buffer to the pipeline and sends one frame of the assistant's voice, paced
//! by the clock's absolute deadlines so the stream does not drift. RFC 4733 key presses become
//! DTMF events and keys from the pipeline go out the same way; RTCP reports go out every 5 s;
//! hold (from a re-INVITE) stops sending; a far end silent past the media timeout is hung up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hotline_wire::jitter::{JitterBuffer, JitterConfig, Slot};
use hotline_wire::rtcp::{self, RtcpPacket, SenderInfo};
use hotline_wire::rtp::{self, RtpSender, SymmetricLatch};
use hotline_wire::sdp::G711;
use hotline_wire::telephone_event::{EventPacket, EventReceiver, key_press};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::law;
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
/// An outgoing key lasts this many frames (100 ms), then this many frames of pause.
const KEY_FRAMES: u16 = 5;
const KEY_GAP_FRAMES: u32 = 3;

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
    rtp: Arc<UdpSocket>,
    rtcp: Option<UdpSocket>,
    codec: G711,
    payload_type: u8,
    telephone_event: Option<u8>,
    direction: watch::Receiver<MediaDirection>,
    stats: RtpStatsHandle,
    seed: u64,
    cname: String,
    media_timeout: Option<Duration>,
    /// Media is taken only from these addresses (the SDP's and the signalling's); empty: any.
    sources: Vec<std::net::IpAddr>,
}

impl RtpTransport {
    /// `rtcp`: the socket on the port above (none with rtcp-mux). `seed` draws the SSRC and
    /// starting sequence number and timestamp.
    pub fn new(
        rtp: Arc<UdpSocket>,
        rtcp: Option<UdpSocket>,
        codec: (G711, u8),
        telephone_event: Option<u8>,
        direction: watch::Receiver<MediaDirection>,
        seed: u64,
        cname: String,
    ) -> RtpTransport {
        RtpTransport {
            rtp,
            rtcp,
            codec: codec.0,
            payload_type: codec.1,
            telephone_event,
            direction,
            stats: RtpStatsHandle::default(),
            seed,
            cname,
            media_timeout: None,
            sources: Vec::new(),
        }
    }

    /// Take media only from these hosts (the far end's SDP and signalling addresses; a
    /// re-INVITE's new address is added). Nobody else can inject audio into the call or
    /// take its media over by spraying the port range.
    pub fn with_sources(mut self, sources: Vec<std::net::IpAddr>) -> RtpTransport {
        self.sources = sources;
        self
    }

    /// Hang up when the far end sends nothing for this long while not holding the call.
    pub fn with_media_timeout(mut self, timeout: Option<Duration>) -> RtpTransport {
        self.media_timeout = timeout;
        self
    }

    pub fn stats(&self) -> RtpStatsHandle {
        self.stats.clone()
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
    /// When the far end was last heard from (RTP or RTCP), or the call started / resumed.
    last_heard: Instant,
    sources: Vec<std::net::IpAddr>,
}

impl Receiver {
    fn is_far_end(&self, from: SocketAddr) -> bool {
        self.sources.is_empty() || self.sources.contains(&from.ip())
    }
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
            let payload_type = this.payload_type;
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
                last_heard: start,
                sources: this.sources.clone(),
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
            // An outgoing key press: its packets, the next to send, its start timestamp; and
            // frames of voice left before the next press may start.
            let mut press: Option<(Vec<EventPacket>, usize, u32)> = None;
            let mut press_gap: u32 = 0;
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
                        if !rx.sources.is_empty() && !rx.sources.contains(&media.remote.ip()) {
                            rx.sources.push(media.remote.ip());
                        }
                        rx.last_heard = Instant::now();
                    }
                    _ = ticker.tick() => {
                        // Held calls get ten times as long (a caller may hold in silence).
                        let limit = this.media_timeout.map(|t| if media.send { t } else { t * 10 });
                        if let Some(limit) = limit
                            && rx.last_heard.elapsed() > limit
                        {
                            update_stats(&this.stats, &rx.jitter);
                            io.inbound.close();
                            let reason = format!("no media from the caller for {} s", limit.as_secs());
                            let _ = io.events.send(TransportEvent::Hangup { reason }).await;
                            return Ok(());
                        }
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
                        // Out: one frame of the assistant, or of a key press.
                        let out = io.playout.next_frame();
                        if media.send && press.is_none() && press_gap == 0 {
                            press = next_press(&mut io.keys_out, this.telephone_event, tx.timestamp());
                        }
                        press_gap = press_gap.saturating_sub(1);
                        if let (true, Some((packets, next, start)), Some(te)) =
                            (media.send, press.as_mut(), this.telephone_event)
                        {
                            let ep = packets[*next];
                            let header = tx.next_event(te, *start, ep.marker, frame_samples, ep.payload.len());
                            rtp::write(&header, &ep.payload, &mut packet);
                            if let Err(e) = this.rtp.send_to(&packet, rx.latch.target()).await {
                                tracing::debug!("RTP send: {e}");
                            }
                            *next += 1;
                            if *next == packets.len() {
                                press = None;
                                press_gap = KEY_GAP_FRAMES;
                            }
                        } else if media.send {
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
                            on_rtcp(&this.stats, &mut rx, datagram, from);
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
                        if let Some((len, from)) = received {
                            on_rtcp(&this.stats, &mut rx, &rtcp_buf[..len], from);
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

/// The next key to send, as its RFC 4733 packets, or `None`. Without a negotiated
/// telephone-event payload type the keys cannot be sent and are dropped (logged).
fn next_press(
    keys: &mut tokio::sync::mpsc::Receiver<char>,
    telephone_event: Option<u8>,
    timestamp: u32,
) -> Option<(Vec<EventPacket>, usize, u32)> {
    let key = keys.try_recv().ok()?;
    if telephone_event.is_none() {
        tracing::warn!("DTMF {key:?} not sent: the far end did not offer telephone-event");
        return None;
    }
    let packets = key_press(key, KEY_FRAMES, 160)?;
    Some((packets, 0, timestamp))
}

async fn recv_rtcp(socket: Option<&UdpSocket>, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await.ok(),
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
    let audio = h.payload_type == this.payload_type
        || h.payload_type == hotline_wire::jitter::COMFORT_NOISE;
    let event = Some(h.payload_type) == this.telephone_event;
    if !(audio || event) || !rx.is_far_end(from) || !rx.latch.accept(from, now) {
        this.stats.lock().rejected += 1;
        return None;
    }
    rx.last_heard = Instant::now();
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

fn on_rtcp(stats: &RtpStatsHandle, rx: &mut Receiver, datagram: &[u8], from: SocketAddr) {
    if !rx.is_far_end(from) {
        stats.lock().rejected += 1;
        return;
    }
    let Ok(packets) = rtcp::parse(datagram) else {
        stats.lock().rejected += 1;
        return;
    };
    rx.last_heard = Instant::now();
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
    use std::sync::mpsc::sync_channel;

    use tokio::sync::{broadcast, mpsc};
    use tokio::time::timeout;

    use super::*;
    use crate::call::inbound::{Received, inbound_queue};
    use crate::call::playout::{Playout, PlayoutFlags};
    use crate::call::recording::Recorder;

    #[test]
    fn ntp_time_is_after_1900_by_the_right_offset() {
        let secs = ntp_now() >> 32;
        assert!(secs > 2_208_988_800 + 1_700_000_000);
    }

    async fn recv_rtp(socket: &UdpSocket, within: Duration) -> Option<(Vec<u8>, SocketAddr)> {
        let mut buf = [0u8; 2048];
        loop {
            let (len, from) = timeout(within, socket.recv_from(&mut buf))
                .await
                .ok()?
                .ok()?;
            if !rtp::looks_like_rtcp(&buf[..len]) {
                return Some((buf[..len].to_vec(), from));
            }
        }
    }

    fn packet(seq: u16, pt: u8, payload: &[u8], timestamp: u32, marker: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let header = rtp::RtpHeader {
            marker,
            payload_type: pt,
            sequence: seq,
            timestamp,
            ssrc: 0xcafe,
        };
        rtp::write(&header, payload, &mut out);
        out
    }

    /// The transport on real loopback sockets, with a "phone" that is behind a NAT (it sends
    /// from another port than its SDP named): pacing, symmetric RTP, reordering, DTMF, hold,
    /// and the media timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paces_latches_reorders_takes_keys_holds_and_times_out() {
        let signalled = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let ours = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let our_addr = ours.local_addr().unwrap();
        let (direction_tx, direction_rx) = watch::channel(MediaDirection {
            remote: signalled.local_addr().unwrap(),
            send: true,
        });
        let transport = RtpTransport::new(
            Arc::new(ours),
            None,
            (G711::ALaw, 8),
            Some(101),
            direction_rx,
            7,
            "t".into(),
        )
        .with_media_timeout(Some(Duration::from_secs(1)))
        .with_sources(vec!["127.0.0.1".parse().unwrap()]);
        let stats = transport.stats();
        let format = transport.format();
        let (inbound_tx, inbound_rx) = inbound_queue(200);
        let (events_tx, mut events) = mpsc::channel(32);
        let (_speech_tx, speech_rx) = sync_channel(4);
        let (playout_tx, _playout_rx) = mpsc::channel(16);
        let (echo_tx, _echo_rx) = sync_channel(1024);
        let (listen_tx, _) = broadcast::channel(4);
        let playout = Playout::new(
            format,
            speech_rx,
            playout_tx,
            echo_tx,
            Arc::new(std::sync::Mutex::new(Recorder::new(
                8000,
                Duration::from_secs(5),
            ))),
            listen_tx,
            Arc::new(PlayoutFlags::default()),
        );
        let (_hangup_tx, hangup_rx) = watch::channel(false);
        let (keys_tx, keys_rx) = mpsc::channel(8);
        let io = TransportIo {
            inbound: inbound_tx,
            events: events_tx,
            playout,
            hangup: hangup_rx,
            keys_out: keys_rx,
        };
        let task = tokio::spawn(Box::new(transport).run(io));

        // Before any media arrives, packets go where the SDP said, 20 ms of PCMA apart.
        let mut last: Option<rtp::RtpHeader> = None;
        for _ in 0..5 {
            let (bytes, from) = recv_rtp(&signalled, Duration::from_millis(500))
                .await
                .expect("paced RTP");
            assert_eq!(from, our_addr);
            let p = rtp::parse(&bytes).unwrap();
            assert_eq!((p.header.payload_type, p.payload.len()), (8, 160));
            if let Some(prev) = last {
                assert_eq!(p.header.sequence, prev.sequence.wrapping_add(1));
                assert_eq!(p.header.timestamp, prev.timestamp.wrapping_add(160));
            }
            last = Some(p.header);
        }

        // A host that is not the far end sprays the port first: refused, and it does not
        // take the media over.
        let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
        for n in 0..3u16 {
            let p = packet(n, 8, &[0x77; 160], 160 * u32::from(n), n == 0);
            stranger.send_to(&p, our_addr).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(60)).await;

        // The phone sends six frames out of order and a key press.
        let fills = [0x10u8, 0x20, 0x30, 0x40, 0x50, 0x60];
        for i in [0usize, 2, 1, 3, 5, 4] {
            let p = packet(i as u16, 8, &[fills[i]; 160], 160 * i as u32, i == 0);
            phone.send_to(&p, our_addr).await.unwrap();
        }
        for (n, e) in key_press('5', 3, 160).unwrap().iter().enumerate() {
            let p = packet(10 + n as u16, 101, &e.payload, 4000, e.marker);
            phone.send_to(&p, our_addr).await.unwrap();
        }
        let key = timeout(Duration::from_secs(1), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(key, TransportEvent::Dtmf { key: '5', .. }),
            "{key:?}"
        );

        // Our media now goes to where the phone's comes from.
        let (_, from) = recv_rtp(&phone, Duration::from_millis(500))
            .await
            .expect("RTP to the phone");
        assert_eq!(from, our_addr);

        // Keys from the pipeline go to the phone as RFC 4733 events, one press each.
        keys_tx.send('4').await.unwrap();
        keys_tx.send('#').await.unwrap();
        let mut receiver = EventReceiver::default();
        let mut pressed = String::new();
        let deadline = Instant::now() + Duration::from_secs(2);
        while pressed.len() < 2 && Instant::now() < deadline {
            if let Some((bytes, _)) = recv_rtp(&phone, Duration::from_millis(200)).await {
                let p = rtp::parse(&bytes).unwrap();
                if p.header.payload_type == 101
                    && let Some(key) =
                        receiver.receive(p.header.ssrc, p.header.timestamp, p.payload)
                {
                    pressed.push(key);
                }
            }
        }
        assert_eq!(pressed, "4#");

        // The six frames reached the pipeline in order.
        let mut heard = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(2);
        while heard.len() < fills.len() && Instant::now() < deadline {
            if let Received::Frame(f) = inbound_rx.pop(Duration::from_millis(50))
                && fills.contains(&f.payload[0])
            {
                heard.push(f.payload[0]);
            }
        }
        assert_eq!(heard, fills);

        // On hold: nothing is sent (and no timeout while held).
        direction_tx
            .send(MediaDirection {
                remote: signalled.local_addr().unwrap(),
                send: false,
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        while recv_rtp(&phone, Duration::from_millis(10)).await.is_some() {}
        assert!(
            recv_rtp(&phone, Duration::from_millis(1500))
                .await
                .is_none()
        );
        assert!(events.try_recv().is_err(), "hung up while on hold");

        // Resumed, and the phone stays silent: the call is hung up after the media timeout.
        direction_tx
            .send(MediaDirection {
                remote: phone.local_addr().unwrap(),
                send: true,
            })
            .unwrap();
        let event = timeout(Duration::from_secs(3), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(event, TransportEvent::Hangup { .. }), "{event:?}");
        task.await.unwrap().unwrap();
        let s = stats.snapshot();
        // Six frames and six event packets (three, then the end three times).
        assert_eq!((s.received, s.dtmf, s.rejected), (12, 1, 3), "{s:?}");
        assert!(s.sent >= 5);
    }
}
