//! Model supply: the manifest, `hotline models fetch` and `hotline models check`.

pub mod check;
pub mod fetch;
pub mod manifest;

pub use manifest::{Artifact, ArtifactKind, Manifest};
