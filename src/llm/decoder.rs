//! Running the decoder graph: one session (the shared model) and a [`KvCache`] per sequence.
//!
//! Graph contract (Hugging Face / optimum layout): inputs `input_ids`, `attention_mask`,
//! `position_ids` (i64, `[1, n]`), `past_key_values.{i}.key|value` (f32,
//! `[1, kv_heads, past, head_dim]`); outputs `logits` (`[1, n, vocab]`) and
//! `present.{i}.key|value` (`[1, kv_heads, past + n, head_dim]`).

use std::path::{Path, PathBuf};

use ort::memory::Allocator;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{DynValue, Tensor};

use super::model_config::LlmModelConfig;
use crate::onnx_runtime::OrtRuntime;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("LLM file {0} does not exist; run `hotline models fetch`")]
    Missing(PathBuf),
    #[error("cannot load LLM {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("cannot load tokenizer {path}: {detail}")]
    Tokenizer { path: PathBuf, detail: String },
    #[error("LLM inference failed: {0}")]
    Inference(String),
    #[error("the context is full ({0} tokens)")]
    ContextFull(usize),
    #[error("output grammar: {0}")]
    Grammar(String),
}

fn infer_err(e: ort::Error) -> LlmError {
    LlmError::Inference(e.to_string())
}

/// The keys and values of every layer for the tokens seen so far in one sequence.
pub struct KvCache {
    layers: Vec<(DynValue, DynValue)>,
    len: usize,
}

impl KvCache {
    /// Tokens held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A loaded decoder-only model.
pub struct Decoder {
    session: Session,
    config: LlmModelConfig,
}

impl Decoder {
    pub fn load(
        _ort: &OrtRuntime,
        path: &Path,
        config: LlmModelConfig,
        threads: usize,
    ) -> Result<Decoder, LlmError> {
        if !path.is_file() {
            return Err(LlmError::Missing(path.to_owned()));
        }
        let load_err = |detail: String| LlmError::Load {
            path: path.to_owned(),
            detail,
        };
        let session = Session::builder()
            // `All`, not `Level3`: in ort rc.12 `Level3` is ORT_ENABLE_LAYOUT, not the
            // ORT_ENABLE_ALL that ONNX Runtime (and its Python API) applies by default.
            .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::All)?))
            .and_then(|b| Ok(b.with_intra_threads(threads.max(1))?))
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(|e| load_err(e.to_string()))?;
        Ok(Decoder { session, config })
    }

    pub fn config(&self) -> &LlmModelConfig {
        &self.config
    }

    /// A cache holding no tokens.
    pub fn empty_cache(&self) -> Result<KvCache, LlmError> {
        let shape = [1usize, self.config.n_kv_heads, 0, self.config.head_dim];
        let allocator = Allocator::default();
        let layers = (0..self.config.n_layers)
            .map(|_| {
                let k = Tensor::<f32>::new(&allocator, shape)?.into_dyn();
                let v = Tensor::<f32>::new(&allocator, shape)?.into_dyn();
                Ok((k, v))
            })
            .collect::<Result<Vec<_>, ort::Error>>()
            .map_err(infer_err)?;
        Ok(KvCache { layers, len: 0 })
    }

    /// Feeds `ids` after what `cache` holds; returns the logits of every new position
    /// (`ids.len() * vocab` floats, row-major) and extends the cache. After an error the cache
    /// is empty and unusable: start the sequence again from [`Self::empty_cache`].
    pub fn forward(&mut self, cache: &mut KvCache, ids: &[u32]) -> Result<Vec<f32>, LlmError> {
        self.run(cache, ids, false)
    }

    /// As [`Self::forward`], returning only the logits of the last position (what generation
    /// needs; copying every row of a long prompt costs tens of megabytes).
    pub fn forward_last(&mut self, cache: &mut KvCache, ids: &[u32]) -> Result<Vec<f32>, LlmError> {
        self.run(cache, ids, true)
    }

    fn run(
        &mut self,
        cache: &mut KvCache,
        ids: &[u32],
        last_only: bool,
    ) -> Result<Vec<f32>, LlmError> {
        let n = ids.len();
        if n == 0 {
            return Err(LlmError::Inference(
                "forward() needs at least one token".into(),
            ));
        }
        if cache.layers.len() != self.config.n_layers {
            return Err(LlmError::Inference(
                "this KV cache was invalidated by an earlier error".into(),
            ));
        }
        let total = cache.len + n;
        if total > self.config.context_length {
            return Err(LlmError::ContextFull(self.config.context_length));
        }
        let input_ids = Tensor::from_array((
            [1usize, n],
            ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>(),
        ))
        .map_err(infer_err)?;
        let mask = Tensor::from_array(([1usize, total], vec![1i64; total])).map_err(infer_err)?;
        let positions = Tensor::from_array((
            [1usize, n],
            (cache.len..total).map(|p| p as i64).collect::<Vec<_>>(),
        ))
        .map_err(infer_err)?;
        let mut inputs: Vec<(String, ort::session::SessionInputValue<'_>)> = vec![
            ("input_ids".into(), input_ids.into()),
            ("attention_mask".into(), mask.into()),
            ("position_ids".into(), positions.into()),
        ];
        let layers = std::mem::take(&mut cache.layers);
        let past_len = std::mem::take(&mut cache.len);
        for (i, (k, v)) in layers.into_iter().enumerate() {
            inputs.push((format!("past_key_values.{i}.key"), k.into()));
            inputs.push((format!("past_key_values.{i}.value"), v.into()));
        }
        let mut outputs = self.session.run(inputs).map_err(infer_err)?;
        let logits = {
            let (shape, data) = outputs["logits"]
                .try_extract_tensor::<f32>()
                .map_err(infer_err)?;
            let vocab = shape.last().copied().unwrap_or(0) as usize;
            if data.len() != n * vocab || vocab == 0 {
                return Err(LlmError::Inference(format!(
                    "unexpected logits shape {shape:?}"
                )));
            }
            if last_only {
                data[(n - 1) * vocab..].to_vec()
            } else {
                data.to_vec()
            }
        };
        let mut layers = Vec::with_capacity(self.config.n_layers);
        for i in 0..self.config.n_layers {
            let missing = || LlmError::Inference(format!("the model has no output present.{i}.*"));
            let k = outputs
                .remove(format!("present.{i}.key"))
                .ok_or_else(missing)?;
            let v = outputs
                .remove(format!("present.{i}.value"))
                .ok_or_else(missing)?;
            layers.push((k, v));
        }
        cache.layers = layers;
        cache.len = past_len + n;
        Ok(logits)
    }

    /// Keeps only the first `keep` tokens of `cache` (prefix reuse: the rest is recomputed).
    pub fn truncate(&self, cache: &mut KvCache, keep: usize) -> Result<(), LlmError> {
        if keep >= cache.len {
            return Ok(());
        }
        if cache.layers.len() != self.config.n_layers {
            return Err(LlmError::Inference(
                "this KV cache was invalidated by an earlier error".into(),
            ));
        }
        if keep == 0 {
            *cache = self.empty_cache()?;
            return Ok(());
        }
        let (heads, dim) = (self.config.n_kv_heads, self.config.head_dim);
        let past = cache.len;
        let cut = |value: &DynValue| -> Result<DynValue, LlmError> {
            let (_, data) = value.try_extract_tensor::<f32>().map_err(infer_err)?;
            if data.len() != heads * past * dim {
                return Err(LlmError::Inference(
                    "KV cache has an unexpected shape".into(),
                ));
            }
            let mut kept = Vec::with_capacity(heads * keep * dim);
            for h in 0..heads {
                let start = h * past * dim;
                kept.extend_from_slice(&data[start..start + keep * dim]);
            }
            Ok(Tensor::from_array(([1usize, heads, keep, dim], kept))
                .map_err(infer_err)?
                .into_dyn())
        };
        let mut layers = Vec::with_capacity(cache.layers.len());
        for (k, v) in &cache.layers {
            layers.push((cut(k)?, cut(v)?));
        }
        cache.layers = layers;
        cache.len = keep;
        Ok(())
    }

    /// The vocabulary size the model's logits have.
    pub fn vocab_size(&self) -> usize {
        self.config.vocab_size
    }
}

pub use super::sampling::argmax;
