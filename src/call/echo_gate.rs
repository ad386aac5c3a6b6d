//! Echo suppression gate: the assistant's own voice coming back on the line must not count as
//! the caller speaking. Sans-IO: it is told what was played (energy per outbound frame, at its
//! media time) and judges each inbound chunk (its energy at its media time).
//!
//! The echo path is modelled as a gain `g` and a delay up to `max_delay`: an inbound chunk is
//! echo when its energy is below `margin * g * E`, where `E` is the loudest outbound energy in
//! the delay window before it. `g` is learned while the assistant speaks as the upper envelope
//! of the ratios of chunks that look like echo alone (below `max_gain * E`): it jumps up to a
//! louder echo at once and decays slowly, so a quiet echo path lets a quieter caller through
//! while the loudest echo seen recently stays gated. (An average would be dragged down by the
//! quiet chunks between words and let the loud ones through.) The caller is never muted
//! outright: whenever the caller is louder than the echo would be, the chunk is the caller's.

use std::collections::VecDeque;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct EchoGateConfig {
    /// The longest echo delay considered (phone hybrids and acoustic paths: tens of ms).
    pub max_delay: Duration,
    /// The echo gain (energy ratio) assumed before any was measured.
    pub initial_gain: f32,
    /// The largest echo gain believed; louder inbound audio is the caller.
    pub max_gain: f32,
    /// How far above the expected echo the caller must be.
    pub margin: f32,
    /// Outbound energy below this is silence (nothing to echo).
    pub min_reference: f32,
    /// The gain is never believed below this (a line always leaks a little).
    pub min_gain: f32,
}

impl Default for EchoGateConfig {
    fn default() -> Self {
        EchoGateConfig {
            max_delay: Duration::from_millis(150),
            initial_gain: 0.1,
            max_gain: 0.3,
            margin: 2.5,
            min_reference: 1e-6,
            min_gain: 0.01,
        }
    }
}

/// Per learning chunk, the gain envelope decays by this factor (about 6 s to halve at 32 ms).
const DECAY: f32 = 0.996;
/// Inbound energy below this teaches nothing (silence between words).
const MIN_LEARN_ENERGY: f32 = 1e-6;
/// Played frames kept beyond the delay window.
const KEEP: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct EchoGate {
    config: EchoGateConfig,
    /// (end media time, energy) of recent outbound frames, oldest first.
    played: VecDeque<(Duration, f32)>,
    /// The echo gain estimate (energy ratio).
    gain: f32,
}

impl EchoGate {
    pub fn new(config: EchoGateConfig) -> EchoGate {
        EchoGate {
            gain: config.initial_gain,
            config,
            played: VecDeque::new(),
        }
    }

    /// An outbound frame ending at `end` with mean-square `energy` was handed to the transport.
    pub fn played(&mut self, end: Duration, energy: f32) {
        self.played.push_back((end, energy));
        let horizon = self.config.max_delay + KEEP;
        while let Some(&(t, _)) = self.played.front() {
            if end.saturating_sub(t) > horizon {
                self.played.pop_front();
            } else {
                break;
            }
        }
    }

    /// The loudest outbound energy that can echo into a chunk ending at `end`.
    pub fn reference(&self, end: Duration, chunk: Duration) -> f32 {
        let from = end.saturating_sub(chunk + self.config.max_delay);
        self.played
            .iter()
            .filter(|(t, _)| *t >= from && *t <= end)
            .map(|&(_, e)| e)
            .fold(0.0, f32::max)
    }

    /// The echo gain estimate (energy ratio).
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Judges an inbound chunk of length `chunk` ending at `end`: true when it can be explained
    /// as the assistant's own voice (so it must not count as the caller speaking).
    pub fn is_echo(&mut self, end: Duration, chunk: Duration, energy: f32) -> bool {
        let reference = self.reference(end, chunk);
        if reference < self.config.min_reference {
            return false;
        }
        let ratio = energy / reference;
        if ratio < self.config.max_gain && energy > MIN_LEARN_ENERGY {
            // Plausibly echo alone: learn the path's gain from it.
            self.gain = ratio.max(self.gain * DECAY).max(self.config.min_gain);
        }
        let gain = self.gain.clamp(self.config.min_gain, self.config.max_gain);
        energy < self.config.margin * gain * reference
    }

    pub fn reset(&mut self) {
        self.played.clear();
        self.gain = self.config.initial_gain;
    }
}

/// Mean square of `samples` (0 for none).
pub fn energy(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(20);
    const CHUNK: Duration = Duration::from_millis(32);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn silence_out_means_nothing_is_echo() {
        let mut gate = EchoGate::new(EchoGateConfig::default());
        gate.played(ms(20), 0.0);
        assert!(!gate.is_echo(ms(40), CHUNK, 0.01));
    }

    #[test]
    fn the_assistants_voice_coming_back_is_echo_and_the_caller_over_it_is_not() {
        let mut gate = EchoGate::new(EchoGateConfig::default());
        // The assistant speaks at energy 0.01; the line returns it 12 dB down, 60 ms later.
        let mut t = Duration::ZERO;
        let mut echo_judged = 0;
        let mut chunks = 0;
        while t < ms(2000) {
            t += FRAME;
            gate.played(t, 0.01);
            if t.as_millis() % 32 < 20 && t > ms(100) {
                chunks += 1;
                if gate.is_echo(t, CHUNK, 0.01 * 0.063) {
                    echo_judged += 1;
                }
            }
        }
        assert_eq!(echo_judged, chunks, "every echo-only chunk is gated");
        assert!(
            (0.05..0.1).contains(&gate.gain()),
            "the gain was learned: {}",
            gate.gain()
        );
        // Now the caller talks over it at about the assistant's level.
        assert!(!gate.is_echo(t, CHUNK, 0.01 * 0.063 + 0.008));
    }

    #[test]
    fn quiet_gaps_between_words_do_not_drag_the_gain_down() {
        let mut gate = EchoGate::new(EchoGateConfig::default());
        let mut t = Duration::ZERO;
        for i in 0..200 {
            t += FRAME;
            gate.played(t, 0.01);
            // Echo chunks alternate between the loud part of a word and near silence.
            let e = if i % 2 == 0 { 0.01 * 0.06 } else { 1e-8 };
            gate.is_echo(t, CHUNK, e);
        }
        assert!(gate.gain() >= 0.05, "gain {}", gate.gain());
        assert!(gate.is_echo(t, CHUNK, 0.01 * 0.06));
    }

    #[test]
    fn a_loud_caller_is_heard_even_before_anything_was_learned() {
        let mut gate = EchoGate::new(EchoGateConfig::default());
        gate.played(ms(20), 0.01);
        assert!(!gate.is_echo(ms(40), CHUNK, 0.02));
    }

    #[test]
    fn echo_later_than_the_window_is_not_explained() {
        let mut gate = EchoGate::new(EchoGateConfig::default());
        gate.played(ms(20), 0.01);
        assert!(gate.is_echo(ms(100), CHUNK, 0.0005));
        // 600 ms later the frame is outside max_delay: nothing explains the chunk.
        assert!(!gate.is_echo(ms(620), CHUNK, 0.0005));
    }
}
