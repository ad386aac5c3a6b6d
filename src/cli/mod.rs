//! Command implementations of the `hotline` binary (errors are `anyhow` here, at the edge).

pub mod chat;
pub mod db;
pub mod eval;
pub mod serve;
pub mod speak;
pub mod talk;
pub mod transcribe;
pub mod user;
pub mod voice_eval;
