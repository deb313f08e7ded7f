//! Finding and loading the ONNX Runtime shared library.
//!
//! The plugin has no link-time dependency on ONNX Runtime (`ort`'s `load-dynamic`), so a
//! machine without it can still load the plugin and `gst-inspect` it; the library is opened
//! when an element starts, from the first of: the `ort-library` property, `ORT_DYLIB_PATH`,
//! then well-known locations (a pip install in a venv, the user's or the system's Python,
//! `/usr/lib`, `/usr/local/lib`). A process can load only one ONNX Runtime; the first library
//! loaded stays for the life of the process.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Oldest ONNX Runtime this build talks to (`ort`'s `api-17` feature).
pub const MIN_ORT_VERSION: &str = "1.17";

/// The install hint every library error ends with.
pub const INSTALL_HINT: &str = "Install ONNX Runtime with `pip install onnxruntime` (or `make setup` in the animestyle \
     source tree; `pip install onnxruntime-gpu` for CUDA/TensorRT) and point the element at its \
     libonnxruntime.so with the `ort-library` property or the ORT_DYLIB_PATH environment variable";

struct Loaded {
    path: PathBuf,
    environment: ort::environment::Environment,
}

static RUNTIME: Mutex<Option<Loaded>> = Mutex::new(None);

/// Directories searched for `libonnxruntime.so*` when neither the property nor the
/// environment variable names a library.
fn well_known_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut site_packages = |prefix: &Path| {
        for lib in ["lib", "lib64", "local/lib"] {
            let Ok(entries) = std::fs::read_dir(prefix.join(lib)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with("python3") {
                    for sub in ["site-packages", "dist-packages"] {
                        dirs.push(entry.path().join(sub).join("onnxruntime/capi"));
                    }
                }
            }
        }
    };
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        site_packages(Path::new(&venv));
    }
    if let Ok(cwd) = std::env::current_dir() {
        site_packages(&cwd.join(".venv"));
    }
    // A plugin built from the source tree finds the tree's `make setup` install.
    site_packages(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    if let Some(home) = std::env::var_os("HOME") {
        site_packages(&Path::new(&home).join(".local"));
    }
    site_packages(Path::new("/usr"));
    dirs.extend(
        ["/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"].map(PathBuf::from),
    );
    dirs
}

/// The newest `libonnxruntime.so*` in `dir` (pip ships only the versioned name).
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so") || n == "libonnxruntime.dylib")
        })
        .collect();
    found.sort();
    found.pop()
}

/// Where the library would be loaded from, and the places that were searched.
pub fn locate(property: Option<&str>) -> Result<PathBuf, String> {
    if let Some(p) = property.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("ONNX Runtime library '{p}' (the ort-library property) does not exist. {INSTALL_HINT}."))
        };
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(&p);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("ONNX Runtime library '{}' (ORT_DYLIB_PATH) does not exist. {INSTALL_HINT}.", path.display()))
        };
    }
    let dirs = well_known_dirs();
    dirs.iter().find_map(|d| library_in(d)).ok_or_else(|| {
        let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        format!(
            "ONNX Runtime library (libonnxruntime.so) not found; searched the ort-library property, \
             ORT_DYLIB_PATH and {}. {INSTALL_HINT}.",
            searched.join(", ")
        )
    })
}

/// Loads ONNX Runtime once per process and runs `f` with its environment. Returns the path
/// of the library actually in use (the first one loaded in this process).
pub fn with_environment<R>(
    property: Option<&str>,
    f: impl FnOnce(&ort::environment::Environment, &Path) -> R,
) -> Result<R, String> {
    let mut guard = crate::lock::lock(&RUNTIME);
    if guard.is_none() {
        let path = locate(property)?;
        let builder = ort::init_from(&path).map_err(|e| describe_load_error(&e.to_string(), &path))?;
        let environment = builder
            .with_name("animestyle")
            .build()
            .map_err(|e| format!("could not create the ONNX Runtime environment: {e}"))?;
        *guard = Some(Loaded { path, environment });
    }
    let loaded = guard.as_ref().expect("initialised above");
    Ok(f(&loaded.environment, &loaded.path))
}

fn describe_load_error(error: &str, path: &Path) -> String {
    if error.contains("not compatible") {
        format!(
            "the ONNX Runtime library at '{}' is too old: animestyle needs ONNX Runtime {MIN_ORT_VERSION} or \
             newer ({error}). {INSTALL_HINT}.",
            path.display()
        )
    } else {
        format!("could not load the ONNX Runtime library at '{}': {error}. {INSTALL_HINT}.", path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_versioned_library_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libonnxruntime.so.1.31.1"), b"").unwrap();
        std::fs::write(dir.path().join("libonnxruntime_providers_shared.so"), b"").unwrap();
        assert_eq!(library_in(dir.path()).unwrap(), dir.path().join("libonnxruntime.so.1.31.1"));
    }

    #[test]
    fn missing_property_path_names_the_property_and_the_fix() {
        let e = locate(Some("/nonexistent/libonnxruntime.so")).unwrap_err();
        assert!(e.contains("ort-library property") && e.contains("pip install onnxruntime"), "{e}");
    }
}
