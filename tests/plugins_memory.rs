//! Batches sized to a plugin's memory limit, in process: the case that ran a Python rule out
//! of memory when batches were sized for Rust (2,700 series × 3,000 days at the default 256 MiB)
//! runs for Python and Rust alike. Its own test binary, so it may point the compile cache at
//! target/ before anything else runs.

#[path = "plugins/builds.rs"]
mod builds;
mod common;

use builds::*;
use common::*;
use costwatch::model::Scope;
use costwatch::rules::wasm::PluginRule;
use costwatch::rules::{Rule, RuleConfig, SeriesView, Snapshot};

#[test]
fn long_histories_fit_the_default_memory_limit_in_rust_and_python() {
    // SAFETY: the only test of this binary, before any thread it starts reads the environment.
    unsafe {
        std::env::set_var(
            "COSTWATCH_CACHE_DIR",
            repo().join("target/test-plugin-cache"),
        )
    };
    let python = python_plugin(
        &repo().join("tests/plugins/python-misbehave"),
        &repo().join("wit/v0.2.0"),
        &[python_sdk()],
        "python_misbehave",
    );
    let rust = plugin("tests/plugins/misbehave");
    let scopes: Vec<Scope> = (0..2_700)
        .map(|i| Scope {
            account: "111122223333".into(),
            service_code: "AmazonEC2".into(),
            service_name: "Amazon Elastic Compute Cloud".into(),
            usage_type: format!("USE1-BoxUsage:type{i}"),
        })
        .collect();
    let amounts: Vec<Vec<f64>> = (0..2_700)
        .map(|i| (0..3_000).map(|d| 10.0 + ((i + d) % 7) as f64).collect())
        .collect();
    let snapshot = Snapshot {
        day: "2026-03-18".parse().unwrap(),
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
    for (wasm, mode, expected) in [(&python, "sum", 2_700), (&rust, "spike", 0)] {
        let mut config = toml::Table::new();
        config.insert("mode".into(), toml::Value::String(mode.into()));
        let plugin = PluginRule::from_entry(&RuleConfig {
            builtin: None,
            plugin: Some(wasm.clone()),
            timeout_ms: Some(120_000),
            memory_mb: None,
            enabled: true,
            config,
            line: 0,
        })
        .unwrap();
        let found = plugin
            .evaluate(&snapshot)
            .unwrap_or_else(|e| panic!("{e:#}"));
        // The python rule reports every series with its total: every batch ran.
        assert_eq!(found.len(), expected, "{}", wasm.display());
    }
}
