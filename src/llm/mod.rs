//! The dialog LLM: any decoder-only ONNX model in the Hugging Face KV-cache layout, run on ort,
//! with its `tokenizer.json` and the description the converter writes beside it.

pub mod chat_template;
pub mod constrained;
pub mod decoder;
pub mod generate;
pub mod model_config;
pub mod sampling;

pub use decoder::{Decoder, KvCache, LlmError};
pub use generate::{GenerateOptions, Generation, Generator, Sequence, StopReason};
pub use model_config::LlmModelConfig;
pub use sampling::Sampling;
