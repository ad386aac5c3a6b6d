//! Speech recognition with whisper.cpp (through whisper-rs): one loaded model shared by all
//! calls, a per-call [`AsrStream`] with its own state, partial and final transcripts.

pub mod chinese_numbers;
pub mod digits;
pub mod repeats;
pub mod stream;
pub mod whisper;

pub use stream::{AsrOptions, AsrStream, Language, Transcript};
pub use whisper::{AsrError, WhisperEngine};

/// Whisper's input rate.
pub const SAMPLE_RATE: u32 = 16_000;
