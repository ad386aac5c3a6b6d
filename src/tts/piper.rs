//! A Piper voice: any `.onnx` voice file with its `.onnx.json` beside it.

use std::path::{Path, PathBuf};

use crate::audio::Clip;
use crate::onnx_runtime::OrtRuntime;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("Piper voice {0} does not exist; run `hotline models fetch`")]
    Missing(PathBuf),
    #[error("cannot load Piper voice {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("Piper could not speak {text:?}: {detail}")]
    Synthesis { text: String, detail: String },
}

pub struct PiperVoice {
    piper: piper_rs::Piper,
}

impl PiperVoice {
    /// Loads `voice.onnx` and `voice.onnx.json`. ONNX Runtime must be initialised first,
    /// which the `OrtRuntime` token proves.
    pub fn load(_ort: &OrtRuntime, onnx: &Path) -> Result<PiperVoice, TtsError> {
        let mut config = onnx.as_os_str().to_owned();
        config.push(".json");
        let config = PathBuf::from(config);
        for path in [onnx, config.as_path()] {
            if !path.is_file() {
                return Err(TtsError::Missing(path.to_owned()));
            }
        }
        let piper = piper_rs::Piper::new(onnx, &config).map_err(|e| TtsError::Load {
            path: onnx.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(PiperVoice { piper })
    }

    /// Speaks `text` at the voice's own rate.
    pub fn speak(&mut self, text: &str) -> Result<Clip, TtsError> {
        let (samples, sample_rate) = self
            .piper
            .create(text, false, None, None, None, None)
            .map_err(|e| TtsError::Synthesis {
                text: text.chars().take(80).collect(),
                detail: e.to_string(),
            })?;
        Ok(Clip {
            samples,
            sample_rate,
        })
    }
}
