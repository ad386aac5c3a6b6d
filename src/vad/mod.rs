//! Voice activity detection with Silero VAD (through ort).

pub mod finished_words;
pub mod silero;
pub mod stretches;
pub mod turn;

pub use silero::{SileroVad, VadError};
pub use stretches::{StretchRule, speech_stretches};
pub use turn::{TurnConfig, TurnDetector, TurnEvent};
