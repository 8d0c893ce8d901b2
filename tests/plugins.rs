//! WebAssembly rule plugins end to end: the bundled plugins on the demo data, the sandbox
//! against misbehaving plugins, config validation, interface versions, the compile cache and
//! the authoring commands. Plugins are built here with `cargo build --target wasm32-wasip2
//! --release` into target/wasm (scripts/test.sh installs the target).

mod common;

use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Builds the plugin crate in `dir` (relative to the repository) once per test process and
/// returns its `.wasm`.
fn plugin(dir: &str) -> PathBuf {
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

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A costwatch command sharing one compile cache across this test run.
fn cw(dir: &Path) -> Command {
    let mut cmd = costwatch(dir);
    cmd.env(
        "COSTWATCH_CACHE_DIR",
        repo().join("target/test-plugin-cache"),
    );
    cmd
}

fn demo_data() -> PathBuf {
    repo().join("examples/demo/data")
}

/// A config over the demo data with the given `[[rules]]` text.
fn config_with_rules(dir: &Path, rules: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            "ledger = \"costwatch.db\"\n[sources.files]\npaths = [{:?}]\n[alerts]\nto = [\"team@example.com\"]\noutbox_dir = \"outbox\"\n{rules}",
            demo_data().display().to_string()
        ),
    )
}

fn alerts(out: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout(out)).expect("a JSON array of alerts")
}

#[test]
fn container_insights_finds_the_planted_creep() {
    let wasm = plugin("plugins/container-insights");
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(0));
    let found = alerts(&out);
    assert!(!found.is_empty(), "no alerts");
    // Only the planted creep, first seen within two weeks of its start on 2026-02-16.
    for a in &found {
        assert_eq!(a["rule"], "container-insights", "{a}");
        assert_eq!(a["usage_type"], "USE1-CW:MetricMonitorUsage", "{a}");
        let message = a["message"].as_str().unwrap();
        assert!(
            message.contains("custom metrics") && message.contains("a month"),
            "{message}"
        ); // The plugin's root-cause detail and its budget proposal reach the alert.
        assert!(
            a["detail"].as_str().unwrap().contains("per metric-month"),
            "{a}"
        );
        if a["severity"] != "info" {
            assert_eq!(a["action"]["kind"], "budget_alert", "{a}");
            assert!(a["action"]["monthly_limit"].as_f64().unwrap() > 0.0, "{a}");
        }
    }
    let first = found[0]["data_day"].as_str().unwrap();
    assert!(
        ("2026-02-20".."2026-03-02").contains(&first),
        "first seen {first}"
    );

    // `backtest` runs the plugin next to the built-ins, with the same alert objects.
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nbuiltin = \"spike\"\n[[rules]]\nplugin = {:?}\nconfig = {{ min_daily = 5 }}\n",
            wasm.display().to_string()
        ),
    );
    let out = run(cw(dir.path())
        .args(["backtest", "--config"])
        .arg(&config)
        .args([
            "--from",
            "2026-02-01",
            "--to",
            "2026-03-19",
            "--format",
            "json",
        ]));
    assert_eq!(out.status.code(), Some(0));
    let found = alerts(&out);
    let rules: Vec<&str> = found.iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"container-insights"), "{rules:?}");
    assert!(
        found
            .iter()
            .any(|a| a["rule"] == "spike" && a["usage_type"] == "USE1-NatGateway-Bytes"),
        "{rules:?}"
    );
}

#[test]
fn nat_gateway_plugin_finds_the_planted_spike() {
    let wasm = plugin("plugins/nat-gateway");
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(0));
    let found = alerts(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["data_day"], "2026-03-18");
    assert_eq!(found[0]["severity"], "critical");
    assert!(found[0]["message"].as_str().unwrap().contains("GB"));
    assert!(found[0]["detail"].as_str().unwrap().contains("destination"));
}

#[test]
fn misbehaving_plugins_fail_clearly_and_builtins_still_alert() {
    let wasm = plugin("tests/plugins/misbehave");
    let cases = [
        (
            "loop",
            "timeout_ms = 500",
            "ran longer than its time limit of 500 ms",
        ),
        (
            "hog",
            "memory_mb = 64",
            "ran out of memory: it tried to grow past its 64 MiB limit",
        ),
        ("panic", "", "panicked: panicked at src/lib.rs"),
        ("stack", "", "overflowed its stack"),
        (
            "error",
            "",
            "returned an error: bad input: the batch has no CloudWatch series",
        ),
    ];
    for (mode, limit, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with_rules(
            dir.path(),
            &format!(
                "[[rules]]\nbuiltin = \"spike\"\n[[rules]]\nplugin = {:?}\n{limit}\nconfig = {{ mode = {mode:?} }}\n[[rules]]\nbuiltin = \"shift\"\n",
                wasm.display().to_string()
            ),
        );
        let out = run(cw(dir.path())
            .args(["run", "--config"])
            .arg(&config)
            .args(["--date", "2026-03-19"]));
        assert_eq!(
            out.status.code(),
            Some(1),
            "{mode}: a failed rule fails the run"
        );
        let summary = stdout(&out);
        let failure = format!("rule misbehave FAILED: plugin misbehave.wasm {expected}");
        assert!(summary.contains(&failure), "{mode}: {summary}");
        assert!(
            summary.contains("Spike:") && summary.contains("USE1-NatGateway-Bytes"),
            "{mode}: the built-in rules still alert: {summary}"
        );
        if mode == "panic" {
            assert!(summary.contains("index out of bounds"), "{summary}");
        }
        // The digest tells the team too.
        let emls = eml_files(&dir.path().join("outbox"));
        assert_eq!(emls.len(), 1, "{mode}");
        let mail = std::fs::read_to_string(&emls[0]).unwrap();
        assert!(
            mail.contains("misbehave"),
            "{mode}: digest names the plugin"
        );
    }
}

#[test]
fn plugin_config_is_validated_before_any_data_is_read() {
    let wasm = plugin("tests/plugins/misbehave");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nbuiltin = \"spike\"\n\n[[rules]]\nplugin = {:?}\nconfig = {{ mode = \"sideways\" }}\n",
            wasm.display().to_string()
        ),
    );
    let out = run(cw(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", "2026-03-19"]));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("rule \"misbehave\"")
            && err.contains("line 10")
            && err.contains("mode = \"sideways\""),
        "{err}"
    );
    assert!(!err.contains("reading"), "no data may be read: {err}");

    // Unknown keys, and both or neither of builtin and plugin.
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nplugin = {:?}\nconfig = {{ mood = \"loop\" }}\n",
            wasm.display().to_string()
        ),
    );
    let out = run(cw(dir.path()).args(["run", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("unknown setting mood; this rule takes mode"),
        "{}",
        stderr(&out)
    );
    let config = config_with_rules(
        dir.path(),
        "[[rules]]\nbuiltin = \"spike\"\nplugin = \"x.wasm\"\n",
    );
    let out = run(cw(dir.path()).args(["run", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("either builtin or plugin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_plugin_named_without_a_path_is_found_in_plugin_dir() {
    let wasm = plugin("plugins/nat-gateway");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bundled")).unwrap();
    std::fs::copy(&wasm, dir.path().join("bundled/nat_gateway.wasm")).unwrap();
    let config = write_config(
        dir.path(),
        "plugin_dir = \"bundled\"\n[[rules]]\nplugin = \"nat-gateway\"\n",
    );
    let out = run(cw(dir.path())
        .args(["rule", "list", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("bundled/nat_gateway.wasm"),
        "{}",
        stdout(&out)
    );

    let missing = write_config(dir.path(), "[[rules]]\nplugin = \"no-such-rule\"\n");
    let out = run(cw(dir.path())
        .args(["rule", "list", "--config"])
        .arg(&missing));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no plugin \"no-such-rule\" (no-such-rule.wasm) in")
            && stderr(&out).contains("scripts/build-plugins.sh"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plugin_paths_are_relative_to_the_config_file() {
    let wasm = plugin("plugins/nat-gateway");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::copy(&wasm, dir.path().join("rules/nat.wasm")).unwrap();
    let config = config_with_rules(dir.path(), "[[rules]]\nplugin = \"rules/nat.wasm\"\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run(cw(elsewhere.path())
        .args(["rule", "list", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nat-gateway"), "{}", stdout(&out));
}

#[test]
fn wrong_interface_version_says_which_version_to_build_against() {
    let wasm = plugin("tests/plugins/future-version");
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data()));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("was built for costwatch:rule@1.0.0")
            && err.contains("this costwatch runs costwatch:rule@0.1.0")
            && err.contains("rebuild it with the costwatch-rule SDK"),
        "{err}"
    );
}

#[test]
fn second_load_comes_from_the_compile_cache() {
    let wasm = plugin("plugins/container-insights");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nbuiltin = \"creep\"\n[[rules]]\nplugin = {:?}\n",
            wasm.display().to_string()
        ),
    );
    let list = || {
        let out = run(costwatch(dir.path())
            .env("COSTWATCH_CACHE_DIR", &cache)
            .args(["rule", "list", "--config"])
            .arg(&config));
        assert_eq!(out.status.code(), Some(0));
        stdout(&out)
    };
    let first = list();
    assert!(
        first.contains("loaded and compiled (now cached)"),
        "{first}"
    );
    assert!(
        first.contains("creep") && first.contains("built-in"),
        "{first}"
    );
    assert!(
        first.contains("container-insights   0.1.0    plugin ")
            && first.contains("config.short_days = 14"),
        "{first}"
    );
    let second = list();
    assert!(second.contains("loaded from the compile cache"), "{second}");
    let cached: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(cached.len(), 1, "one precompiled component");
}

#[test]
fn rule_new_scaffolds_a_plugin_that_builds_tests_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path()).args(["rule", "new", "big-days"]));
    assert_eq!(out.status.code(), Some(0));
    let krate = dir.path().join("big-days");
    // One target folder for every run of this test, so dependencies build once.
    let target = repo().join("target/wasm-scaffold");
    let out = run(Command::new(cargo())
        .arg("test")
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target));
    assert!(out.status.success(), "the scaffold's own test passes");
    let out = run(Command::new(cargo())
        .args(["build", "--target", "wasm32-wasip2", "--release"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target));
    assert!(out.status.success(), "the scaffold builds as a plugin");
    let wasm = target.join("wasm32-wasip2/release/big_days.wasm");
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(0));
    let found = alerts(&out);
    assert!(
        found
            .iter()
            .any(|a| a["rule"] == "big-days" && a["usage_type"] == "USE1-NatGateway-Bytes"),
        "{found:?}"
    );
    // Scaffolding over an existing crate is refused.
    let again = run(cw(dir.path()).args(["rule", "new", "big-days"]));
    assert_eq!(again.status.code(), Some(3));
}
