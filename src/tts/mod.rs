//! Speech synthesis with Piper voices (through piper-rs, which phonemizes with espeak-ng).

pub mod piper;

pub use piper::{PiperVoice, TtsError};
