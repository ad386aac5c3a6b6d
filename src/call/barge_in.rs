//! Barge-in: the caller talking while the assistant speaks. Sans-IO, told the media time of
//! each VAD chunk.
//!
//! ```text
//!   Idle --voice while the assistant plays--> Onset --voiced >= pause_after--> Paused
//!                                              | gap > max_gap                   | voiced >= confirm_after
//!                                              v                                 v
//!                                             Idle            Confirmed: flush playback, cancel
//!                                                              generation, the caller has the floor
//!   Paused --gap > max_gap before confirm_after (a cough, "uh-huh")--> Resume playback, Idle
//! ```
//! Playback pauses quickly (within `pause_after` plus a chunk) and only a longer stretch of
//! speech throws the reply away, so a backchannel costs the caller a short pause, not the
//! answer. Voice here means voice that passed the echo gate.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct BargeInConfig {
    /// Voiced time before playback pauses.
    pub pause_after: Duration,
    /// Voiced time that makes it a real interruption (shorter is a cough or "uh-huh").
    pub confirm_after: Duration,
    /// A pause in the caller's voice longer than this ends the attempt.
    pub max_gap: Duration,
}

impl Default for BargeInConfig {
    fn default() -> Self {
        BargeInConfig {
            pause_after: Duration::from_millis(60),
            confirm_after: Duration::from_millis(600),
            max_gap: Duration::from_millis(300),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BargeInEvent {
    /// Stop sending the assistant's audio (keep it queued); the voice began at `started`.
    Pause { at: Duration, started: Duration },
    /// It was a backchannel: play on from where playback paused.
    Resume { at: Duration },
    /// A real interruption that began at `started`: drop the assistant's queued audio and
    /// cancel what it was generating.
    Confirm { at: Duration, started: Duration },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Onset {
        start: Duration,
        voiced: Duration,
        last_voice: Duration,
    },
    Paused {
        start: Duration,
        voiced: Duration,
        last_voice: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct BargeIn {
    config: BargeInConfig,
    state: State,
}

impl BargeIn {
    pub fn new(config: BargeInConfig) -> BargeIn {
        BargeIn {
            config,
            state: State::Idle,
        }
    }

    /// An attempt is under way (playback may be paused for it).
    pub fn is_active(&self) -> bool {
        self.state != State::Idle
    }

    /// One VAD chunk of length `chunk` ending at `now`: `voice` after the echo gate, and
    /// whether the assistant's audio is being played (or is paused for this attempt).
    pub fn handle(
        &mut self,
        voice: bool,
        assistant_playing: bool,
        chunk: Duration,
        now: Duration,
    ) -> Option<BargeInEvent> {
        match self.state {
            State::Idle => {
                if voice && assistant_playing {
                    self.state = State::Onset {
                        start: now.saturating_sub(chunk),
                        voiced: chunk,
                        last_voice: now,
                    };
                    return self.advance(now);
                }
                None
            }
            State::Onset {
                start,
                voiced,
                last_voice,
            } => {
                if voice {
                    self.state = State::Onset {
                        start,
                        voiced: voiced + chunk,
                        last_voice: now,
                    };
                    self.advance(now)
                } else if now.saturating_sub(last_voice) > self.config.max_gap {
                    self.state = State::Idle;
                    None
                } else {
                    None
                }
            }
            State::Paused {
                start,
                voiced,
                last_voice,
            } => {
                if voice {
                    self.state = State::Paused {
                        start,
                        voiced: voiced + chunk,
                        last_voice: now,
                    };
                    self.advance(now)
                } else if now.saturating_sub(last_voice) > self.config.max_gap {
                    self.state = State::Idle;
                    Some(BargeInEvent::Resume { at: now })
                } else {
                    None
                }
            }
        }
    }

    fn advance(&mut self, now: Duration) -> Option<BargeInEvent> {
        match self.state {
            State::Onset {
                start,
                voiced,
                last_voice,
            } if voiced >= self.config.pause_after => {
                self.state = State::Paused {
                    start,
                    voiced,
                    last_voice,
                };
                // A long pause_after may equal confirm_after: confirm at once then.
                if voiced >= self.config.confirm_after {
                    self.state = State::Idle;
                    return Some(BargeInEvent::Confirm {
                        at: now,
                        started: start,
                    });
                }
                Some(BargeInEvent::Pause {
                    at: now,
                    started: start,
                })
            }
            State::Paused { start, voiced, .. } if voiced >= self.config.confirm_after => {
                self.state = State::Idle;
                Some(BargeInEvent::Confirm {
                    at: now,
                    started: start,
                })
            }
            _ => None,
        }
    }

    /// Forget any attempt (the assistant's reply ended or was flushed by other means).
    pub fn reset(&mut self) {
        self.state = State::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: Duration = Duration::from_millis(32);

    /// Drives `voice` chunk by chunk from `t`; returns the events with their chunk's end.
    fn drive(
        b: &mut BargeIn,
        t: &mut Duration,
        voice: &[bool],
        playing: bool,
    ) -> Vec<BargeInEvent> {
        let mut events = Vec::new();
        for &v in voice {
            *t += CHUNK;
            events.extend(b.handle(v, playing, CHUNK, *t));
        }
        events
    }

    #[test]
    fn speech_over_the_assistant_pauses_it_within_200_ms_then_confirms() {
        let mut b = BargeIn::new(BargeInConfig::default());
        let mut t = Duration::from_secs(1);
        let started = t;
        // 19 chunks of 32 ms: just past confirm_after (600 ms).
        let events = drive(&mut b, &mut t, &[true; 19], true);
        let BargeInEvent::Pause { at, .. } = events[0] else {
            panic!("{events:?}")
        };
        assert!(
            at - started <= Duration::from_millis(200),
            "paused after {:?}",
            at - started
        );
        let BargeInEvent::Confirm { at, started: s } = events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(s, started);
        assert!(at - started >= BargeInConfig::default().confirm_after);
        assert_eq!(events.len(), 2);
        assert!(!b.is_active());
    }

    #[test]
    fn a_cough_pauses_then_resumes() {
        let mut b = BargeIn::new(BargeInConfig::default());
        let mut t = Duration::from_secs(1);
        let mut voice = vec![true; 8]; // 256 ms
        voice.extend([false; 12]);
        let events = drive(&mut b, &mut t, &voice, true);
        assert!(
            matches!(events[0], BargeInEvent::Pause { .. }),
            "{events:?}"
        );
        assert!(
            matches!(events[1], BargeInEvent::Resume { .. }),
            "{events:?}"
        );
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn a_click_does_not_even_pause() {
        let mut b = BargeIn::new(BargeInConfig::default());
        let mut t = Duration::ZERO;
        let events = drive(
            &mut b,
            &mut t,
            &[
                true, false, false, false, false, false, false, false, false, false, false, false,
            ],
            true,
        );
        assert!(events.is_empty(), "{events:?}");
        assert!(!b.is_active());
    }

    #[test]
    fn voice_while_the_assistant_is_quiet_is_not_a_barge_in() {
        let mut b = BargeIn::new(BargeInConfig::default());
        let mut t = Duration::ZERO;
        assert!(drive(&mut b, &mut t, &[true; 40], false).is_empty());
    }

    #[test]
    fn short_gaps_inside_a_word_do_not_end_the_attempt() {
        let mut b = BargeIn::new(BargeInConfig::default());
        let mut t = Duration::ZERO;
        let mut voice = Vec::new();
        for _ in 0..7 {
            voice.extend([true, true, true, false, false]);
        }
        // Once paused the assistant is not audible; the attempt must go on regardless.
        let first = drive(&mut b, &mut t, &voice[..3], true);
        let rest = drive(&mut b, &mut t, &voice[3..], false);
        assert!(matches!(first[0], BargeInEvent::Pause { .. }));
        assert!(
            matches!(rest.last(), Some(BargeInEvent::Confirm { .. })),
            "{rest:?}"
        );
    }
}
