//! A caller turn's latency, measured at the transport edge: from the arrival of the frame with
//! the caller's last voice to the first assistant frame handed back to the transport.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::store::TurnLatencyMs;

/// The instants of one turn, filled in as it goes.
#[derive(Debug, Clone)]
pub struct TurnClock {
    pub speech_end: Instant,
    pub endpoint_at: Instant,
    pub final_at: Instant,
    pub speculative_asr: bool,
    pub llm_first_at: Option<Instant>,
    pub planned_early: bool,
    pub answer_ready: Option<Instant>,
    pub first_audio: Option<Instant>,
    pub filler: bool,
    pub answer_audio: Option<Instant>,
    /// The caller's line in the stored turns.
    pub caller_turn: Option<i64>,
}

impl TurnClock {
    pub fn new(speech_end: Instant, endpoint_at: Instant, final_at: Instant) -> TurnClock {
        TurnClock {
            speech_end,
            endpoint_at,
            final_at,
            speculative_asr: false,
            llm_first_at: None,
            planned_early: false,
            answer_ready: None,
            first_audio: None,
            filler: false,
            answer_audio: None,
            caller_turn: None,
        }
    }

    /// The figures, once the answer's first frame went out.
    pub fn latency(&self, turn: u64) -> Option<TurnLatency> {
        let answer = self.answer_audio?;
        let first = self.first_audio.unwrap_or(answer);
        let since = |t: Instant| ms(t.saturating_duration_since(self.speech_end));
        // The model's first token may come before the transcript is final (planned during
        // the pause): the wait it adds after the transcript is then zero.
        let llm_first = self
            .llm_first_at
            .map(|t| ms(t.saturating_duration_since(self.final_at)));
        let tts_from = self
            .llm_first_at
            .unwrap_or(self.final_at)
            .max(self.final_at);
        Some(TurnLatency {
            turn,
            endpoint_ms: since(self.endpoint_at),
            asr_ms: since(self.final_at),
            llm_first_ms: llm_first,
            // The answer's own speech: a filler's first frame would make this look like zero.
            tts_first_ms: ms(answer.saturating_duration_since(tts_from)),
            reply_ms: since(self.answer_ready.unwrap_or(answer)),
            v2v_ms: since(first),
            answer_ms: since(answer),
            filler: self.filler,
            speculative_asr: self.speculative_asr,
            planned_early: self.planned_early,
        })
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One turn's figures in milliseconds from the end of the caller's speech (except the
/// stage durations `llm_first_ms` and `tts_first_ms`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnLatency {
    pub turn: u64,
    /// The turn detector's end-of-turn decision.
    pub endpoint_ms: f64,
    /// The final transcript.
    pub asr_ms: f64,
    /// Final transcript to the model's first token (none when no model was asked).
    pub llm_first_ms: Option<f64>,
    /// The model's first token (or the transcript) to the answer's first audio frame.
    pub tts_first_ms: f64,
    /// The dialog's reply text was ready (model, tools, policy).
    pub reply_ms: f64,
    /// The first assistant audio frame handed to the transport (voice to voice).
    pub v2v_ms: f64,
    /// The first frame of the answer itself (later than `v2v_ms` when a filler went first).
    pub answer_ms: f64,
    pub filler: bool,
    pub speculative_asr: bool,
    pub planned_early: bool,
}

impl TurnLatency {
    pub fn stored(&self) -> TurnLatencyMs {
        let r = |x: f64| Some(x.round() as i64);
        TurnLatencyMs {
            asr_ms: r(self.asr_ms),
            llm_first_ms: self.llm_first_ms.map(|x| x.round() as i64),
            tts_first_ms: r(self.tts_first_ms),
            end_to_end_ms: r(self.v2v_ms),
            answer_ms: r(self.answer_ms),
        }
    }

    /// One line for logs and the CLI.
    pub fn line(&self) -> String {
        format!(
            "turn {}: endpoint {:.0} ms, transcript {:.0} ms{}, model first token +{}, reply ready {:.0} ms, first audio {:.0} ms{}, answer {:.0} ms{}",
            self.turn,
            self.endpoint_ms,
            self.asr_ms,
            if self.speculative_asr {
                " (speculative)"
            } else {
                ""
            },
            self.llm_first_ms
                .map_or("-".to_string(), |x| format!("{x:.0} ms")),
            self.reply_ms,
            self.v2v_ms,
            if self.filler { " (filler)" } else { "" },
            self.answer_ms,
            if self.planned_early {
                " (planned early)"
            } else {
                ""
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_measured_from_the_end_of_speech() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut c = TurnClock::new(t0, at(700), at(700));
        c.speculative_asr = true;
        c.llm_first_at = Some(at(600));
        c.planned_early = true;
        c.first_audio = Some(at(760));
        c.answer_audio = Some(at(760));
        let l = c.latency(3).unwrap();
        assert_eq!(l.v2v_ms, 760.0);
        assert_eq!(l.llm_first_ms, Some(0.0));
        assert_eq!(l.tts_first_ms, 60.0);
        assert_eq!(l.stored().end_to_end_ms, Some(760));
        assert!(l.line().contains("first audio 760 ms"), "{}", l.line());
        let mut pending = TurnClock::new(t0, at(700), at(900));
        pending.first_audio = Some(at(1000));
        assert!(pending.latency(1).is_none(), "no answer audio yet");
    }
}
