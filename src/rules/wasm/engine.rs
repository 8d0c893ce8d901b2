//! The shared wasmtime engine (with its epoch ticker), the linker, the per-call store and the
//! on-disk cache of precompiled components.

use super::bindings::costwatch::rule::{host, types};
use anyhow::{Context as _, Result, anyhow};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How often the engine's epoch advances; call deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most bytes of a plugin's stdout and stderr kept per call.
const OUTPUT_CAPACITY: usize = 64 * 1024;

/// The engine every plugin runs on: component model, epoch interruption, a ticker thread.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
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

/// The linker with WASI (empty context) and the costwatch host interface.
pub fn linker() -> Result<&'static Linker<State>> {
    static LINKER: OnceLock<Result<Linker<State>, String>> = OnceLock::new();
    LINKER
        .get_or_init(|| {
            let mut linker = Linker::new(engine());
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:#}"))?;
            super::bindings::RulePlugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(
                &mut linker,
                |s| s,
            )
            .map_err(|e| format!("{e:#}"))?;
            Ok(linker)
        })
        .as_ref()
        .map_err(|e| anyhow!("setting up the plugin host: {e}"))
}

/// What one call's store holds.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: StoreLimits,
    /// The rule, for log lines.
    pub rule: String,
    /// Lines the plugin logged through the host interface.
    pub log: Vec<(host::Level, String)>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl State {
    /// The panic message the plugin's panic hook logged, if any.
    pub fn panic_message(&self) -> Option<&str> {
        self.log
            .iter()
            .rev()
            .find_map(|(_, m)| m.strip_prefix("panicked: "))
    }

    /// What the plugin wrote to stdout and stderr.
    pub fn output(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.stdout.contents()).into_owned();
        out.push_str(&String::from_utf8_lossy(&self.stderr.contents()));
        out
    }

    /// Sends what the plugin printed to costwatch's log.
    pub fn flush_output(&self) {
        for line in self.output().lines().filter(|l| !l.trim().is_empty()) {
            tracing::warn!(rule = %self.rule, "plugin output: {line}");
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for State {}

impl host::Host for State {
    fn log(&mut self, level: host::Level, message: String) {
        let rule = self.rule.as_str();
        match level {
            host::Level::Debug => tracing::debug!(rule, "{message}"),
            host::Level::Info => tracing::info!(rule, "{message}"),
            host::Level::Warn => tracing::warn!(rule, "{message}"),
            host::Level::Error => tracing::error!(rule, "{message}"),
        }
        if self.log.len() < 1000 {
            self.log.push((level, message));
        }
    }
}

/// Limits of one call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

/// A fresh store for one call: empty WASI context (no files, network, environment or
/// arguments; stdout and stderr captured), the memory cap and the epoch deadline.
pub fn store(rule: &str, limits: Limits) -> Store<State> {
    let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
    let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
    let wasi = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let state = State {
        wasi,
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build(),
        rule: rule.to_string(),
        log: Vec::new(),
        stdout,
        stderr,
    };
    let mut store = Store::new(engine(), state);
    store.limiter(|s| &mut s.limits);
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
pub fn compile(path: &Path, bytes: &[u8]) -> Result<Compiled> {
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
            "{} is not a valid WebAssembly component ({e}); build it with \
             `cargo build --target wasm32-wasip2 --release`",
            path.display()
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
