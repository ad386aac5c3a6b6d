//! Speech benchmarks (`hotline bench asr|tts`, `cargo bench`): our engines and what a user would
//! otherwise pick (faster-whisper, piper-tts from PyPI), on the same models and inputs, in the
//! same run. The Python side lives in `benches/baselines/` with its own venv.

pub mod asr;
pub mod baseline;
pub mod llm;
pub mod tts;
pub mod wer;
