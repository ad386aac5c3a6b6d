//! What the [`Speaker`](super::speaker::Speaker) needs of a voice, whichever engine speaks:
//! Piper (English, through espeak-ng) or Kokoro (Mandarin).

use super::piper::TtsError;
use crate::audio::Clip;

pub trait Voice: Send {
    /// The rate the voice speaks at.
    fn sample_rate(&self) -> u32;

    /// `text` made speakable in the voice's language before it is cut into clauses (numbers,
    /// units and IDs written out, where the engine does not do it itself).
    fn normalize(&self, text: &str) -> String;

    /// Speaks one clause of normalized text at the voice's own rate; text with nothing to
    /// say gives an empty clip.
    fn speak(&mut self, text: &str) -> Result<Clip, TtsError>;
}

impl Voice for Box<dyn Voice> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }

    fn normalize(&self, text: &str) -> String {
        (**self).normalize(text)
    }

    fn speak(&mut self, text: &str) -> Result<Clip, TtsError> {
        (**self).speak(text)
    }
}
