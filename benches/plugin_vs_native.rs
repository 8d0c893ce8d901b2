//! The same detector run natively (the built-in rule) and as a WebAssembly plugin
//! (tests/plugins/misbehave in `spike` / `creep` mode calls the very same costwatch-detect
//! function), over 1,000 and 100,000 series × 90 days, and the plugin's load time from the
//! compile cache.
//!
//!     cargo bench --bench plugin_vs_native
//!
//! Goals: plugin ≤ 2× native; load from the cache < 1 ms.

use costwatch::model::Scope;
use costwatch::rules::builtin::BuiltinRule;
use costwatch::rules::wasm::{Limits, PluginRule};
use costwatch::rules::{Rule, RuleConfig, SeriesView, Snapshot};
use costwatch_detect::Kind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const DAYS: usize = 90;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let wasm = build_plugin(&repo);
    let cache = repo.join("target/bench-plugin-cache");
    // SAFETY: single-threaded at this point; the plugin host reads it when loading.
    unsafe { std::env::set_var("COSTWATCH_CACHE_DIR", &cache) };

    println!("detector  series   days  native       plugin       ratio");
    for (detector, kind) in [("spike", Kind::Spike), ("creep", Kind::Creep)] {
        let native = BuiltinRule::default_for(kind);
        let plugin = plugin_rule(&wasm, detector);
        for n in [1_000, 100_000] {
            let (scopes, amounts) = synthetic(n);
            let snapshot = Snapshot {
                day: chrono::NaiveDate::from_ymd_opt(2026, 3, 18).unwrap(),
                series: scopes
                    .iter()
                    .zip(&amounts)
                    .map(|(scope, amounts)| SeriesView {
                        scope,
                        amounts,
                        known_from: 0,
                    })
                    .collect(),
            };
            let runs = if n >= 100_000 { 3 } else { 20 };
            let (t_native, f_native) = best_of(runs, || native.evaluate(&snapshot).unwrap().len());
            let (t_plugin, f_plugin) = best_of(runs, || plugin.evaluate(&snapshot).unwrap().len());
            assert_eq!(f_native, f_plugin, "same detector, same findings");
            println!(
                "{detector:<9} {n:<8} {DAYS:<5} {:<12} {:<12} {:.2}×   ({f_native} findings)",
                fmt(t_native),
                fmt(t_plugin),
                t_plugin.as_secs_f64() / t_native.as_secs_f64()
            );
        }
    }

    // Load from the cache: read, hash, deserialize the precompiled component, link.
    let mut loads: Vec<Duration> = (0..50)
        .map(|_| {
            let p = PluginRule::load(&wasm, Limits::default()).unwrap();
            assert!(p.load.from_cache);
            p.load.elapsed
        })
        .collect();
    loads.sort();
    println!(
        "plugin load from cache: median {} (min {}, max {}) over {} loads of {} ({} KiB)",
        fmt(loads[loads.len() / 2]),
        fmt(loads[0]),
        fmt(loads[loads.len() - 1]),
        loads.len(),
        wasm.file_name().unwrap().to_string_lossy(),
        std::fs::metadata(&wasm).unwrap().len() / 1024
    );
}

fn plugin_rule(wasm: &Path, detector: &str) -> PluginRule {
    let mut config = toml::Table::new();
    config.insert("mode".into(), toml::Value::String(detector.into()));
    PluginRule::from_entry(&RuleConfig {
        builtin: None,
        plugin: Some(wasm.to_path_buf()),
        timeout_ms: Some(120_000),
        memory_mb: None,
        enabled: true,
        config,
        line: 0,
    })
    .unwrap()
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

/// `n` series of 90 days: weekly seasonality and noise around a per-series level, with a spike
/// on the last day in 1% of them and a creep in another 1%.
fn synthetic(n: usize) -> (Vec<Scope>, Vec<Vec<f64>>) {
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
        let amounts: Vec<f64> = (0..DAYS)
            .map(|d| {
                let weekday = if d % 7 >= 5 { 0.7 } else { 1.0 };
                let mut x = level * weekday * (1.0 + 0.1 * (rand() - 0.5));
                if i % 100 == 1 && d == DAYS - 1 {
                    x *= 4.0;
                }
                if i % 100 == 2 && d >= DAYS - 20 {
                    x *= 1.04f64.powi((d + 20 - DAYS) as i32);
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

fn build_plugin(repo: &Path) -> PathBuf {
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
