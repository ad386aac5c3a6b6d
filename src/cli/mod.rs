//! Command implementations of the `hotline` binary (errors are `anyhow` here, at the edge).

pub mod db;
pub mod speak;
pub mod transcribe;
