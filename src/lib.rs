//! hotline: an open voice assistant for a shop's customer-service hotline.
//!
//! See `ARCHITECTURE.md` for the flow of a call and where each part lives.

pub mod asr;
pub mod audio;
pub mod bench;
pub mod call;
pub mod cancel;
pub mod config;
pub mod console;
pub mod dialog;
pub mod eval;
pub mod llm;
pub mod models;
pub mod onnx_runtime;
pub mod rng;
pub mod sip;
pub mod store;
pub mod tts;
pub mod vad;
pub mod web;
