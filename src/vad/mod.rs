//! Voice activity detection with Silero VAD (through ort).

pub mod silero;
pub mod turn;

pub use silero::{SileroVad, VadError};
pub use turn::{TurnConfig, TurnDetector, TurnEvent};
