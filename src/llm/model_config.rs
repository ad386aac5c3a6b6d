//! `*.hotline-llm.json`: what the runner must know about a converted model.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::chat_template::ChatTemplate;

#[derive(Debug, Clone, Deserialize)]
pub struct LlmModelConfig {
    pub architecture: String,
    pub n_layers: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub vocab_size: usize,
    pub context_length: usize,
    pub chat_template: ChatTemplate,
    pub bos_token: Option<String>,
    pub eos_token: String,
    /// Text that ends a reply (e.g. `<|im_end|>`).
    pub stop_strings: Vec<String>,
    /// Token ids that end a reply.
    #[serde(default)]
    pub stop_token_ids: Vec<u32>,
    /// The system prompt the model's own template adds when a conversation has none.
    #[serde(default)]
    pub default_system_prompt: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelConfigError {
    #[error("cannot read LLM description {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("LLM description {path} is not valid: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

impl LlmModelConfig {
    pub fn load(path: &Path) -> Result<LlmModelConfig, ModelConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: LlmModelConfig =
            serde_json::from_str(&text).map_err(|e| ModelConfigError::Invalid {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        if config.n_layers == 0 || config.n_kv_heads == 0 || config.head_dim == 0 {
            return Err(ModelConfigError::Invalid {
                path: path.to_owned(),
                detail: "n_layers, n_kv_heads and head_dim must be positive".into(),
            });
        }
        Ok(config)
    }
}
