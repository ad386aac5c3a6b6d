//! Speech recognition with whisper.cpp (through whisper-rs): one loaded model shared by all
//! calls, a fresh per-call state for each stream.

pub mod whisper;

pub use whisper::{AsrError, WhisperEngine};

/// Whisper's input rate.
pub const SAMPLE_RATE: u32 = 16_000;
