//! Building the test plugins: Rust crates with cargo for wasm32-wasip2, Python apps with
//! componentize-py from the test venv. Shared by the plugin test binaries.

use crate::common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Builds the plugin crate in `dir` (relative to the repository) once per test process and
/// returns its `.wasm`.
pub fn plugin(dir: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(dir) {
        return path.clone();
    }
    let manifest = repo().join(dir).join("Cargo.toml");
    let target = repo().join("target/wasm");
    let out = run(Command::new(cargo())
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target));
    assert!(
        out.status.success(),
        "building {dir} failed (is the wasm32-wasip2 target installed? scripts/test.sh installs it)"
    );
    let name = Path::new(dir)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace('-', "_");
    let wasm = target.join(format!("wasm32-wasip2/release/{name}.wasm"));
    assert!(wasm.exists(), "{} missing", wasm.display());
    built.insert(dir.to_string(), wasm.clone());
    wasm
}

/// Builds the Python app `app.py` in `dir` with componentize-py from the test venv, against
/// the interface in `wit`, with the modules in `paths` besides its own, into
/// target/python/FINGERPRINT/NAME.wasm.
/// componentize-py's output differs from build to build, so a build is kept and reused while
/// its inputs are unchanged (else every run would compile, and cache, a new 18 MB component).
pub fn python_plugin(dir: &Path, wit: &Path, paths: &[PathBuf], name: &str) -> PathBuf {
    let componentize = python().with_file_name("componentize-py");
    assert!(
        componentize.exists(),
        "{} missing: run scripts/test.sh, which installs tests/emulator/requirements.txt",
        componentize.display()
    );
    let inputs: Vec<&Path> = [dir, wit]
        .into_iter()
        .chain(paths.iter().map(PathBuf::as_path))
        .collect();
    let out_dir = repo().join(format!("target/python/{:016x}", fingerprint(&inputs)));
    let wasm = out_dir.join(format!("{name}.wasm"));
    if wasm.exists() {
        return wasm;
    }
    std::fs::create_dir_all(&out_dir).unwrap();
    let partial = wasm.with_extension("partial");
    let mut cmd = Command::new(componentize);
    cmd.arg("-d")
        .arg(wit)
        .args(["-w", "rule-plugin", "componentize", "app", "-p", "."]);
    for path in paths {
        cmd.arg("-p").arg(path);
    }
    let out = run(cmd.arg("-o").arg(&partial).current_dir(dir));
    assert!(
        out.status.success(),
        "componentize-py failed in {}",
        dir.display()
    );
    std::fs::rename(&partial, &wasm).unwrap();
    wasm
}

/// A hash of the source files under `roots` (their paths below the root, and contents).
fn fingerprint(roots: &[&Path]) -> u64 {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() && name != "__pycache__" {
                walk(root, &path, out);
            } else if name.ends_with(".py") || name.ends_with(".wit") {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for root in roots {
        let mut files = Vec::new();
        walk(root, root, &mut files);
        files.sort();
        std::hash::Hash::hash(&files, &mut hasher);
    }
    std::hash::Hasher::finish(&hasher)
}

pub fn python_sdk() -> PathBuf {
    repo().join("sdk/python")
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
