//! WebAssembly rule plugins end to end: the bundled plugins on the demo data, the sandbox
//! against misbehaving plugins, config validation, interface versions (0.2 and the frozen
//! 0.1), the compile cache, rules written in Python and the authoring commands. Rust plugins
//! are built here with `cargo build --target wasm32-wasip2 --release` into target/wasm, Python
//! ones with componentize-py from the test venv into target/python (scripts/test.sh installs
//! both).

#[path = "plugins/builds.rs"]
mod builds;
mod common;

use builds::*;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a Python rule's own tests natively (`python -m unittest` in `dir`), with `paths` on
/// PYTHONPATH.
fn python_unittests(dir: &Path, paths: &[PathBuf]) {
    let out = run(Command::new(python())
        .args(["-m", "unittest"])
        .current_dir(dir)
        .env("PYTHONPATH", std::env::join_paths(paths).unwrap())
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(
        out.status.success(),
        "the rule's own tests in {}: {}",
        dir.display(),
        stderr(&out)
    );
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
        ("panic", "", "panicked: index out of bounds"),
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
            // The SDK's crash report: the panic's own message and where.
            assert!(summary.contains("(at src/lib.rs:"), "{summary}");
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
fn typed_settings_are_checked_by_kind_and_bounds() {
    let wasm = plugin("plugins/nat-gateway");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // The host checks kinds against the schema; the rule its bounds.
        (
            "window_days = 0",
            "window_days = 0: not a positive whole number of days",
        ),
        ("k = \"high\"", "k = \"high\": not a number"),
        ("window_days = 7", "window_days = 7: must be at least 14"),
    ];
    for (setting, expected) in cases {
        let config = config_with_rules(
            dir.path(),
            &format!(
                "[[rules]]\nplugin = {:?}\nconfig = {{ {setting} }}\n",
                wasm.display().to_string()
            ),
        );
        let out = run(cw(dir.path()).args(["run", "--config"]).arg(&config));
        assert_eq!(out.status.code(), Some(3), "{setting}");
        let err = stderr(&out);
        assert!(
            err.contains("rule \"nat-gateway\"") && err.contains(expected),
            "{setting}: {err}"
        );
    }
    // A setting of the right kind (an integer for a number) reaches the rule.
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--set", "critical_monthly=1000000", "--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = alerts(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "warning", "critical no more");
}

#[test]
fn interface_0_1_plugins_keep_running() {
    let wasm = plugin("tests/plugins/interface-0-1");
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--from", "2026-03-01", "--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = alerts(&out);
    assert!(
        found
            .iter()
            .any(|a| a["rule"] == "legacy" && a["usage_type"] == "USE1-NatGateway-Bytes"),
        "{found:?}"
    );
    // Its settings, TOML text in 0.1, are shown and checked by the plugin itself.
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nplugin = {:?}\nconfig = {{ ratio = 4 }}\n",
            wasm.display().to_string()
        ),
    );
    let out = run(cw(dir.path())
        .args(["rule", "list", "--config"])
        .arg(&config));
    let listed = stdout(&out);
    assert!(
        listed.contains("plugin for costwatch:rule@0.1.0")
            && listed.contains("config.ratio = 4 (default 3.0)  [number] times the median"),
        "{listed}"
    );
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--set", "ratio=\"x\""]));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("bad config: ratio = \"x\": not a number"),
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
    // The remedy names the interface to build for and the plugin's language.
    assert!(
        err.contains("future_version.wasm (Rust) was built for costwatch:rule@1.0.0")
            && err.contains("this costwatch runs costwatch:rule@0.2.0 and 0.1.x plugins")
            && err.contains("rebuild it for costwatch:rule@0.2.0 (wit/v0.2.0) with the Rust SDK"),
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
            && first.contains("Rust plugin for costwatch:rule@0.2.0")
            && first.contains("config.short_days = 14  [days, at least 4] Recent window"),
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

#[test]
fn python_rule_builds_with_componentize_py_and_runs_on_the_demo_data() {
    let app = repo().join("examples/python-week-over-week");
    python_unittests(&app, &[python_sdk()]);
    let wasm = python_plugin(
        &app,
        &repo().join("wit/v0.2.0"),
        &[python_sdk()],
        "week_over_week",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = alerts(&out);
    let seen: Vec<(&str, &str)> = found
        .iter()
        .map(|a| {
            assert_eq!(a["rule"], "week-over-week", "{a}");
            (
                a["usage_type"].as_str().unwrap(),
                a["data_day"].as_str().unwrap(),
            )
        })
        .collect();
    // The planted creep and spike, and no false alarm while the first five weeks of data
    // arrive (days before 2026-01-01 are unknown, not zero).
    assert_eq!(
        seen,
        [
            ("USE1-CW:MetricMonitorUsage", "2026-02-28"),
            ("USE1-NatGateway-Bytes", "2026-03-18")
        ],
        "{found:?}"
    );
    let config = config_with_rules(
        dir.path(),
        &format!(
            "[[rules]]\nplugin = {:?}\nconfig = {{ weeks = 3 }}\n",
            wasm.display().to_string()
        ),
    );
    let out = run(cw(dir.path())
        .args(["rule", "list", "--config"])
        .arg(&config));
    let listed = stdout(&out);
    assert!(
        listed.contains("Python plugin for costwatch:rule@0.2.0")
            && listed.contains("config.weeks = 3 (default 4)  [days, 1 to 4]"),
        "{listed}"
    );
    // The rule's own check of its bounds, in its words.
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--set", "weeks=6"]));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("bad config: weeks = 6: must be at most 4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn python_exceptions_and_memory_fail_in_the_guests_own_words() {
    let app = repo().join("tests/plugins/python-misbehave");
    let wasm = python_plugin(
        &app,
        &repo().join("wit/v0.2.0"),
        &[python_sdk()],
        "python_misbehave",
    );
    let dir = tempfile::tempdir().unwrap();
    let test = |args: &[&str]| {
        run(cw(dir.path())
            .args(["rule", "test"])
            .arg(&wasm)
            .arg("--data")
            .arg(demo_data())
            .args(["--from", "2026-03-19", "--to", "2026-03-19"])
            .args(args))
    };
    let out = test(&["--set", "mode=\"raise\""]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("plugin python_misbehave.wasm raised ValueError: no baseline for USE1-")
            && err.contains("(at app.py:")
            && err.contains(" in check)"),
        "{err}"
    );
    // Out of memory even one series at a time: batches are halved down to one, then it fails.
    let out = test(&["--set", "mode=\"hog\"", "--memory-mb", "96"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ran out of memory: it tried to grow past its 96 MiB limit"),
        "{}",
        stderr(&out)
    );
    let out = test(&["--set", "mode=\"sideways\""]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("mode = 'sideways': use one of raise, hog, sum"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rule_new_scaffolds_a_python_rule_that_tests_builds_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(cw(dir.path()).args(["rule", "new", "big-days-py", "--lang", "python"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let app = dir.path().join("big-days-py");
    // Self-contained: its helpers and interface are in the folder.
    python_unittests(&app, &[]);
    let wasm = python_plugin(&app, &app.join("wit"), &[], "big_days_py");
    let out = run(cw(dir.path())
        .args(["rule", "test"])
        .arg(&wasm)
        .arg("--data")
        .arg(demo_data())
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = alerts(&out);
    assert!(
        found
            .iter()
            .any(|a| a["rule"] == "big-days-py" && a["usage_type"] == "USE1-NatGateway-Bytes"),
        "{found:?}"
    );
}
