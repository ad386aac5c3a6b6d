//! Speaking replies into a call: text normalization, clause by clause synthesis (the first
//! clause plays while the rest is synthesized), resampling to the call's rate, fixed-size
//! frames, cancellation between any two frames (barge-in), a cache of phrases every call
//! uses (greeting, "one moment", goodbye) synthesized once, and one of the short clauses that
//! replies repeat (`clause_cache`).

use std::collections::HashMap;
use std::sync::Arc;

pub use crate::cancel::CancelToken;

use super::clause_cache::{CACHED_CLAUSES, CACHED_SAMPLES, ClauseCache};
use super::clauses::{cut_at_spaces, split_clauses};
use super::voice::{TtsError, Voice};
use crate::audio::stream_resampler::StreamResampler;

/// Longest text `speak` accepts; a reply is a few sentences.
pub const MAX_TEXT_CHARS: usize = 8_000;
/// Clauses longer than this are cut at a word boundary (Piper's input stays small).
const MAX_CLAUSE_CHARS: usize = 240;

/// How a `speak` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeakOutcome {
    Finished { frames: usize },
    Cancelled { frames: usize },
}

/// Phrases worth synthesizing before the first call.
pub const STOCK_PHRASES_EN: [&str; 3] = [
    "Hello, thanks for calling. How can I help you today?",
    "One moment, let me check that for you.",
    "Thank you for calling. Goodbye!",
];

/// One voice speaking at one call rate.
pub struct Speaker {
    voice: Box<dyn Voice>,
    rate: u32,
    frame_len: usize,
    resampler: StreamResampler,
    cache: HashMap<String, Arc<[f32]>>,
    clauses: ClauseCache,
    scratch: Vec<f32>,
    frame: Vec<f32>,
}

impl Speaker {
    /// `rate` is the call's sample rate, `frame_ms` the frame size handed to the transport.
    pub fn new(voice: impl Voice + 'static, rate: u32, frame_ms: u32) -> Result<Speaker, TtsError> {
        let frame_len = (rate as usize * frame_ms as usize) / 1000;
        if frame_len == 0 {
            return Err(TtsError::Output(format!(
                "{frame_ms} ms frames at {rate} Hz are empty"
            )));
        }
        let resampler = StreamResampler::new(voice.sample_rate(), rate)
            .map_err(|e| TtsError::Output(e.to_string()))?;
        Ok(Speaker {
            voice: Box::new(voice),
            rate,
            frame_len,
            resampler,
            cache: HashMap::new(),
            clauses: ClauseCache::new(CACHED_CLAUSES, CACHED_SAMPLES),
            scratch: Vec::new(),
            frame: Vec::with_capacity(frame_len),
        })
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Synthesizes `phrases` now so that speaking them later costs nothing.
    pub fn warm_cache(&mut self, phrases: &[&str]) -> Result<(), TtsError> {
        for phrase in phrases {
            let key = self.voice.normalize(phrase);
            if key.is_empty() || self.cache.contains_key(&key) {
                continue;
            }
            let audio = self.synthesize_at_rate(&key)?;
            self.cache.insert(key, audio.into());
        }
        Ok(())
    }

    pub fn is_cached(&self, text: &str) -> bool {
        self.cache.contains_key(&self.voice.normalize(text))
    }

    /// Short clauses of earlier replies kept for the next reply that says them.
    pub fn cached_clauses(&self) -> usize {
        self.clauses.len()
    }

    /// Speaks `text`, calling `on_frame` with each frame of `frame_ms` (the last one padded
    /// with silence). Stops before the next frame once `cancel` is set.
    pub fn speak(
        &mut self,
        text: &str,
        cancel: &CancelToken,
        mut on_frame: impl FnMut(&[f32]),
    ) -> Result<SpeakOutcome, TtsError> {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(TtsError::TooLong {
                chars,
                max: MAX_TEXT_CHARS,
            });
        }
        // A cancelled or failed call can leave part of a frame behind: never play it later.
        self.frame.clear();
        let normalized = self.voice.normalize(text);
        let mut frames = 0;
        if let Some(audio) = self.cache.get(&normalized).cloned() {
            return Ok(self.emit(&audio, cancel, &mut frames, &mut on_frame, true));
        }
        for clause in split_clauses(&normalized)
            .iter()
            .flat_map(|c| cut_at_spaces(c, MAX_CLAUSE_CHARS))
        {
            if cancel.is_cancelled() {
                return Ok(SpeakOutcome::Cancelled { frames });
            }
            let audio = match self.clauses.get(&clause) {
                Some(audio) => audio,
                None => {
                    let audio: Arc<[f32]> = self.synthesize_at_rate(&clause)?.into();
                    self.clauses.keep(&clause, audio.clone());
                    audio
                }
            };
            if let SpeakOutcome::Cancelled { .. } =
                self.emit(&audio, cancel, &mut frames, &mut on_frame, false)
            {
                self.frame.clear();
                return Ok(SpeakOutcome::Cancelled { frames });
            }
        }
        // The partial last frame, padded with silence.
        if !self.frame.is_empty() && !cancel.is_cancelled() {
            self.frame.resize(self.frame_len, 0.0);
            on_frame(&self.frame);
            frames += 1;
        }
        self.frame.clear();
        Ok(SpeakOutcome::Finished { frames })
    }

    fn synthesize_at_rate(&mut self, text: &str) -> Result<Vec<f32>, TtsError> {
        let clip = self.voice.speak(text)?;
        self.resampler.reset();
        self.scratch.clear();
        let mut out = Vec::with_capacity(
            clip.samples.len() * self.rate as usize / clip.sample_rate.max(1) as usize + 1024,
        );
        let delay = self.resampler.delay();
        // Drop the resampler's delay and the flush padding beyond the clip's own length.
        let expected = (clip.samples.len() as u64 * u64::from(self.rate)
            / u64::from(clip.sample_rate.max(1))) as usize;
        self.resampler
            .push(&clip.samples, &mut out)
            .and_then(|()| self.resampler.flush_until(&mut out, delay + expected))
            .map_err(|e| TtsError::Output(e.to_string()))?;
        let start = delay.min(out.len());
        let end = (start + expected).min(out.len());
        Ok(out[start..end].to_vec())
    }

    /// Emits `audio` in frames, continuing the partial frame of the previous clause.
    fn emit(
        &mut self,
        audio: &[f32],
        cancel: &CancelToken,
        frames: &mut usize,
        on_frame: &mut impl FnMut(&[f32]),
        last: bool,
    ) -> SpeakOutcome {
        for &sample in audio {
            self.frame.push(sample);
            if self.frame.len() == self.frame_len {
                if cancel.is_cancelled() {
                    self.frame.clear();
                    return SpeakOutcome::Cancelled { frames: *frames };
                }
                on_frame(&self.frame);
                *frames += 1;
                self.frame.clear();
            }
        }
        if last && !self.frame.is_empty() && !cancel.is_cancelled() {
            self.frame.resize(self.frame_len, 0.0);
            on_frame(&self.frame);
            *frames += 1;
            self.frame.clear();
        }
        if cancel.is_cancelled() {
            SpeakOutcome::Cancelled { frames: *frames }
        } else {
            SpeakOutcome::Finished { frames: *frames }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_clauses_are_cut_at_words() {
        let clause = "word ".repeat(200);
        let pieces = cut_at_spaces(clause.trim(), MAX_CLAUSE_CHARS);
        assert!(pieces.len() >= 4);
        assert!(pieces.iter().all(|p| p.chars().count() <= MAX_CLAUSE_CHARS));
        assert_eq!(pieces.join(" ").split_whitespace().count(), 200);
        let blob = "x".repeat(1000);
        assert!(
            cut_at_spaces(&blob, MAX_CLAUSE_CHARS)
                .iter()
                .all(|p| p.chars().count() <= MAX_CLAUSE_CHARS)
        );
    }
}
