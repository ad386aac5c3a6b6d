//! Opus for the browser channel: RTP packets from the browser to 20 ms frames of 16 kHz
//! audio for the pipeline ([`OpusIn`]), and the pipeline's frames to Opus packets
//! ([`OpusOut`]). Opus does the rate conversion itself (its RTP clock stays 48 kHz). Sans-IO.

use std::time::Duration;

use opus::{Application, Channels, Decoder, Encoder};

/// The pipeline's rate for browser calls.
pub const RATE: u32 = 16_000;
/// Samples in one 20 ms frame at [`RATE`].
pub const FRAME: usize = 320;
/// One frame's duration.
const FRAME_TIME: Duration = Duration::from_millis(20);
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

/// Browser packets in, a continuous stream of 20 ms frames of 16 kHz samples out. Frames are
/// numbered on their own clock (20 ms each, from the first), not the sender's timestamps: a
/// packet of 10, 30 or 60 ms, a short gap (concealed) or a long one (skipped) keeps the stream
/// whole, so the listener's media time never runs ahead of the audio it was given.
pub struct OpusIn {
    decoder: Decoder,
    last_seq: Option<u16>,
    /// Packets in a row that looked late: a sender that restarted its sequence.
    late_run: u16,
    pcm: Vec<i16>,
    /// Decoded samples not yet a whole frame.
    carry: Vec<i16>,
    frames_out: u64,
    pub corrupt: u64,
    pub concealed: u64,
}

/// Late-looking packets in a row after which the sequence is taken up afresh.
const RESYNC_AFTER: u16 = 50;

impl OpusIn {
    pub fn new() -> Result<OpusIn, OpusError> {
        Ok(OpusIn {
            decoder: Decoder::new(RATE, Channels::Mono)?,
            last_seq: None,
            late_run: 0,
            pcm: vec![0; MAX_PACKET_SAMPLES],
            carry: Vec::with_capacity(MAX_PACKET_SAMPLES + FRAME),
            frames_out: 0,
            corrupt: 0,
            concealed: 0,
        })
    }

    /// Media time of the audio handed out so far.
    pub fn media_out(&self) -> Duration {
        FRAME_TIME * self.frames_out as u32
    }

    /// Hands out the whole frames in `carry`, each at its media time.
    fn emit(&mut self, frame: &mut impl FnMut(&[i16], Duration)) -> usize {
        let whole = self.carry.len() / FRAME * FRAME;
        for chunk in self.carry[..whole].chunks_exact(FRAME) {
            frame(chunk, FRAME_TIME * self.frames_out as u32);
            self.frames_out += 1;
        }
        self.carry.drain(..whole);
        whole / FRAME
    }

    /// Decodes one packet with sequence number `seq`; `frame` gets each whole 20 ms frame
    /// with its media time.
    pub fn packet(
        &mut self,
        seq: u16,
        payload: &[u8],
        mut frame: impl FnMut(&[i16], Duration),
    ) -> Received {
        let gap = match self.last_seq {
            None => 0,
            Some(last) => {
                let ahead = seq.wrapping_sub(last);
                // Half the sequence space behind (or the same number): late or repeated,
                // unless it keeps happening (the sender started a new sequence).
                if ahead == 0 || ahead >= 0x8000 {
                    self.late_run += 1;
                    if self.late_run < RESYNC_AFTER {
                        return Received::Late;
                    }
                    0
                } else {
                    ahead - 1
                }
            }
        };
        self.late_run = 0;
        self.last_seq = Some(seq);
        if payload.is_empty() {
            return Received::Padding;
        }
        // Conceal the frames lost just before this packet (Opus's own loss concealment);
        // beyond a few, the rest is skipped.
        let mut frames = 0;
        for _ in 0..gap.min(MAX_CONCEALED) {
            if let Ok(n) = self.decoder.decode(&[], &mut self.pcm[..FRAME], false) {
                self.carry.extend_from_slice(&self.pcm[..n.min(FRAME)]);
                self.concealed += 1;
                frames += self.emit(&mut frame);
            }
        }
        match self.decoder.decode(payload, &mut self.pcm, false) {
            Ok(n) => {
                self.carry
                    .extend_from_slice(&self.pcm[..n.min(self.pcm.len())]);
                frames += self.emit(&mut frame);
                Received::Frames(frames)
            }
            Err(_) => {
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

    fn packets(frames: usize, samples_per_packet: usize) -> Vec<Vec<u8>> {
        let mut out = OpusOut::new().unwrap();
        let mut encoder = Encoder::new(RATE, Channels::Mono, Application::Voip).unwrap();
        let audio = tone(frames);
        audio
            .chunks_exact(samples_per_packet)
            .map(|f| {
                if samples_per_packet == FRAME {
                    out.encode(f).unwrap().to_vec()
                } else {
                    let mut packet = vec![0; 1500];
                    let n = encoder.encode(f, &mut packet).unwrap();
                    packet.truncate(n);
                    packet
                }
            })
            .collect()
    }

    #[test]
    fn frames_come_back_in_order_on_their_own_clock_and_losses_are_concealed() {
        let packets = packets(10, FRAME);
        let mut rx = OpusIn::new().unwrap();
        let mut got: Vec<(Duration, f64)> = Vec::new();
        let mut feed = |rx: &mut OpusIn, i: usize| {
            // Sequence numbers wrap during the call.
            rx.packet(65_533u16.wrapping_add(i as u16), &packets[i], |f, at| {
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
        assert_eq!(rx.media_out(), Duration::from_millis(200));
        // The tone survives the round trip (after the codec's start-up frame).
        assert!(got[5..].iter().all(|(_, e)| *e > 1e6), "{got:?}");
    }

    #[test]
    fn packets_of_other_lengths_make_whole_frames_and_lose_nothing() {
        // 10 ms packets: two of them are one frame.
        let packets = packets(6, FRAME / 2);
        let mut rx = OpusIn::new().unwrap();
        let mut frames = 0;
        let counts: Vec<Received> = packets
            .iter()
            .enumerate()
            .map(|(i, p)| {
                rx.packet(i as u16, p, |f, _| {
                    assert_eq!(f.len(), FRAME);
                    frames += 1;
                })
            })
            .collect();
        assert_eq!(counts[..2], [Received::Frames(0), Received::Frames(1)]);
        assert_eq!(frames, 6);
        assert_eq!(rx.media_out(), Duration::from_millis(120));
    }

    #[test]
    fn a_sender_that_restarts_its_sequence_is_taken_up_again() {
        let packets = packets(1, FRAME);
        let mut rx = OpusIn::new().unwrap();
        assert_eq!(
            rx.packet(1_000, &packets[0], |_, _| {}),
            Received::Frames(1)
        );
        let mut late = 0;
        let mut seq = 40_000u16;
        while rx.packet(seq, &packets[0], |_, _| {}) == Received::Late {
            late += 1;
            seq += 1;
        }
        assert_eq!(late, RESYNC_AFTER - 1);
        assert_eq!(
            rx.packet(seq + 1, &packets[0], |_, _| {}),
            Received::Frames(1)
        );
    }

    #[test]
    fn garbage_is_counted_not_fatal() {
        let mut rx = OpusIn::new().unwrap();
        let mut frames = 0;
        assert_eq!(rx.packet(1, &[], |_, _| frames += 1), Received::Padding);
        // A TOC byte announcing frames the rest of the packet does not hold.
        assert_eq!(
            rx.packet(2, &[0xff, 0xff, 0xff], |_, _| frames += 1),
            Received::Corrupt
        );
        assert_eq!(rx.corrupt, 1);
        let mut out = OpusOut::new().unwrap();
        let good = out.encode(&tone(1)).unwrap().to_vec();
        assert_eq!(rx.packet(3, &good, |_, _| frames += 1), Received::Frames(1));
        // Padding between packets is no loss.
        assert_eq!(rx.packet(4, &[], |_, _| frames += 1), Received::Padding);
        assert_eq!(rx.packet(5, &good, |_, _| frames += 1), Received::Frames(1));
        assert_eq!(rx.concealed, 0);
        assert_eq!(frames, 2);
    }
}
