//! Running the Python baselines in `benches/baselines/` and reading their one-line JSON.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("the baseline venv {0} is missing: run `benches/baselines/setup.sh` (make bench does)")]
    NoVenv(PathBuf),
    #[error("baseline {script} failed: {detail}")]
    Failed { script: String, detail: String },
}

/// `benches/baselines/` of the repository at `root`.
pub fn dir(root: &Path) -> PathBuf {
    root.join("benches/baselines")
}

/// Runs `script` with `args` in the baselines' venv and parses the last stdout line as JSON.
pub fn run<T: DeserializeOwned>(
    root: &Path,
    script: &str,
    args: &[String],
) -> Result<T, BaselineError> {
    let python = dir(root).join(".venv/bin/python");
    if !python.exists() {
        return Err(BaselineError::NoVenv(python));
    }
    let failed = |detail: String| BaselineError::Failed {
        script: script.to_string(),
        detail,
    };
    let out = Command::new(&python)
        .arg(dir(root).join(script))
        .args(args)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(failed(format!(
            "{}: {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| failed(format!("unreadable output ({e}): {line}")))
}
