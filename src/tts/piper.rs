//! A Piper voice: any `.onnx` voice file with its `.onnx.json` beside it.

use std::path::{Path, PathBuf};

use super::espeak;
use super::normalize::normalize;
use super::voice::{TtsError, Voice};
use crate::audio::Clip;
use crate::onnx_runtime::OrtRuntime;

pub struct PiperVoice {
    piper: piper_rs::Piper,
    sample_rate: u32,
    espeak_voice: String,
    /// The voice file's own randomness: `noise_scale` (timbre and pitch) and `noise_w`
    /// (timing), as scaled by [`Self::with_variation`].
    noise_scale: f32,
    noise_w: f32,
}

impl PiperVoice {
    /// Loads `voice.onnx` and `voice.onnx.json`. ONNX Runtime must be initialised first,
    /// which the `OrtRuntime` token proves.
    pub fn load(ort: &OrtRuntime, onnx: &Path) -> Result<PiperVoice, TtsError> {
        Self::load_with_threads(ort, onnx, 2)
    }

    /// As [`Self::load`], with ONNX Runtime using `threads` threads for one synthesis.
    pub fn load_with_threads(
        _ort: &OrtRuntime,
        onnx: &Path,
        threads: usize,
    ) -> Result<PiperVoice, TtsError> {
        let mut config = onnx.as_os_str().to_owned();
        config.push(".json");
        let config = PathBuf::from(config);
        for path in [onnx, config.as_path()] {
            if !path.is_file() {
                return Err(TtsError::Missing(path.to_owned()));
            }
        }
        let load_err = |detail: String| TtsError::Load {
            path: onnx.to_owned(),
            detail,
        };
        let text = std::fs::read_to_string(&config).map_err(|e| load_err(e.to_string()))?;
        let model_config: piper_rs::ModelConfig = serde_json::from_str(&text)
            .map_err(|e| load_err(format!("{}: {e}", config.display())))?;
        let sample_rate = model_config.audio.sample_rate;
        let espeak_voice = model_config.espeak.voice.clone();
        let (noise_scale, noise_w) = (
            model_config.inference.noise_scale,
            model_config.inference.noise_w,
        );
        if sample_rate == 0 {
            return Err(load_err("its .onnx.json has a sample rate of 0".into()));
        }
        let session = ort::session::Session::builder()
            .and_then(|b| Ok(b.with_intra_threads(threads.max(1))?))
            .and_then(|mut b| b.commit_from_file(onnx))
            .map_err(|e| load_err(e.to_string()))?;
        let piper = piper_rs::Piper::from_session(session, model_config);
        Ok(PiperVoice {
            piper,
            sample_rate,
            espeak_voice,
            noise_scale,
            noise_w,
        })
    }

    /// Scales the voice's randomness: 1 is the voice file's own (each rendering of a sentence
    /// sounds a little different, as a person's would), 0 renders a sentence the same way
    /// every time. Values outside 0-1 are clamped.
    pub fn with_variation(mut self, variation: f32) -> PiperVoice {
        let variation = if variation.is_finite() {
            variation.clamp(0.0, 1.0)
        } else {
            1.0
        };
        self.noise_scale *= variation;
        self.noise_w *= variation;
        self
    }

    /// The rate the voice speaks at (22050 Hz for medium voices).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Speaks `text` (already normalized) at the voice's own rate. Text with nothing to say
    /// gives an empty clip.
    pub fn speak(&mut self, text: &str) -> Result<Clip, TtsError> {
        if !text.chars().any(char::is_alphanumeric) {
            return Ok(Clip {
                samples: Vec::new(),
                sample_rate: self.sample_rate,
            });
        }
        let failed = |detail: String| TtsError::Synthesis {
            text: text.chars().take(80).collect(),
            detail,
        };
        // Phonemizing is serialized (espeak-ng's global state); the synthesis after it runs in
        // parallel.
        let phonemes = espeak::phonemes(text, &self.espeak_voice).map_err(failed)?;
        let (samples, sample_rate) = self
            .piper
            .create(
                &phonemes,
                true,
                None,
                None,
                Some(self.noise_scale),
                Some(self.noise_w),
            )
            .map_err(|e| failed(e.to_string()))?;
        Ok(Clip {
            samples,
            sample_rate,
        })
    }
}

impl Voice for PiperVoice {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// English: numbers, money, dates, IDs and units written out (`normalize`).
    fn normalize(&self, text: &str) -> String {
        normalize(text)
    }

    fn speak(&mut self, text: &str) -> Result<Clip, TtsError> {
        PiperVoice::speak(self, text)
    }
}
