//! Speech benchmarks (`hotline bench asr|tts`, `cargo bench`): our engines and what a user would
//! otherwise pick (faster-whisper, piper-tts from PyPI), on the same models and inputs, in the
//! same run. The Python side lives in `benches/baselines/` with its own venv.

pub mod asr;
pub mod baseline;
pub mod llm;
pub mod tts;
pub mod wer;

use crate::asr::AsrError;
use baseline::BaselineError;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Asr(#[from] AsrError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error("benchmark input: {0}")]
    Input(String),
}

/// The middle value (NaN for none): benchmarks report medians of their timed runs.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
