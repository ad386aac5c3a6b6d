//! What every way into a call (SIP/RTP, WebRTC, the local sound device, a file) provides: the
//! [`MediaTransport`] trait. A transport is an async shell: it owns its socket or device and
//! its media clock. It hands received audio to the pipeline, pulls one outbound frame per
//! frame time, and reports DTMF and hang-up.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::inbound::InboundSender;
use super::playout::Playout;
use crate::audio::g711::{Law, f32_to_i16};

/// How audio is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// G.711, 8 kHz.
    G711(Law),
    /// 16-bit little-endian linear PCM (local devices, tests).
    L16,
}

/// The media a transport carries: codec, sample rate and frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaFormat {
    pub codec: Codec,
    pub rate: u32,
    pub frame: Duration,
}

impl MediaFormat {
    /// Phone audio: G.711 at 8 kHz in 20 ms frames.
    pub fn telephone(law: Law) -> MediaFormat {
        MediaFormat {
            codec: Codec::G711(law),
            rate: 8000,
            frame: Duration::from_millis(20),
        }
    }

    /// Samples in one frame.
    pub fn frame_len(&self) -> usize {
        (u128::from(self.rate) * self.frame.as_micros() / 1_000_000) as usize
    }

    /// Decodes a payload into f32 samples (`out` is cleared first). Odd trailing bytes of
    /// L16 are ignored.
    pub fn decode(&self, payload: &[u8], out: &mut Vec<f32>) {
        match self.codec {
            Codec::G711(law) => law.decode_f32(payload, out),
            Codec::L16 => {
                out.clear();
                out.extend(
                    payload
                        .chunks_exact(2)
                        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0),
                );
            }
        }
    }

    /// Encodes f32 samples into a payload (`out` is cleared first).
    pub fn encode(&self, samples: &[f32], out: &mut Vec<u8>) {
        match self.codec {
            Codec::G711(law) => law.encode_f32(samples, out),
            Codec::L16 => {
                out.clear();
                for &s in samples {
                    out.extend_from_slice(&f32_to_i16(s).to_le_bytes());
                }
            }
        }
    }
}

/// Something other than audio that happened on the transport. Never dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportEvent {
    /// A DTMF key (RFC 4733 event, SIP INFO, or a test), at its media time.
    Dtmf { key: char, at: Duration },
    /// The far end hung up or the connection failed.
    Hangup { reason: String },
}

/// One outbound frame, pulled by the transport at its frame time.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundFrame {
    pub payload: Vec<u8>,
    /// Whether the frame carries the assistant's voice (not filler silence).
    pub speech: bool,
}

/// The pipeline's side as a transport sees it.
pub struct TransportIo {
    /// Received audio (queue drops the oldest when the listener falls behind).
    pub inbound: InboundSender,
    /// DTMF and hang-up (bounded; sending waits, nothing is dropped).
    pub events: mpsc::Sender<TransportEvent>,
    /// Outbound audio: call `next_frame` once per frame time.
    pub playout: Playout,
    /// Becomes true when the pipeline ends the call (goodbye, transfer done, command).
    pub hangup: watch::Receiver<bool>,
    /// DTMF keys to send to the far end (RFC 4733 on RTP; a transport without a keypad
    /// reports them as it can).
    pub keys_out: mpsc::Receiver<char>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("transport I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("transport: {0}")]
    Other(String),
}

pub type TransportFuture = Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send>>;

/// A way into a call. SIP/RTP, WebRTC, the local device and the file transport implement it.
pub trait MediaTransport: Send {
    /// The media this transport carries.
    fn format(&self) -> MediaFormat;

    /// Runs until the far end hangs up or `io.hangup` turns true: delivers received frames
    /// and events, pulls one outbound frame per frame time from `io.playout`.
    fn run(self: Box<Self>, io: TransportIo) -> TransportFuture;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l16_round_trips_and_ignores_a_stray_byte() {
        let f = MediaFormat {
            codec: Codec::L16,
            rate: 16000,
            frame: Duration::from_millis(20),
        };
        assert_eq!(f.frame_len(), 320);
        let mut bytes = Vec::new();
        f.encode(&[0.5, -0.25], &mut bytes);
        bytes.push(7);
        let mut back = Vec::new();
        f.decode(&bytes, &mut back);
        assert_eq!(back, vec![0.5, -0.25]);
    }

    #[test]
    fn telephone_frames_are_160_samples() {
        assert_eq!(MediaFormat::telephone(Law::MuLaw).frame_len(), 160);
    }
}
