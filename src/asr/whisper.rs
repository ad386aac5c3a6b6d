//! The Whisper model and batch transcription of a clip.

use std::path::{Path, PathBuf};
use std::sync::Once;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("Whisper model {0} does not exist; run `hotline models fetch`")]
    Missing(PathBuf),
    #[error("cannot load Whisper model {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("Whisper failed: {0}")]
    Inference(String),
    #[error("unsupported language {0:?} (want en, zh or auto)")]
    Language(String),
}

static LOG_HOOKS: Once = Once::new();

/// A loaded ggml Whisper model; cheap to share, each transcription gets its own state.
pub struct WhisperEngine {
    context: WhisperContext,
    threads: usize,
}

impl WhisperEngine {
    pub fn load(path: &Path, threads: usize) -> Result<WhisperEngine, AsrError> {
        if !path.is_file() {
            return Err(AsrError::Missing(path.to_owned()));
        }
        // Route whisper.cpp's own logging into `tracing` instead of stderr.
        LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
        let context = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| AsrError::Load {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(WhisperEngine {
            context,
            threads: threads.max(1),
        })
    }

    /// Transcribes 16 kHz mono samples. `language` is `en`, `zh` or `auto`.
    pub fn transcribe(&self, samples: &[f32], language: &str) -> Result<String, AsrError> {
        let language = match language {
            "en" | "zh" => Some(language),
            "auto" => None,
            other => return Err(AsrError::Language(other.to_string())),
        };
        let mut state = self
            .context
            .create_state()
            .map_err(|e| AsrError::Inference(e.to_string()))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads as i32);
        params.set_language(language);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_no_context(true);
        state
            .full(params, samples)
            .map_err(|e| AsrError::Inference(e.to_string()))?;
        let mut text = String::new();
        for segment in state.as_iter() {
            let piece = segment
                .to_str_lossy()
                .map_err(|e| AsrError::Inference(e.to_string()))?;
            text.push_str(&piece);
        }
        Ok(text.trim().to_string())
    }
}
