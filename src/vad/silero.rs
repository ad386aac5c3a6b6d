//! Silero VAD v6: speech probability for each 32 ms (16 kHz) or 32 ms (8 kHz) chunk, with the
//! recurrent state and the context samples kept per stream.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

use crate::onnx_runtime::OrtRuntime;

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("Silero VAD model {0} does not exist; run `hotline models fetch`")]
    Missing(PathBuf),
    #[error("cannot load Silero VAD {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("Silero VAD supports 8000 and 16000 Hz, not {0}")]
    Rate(u32),
    #[error("Silero VAD wants chunks of {expected} samples, got {got}")]
    ChunkSize { expected: usize, got: usize },
    #[error("Silero VAD inference failed: {0}")]
    Inference(String),
}

const STATE_LEN: usize = 2 * 128;

/// One stream's VAD: the model session plus that stream's state.
pub struct SileroVad {
    session: Session,
    rate: u32,
    /// The last `context_len` samples of the previous chunk, then room for the new chunk.
    input: Vec<f32>,
    state: Vec<f32>,
}

impl SileroVad {
    pub fn load(_ort: &OrtRuntime, path: &Path, rate: u32) -> Result<SileroVad, VadError> {
        if rate != 8000 && rate != 16000 {
            return Err(VadError::Rate(rate));
        }
        if !path.is_file() {
            return Err(VadError::Missing(path.to_owned()));
        }
        let load_err = |e: ort::Error| VadError::Load {
            path: path.to_owned(),
            detail: e.to_string(),
        };
        let session = Session::builder()
            .map_err(load_err)?
            .with_intra_threads(1)
            .map_err(|e| load_err(e.into()))?
            .commit_from_file(path)
            .map_err(load_err)?;
        let mut vad = SileroVad {
            session,
            rate,
            input: Vec::new(),
            state: Vec::new(),
        };
        vad.reset();
        Ok(vad)
    }

    /// Samples per chunk: 512 at 16 kHz, 256 at 8 kHz.
    pub fn chunk_len(&self) -> usize {
        if self.rate == 16000 { 512 } else { 256 }
    }

    fn context_len(&self) -> usize {
        if self.rate == 16000 { 64 } else { 32 }
    }

    /// Forgets the stream (a new utterance or call).
    pub fn reset(&mut self) {
        self.input = vec![0.0; self.context_len() + self.chunk_len()];
        self.state = vec![0.0; STATE_LEN];
    }

    /// Speech probability of the next chunk of exactly [`Self::chunk_len`] samples.
    pub fn probability(&mut self, chunk: &[f32]) -> Result<f32, VadError> {
        let (ctx, len) = (self.context_len(), self.chunk_len());
        if chunk.len() != len {
            return Err(VadError::ChunkSize {
                expected: len,
                got: chunk.len(),
            });
        }
        self.input[ctx..].copy_from_slice(chunk);
        let infer = |e: ort::Error| VadError::Inference(e.to_string());
        let input = Tensor::from_array(([1usize, ctx + len], self.input.clone())).map_err(infer)?;
        let state = Tensor::from_array(([2usize, 1, 128], self.state.clone())).map_err(infer)?;
        let sr = Tensor::from_array(((), vec![i64::from(self.rate)])).map_err(infer)?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => input, "state" => state, "sr" => sr])
            .map_err(infer)?;
        let (_, prob) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(infer)?;
        let (_, new_state) = outputs["stateN"]
            .try_extract_tensor::<f32>()
            .map_err(infer)?;
        if prob.is_empty() || new_state.len() != STATE_LEN {
            return Err(VadError::Inference("unexpected output shapes".into()));
        }
        let p = prob[0];
        self.state.copy_from_slice(new_state);
        self.input.copy_within(len.., 0);
        Ok(p)
    }

    /// The speech probability of every whole chunk of `samples`, from a fresh stream.
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, VadError> {
        self.reset();
        let probs = samples
            .chunks_exact(self.chunk_len())
            .map(|chunk| self.probability(chunk))
            .collect();
        self.reset();
        probs
    }

    /// The fraction of whole chunks in `samples` whose speech probability exceeds `threshold`.
    pub fn speech_fraction(&mut self, samples: &[f32], threshold: f32) -> Result<f32, VadError> {
        let probs = self.probabilities(samples)?;
        let speech = probs.iter().filter(|&&p| p > threshold).count();
        Ok(if probs.is_empty() {
            0.0
        } else {
            speech as f32 / probs.len() as f32
        })
    }
}
