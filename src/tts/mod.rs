//! Speech synthesis with Piper voices (through piper-rs, which phonemizes with espeak-ng).

pub mod clauses;
pub mod normalize;
pub mod piper;
pub mod speaker;

pub use piper::{PiperVoice, TtsError};
