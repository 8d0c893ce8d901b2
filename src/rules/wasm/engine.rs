//! The shared wasmtime engine (with its epoch ticker), the linker, the per-call store and the
//! on-disk cache of precompiled components.

use super::host::State;
use super::language::Language;
use super::{v0_1, v0_2};
use anyhow::{Context as _, Result, anyhow};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// How often the engine's epoch advances; call deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most bytes of a plugin's stdout and stderr kept per call.
const OUTPUT_CAPACITY: usize = 64 * 1024;

/// The engine every plugin runs on: component model, epoch interruption, a ticker thread;
/// functions compiled in parallel, linear memories initialised copy-on-write from the
/// compiled file.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.parallel_compilation(true);
        config.memory_init_cow(true);
        let engine = Engine::new(&config).expect("the wasmtime configuration is valid");
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("costwatch-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .expect("starting the epoch thread");
        engine
    })
}

/// The linker with WASI (empty context) and the costwatch host interface of every version
/// this host runs.
pub fn linker() -> Result<&'static Linker<State>> {
    static LINKER: OnceLock<Result<Linker<State>, String>> = OnceLock::new();
    LINKER
        .get_or_init(|| {
            let mut linker = Linker::new(engine());
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:#}"))?;
            type Host = wasmtime::component::HasSelf<State>;
            v0_1::RulePlugin::add_to_linker::<State, Host>(&mut linker, |s| s)
                .map_err(|e| format!("{e:#}"))?;
            v0_2::RulePlugin::add_to_linker::<State, Host>(&mut linker, |s| s)
                .map_err(|e| format!("{e:#}"))?;
            Ok(linker)
        })
        .as_ref()
        .map_err(|e| anyhow!("setting up the plugin host: {e}"))
}

/// Limits of one call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

/// A fresh store for one call: its [`State`], the memory cap and the epoch deadline.
pub fn store(rule: &str, limits: Limits) -> Store<State> {
    let state = State::new(rule, limits.memory_bytes, OUTPUT_CAPACITY);
    let mut store = Store::new(engine(), state);
    store.limiter(|s| s);
    let ticks = limits
        .timeout
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1) as u64;
    store.set_epoch_deadline(ticks);
    store
}

/// Folder of precompiled components: `COSTWATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/costwatch/plugins`,
/// else `~/.cache/costwatch/plugins`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COSTWATCH_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("costwatch").join("plugins")
}

/// A compiled component and whether it came from the cache.
pub struct Compiled {
    pub component: Component,
    pub from_cache: bool,
}

/// Compiles a component, or loads it from the cache keyed by the SHA-256 of its bytes and the
/// engine's compatibility hash (wasmtime version and settings).
pub fn compile(path: &Path, bytes: &[u8], language: Language) -> Result<Compiled> {
    let engine = engine();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = format!("{:x}-{:016x}.cwasm", Sha256::digest(bytes), hasher.finish());
    let dir = cache_dir();
    let cached = dir.join(&key);
    if cached.exists() {
        // SAFETY: the file was written by `precompile_component` of an engine with the same
        // compatibility hash, into the user's own cache folder; wasmtime checks its header.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => {
                return Ok(Compiled {
                    component,
                    from_cache: true,
                });
            }
            Err(e) => {
                tracing::warn!(path = %cached.display(), "ignoring unusable cached plugin: {e:#}")
            }
        }
    }
    let compiled = engine.precompile_component(bytes).map_err(|e| {
        anyhow!(
            "{} is not a valid WebAssembly component ({e}); build it for {} (wit/v0.2.0) {}",
            path.display(),
            super::INTERFACE,
            language.build_hint()
        )
    })?;
    if let Err(e) = write_atomically(&dir, &key, &compiled) {
        tracing::warn!(dir = %dir.display(), "cannot cache the compiled plugin: {e:#}");
    }
    // SAFETY: the bytes were just produced by this engine's `precompile_component`.
    let component = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| anyhow!("loading compiled plugin {}: {e:#}", path.display()))?;
    Ok(Compiled {
        component,
        from_cache: false,
    })
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(name)).with_context(|| format!("renaming {}", tmp.display()))?;
    Ok(())
}
