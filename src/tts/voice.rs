//! What the [`Speaker`](super::speaker::Speaker) needs of a voice, whichever engine speaks:
//! Piper (English, through espeak-ng) or Kokoro (Mandarin).

use std::path::PathBuf;

use crate::audio::Clip;

/// What can go wrong loading a voice or speaking with it, whichever engine.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("voice file {0} does not exist; run `hotline models fetch`")]
    Missing(PathBuf),
    #[error("cannot load voice file {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("could not speak {text:?}: {detail}")]
    Synthesis { text: String, detail: String },
    #[error("text of {chars} characters is too long to speak (at most {max})")]
    TooLong { chars: usize, max: usize },
    #[error("cannot produce speech at the call's rate: {0}")]
    Output(String),
}

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
