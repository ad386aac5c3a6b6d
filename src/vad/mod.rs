//! Voice activity detection with Silero VAD (through ort).

pub mod silero;

pub use silero::{SileroVad, VadError};
