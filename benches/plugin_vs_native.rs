//! Rule plugins against native rules, and what loading and calling a plugin costs:
//!
//! 1. the same detector run natively (the built-in rule) and as a WebAssembly plugin
//!    (tests/plugins/misbehave in `spike` / `creep` mode calls the very same costwatch-detect
//!    function), over 1,000 and 100,000 series × 90 days;
//! 2. for the Rust plugin, a Python one (tests/plugins/python-misbehave, built with
//!    componentize-py when the test venv has it) and, if `COSTWATCH_BENCH_JS` names it, a
//!    JavaScript one (examples/javascript-big-days after `npm run build`): the first load
//!    (compiling) with parallel compilation against one compiler thread (the build before it:
//!    this bench re-runs itself with `RAYON_NUM_THREADS=1`), a load from the compile cache,
//!    and one call (a fresh instance, one series);
//! 3. memory: what an instance takes before any data, the bytes of memory per byte of series
//!    measured on a large call, and 2,700 series × 3,000 days at the default 256 MiB limit
//!    (a Python rule ran out of memory on it when batches were sized for Rust).
//!
//!     cargo bench --bench plugin_vs_native
//!
//! Goals: plugin ≤ 2× native; load from the cache < 1 ms (Rust).

use costwatch::model::Scope;
use costwatch::rules::builtin::BuiltinRule;
use costwatch::rules::wasm::{Limits, PluginRule};
use costwatch::rules::{Rule, RuleConfig, SeriesView, Snapshot};
use costwatch_detect::Kind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Set in the child run that times a first load with one compiler thread.
const CHILD: &str = "PLUGIN_BENCH_FIRST_LOAD";

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(wasm) = std::env::var_os(CHILD) {
        // SAFETY: single-threaded here; the host reads it when loading.
        unsafe { std::env::set_var("COSTWATCH_CACHE_DIR", repo.join("target/bench-cache-child")) };
        println!("{}", first_load(Path::new(&wasm)).as_secs_f64());
        return;
    }
    let rust = build_rust_plugin(&repo);
    let python = build_python_plugin(&repo);
    let javascript = std::env::var_os("COSTWATCH_BENCH_JS").map(PathBuf::from);
    // SAFETY: single-threaded at this point; the plugin host reads it when loading.
    unsafe {
        std::env::set_var(
            "COSTWATCH_CACHE_DIR",
            repo.join("target/bench-plugin-cache"),
        )
    };

    native_against_plugin(&rust);
    println!();
    println!("plugin   size      first load: 1 thread  parallel  ratio   cached load  one call");
    let plugins: Vec<(&str, &Path, Option<&str>)> = [("Rust", rust.as_path(), Some("spike"))]
        .into_iter()
        .chain(python.as_deref().map(|p| ("Python", p, Some("sum"))))
        .chain(javascript.as_deref().map(|p| ("JS", p, None)))
        .collect();
    for &(language, wasm, mode) in &plugins {
        load_and_call(language, wasm, mode);
    }
    if python.is_none() {
        println!("Python   (skipped: no componentize-py in the test venv; run scripts/test.sh)");
    }
    println!();
    println!("plugin   before data  bytes per byte of series  2,700 × 3,000 at 256 MiB");
    for &(language, wasm, mode) in &plugins {
        memory(language, wasm, mode);
    }
}

/// Section 1: the built-in detector and the plugin running it, side by side.
fn native_against_plugin(wasm: &Path) {
    println!("detector  series   days  native       plugin       ratio");
    for (detector, kind) in [("spike", Kind::Spike), ("creep", Kind::Creep)] {
        let native = BuiltinRule::default_for(kind);
        let plugin = plugin_rule(wasm, Some(detector), None);
        for n in [1_000, 100_000] {
            let (scopes, amounts) = synthetic(n, 90);
            let snapshot = snapshot(&scopes, &amounts);
            let runs = if n >= 100_000 { 3 } else { 20 };
            let (t_native, f_native) = best_of(runs, || native.evaluate(&snapshot).unwrap().len());
            let (t_plugin, f_plugin) = best_of(runs, || plugin.evaluate(&snapshot).unwrap().len());
            assert_eq!(f_native, f_plugin, "same detector, same findings");
            println!(
                "{detector:<9} {n:<8} {:<5} {:<12} {:<12} {:.2}×   ({f_native} findings)",
                90,
                fmt(t_native),
                fmt(t_plugin),
                t_plugin.as_secs_f64() / t_native.as_secs_f64()
            );
        }
    }
}

/// Section 2: first load with one compiler thread and in parallel, cached load, one call.
fn load_and_call(language: &str, wasm: &Path, mode: Option<&str>) {
    let child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, wasm)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("running the bench again");
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let one_thread: f64 = String::from_utf8_lossy(&child.stdout)
        .trim()
        .parse()
        .unwrap();
    let parallel = first_load(wasm).as_secs_f64();
    let mut cached: Vec<Duration> = (0..20)
        .map(|_| {
            let p = PluginRule::load(wasm, Limits::default()).unwrap();
            assert!(p.load.from_cache);
            p.load.elapsed
        })
        .collect();
    cached.sort();
    let plugin = plugin_rule(wasm, mode, None);
    let (scopes, amounts) = synthetic(1, 90);
    let snapshot = snapshot(&scopes, &amounts);
    let mut calls: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            plugin.evaluate(&snapshot).unwrap();
            start.elapsed()
        })
        .collect();
    calls.sort();
    println!(
        "{language:<8} {:<9} {:<21} {:<9} {:<7} {:<12} {}",
        format!(
            "{:.1} MB",
            std::fs::metadata(wasm).unwrap().len() as f64 / 1e6
        ),
        format!("{one_thread:.2} s"),
        format!("{parallel:.2} s"),
        format!("{:.2}×", one_thread / parallel),
        fmt(cached[cached.len() / 2]),
        fmt(calls[calls.len() / 2]),
    );
}

/// Section 3: memory before data and per byte of series, and a large run at the default limit.
fn memory(language: &str, wasm: &Path, mode: Option<&str>) {
    // One large call, with room to spare, measures what the plugin uses per byte of series.
    let roomy = plugin_rule(wasm, mode, Some(2048));
    let (scopes, amounts) = synthetic(2_000, 400);
    roomy.evaluate(&snapshot(&scopes, &amounts)).unwrap();
    let (baseline, model) = roomy.memory();
    // The case that ran a Python rule out of memory, at the default limit.
    let plugin = plugin_rule(wasm, mode, None);
    let (scopes, amounts) = synthetic(2_700, 3_000);
    let start = Instant::now();
    let found = plugin.evaluate(&snapshot(&scopes, &amounts));
    let outcome = match found {
        Ok(found) => format!("ok, {} findings in {}", found.len(), fmt(start.elapsed())),
        Err(e) => format!("FAILED: {e:#}"),
    };
    println!(
        "{language:<8} {:<12} {:<25} {outcome}",
        format!("{:.1} MiB", baseline as f64 / f64::from(1 << 20)),
        format!("{:.1}", model.measured.unwrap_or(f64::NAN)),
    );
}

/// A load that compiles: the cache emptied first.
fn first_load(wasm: &Path) -> Duration {
    let cache = costwatch::rules::wasm::cache_dir();
    let _ = std::fs::remove_dir_all(&cache);
    let p = PluginRule::load(wasm, Limits::default()).unwrap();
    assert!(!p.load.from_cache);
    p.load.elapsed
}

/// The plugin with its `mode` setting, if it has one (the test plugins do).
fn plugin_rule(wasm: &Path, mode: Option<&str>, memory_mb: Option<u64>) -> PluginRule {
    let mut config = toml::Table::new();
    if let Some(mode) = mode {
        config.insert("mode".into(), toml::Value::String(mode.into()));
    }
    PluginRule::from_entry(&RuleConfig {
        builtin: None,
        plugin: Some(wasm.to_path_buf()),
        timeout_ms: Some(120_000),
        memory_mb,
        enabled: true,
        config,
        line: 0,
    })
    .unwrap()
}

fn snapshot<'a>(scopes: &'a [Scope], amounts: &'a [Vec<f64>]) -> Snapshot<'a> {
    Snapshot {
        day: chrono::NaiveDate::from_ymd_opt(2026, 3, 18).unwrap(),
        series: scopes
            .iter()
            .zip(amounts)
            .map(|(scope, amounts)| SeriesView {
                scope,
                amounts,
                known_from: 0,
            })
            .collect(),
    }
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut found = 0;
    for _ in 0..runs {
        let start = Instant::now();
        found = f();
        best = best.min(start.elapsed());
    }
    (best, found)
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.3} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// `n` series of `days` days: weekly seasonality and noise around a per-series level, with a
/// spike on the last day in 1% of them and a creep in another 1%.
fn synthetic(n: usize, days: usize) -> (Vec<Scope>, Vec<Vec<f64>>) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut scopes = Vec::with_capacity(n);
    let mut series = Vec::with_capacity(n);
    for i in 0..n {
        let level = 5.0 + 200.0 * rand();
        let amounts: Vec<f64> = (0..days)
            .map(|d| {
                let weekday = if d % 7 >= 5 { 0.7 } else { 1.0 };
                let mut x = level * weekday * (1.0 + 0.1 * (rand() - 0.5));
                if i % 100 == 1 && d == days - 1 {
                    x *= 4.0;
                }
                if i % 100 == 2 && d + 20 >= days {
                    x *= 1.04f64.powi((d + 20 - days) as i32);
                }
                x
            })
            .collect();
        scopes.push(Scope {
            account: format!("{:012}", 100_000_000_000u64 + (i % 50) as u64),
            service_code: "AmazonEC2".into(),
            service_name: "Amazon Elastic Compute Cloud".into(),
            usage_type: format!("USE1-BoxUsage:type{i}"),
        });
        series.push(amounts);
    }
    (scopes, series)
}

fn build_rust_plugin(repo: &Path) -> PathBuf {
    let target = repo.join("target/wasm");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--manifest-path")
        .arg(repo.join("tests/plugins/misbehave/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("running cargo");
    assert!(
        status.success(),
        "building the plugin (rustup target add wasm32-wasip2)"
    );
    target.join("wasm32-wasip2/release/misbehave.wasm")
}

/// tests/plugins/python-misbehave built with componentize-py from the test venv
/// (`COSTWATCH_TEST_PYTHON`, else .venv), if it has it.
fn build_python_plugin(repo: &Path) -> Option<PathBuf> {
    let python = std::env::var_os("COSTWATCH_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv/bin/python"));
    let componentize = python.with_file_name("componentize-py");
    if !componentize.exists() {
        return None;
    }
    let wasm = repo.join("target/bench-python/python_misbehave.wasm");
    std::fs::create_dir_all(wasm.parent().unwrap()).unwrap();
    let status = Command::new(componentize)
        .arg("-d")
        .arg(repo.join("wit/v0.2.0"))
        .args(["-w", "rule-plugin", "componentize", "app", "-p", "."])
        .arg("-p")
        .arg(repo.join("sdk/python"))
        .arg("-o")
        .arg(&wasm)
        .current_dir(repo.join("tests/plugins/python-misbehave"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("running componentize-py");
    assert!(status.success(), "componentize-py failed");
    Some(wasm)
}
