//! Speech synthesis with Piper voices (through piper-rs, which phonemizes with espeak-ng), and
//! the Mandarin text front end for Kokoro's voices (`mandarin`).

pub mod clauses;
pub mod mandarin;
pub mod normalize;
pub mod piper;
pub mod speaker;

pub use piper::{PiperVoice, TtsError};
