//! Loading the ONNX Runtime shared library safely.
//!
//! ort 2.0.0-rc.12 deadlocks, without an error, when the library it loads is missing or older
//! than the API it was built for. So before the first ort call we open the library ourselves,
//! ask it for its version through the plain C entry point `OrtGetApiBase`, and refuse anything
//! older than [`MIN_VERSION`] with a message that says what to do.

use std::ffi::{CStr, c_char};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// ort is built with `api-24`: ONNX Runtime 1.24 or newer.
pub const MIN_VERSION: (u32, u32) = (1, 24);

#[derive(Debug, Clone, thiserror::Error)]
pub enum OrtLibError {
    #[error(
        "ONNX Runtime library {0} does not exist; run `hotline models fetch` (or `make setup`)"
    )]
    Missing(PathBuf),
    #[error("ONNX Runtime library {path} cannot be loaded: {reason}")]
    Unloadable { path: PathBuf, reason: String },
    #[error(
        "ONNX Runtime library {path} is version {version}; hotline needs {}.{} or newer",
        MIN_VERSION.0,
        MIN_VERSION.1
    )]
    TooOld { path: PathBuf, version: String },
    #[error("ort refused ONNX Runtime library {path}: {reason}")]
    Init { path: PathBuf, reason: String },
    #[error("ONNX Runtime was already initialised from {0}; one process uses one library")]
    OtherLibrary(PathBuf),
}

/// The `OrtApiBase` struct of the C API: two function pointers, stable across versions.
#[repr(C)]
struct OrtApiBase {
    get_api: unsafe extern "C" fn(u32) -> *const std::ffi::c_void,
    get_version_string: unsafe extern "C" fn() -> *const c_char,
}

/// Reads the version of the library at `path` without going through ort.
pub fn library_version(path: &Path) -> Result<String, OrtLibError> {
    if !path.is_file() {
        return Err(OrtLibError::Missing(path.to_owned()));
    }
    let unloadable = |reason: String| OrtLibError::Unloadable {
        path: path.to_owned(),
        reason,
    };
    // SAFETY: loading a shared library runs its initialisers; this is the library we are about
    // to hand to ort anyway. The symbol has the C signature `const OrtApiBase* OrtGetApiBase(void)`.
    unsafe {
        let lib = libloading::Library::new(path).map_err(|e| unloadable(e.to_string()))?;
        let get_api_base: libloading::Symbol<unsafe extern "C" fn() -> *const OrtApiBase> = lib
            .get(b"OrtGetApiBase\0")
            .map_err(|e| unloadable(format!("no OrtGetApiBase symbol: {e}")))?;
        let base = get_api_base();
        if base.is_null() {
            return Err(unloadable("OrtGetApiBase returned null".into()));
        }
        let version = ((*base).get_version_string)();
        if version.is_null() {
            return Err(unloadable("GetVersionString returned null".into()));
        }
        let version = CStr::from_ptr(version).to_string_lossy().into_owned();
        // Keep the library mapped: ort will open the same file and unloading ONNX Runtime
        // while its threads may exist is not safe.
        std::mem::forget(lib);
        Ok(version)
    }
}

/// Parses `major.minor[.patch]` and compares with [`MIN_VERSION`].
pub fn is_supported(version: &str) -> bool {
    let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= MIN_VERSION,
        _ => false,
    }
}

/// Proof that ONNX Runtime was checked and initialised: every engine that runs on ort takes
/// a reference to one, so no ort call can happen before the check.
#[derive(Debug, Clone)]
pub struct OrtRuntime {
    pub version: String,
    pub library: PathBuf,
}

static INITIALISED: OnceLock<(PathBuf, Result<String, OrtLibError>)> = OnceLock::new();

/// Checks the library and initialises ort from it, once per process.
///
/// ort's environment is process-wide by design, so this is the one place that holds it; later
/// calls with the same path return the same answer, a different path is an error.
pub fn init(path: &Path) -> Result<OrtRuntime, OrtLibError> {
    let (first_path, result) = INITIALISED.get_or_init(|| (path.to_owned(), init_once(path)));
    if first_path != path {
        return Err(OrtLibError::OtherLibrary(first_path.clone()));
    }
    result.clone().map(|version| OrtRuntime {
        version,
        library: path.to_owned(),
    })
}

fn init_once(path: &Path) -> Result<String, OrtLibError> {
    let version = library_version(path)?;
    if !is_supported(&version) {
        return Err(OrtLibError::TooOld {
            path: path.to_owned(),
            version,
        });
    }
    let builder = ort::init_from(path).map_err(|e| OrtLibError::Init {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    builder.with_name("hotline").commit();
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(is_supported("1.24.0"));
        assert!(is_supported("1.31.1"));
        assert!(is_supported("2.0"));
        assert!(!is_supported("1.23.2"));
        assert!(!is_supported("1.9.0"));
        assert!(!is_supported("garbage"));
        assert!(!is_supported(""));
    }

    #[test]
    fn missing_library_is_a_clear_error() {
        let err = library_version(Path::new("/nonexistent/libonnxruntime.so")).unwrap_err();
        assert!(matches!(err, OrtLibError::Missing(_)));
        assert!(err.to_string().contains("models fetch"));
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so");
        std::fs::write(&fake, b"not an ELF file").unwrap();
        let err = library_version(&fake).unwrap_err();
        assert!(matches!(err, OrtLibError::Unloadable { .. }), "{err}");
    }

    #[test]
    fn a_library_without_the_entry_point_is_refused() {
        // libm is a real shared library, but not ONNX Runtime.
        let libm = Path::new("/lib/x86_64-linux-gnu/libm.so.6");
        if !libm.exists() {
            return; // not a Debian x86-64 machine: nothing to load
        }
        let err = library_version(libm).unwrap_err();
        assert!(err.to_string().contains("OrtGetApiBase"), "{err}");
    }
}
