//! Turn detection: when the caller starts and stops talking, from per-frame speech
//! probabilities. Sans-IO: it is told the media time and never reads a clock, so tests drive it
//! on a virtual clock and the call pipeline drives it from the audio it receives.
//!
//! ```text
//!   Silence --voice--> Pending --voiced >= min_speech--> Speaking --silence >= end_silence--> Silence
//!                        | gap > max_gap (a cough, a click)        emits SpeechEnded
//!                        v
//!                      Silence                emits SpeechStarted on entering Speaking
//! ```
//! Hysteresis: speech needs `speech_threshold`, but once speaking a frame counts as voice down
//! to `silence_threshold`. While the dialog expects digits or an ID the end-of-turn silence is
//! `digits_end_silence`, because people pause between groups of digits. When the words heard so
//! far sound finished (the listener decodes them during the pause and says so with
//! [`TurnDetector::set_sounds_finished`]), `finished_end_silence` ends the turn sooner; any new
//! voice takes that back.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct TurnConfig {
    /// Probability at or above which a frame starts speech.
    pub speech_threshold: f32,
    /// Probability below which a frame is silence once speaking.
    pub silence_threshold: f32,
    /// Voiced time needed before speech counts (shorter blips are ignored).
    pub min_speech: Duration,
    /// A pause longer than this before `min_speech` is reached discards the blip.
    pub max_gap: Duration,
    /// Silence that ends a turn.
    pub end_silence: Duration,
    /// Silence that ends a turn while digits or an ID are expected.
    pub digits_end_silence: Duration,
    /// Silence that ends a turn whose words sound finished (at most `end_silence`; not used
    /// while digits are expected).
    pub finished_end_silence: Duration,
    /// A turn this long ends even without a pause (Whisper hears 30 s at most).
    pub max_turn: Duration,
}

impl Default for TurnConfig {
    fn default() -> Self {
        TurnConfig {
            speech_threshold: 0.5,
            silence_threshold: 0.35,
            min_speech: Duration::from_millis(200),
            max_gap: Duration::from_millis(300),
            end_silence: Duration::from_millis(700),
            digits_end_silence: Duration::from_millis(1600),
            finished_end_silence: Duration::from_millis(500),
            max_turn: Duration::from_secs(25),
        }
    }
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Silence,
    MaxLength,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TurnEvent {
    /// Speech began at `at` (backdated to its first voiced frame).
    SpeechStarted { at: Duration },
    /// The turn ended: the last voice was at `at`, followed by `silence`.
    SpeechEnded {
        at: Duration,
        silence: Duration,
        speech: Duration,
        reason: EndReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Silence,
    Pending {
        start: Duration,
        voiced: Duration,
        last_voice: Duration,
    },
    Speaking {
        start: Duration,
        last_voice: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct TurnDetector {
    config: TurnConfig,
    state: State,
    expecting_digits: bool,
    /// The words of the current pause sound finished (cleared by voice and at every turn).
    sounds_finished: bool,
}

impl TurnDetector {
    pub fn new(config: TurnConfig) -> TurnDetector {
        TurnDetector {
            config,
            state: State::Silence,
            expecting_digits: false,
            sounds_finished: false,
        }
    }

    /// The words heard up to this pause sound like a finished turn: end it after
    /// `finished_end_silence` instead of `end_silence`, unless the caller goes on.
    pub fn set_sounds_finished(&mut self) {
        if self.is_speaking() {
            self.sounds_finished = true;
        }
    }

    /// The dialog expects digits or an ID: allow longer pauses.
    pub fn set_expecting_digits(&mut self, on: bool) {
        self.expecting_digits = on;
    }

    pub fn is_speaking(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// Voice is being heard: a turn has started or may be starting (a blip not yet long
    /// enough to count).
    pub fn in_speech(&self) -> bool {
        !matches!(self.state, State::Silence)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &TurnConfig {
        &self.config
    }

    fn end_silence(&self) -> Duration {
        if self.expecting_digits {
            self.config.digits_end_silence
        } else if self.sounds_finished {
            self.config
                .finished_end_silence
                .min(self.config.end_silence)
        } else {
            self.config.end_silence
        }
    }

    /// One VAD frame of length `frame` whose speech probability is `probability`, ending at
    /// media time `now`. Returns the event this frame causes, if any.
    pub fn handle(
        &mut self,
        probability: f32,
        frame: Duration,
        now: Duration,
    ) -> Option<TurnEvent> {
        let start_of_frame = now.saturating_sub(frame);
        match self.state {
            State::Silence => {
                if probability >= self.config.speech_threshold {
                    self.state = State::Pending {
                        start: start_of_frame,
                        voiced: frame,
                        last_voice: now,
                    };
                    return self.promote_if_long_enough();
                }
                None
            }
            State::Pending {
                start,
                voiced,
                last_voice,
            } => {
                if probability >= self.config.speech_threshold {
                    self.state = State::Pending {
                        start,
                        voiced: voiced + frame,
                        last_voice: now,
                    };
                    self.promote_if_long_enough()
                } else {
                    if now.saturating_sub(last_voice) > self.config.max_gap {
                        self.state = State::Silence;
                    }
                    None
                }
            }
            State::Speaking { start, .. } => {
                if probability >= self.config.silence_threshold {
                    self.sounds_finished = false;
                    self.state = State::Speaking {
                        start,
                        last_voice: now,
                    };
                    if now.saturating_sub(start) >= self.config.max_turn {
                        return Some(self.end(start, now, now, EndReason::MaxLength));
                    }
                    None
                } else {
                    self.handle_timeout(now)
                }
            }
        }
    }

    fn promote_if_long_enough(&mut self) -> Option<TurnEvent> {
        if let State::Pending {
            start,
            voiced,
            last_voice,
        } = self.state
            && voiced >= self.config.min_speech
        {
            self.state = State::Speaking { start, last_voice };
            return Some(TurnEvent::SpeechStarted { at: start });
        }
        None
    }

    fn end(
        &mut self,
        start: Duration,
        last_voice: Duration,
        now: Duration,
        reason: EndReason,
    ) -> TurnEvent {
        self.state = State::Silence;
        self.sounds_finished = false;
        TurnEvent::SpeechEnded {
            at: last_voice,
            silence: now.saturating_sub(last_voice),
            speech: last_voice.saturating_sub(start),
            reason,
        }
    }

    /// When the turn will end if nothing but silence (or nothing at all) arrives.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.state {
            State::Speaking { last_voice, .. } => Some(last_voice + self.end_silence()),
            State::Pending { last_voice, .. } => Some(last_voice + self.config.max_gap),
            State::Silence => None,
        }
    }

    /// Media time passed without voice (audio stopped arriving, or silence frames).
    pub fn handle_timeout(&mut self, now: Duration) -> Option<TurnEvent> {
        match self.state {
            State::Speaking { start, last_voice }
                if now.saturating_sub(last_voice) >= self.end_silence() =>
            {
                Some(self.end(start, last_voice, now, EndReason::Silence))
            }
            State::Pending { last_voice, .. }
                if now.saturating_sub(last_voice) > self.config.max_gap =>
            {
                self.state = State::Silence;
                None
            }
            _ => None,
        }
    }

    /// Forget the current turn (the call ended, or the assistant took the floor).
    pub fn reset(&mut self) {
        self.state = State::Silence;
        self.sounds_finished = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(32);

    /// Drives the detector with a pattern of (probability, frames) on a virtual clock.
    fn drive(detector: &mut TurnDetector, pattern: &[(f32, usize)]) -> Vec<(Duration, TurnEvent)> {
        drive_from(detector, Duration::ZERO, pattern)
    }

    /// The same, from media time `start`.
    fn drive_from(
        detector: &mut TurnDetector,
        start: Duration,
        pattern: &[(f32, usize)],
    ) -> Vec<(Duration, TurnEvent)> {
        let mut now = start;
        let mut events = Vec::new();
        for &(p, frames) in pattern {
            for _ in 0..frames {
                now += FRAME;
                if let Some(e) = detector.handle(p, FRAME, now) {
                    events.push((now, e));
                }
            }
        }
        events
    }

    #[test]
    fn a_sentence_then_silence_is_one_turn() {
        let mut d = TurnDetector::new(TurnConfig::default());
        // 0.32 s silence, 1.6 s speech, 1 s silence.
        let events = drive(&mut d, &[(0.05, 10), (0.9, 50), (0.05, 32)]);
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].1, TurnEvent::SpeechStarted { at: FRAME * 10 });
        // Started once 200 ms were voiced: after the 7th voiced frame.
        assert_eq!(events[0].0, FRAME * 17);
        let TurnEvent::SpeechEnded {
            at,
            silence,
            speech,
            reason,
        } = events[1].1.clone()
        else {
            panic!("{events:?}")
        };
        assert_eq!(at, FRAME * 60);
        assert!(
            silence >= Duration::from_millis(700) && silence < Duration::from_millis(700) + FRAME
        );
        assert_eq!(speech, FRAME * 50);
        assert_eq!(reason, EndReason::Silence);
    }

    #[test]
    fn a_cough_shorter_than_min_speech_is_ignored() {
        let mut d = TurnDetector::new(TurnConfig::default());
        let events = drive(&mut d, &[(0.9, 4), (0.1, 40), (0.95, 3), (0.1, 40)]);
        assert!(events.is_empty(), "{events:?}");
        assert!(!d.is_speaking());
    }

    #[test]
    fn short_pauses_inside_a_sentence_do_not_end_the_turn() {
        let mut d = TurnDetector::new(TurnConfig::default());
        // Pauses of 0.48 s between words, and a dip to 0.4 (above the silence threshold).
        let events = drive(
            &mut d,
            &[
                (0.9, 20),
                (0.1, 15),
                (0.9, 20),
                (0.4, 10),
                (0.9, 10),
                (0.1, 25),
            ],
        );
        let ends = events
            .iter()
            .filter(|(_, e)| matches!(e, TurnEvent::SpeechEnded { .. }))
            .count();
        assert_eq!(ends, 1, "{events:?}");
    }

    #[test]
    fn expecting_digits_waits_longer() {
        let pattern = [(0.9, 20), (0.1, 35), (0.9, 20), (0.1, 60)];
        let mut normal = TurnDetector::new(TurnConfig::default());
        let normal_events = drive(&mut normal, &pattern);
        let mut digits = TurnDetector::new(TurnConfig::default());
        digits.set_expecting_digits(true);
        let digit_events = drive(&mut digits, &pattern);
        // A 1.1 s pause between digit groups splits a normal turn but not a digits turn.
        let ends = |ev: &[(Duration, TurnEvent)]| {
            ev.iter()
                .filter(|(_, e)| matches!(e, TurnEvent::SpeechEnded { .. }))
                .count()
        };
        assert_eq!(ends(&normal_events), 2);
        assert_eq!(ends(&digit_events), 1);
        let TurnEvent::SpeechEnded { silence, .. } = &digit_events.last().unwrap().1 else {
            panic!()
        };
        assert!(*silence >= Duration::from_millis(1600));
    }

    #[test]
    fn finished_words_end_the_turn_sooner_until_the_caller_goes_on() {
        let mut d = TurnDetector::new(TurnConfig::default());
        // 640 ms of voice, then 8 silent frames (256 ms): the pause in which the words are
        // decoded and found finished.
        let events = drive(&mut d, &[(0.9, 20), (0.0, 8)]);
        assert_eq!(events.len(), 1, "only the start so far: {events:?}");
        d.set_sounds_finished();
        // The caller goes on: the hint is gone, so 512 ms of silence after it end nothing.
        let mut now = FRAME * 28;
        for p in [0.9; 10].into_iter().chain([0.0; 16]) {
            now += FRAME;
            assert_eq!(d.handle(p, FRAME, now), None, "ended at {now:?}");
        }
        // Finished again, with the pause already past 500 ms: the next frame ends the turn.
        d.set_sounds_finished();
        now += FRAME;
        assert_eq!(
            d.handle(0.0, FRAME, now),
            Some(TurnEvent::SpeechEnded {
                at: FRAME * 38,
                silence: FRAME * 17,
                speech: FRAME * 38,
                reason: EndReason::Silence,
            })
        );
        // A new turn starts without the hint.
        assert_eq!(d.poll_timeout(), None);
        drive_from(&mut d, now, &[(0.9, 10)]);
        assert_eq!(
            d.poll_timeout(),
            Some(now + FRAME * 10 + Duration::from_millis(700))
        );

        // While digits are expected the hint is not used: people pause between groups.
        let mut d = TurnDetector::new(TurnConfig::default());
        d.set_expecting_digits(true);
        drive(&mut d, &[(0.9, 20)]);
        d.set_sounds_finished();
        assert_eq!(
            d.poll_timeout(),
            Some(FRAME * 20 + Duration::from_millis(1600))
        );
    }

    #[test]
    fn the_timeout_ends_a_turn_when_audio_stops_arriving() {
        let mut d = TurnDetector::new(TurnConfig::default());
        drive(&mut d, &[(0.9, 20)]);
        let deadline = d.poll_timeout().unwrap();
        assert_eq!(deadline, FRAME * 20 + Duration::from_millis(700));
        assert!(
            d.handle_timeout(deadline - Duration::from_millis(1))
                .is_none()
        );
        assert!(matches!(
            d.handle_timeout(deadline),
            Some(TurnEvent::SpeechEnded { .. })
        ));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn an_endless_talker_is_cut_at_max_turn() {
        let mut d = TurnDetector::new(TurnConfig {
            max_turn: Duration::from_secs(2),
            ..TurnConfig::default()
        });
        let events = drive(&mut d, &[(0.9, 100)]);
        let cut = events
            .iter()
            .position(|(_, e)| {
                matches!(
                    e,
                    TurnEvent::SpeechEnded {
                        reason: EndReason::MaxLength,
                        ..
                    }
                )
            })
            .expect("a MaxLength end");
        assert_eq!(events[cut].0, Duration::from_millis(2016));
        // Talking on starts a new turn right away.
        assert!(
            matches!(events[cut + 1].1, TurnEvent::SpeechStarted { .. }),
            "{events:?}"
        );
    }

    #[test]
    fn nan_and_out_of_range_probabilities_do_not_start_speech() {
        let mut d = TurnDetector::new(TurnConfig::default());
        let events = drive(&mut d, &[(f32::NAN, 50), (-1.0, 10)]);
        assert!(events.is_empty());
    }
}
