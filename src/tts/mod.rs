//! Speech synthesis behind one [`Voice`] trait: Piper voices (through piper-rs, which
//! phonemizes with espeak-ng) for English, Kokoro voices with their Mandarin front end
//! (`mandarin`) for Mandarin. The [`speaker::Speaker`] streams either into a call.

pub mod clauses;
pub mod espeak;
pub mod kokoro;
pub mod mandarin;
pub mod normalize;
pub mod piper;
pub mod speaker;
pub mod voice;

pub use kokoro::{KokoroFiles, KokoroVoice};
pub use piper::PiperVoice;
pub use voice::{TtsError, Voice};
