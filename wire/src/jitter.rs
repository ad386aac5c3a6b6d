//! The receive side of an RTP audio stream, sans-IO: a jitter buffer for G.711 (one byte per
//! sample) that puts packets back in order, waits a little to absorb network jitter, and hands
//! out exactly one frame per frame time, telling lost frames, comfort noise and silence apart.
//! It also keeps the reception statistics an RTCP receiver report carries.
//!
//! The caller tells it the time: `push` gets each packet with its arrival time, `pop` is
//! called once per frame time by the transport's media clock.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::rtcp::ReportBlock;
use crate::rtp::{SequenceExtender, TimestampExtender};

/// RTP payload type of comfort noise (RFC 3389).
pub const COMFORT_NOISE: u8 = 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Samples per frame handed out (160 at 8 kHz, 20 ms).
    pub frame_samples: u32,
    /// Sample rate (timestamp units per second).
    pub rate: u32,
    /// Audio held before playout starts (and restarts after a gap), in frames.
    pub target_frames: u32,
    /// Audio held at most; beyond it the oldest is dropped (a sender running fast, a burst).
    pub max_frames: u32,
}

impl Default for JitterConfig {
    fn default() -> JitterConfig {
        JitterConfig {
            frame_samples: 160,
            rate: 8000,
            target_frames: 3,
            max_frames: 50,
        }
    }
}

/// What `push` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Its time has already been played.
    Late,
    Duplicate,
    /// A new SSRC: the old stream was dropped and this one starts afresh.
    NewStream,
    /// Comfort noise: noise at this level (-dBov) until the next audio.
    ComfortNoise,
    /// Empty or absurdly long: ignored.
    Ignored,
}

/// One frame time's worth of audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// `frame_samples` bytes; gaps inside the frame (a short packet) are zero-filled with
    /// `partial` set. `arrival`: when the earliest packet in it arrived.
    Audio {
        payload: Vec<u8>,
        partial: bool,
        arrival: Duration,
    },
    /// The frame was lost on the way: conceal it.
    Lost,
    /// The sender is in a silence period with comfort noise at this level (-dBov).
    ComfortNoise { level: u8 },
    /// Nothing to play (not started, or the stream has paused).
    Silence,
}

/// Counters for logs and RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JitterStats {
    pub received: u64,
    pub late: u64,
    pub duplicates: u64,
    pub lost_frames: u64,
    pub dropped_overflow: u64,
    pub new_streams: u64,
    pub underruns: u64,
    pub ssrc: Option<u32>,
    /// Highest extended sequence number seen.
    pub highest_sequence: u64,
    /// Interarrival jitter (RFC 3550 section 6.4.1), in timestamp units.
    pub jitter: f64,
}

/// Packets longer than this many frames (80 ms at 20 ms) are not audio this product expects:
/// phones send 10-60 ms.
const MAX_PACKET_FRAMES: usize = 4;

#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    packets: BTreeMap<u64, (Vec<u8>, Duration)>,
    seq: SequenceExtender,
    ts: TimestampExtender,
    /// Next timestamp to play (extended); `None` until playout starts.
    position: Option<u64>,
    /// Everything before this has been played or skipped.
    played_until: u64,
    waited: u32,
    comfort: Option<u8>,
    base_sequence: Option<u64>,
    /// (expected, received) at the last report, for the fraction lost.
    last_report: (u64, u64),
    transit: Option<i64>,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> JitterBuffer {
        JitterBuffer {
            config,
            packets: BTreeMap::new(),
            seq: SequenceExtender::default(),
            ts: TimestampExtender::default(),
            position: None,
            played_until: 0,
            waited: 0,
            comfort: None,
            base_sequence: None,
            last_report: (0, 0),
            transit: None,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn reset_stream(&mut self, ssrc: u32) {
        self.packets.clear();
        self.seq.reset();
        self.ts.reset();
        self.position = None;
        self.played_until = 0;
        self.waited = 0;
        self.comfort = None;
        self.base_sequence = None;
        self.last_report = (0, 0);
        self.transit = None;
        // Reception statistics are per stream (RTCP reports on the current SSRC).
        let new_streams = self.stats.new_streams + u64::from(self.stats.ssrc.is_some());
        self.stats = JitterStats {
            ssrc: Some(ssrc),
            new_streams,
            ..JitterStats::default()
        };
    }

    /// Feeds one received packet (audio or comfort noise) that arrived at `arrival` on the
    /// receiver's clock.
    pub fn push(
        &mut self,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
        payload_type: u8,
        payload: &[u8],
        arrival: Duration,
    ) -> Pushed {
        let mut outcome = Pushed::Queued;
        if self.stats.ssrc != Some(ssrc) {
            if self.stats.ssrc.is_some() {
                outcome = Pushed::NewStream;
            }
            self.reset_stream(ssrc);
        }
        if payload.len() > MAX_PACKET_FRAMES * self.config.frame_samples as usize
            || (payload.is_empty() && payload_type != COMFORT_NOISE)
        {
            return Pushed::Ignored;
        }
        self.stats.received += 1;
        let seq = self.seq.extend(u64::from(sequence));
        self.base_sequence.get_or_insert(seq);
        self.stats.highest_sequence = self.stats.highest_sequence.max(seq);
        let ts = self.ts.extend(u64::from(timestamp));
        // Interarrival jitter, in timestamp units.
        let arrival_units = (arrival.as_secs_f64() * f64::from(self.config.rate)) as i64;
        let transit = arrival_units - ts as i64;
        if let Some(prev) = self.transit {
            let d = (transit - prev).unsigned_abs() as f64;
            self.stats.jitter += (d - self.stats.jitter) / 16.0;
        }
        self.transit = Some(transit);

        if payload_type == COMFORT_NOISE {
            self.comfort = Some(payload.first().copied().unwrap_or(127).min(127));
            return if outcome == Pushed::NewStream {
                outcome
            } else {
                Pushed::ComfortNoise
            };
        }
        // Late: its time was played (or skipped), even if playout has paused since.
        if ts + payload.len() as u64 <= self.played_until {
            self.stats.late += 1;
            return Pushed::Late;
        }
        if self.packets.contains_key(&ts) {
            self.stats.duplicates += 1;
            return Pushed::Duplicate;
        }
        self.packets.insert(ts, (payload.to_vec(), arrival));
        self.trim_overflow();
        outcome
    }

    /// Samples from the playout position (or the oldest packet, if earlier) to the end of
    /// the newest.
    fn buffered_samples(&self) -> u64 {
        let Some((&first, _)) = self.packets.first_key_value() else {
            return 0;
        };
        let start = self.position.unwrap_or(first).min(first);
        self.span_held() + (first - start)
    }

    /// Samples from the oldest packet held to the end of the newest.
    fn span_held(&self) -> u64 {
        match (
            self.packets.first_key_value(),
            self.packets.last_key_value(),
        ) {
            (Some((&first, _)), Some((&last, (payload, _)))) => last + payload.len() as u64 - first,
            _ => 0,
        }
    }

    fn trim_overflow(&mut self) {
        let max = u64::from(self.config.max_frames * self.config.frame_samples);
        let target = u64::from(self.config.target_frames * self.config.frame_samples);
        // Too much time held, or too many packets (tiny packets spread over the span).
        let max_packets = 2 * self.config.max_frames as usize;
        if self.buffered_samples() <= max && self.packets.len() <= max_packets {
            return;
        }
        // Drop the oldest until the target depth is left, and play on from there.
        while (self.span_held() > target || self.packets.len() > max_packets)
            && self.packets.len() > 1
        {
            self.packets.pop_first();
            self.stats.dropped_overflow += 1;
        }
        if let Some((&first, _)) = self.packets.first_key_value() {
            if self.position.is_some() {
                self.position = Some(first);
            }
            self.played_until = first;
        }
    }

    /// The next frame; call once per frame time.
    pub fn pop(&mut self) -> Slot {
        let frame = u64::from(self.config.frame_samples);
        let Some(pos) = self.position else {
            let Some((&first, _)) = self.packets.first_key_value() else {
                return self.idle();
            };
            self.waited += 1;
            let target = u64::from(self.config.target_frames) * frame;
            if self.buffered_samples() < target && self.waited < self.config.target_frames {
                return self.idle();
            }
            self.position = Some(first);
            self.waited = 0;
            return self.pop();
        };
        // Drop what has been played.
        while let Some((&ts, (p, _))) = self.packets.first_key_value() {
            if ts + p.len() as u64 <= pos {
                self.packets.pop_first();
            } else {
                break;
            }
        }
        let Some((&first, _)) = self.packets.first_key_value() else {
            // Nothing ahead: the stream paused (silence suppression) or is late. Start over
            // with the target depth when it comes back.
            self.position = None;
            self.stats.underruns += 1;
            return self.idle();
        };
        if first >= pos + frame {
            if self.comfort.is_some() || first - pos > u64::from(self.config.max_frames) * frame {
                // A silence period or a jump: go straight to the next audio.
                self.position = Some(first);
                return self.pop();
            }
            self.position = Some(pos + frame);
            self.played_until = pos + frame;
            self.stats.lost_frames += 1;
            return Slot::Lost;
        }
        self.comfort = None;
        let mut out = vec![0u8; frame as usize];
        let mut filled = 0u64;
        let mut arrival: Option<Duration> = None;
        for (&ts, (p, arrived)) in self.packets.range(..pos + frame) {
            let start = ts.max(pos);
            let end = (ts + p.len() as u64).min(pos + frame);
            if end <= start {
                continue;
            }
            let src = &p[(start - ts) as usize..(end - ts) as usize];
            out[(start - pos) as usize..(end - pos) as usize].copy_from_slice(src);
            filled += end - start;
            arrival = Some(arrival.map_or(*arrived, |a| a.min(*arrived)));
        }
        self.position = Some(pos + frame);
        self.played_until = pos + frame;
        Slot::Audio {
            payload: out,
            partial: filled < frame,
            arrival: arrival.unwrap_or_default(),
        }
    }

    fn idle(&self) -> Slot {
        match self.comfort {
            Some(level) => Slot::ComfortNoise { level },
            None => Slot::Silence,
        }
    }

    /// A receiver report block about the current stream, or `None` before any packet.
    /// Advances the "since last report" window.
    pub fn report(&mut self, last_sr: u32, delay_since_last_sr: u32) -> Option<ReportBlock> {
        let ssrc = self.stats.ssrc?;
        let base = self.base_sequence?;
        let expected = self.stats.highest_sequence - base + 1;
        let received = self.stats.received;
        let lost = expected as i64 - received as i64;
        let (prev_expected, prev_received) = self.last_report;
        let expected_interval = expected.saturating_sub(prev_expected);
        let received_interval = received.saturating_sub(prev_received);
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        self.last_report = (expected, received);
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-0x80_0000, 0x7f_ffff) as i32,
            highest_sequence: self.stats.highest_sequence as u32,
            jitter: self.stats.jitter as u32,
            last_sr,
            delay_since_last_sr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn frame(fill: u8) -> Vec<u8> {
        vec![fill; 160]
    }

    fn audio(slot: &Slot) -> u8 {
        match slot {
            Slot::Audio { payload, .. } => payload[0],
            other => panic!("expected audio, got {other:?}"),
        }
    }

    #[test]
    fn reorders_and_waits_for_the_target_depth() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        jb.push(1, 10, 1600, 0, &frame(2), ms(0));
        assert_eq!(jb.pop(), Slot::Silence);
        jb.push(1, 9, 1440, 0, &frame(1), ms(1)); // reordered
        jb.push(1, 11, 1760, 0, &frame(3), ms(2));
        assert_eq!(audio(&jb.pop()), 1);
        assert_eq!(audio(&jb.pop()), 2);
        assert_eq!(audio(&jb.pop()), 3);
        // A duplicate of something played is late.
        assert_eq!(jb.push(1, 10, 1600, 0, &frame(2), ms(3)), Pushed::Late);
        let s = jb.stats();
        assert_eq!((s.received, s.late), (4, 1));
    }

    #[test]
    fn a_missing_packet_is_reported_lost_and_playout_goes_on() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        for (seq, fill) in [(0u16, 1u8), (2, 3), (3, 4)] {
            jb.push(5, seq, u32::from(seq) * 160, 0, &frame(fill), ms(0));
        }
        assert_eq!(audio(&jb.pop()), 1);
        assert_eq!(jb.pop(), Slot::Lost);
        assert_eq!(audio(&jb.pop()), 3);
        assert_eq!(audio(&jb.pop()), 4);
        assert_eq!(jb.stats().lost_frames, 1);
        let block = jb.report(0, 0).unwrap();
        assert_eq!(block.cumulative_lost, 1);
        assert_eq!(block.fraction_lost, 64); // 1 of 4
        assert_eq!(block.highest_sequence, (1 << 16) + 3);
    }

    #[test]
    fn a_new_ssrc_starts_afresh_and_wraps_are_seamless() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let start = u32::MAX - 159;
        jb.push(1, 65535, start, 8, &frame(1), ms(0));
        jb.push(1, 0, start.wrapping_add(160), 8, &frame(2), ms(20));
        jb.push(1, 1, start.wrapping_add(320), 8, &frame(3), ms(40));
        assert_eq!(audio(&jb.pop()), 1);
        assert_eq!(audio(&jb.pop()), 2);
        assert_eq!(jb.push(2, 500, 7, 8, &frame(9), ms(60)), Pushed::NewStream);
        for n in 1..3u16 {
            jb.push(2, 500 + n, 7 + 160 * u32::from(n), 8, &frame(9), ms(60));
        }
        assert_eq!(audio(&jb.pop()), 9);
        assert_eq!(jb.stats().new_streams, 1);
    }

    #[test]
    fn a_flood_of_tiny_packets_is_bounded_and_huge_ones_refused() {
        let config = JitterConfig::default();
        let mut jb = JitterBuffer::new(config);
        // Descending timestamps, one byte each: the span stays small, the count must not grow.
        for n in 0..10_000u32 {
            jb.push(1, (20_000 - n) as u16, 1_000_000 - n, 0, &[1], ms(0));
        }
        assert!(jb.packets.len() <= 2 * config.max_frames as usize);
        assert_eq!(jb.push(1, 1, 5, 0, &[0; 641], ms(0)), Pushed::Ignored);
    }

    #[test]
    fn a_late_duplicate_after_an_underrun_is_not_replayed() {
        let mut jb = JitterBuffer::new(JitterConfig {
            target_frames: 1,
            ..JitterConfig::default()
        });
        jb.push(1, 0, 0, 0, &frame(1), ms(0));
        assert_eq!(audio(&jb.pop()), 1);
        assert_eq!(jb.pop(), Slot::Silence); // underrun: playout pauses
        assert_eq!(jb.push(1, 0, 0, 0, &frame(1), ms(50)), Pushed::Late);
    }

    #[test]
    fn a_new_stream_reports_its_own_loss() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        for n in 0..10u16 {
            jb.push(1, n, u32::from(n) * 160, 0, &frame(1), ms(0));
        }
        for n in 0..4u16 {
            jb.push(2, 100 + n, u32::from(n) * 160, 0, &frame(2), ms(0));
        }
        let block = jb.report(0, 0).unwrap();
        assert_eq!(
            (block.ssrc, block.cumulative_lost, block.fraction_lost),
            (2, 0, 0)
        );
    }

    #[test]
    fn comfort_noise_then_speech_resumes_without_counting_loss() {
        let mut jb = JitterBuffer::new(JitterConfig {
            target_frames: 1,
            ..JitterConfig::default()
        });
        jb.push(1, 0, 0, 0, &frame(1), ms(0));
        assert_eq!(audio(&jb.pop()), 1);
        assert_eq!(
            jb.push(1, 1, 160, COMFORT_NOISE, &[40], ms(20)),
            Pushed::ComfortNoise
        );
        assert_eq!(jb.pop(), Slot::ComfortNoise { level: 40 });
        assert_eq!(jb.pop(), Slot::ComfortNoise { level: 40 });
        // Speech comes back two seconds of timestamps later.
        jb.push(1, 2, 16000, 0, &frame(7), ms(2000));
        assert_eq!(audio(&jb.pop()), 7);
        assert_eq!(jb.stats().lost_frames, 0);
    }

    #[test]
    fn short_packets_are_joined_and_overflow_drops_the_oldest() {
        let mut jb = JitterBuffer::new(JitterConfig {
            target_frames: 1,
            max_frames: 4,
            ..JitterConfig::default()
        });
        jb.push(1, 0, 0, 0, &[1; 80], ms(0));
        jb.push(1, 1, 80, 0, &[2; 80], ms(10));
        match jb.pop() {
            Slot::Audio {
                payload, partial, ..
            } => {
                assert!(!partial);
                assert_eq!((payload[0], payload[159]), (1, 2));
            }
            other => panic!("{other:?}"),
        }
        for n in 0..10u16 {
            jb.push(
                1,
                2 + n,
                160 + 160 * u32::from(n),
                0,
                &frame(n as u8),
                ms(20),
            );
        }
        assert!(jb.stats().dropped_overflow > 0);
        // The last overflow cut the buffer to the target depth (one frame) behind the newest
        // then (7); playout goes on from there in order, without a gap or an underrun.
        let played: Vec<u8> = (0..3).map(|_| audio(&jb.pop())).collect();
        assert_eq!(played, vec![7, 8, 9]);
        assert_eq!(jb.stats().underruns, 0);
        assert_eq!(jb.push(1, 99, 0, 0, &[], ms(30)), Pushed::Ignored);
    }
}
