//! Opus for the browser channel: RTP packets from the browser to 20 ms frames of 16 kHz
//! audio for the pipeline ([`OpusIn`]), and the pipeline's frames to Opus packets
//! ([`OpusOut`]). Opus does the rate conversion itself (its RTP clock stays 48 kHz). Sans-IO.

use std::time::Duration;

use opus::{Application, Channels, Decoder, Encoder};

/// The pipeline's rate for browser calls.
pub const RATE: u32 = 16_000;
/// Samples in one 20 ms frame at [`RATE`].
pub const FRAME: usize = 320;
/// Opus's RTP clock (RFC 7587), whatever the audio's rate.
const RTP_CLOCK_PER_MS: u32 = 48;
/// The longest Opus packet: 120 ms.
const MAX_PACKET_SAMPLES: usize = FRAME * 6;
/// Lost packets concealed at most in one go (longer gaps: the caller hears silence, and the
/// pipeline is not flooded with invented audio).
const MAX_CONCEALED: u16 = 5;

#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    #[error("Opus: {0}")]
    Codec(#[from] opus::Error),
}

/// What became of one received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Decoded into this many frames (concealed ones for a gap before it included).
    Frames(usize),
    /// Older than what was already played out, or a duplicate: dropped.
    Late,
    /// No audio (a padding-only packet, as browsers send to probe bandwidth): its sequence
    /// number is used, nothing is concealed.
    Padding,
    /// Not Opus the decoder could read: dropped, counted.
    Corrupt,
}

/// Browser packets in, 20 ms frames of 16 kHz samples out, each at its media time.
pub struct OpusIn {
    decoder: Decoder,
    /// The last sequence number and RTP timestamp decoded, and the first timestamp.
    last_seq: Option<u16>,
    first_ts: u32,
    pcm: Vec<i16>,
    pub corrupt: u64,
    pub concealed: u64,
}

impl OpusIn {
    pub fn new() -> Result<OpusIn, OpusError> {
        Ok(OpusIn {
            decoder: Decoder::new(RATE, Channels::Mono)?,
            last_seq: None,
            first_ts: 0,
            pcm: vec![0; MAX_PACKET_SAMPLES],
            corrupt: 0,
            concealed: 0,
        })
    }

    /// Decodes one packet; `frame` gets each 20 ms frame with its media time (from the
    /// first packet's timestamp).
    pub fn packet(
        &mut self,
        seq: u16,
        timestamp: u32,
        payload: &[u8],
        mut frame: impl FnMut(&[i16], Duration),
    ) -> Received {
        let gap = match self.last_seq {
            None => {
                self.first_ts = timestamp;
                0
            }
            Some(last) => {
                let ahead = seq.wrapping_sub(last);
                // Half the sequence space behind (or the same number): late or repeated.
                if ahead == 0 || ahead >= 0x8000 {
                    return Received::Late;
                }
                ahead - 1
            }
        };
        if payload.is_empty() {
            self.last_seq = Some(seq);
            return Received::Padding;
        }
        let media = |ts: u32| {
            Duration::from_millis(u64::from(ts.wrapping_sub(self.first_ts) / RTP_CLOCK_PER_MS))
        };
        let at = media(timestamp);
        let mut frames = 0;
        // Conceal the frames lost just before this packet (Opus's own loss concealment).
        let concealed = gap.min(MAX_CONCEALED);
        for k in (1..=concealed).rev() {
            let lost_at = at.saturating_sub(Duration::from_millis(20 * u64::from(k)));
            if let Ok(n) = self.decoder.decode(&[], &mut self.pcm[..FRAME], false)
                && n == FRAME
            {
                frame(&self.pcm[..FRAME], lost_at);
                frames += 1;
                self.concealed += 1;
            }
        }
        match self.decoder.decode(payload, &mut self.pcm, false) {
            Ok(n) => {
                self.last_seq = Some(seq);
                for (k, chunk) in self.pcm[..n].chunks_exact(FRAME).enumerate() {
                    frame(chunk, at + Duration::from_millis(20 * k as u64));
                    frames += 1;
                }
                Received::Frames(frames)
            }
            Err(_) => {
                self.last_seq = Some(seq);
                self.corrupt += 1;
                Received::Corrupt
            }
        }
    }
}

/// The pipeline's 20 ms frames in, Opus packets out.
pub struct OpusOut {
    encoder: Encoder,
    packet: Vec<u8>,
}

impl OpusOut {
    pub fn new() -> Result<OpusOut, OpusError> {
        let mut encoder = Encoder::new(RATE, Channels::Mono, Application::Voip)?;
        // Speech at a modest rate; the browser's jitter buffer and PLC handle the network.
        encoder.set_bitrate(opus::Bitrate::Bits(32_000))?;
        Ok(OpusOut {
            encoder,
            packet: vec![0; 1500],
        })
    }

    /// One Opus packet for one frame of [`FRAME`] samples.
    pub fn encode(&mut self, frame: &[i16]) -> Result<&[u8], OpusError> {
        let n = self.encoder.encode(frame, &mut self.packet)?;
        Ok(&self.packet[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frames: usize) -> Vec<i16> {
        (0..frames * FRAME)
            .map(|i| {
                ((i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin() * 8000.0) as i16
            })
            .collect()
    }

    fn energy(samples: &[i16]) -> f64 {
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64
    }

    #[test]
    fn frames_come_back_in_order_with_their_media_times_and_losses_are_concealed() {
        let mut out = OpusOut::new().unwrap();
        let packets: Vec<Vec<u8>> = tone(10)
            .chunks_exact(FRAME)
            .map(|f| out.encode(f).unwrap().to_vec())
            .collect();
        let mut rx = OpusIn::new().unwrap();
        let mut got: Vec<(Duration, f64)> = Vec::new();
        let ts0 = 4_000_000_000u32; // wraps during the call
        let mut feed = |rx: &mut OpusIn, i: usize| {
            let ts = ts0.wrapping_add(960 * i as u32);
            rx.packet(100u16.wrapping_add(i as u16), ts, &packets[i], |f, at| {
                got.push((at, energy(f)));
            })
        };
        for i in [0, 1, 2] {
            assert_eq!(feed(&mut rx, i), Received::Frames(1));
        }
        // Packet 3 is lost; 4 arrives, then 3 late, then 4 again.
        assert_eq!(feed(&mut rx, 4), Received::Frames(2));
        assert_eq!(feed(&mut rx, 3), Received::Late);
        assert_eq!(feed(&mut rx, 4), Received::Late);
        for i in 5..10 {
            assert_eq!(feed(&mut rx, i), Received::Frames(1));
        }
        let times: Vec<u64> = got.iter().map(|(t, _)| t.as_millis() as u64).collect();
        assert_eq!(times, (0..10).map(|i| i * 20).collect::<Vec<_>>());
        assert_eq!(rx.concealed, 1);
        // The tone survives the round trip (after the codec's start-up frame).
        assert!(got[5..].iter().all(|(_, e)| *e > 1e6), "{got:?}");
    }

    #[test]
    fn garbage_is_counted_not_fatal() {
        let mut rx = OpusIn::new().unwrap();
        let mut frames = 0;
        assert_eq!(rx.packet(1, 0, &[], |_, _| frames += 1), Received::Padding);
        // A TOC byte announcing a frame the rest of the packet does not hold.
        let r = rx.packet(2, 960, &[0xff, 0xff, 0xff], |_, _| frames += 1);
        assert!(
            matches!(r, Received::Corrupt | Received::Frames(_)),
            "{r:?}"
        );
        let mut out = OpusOut::new().unwrap();
        let good = out.encode(&tone(1)).unwrap().to_vec();
        assert!(matches!(
            rx.packet(3, 1920, &good, |_, _| frames += 1),
            Received::Frames(_)
        ));
    }
}
