//! The Whisper model (loaded once, shared by every call) and batch transcription of a clip.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use whisper_rs::{WhisperContext, WhisperContextParameters, WhisperState};

use super::stream::{AsrOptions, Language};

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

/// A loaded ggml Whisper model; share it with `Arc`, give each stream its own state.
pub struct WhisperEngine {
    context: WhisperContext,
    threads: usize,
    eot: i32,
    /// The state of the language check (`WhisperEngine::language_lean`), one for all calls:
    /// made on first use or by `prepare_language_check`.
    pub(crate) language_check: Mutex<Option<WhisperState>>,
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
        let eot = context.token_eot();
        Ok(WhisperEngine {
            context,
            threads: threads.max(1),
            eot,
            language_check: Mutex::new(None),
        })
    }

    pub(crate) fn context(&self) -> &WhisperContext {
        &self.context
    }

    /// The end-of-text token; text tokens have smaller ids.
    pub(crate) fn eot_token(&self) -> i32 {
        self.eot
    }

    /// Transcribes a whole 16 kHz mono clip. `language` is `en`, `zh` or `auto`.
    pub fn transcribe(&self, samples: &[f32], language: &str) -> Result<String, AsrError> {
        let options = AsrOptions {
            language: Language::parse(language)?,
            threads: self.threads,
            ..AsrOptions::default()
        };
        let mut state = self.create_state()?;
        Ok(self.run(&mut state, samples, &options)?.text)
    }
}
