//! The browser's side of a call: one WebRTC peer connection (the `webrtc` crate) carrying Opus
//! both ways, as a [`MediaTransport`]. The pipeline sees 16 kHz 16-bit frames; this shell owns
//! the peer connection and the 20 ms send clock, and decodes what the browser sends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::interceptor::Registry;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MediaEngine};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceServer;
use rtc::rtp_transceiver::PayloadType;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState,
};

use super::opus_frames::{FRAME, OpusIn, OpusOut, RATE};
use crate::call::inbound::InboundFrame;
use crate::call::transport::{
    Codec, MediaFormat, MediaTransport, TransportError, TransportEvent, TransportFuture,
    TransportIo,
};

/// How long ICE gathering may take before the answer goes out with what was found.
const GATHER_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection that stays "disconnected" this long is over (ICE may recover before).
const DISCONNECTED_GRACE: Duration = Duration::from_secs(5);
/// A browser that never connects after the answer: the call is given up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// The browser sends nothing for this long: it is gone.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);
/// Audio from the browser may run this far ahead of the wall clock (bursts after a stall);
/// beyond it packets are dropped.
const FLOOD_LEAD: Duration = Duration::from_secs(1);
/// An offer larger than this is refused before parsing.
pub const MAX_OFFER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("the offer is not usable: {0}")]
    Offer(String),
    #[error("WebRTC: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    #[error("{0}")]
    Opus(#[from] super::opus_frames::OpusError),
    #[error("no WebRTC runtime")]
    Runtime,
}

/// An ICE server for both peers (`stun:` or `turn:` URLs).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential: String,
}

/// How peer connections are made.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    /// Local UDP addresses for ICE (`0.0.0.0:0`: every interface, any port).
    pub udp: Vec<String>,
    pub ice_servers: Vec<IceServer>,
}

/// Counters of one browser call, for its log line.
#[derive(Debug, Default, Clone)]
pub struct PeerStats {
    pub received: u64,
    pub late: u64,
    /// Dropped for arriving faster than real time.
    pub flooded: u64,
    pub corrupt: u64,
    pub concealed: u64,
    pub sent: u64,
    pub speech_sent: u64,
    pub first_speech: Option<Duration>,
}

/// The peer connection's events, handed to the transport.
struct Events {
    tracks: mpsc::Sender<Arc<dyn TrackRemote>>,
    state: watch::Sender<RTCPeerConnectionState>,
    gathered: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!("peer connection: {state}");
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        // Only the first audio track is heard; a second is ignored.
        let _ = self.tracks.try_send(track);
    }
}

/// Closes the peer connection when dropped: the `webrtc` crate's driver task and sockets live
/// until `close()`, so an answer cancelled half-way (the browser went away) or a call that
/// never ran must not leave them behind.
struct PeerCloser(Option<Arc<dyn PeerConnection>>);

impl PeerCloser {
    async fn close(mut self) {
        if let Some(pc) = self.0.take()
            && let Err(e) = pc.close().await
        {
            tracing::debug!("closing the peer connection: {e}");
        }
    }
}

impl Drop for PeerCloser {
    fn drop(&mut self) {
        if let Some(pc) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

/// A browser call's media, answered and ready to run.
pub struct WebRtcTransport {
    peer: PeerCloser,
    track: Arc<TrackLocalStaticSample>,
    payload_type: PayloadType,
    ssrc: u32,
    tracks: mpsc::Receiver<Arc<dyn TrackRemote>>,
    state: watch::Receiver<RTCPeerConnectionState>,
    stats: Arc<Mutex<PeerStats>>,
}

fn opus_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: 111,
    }
}

/// The checks an offer passes before any resource is spent on it: size, SDP's first line, an
/// audio stream.
pub fn check_offer(offer: &str) -> Result<(), PeerError> {
    if offer.len() > MAX_OFFER_BYTES {
        return Err(PeerError::Offer(format!(
            "{} bytes is more than {MAX_OFFER_BYTES}",
            offer.len()
        )));
    }
    if !offer.starts_with("v=0") {
        return Err(PeerError::Offer("not SDP (it must start with v=0)".into()));
    }
    if !offer.contains("m=audio") {
        return Err(PeerError::Offer("no audio stream".into()));
    }
    Ok(())
}

/// Answers a browser's SDP offer: the transport for the call and the answer's SDP (with every
/// ICE candidate gathered, so no trickling is needed).
pub async fn answer(
    offer: &str,
    settings: &PeerSettings,
    ssrc: u32,
) -> Result<(WebRtcTransport, String), PeerError> {
    check_offer(offer)?;
    let offer = RTCSessionDescription::offer(offer.to_string())
        .map_err(|e| PeerError::Offer(e.to_string()))?;
    let mut media = MediaEngine::default();
    let codec = opus_codec();
    media.register_codec(codec.clone(), RtpCodecKind::Audio)?;
    let registry = register_default_interceptors(Registry::new(), &mut media)?;
    let config = RTCConfigurationBuilder::new()
        .with_ice_servers(
            settings
                .ice_servers
                .iter()
                .map(|s| RTCIceServer {
                    urls: s.urls.clone(),
                    username: s.username.clone(),
                    credential: s.credential.clone(),
                })
                .collect(),
        )
        .build();
    let (tracks_tx, tracks) = mpsc::channel(1);
    let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
    let (gathered_tx, mut gathered) = watch::channel(false);
    let events = Arc::new(Events {
        tracks: tracks_tx,
        state: state_tx,
        gathered: gathered_tx,
    });
    let runtime = webrtc::runtime::default_runtime().ok_or(PeerError::Runtime)?;
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(config)
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_handler(events)
            .with_runtime(runtime)
            .with_udp_addrs(settings.udp.clone())
            .build()
            .await?,
    );
    let peer = PeerCloser(Some(pc.clone()));
    let result = async {
        pc.set_remote_description(offer).await?;
        let track = Arc::new(TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "hotline".to_string(),
                "assistant".to_string(),
                "assistant".to_string(),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: codec.rtp_codec.clone(),
                    ..Default::default()
                }],
            ),
        )?);
        let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await?;
        let answer = pc.create_answer(None).await?;
        pc.set_local_description(answer).await?;
        let _ = tokio::time::timeout(GATHER_TIMEOUT, gathered.wait_for(|done| *done)).await;
        let payload_type = sender
            .get_parameters()
            .await?
            .rtp_parameters
            .codecs
            .first()
            .map(|c| c.payload_type)
            .ok_or_else(|| PeerError::Offer("the browser offered no Opus".into()))?;
        let sdp = pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| PeerError::Offer("no answer was made".into()))?;
        Ok::<_, PeerError>((track, payload_type, sdp))
    }
    .await;
    match result {
        Ok((track, payload_type, sdp)) => Ok((
            WebRtcTransport {
                peer,
                track,
                payload_type,
                ssrc,
                tracks,
                state,
                stats: Arc::default(),
            },
            sdp,
        )),
        Err(e) => {
            peer.close().await;
            Err(e)
        }
    }
}

impl WebRtcTransport {
    /// The call's counters (live).
    pub fn stats(&self) -> Arc<Mutex<PeerStats>> {
        self.stats.clone()
    }
}

fn format() -> MediaFormat {
    MediaFormat {
        codec: Codec::L16,
        rate: RATE,
        frame: Duration::from_millis(20),
    }
}

fn lock(stats: &Mutex<PeerStats>) -> std::sync::MutexGuard<'_, PeerStats> {
    stats.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads the browser's track until it ends: each packet decoded into frames for the pipeline.
/// A peer sending audio faster than real time (more than `FLOOD_LEAD` ahead of the clock) has
/// its excess dropped, so it cannot take the CPU from the other calls.
async fn receive(
    mut tracks: mpsc::Receiver<Arc<dyn TrackRemote>>,
    io_inbound: crate::call::inbound::InboundSender,
    heard: watch::Sender<Instant>,
    stats: Arc<Mutex<PeerStats>>,
) -> Result<(), PeerError> {
    let Some(track) = tracks.recv().await else {
        return Ok(());
    };
    let mut opus = OpusIn::new()?;
    let mut bytes = Vec::with_capacity(FRAME * 2);
    let mut first: Option<Instant> = None;
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                let received = Instant::now();
                let _ = heard.send(received);
                let since = received.duration_since(*first.get_or_insert(received));
                if opus.media_out() > since + FLOOD_LEAD {
                    lock(&stats).flooded += 1;
                    continue;
                }
                let outcome = opus.packet(
                    packet.header.sequence_number,
                    &packet.payload,
                    |frame, media_time| {
                        bytes.clear();
                        bytes.extend(frame.iter().flat_map(|s| s.to_le_bytes()));
                        io_inbound.push(InboundFrame {
                            payload: bytes.clone(),
                            media_time,
                            received,
                        });
                    },
                );
                let mut s = lock(&stats);
                s.received += 1;
                if outcome == super::opus_frames::Received::Late {
                    s.late += 1;
                }
                s.corrupt = opus.corrupt;
                s.concealed = opus.concealed;
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    Ok(())
}

impl MediaTransport for WebRtcTransport {
    fn format(&self) -> MediaFormat {
        format()
    }

    fn run(self: Box<Self>, mut io: TransportIo) -> TransportFuture {
        Box::pin(async move {
            let this = *self;
            let format = format();
            let start = Instant::now();
            let (heard_tx, heard) = watch::channel(start);
            let receiver = tokio::spawn(receive(
                this.tracks,
                io.inbound.clone(),
                heard_tx,
                this.stats.clone(),
            ));
            let mut state = this.state;
            let mut opus = OpusOut::new().map_err(|e| TransportError::Other(e.to_string()))?;
            let mut ticker = tokio::time::interval(format.frame);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let mut samples = Vec::with_capacity(FRAME);
            let mut pcm = vec![0i16; FRAME];
            let mut connected = false;
            let mut disconnected_since: Option<Instant> = None;
            let ending = loop {
                tokio::select! {
                    biased;
                    changed = io.hangup.changed() => {
                        if changed.is_err() || *io.hangup.borrow() {
                            break None;
                        }
                    }
                    changed = state.changed() => {
                        if changed.is_err() {
                            break Some("the peer connection is gone".to_string());
                        }
                        let now = *state.borrow_and_update();
                        match now {
                            RTCPeerConnectionState::Connected => {
                                connected = true;
                                disconnected_since = None;
                            }
                            RTCPeerConnectionState::Disconnected => {
                                disconnected_since.get_or_insert_with(Instant::now);
                            }
                            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                                break Some(format!("the browser's connection {now}"));
                            }
                            _ => {}
                        }
                    }
                    key = io.keys_out.recv(), if !io.keys_out.is_closed() => {
                        if let Some(key) = key {
                            tracing::debug!("DTMF {key:?} not sent: a browser call has no keypad");
                        }
                    }
                    _ = ticker.tick() => {
                        if disconnected_since.is_some_and(|t| t.elapsed() > DISCONNECTED_GRACE) {
                            break Some("the browser's connection was lost".into());
                        }
                        if !connected && start.elapsed() > CONNECT_TIMEOUT {
                            break Some("the browser never connected".into());
                        }
                        if connected && heard.borrow().elapsed() > MEDIA_TIMEOUT {
                            break Some(format!("no audio from the browser for {} s", MEDIA_TIMEOUT.as_secs()));
                        }
                        // The playout starts when the browser can hear it (the greeting is
                        // not spent on a connection still being set up).
                        if !connected {
                            continue;
                        }
                        let out = io.playout.next_frame();
                        format.decode(&out.payload, &mut samples);
                        for (p, s) in pcm.iter_mut().zip(samples.iter().chain(std::iter::repeat(&0.0))) {
                            *p = crate::audio::g711::f32_to_i16(*s);
                        }
                        let packet = match opus.encode(&pcm) {
                            Ok(p) => p.to_vec(),
                            Err(e) => {
                                tracing::warn!("Opus encoding: {e}");
                                continue;
                            }
                        };
                        let sample = Sample {
                            data: packet.into(),
                            duration: format.frame,
                            ..Sample::new(Instant::now())
                        };
                        match this.track.sample_writer(this.ssrc, this.payload_type).write_sample(&sample).await {
                            Ok(()) => {
                                let mut s = lock(&this.stats);
                                s.sent += 1;
                                if out.speech {
                                    s.speech_sent += 1;
                                    s.first_speech.get_or_insert_with(|| start.elapsed());
                                }
                            }
                            Err(e) => tracing::debug!("sending to the browser: {e}"),
                        }
                    }
                }
            };
            receiver.abort();
            io.inbound.close();
            if let Some(reason) = ending {
                let _ = io.events.send(TransportEvent::Hangup { reason }).await;
            }
            this.peer.close().await;
            Ok(())
        })
    }
}
