//! `costwatch rule`: write, test and list rules (built-in and WebAssembly plugins).

use super::Cli;
use super::Format;
use crate::config::Config;
use crate::error::{EXIT_FAILED, EXIT_OK, Error};
use crate::ledger::Ledger;
use crate::model::money;
use crate::pipeline::Job;
use crate::rules::RuleConfig;
use crate::rules::wasm::PluginRule;
use crate::rules::{self, wasm};
use crate::sources::files::FilesConfig;
use anyhow::{Context as _, Result};
use chrono::{Days, NaiveDate};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct RuleArgs {
    #[command(subcommand)]
    pub command: RuleCommand,
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Scaffold a rule plugin crate that builds with `cargo build --target wasm32-wasip2 --release`.
    New(NewArgs),
    /// Run a plugin alone over billing files, day by day as the daily run would, and print its alerts.
    Test(TestArgs),
    /// Show the configured rules with version and source.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Rule id and crate name: lower-case letters, digits and dashes.
    pub name: String,
    /// Folder to create (default: ./NAME).
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// The costwatch-rule SDK crate to depend on (default: the one this costwatch was built from).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The plugin: a `.wasm` component.
    pub plugin: PathBuf,
    /// A CUR or FOCUS file, or a folder of them.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub data: PathBuf,
    /// First run date to replay (default: two weeks after the first day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Last run date to replay (default: the day after the last day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// A setting of the rule's `config` table, as TOML (`--set min_daily=5`); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Time limit of one plugin call.
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Memory limit of a plugin instance.
    #[arg(long, value_name = "MIB")]
    pub memory_mb: Option<u64>,
    /// Output format: a table, or a JSON array of alerts (the objects `backtest` prints).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Config file (default: ./costwatch.toml when present, else the built-in rules).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

pub fn execute(cli: &Cli, args: &RuleArgs) -> Result<i32> {
    match &args.command {
        RuleCommand::New(a) => new(a),
        RuleCommand::Test(a) => test(cli, a),
        RuleCommand::List(a) => list(a),
    }
}

fn new(args: &NewArgs) -> Result<i32> {
    let name = args.name.as_str();
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        return Err(Error::config(format!(
            "rule name {name:?}: use lower-case letters, digits and dashes, starting with a letter"
        ))
        .into());
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(
            Error::config(format!("{} already exists and is not empty", dir.display())).into(),
        );
    }
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/costwatch-rule"),
    };
    if !sdk.join("Cargo.toml").exists() {
        return Err(Error::config(format!(
            "the costwatch-rule SDK is not at {}: pass --sdk PATH (crates/costwatch-rule in costwatch's source)",
            sdk.display()
        ))
        .into());
    }
    let sdk = sdk.canonicalize().unwrap_or(sdk);
    let type_name: String = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let files = [
        (
            "Cargo.toml",
            SCAFFOLD_CARGO
                .replace("{name}", name)
                .replace("{sdk}", &sdk.display().to_string().replace('\\', "/")),
        ),
        (
            "src/lib.rs",
            SCAFFOLD_LIB
                .replace("{name}", name)
                .replace("MyRule", &type_name),
        ),
        (
            "README.md",
            SCAFFOLD_README
                .replace("{name}", name)
                .replace("{file}", &name.replace('-', "_")),
        ),
        (".gitignore", "/target\n".to_string()),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created rule plugin {name} in {}\n  test:  cd {} && cargo test\n  build: cargo build --target wasm32-wasip2 --release\n  try:   costwatch rule test target/wasm32-wasip2/release/{}.wasm --data CUR_FILE_OR_DIR",
        dir.display(),
        dir.display(),
        name.replace('-', "_")
    );
    Ok(EXIT_OK)
}

fn test(cli: &Cli, args: &TestArgs) -> Result<i32> {
    let mut config = Config::default();
    config.sources.files = Some(FilesConfig {
        paths: vec![args.data.clone()],
    });
    let mut table = toml::Table::new();
    for setting in &args.settings {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| Error::config(format!("--set {setting:?}: write KEY=VALUE")))?;
        let value: toml::Value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        table.insert(key.trim().to_string(), value);
    }
    config.rules = vec![RuleConfig {
        builtin: None,
        plugin: Some(args.plugin.clone()),
        timeout_ms: args.timeout_ms,
        memory_mb: args.memory_mb,
        enabled: true,
        config: table,
        line: 0,
    }];
    // A throwaway ledger (or --ledger): the test keeps nothing.
    let scratch = std::env::temp_dir().join(format!("costwatch-rule-test-{}", std::process::id()));
    let ledger_path = match &cli.ledger {
        Some(path) => path.clone(),
        None => {
            std::fs::create_dir_all(&scratch)?;
            scratch.join("ledger.db")
        }
    };
    let result = (|| {
        let ledger = Ledger::open(&ledger_path)?;
        let job = Job::new(config, ledger)?;
        job.sync(chrono::Utc::now().date_naive(), true)?;
        let Some((first, last)) = job.ledger.day_range()? else {
            return Err(Error::input(format!("no billing data in {}", args.data.display())).into());
        };
        let from = args.from.unwrap_or(first + Days::new(14));
        let to = args.to.unwrap_or(last + Days::new(1));
        let report = job.backtest_report(from, to)?;
        print_alerts(&report.alerts, args.format, from, to)?;
        for (day, failure) in &report.failures {
            eprintln!("rule {} failed on {day}: {}", failure.rule, failure.error);
        }
        Ok(if report.failures.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        })
    })();
    if cli.ledger.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    result
}

fn print_alerts(
    alerts: &[crate::ledger::AlertRecord],
    format: Format,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(alerts)?),
        Format::Text => {
            for a in alerts {
                println!(
                    "{}  {:<8} {:<9} {}  ({}/month)",
                    a.day,
                    a.severity.as_str(),
                    a.rule,
                    a.message,
                    money(a.monthly_impact)
                );
            }
            println!("{} alert(s) from {from} to {to}", alerts.len());
        }
    }
    Ok(())
}

fn list(args: &ListArgs) -> Result<i32> {
    let default = Path::new("costwatch.toml");
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None if default.exists() => Config::load(default)?,
        None => Config::default(),
    };
    if config.rules.is_empty() {
        for rule in rules::from_entries(&config.rules).map_err(Error::config)? {
            println!(
                "{:<20} {:<8} {:<10} {}",
                rule.id(),
                rule.version(),
                rule.source(),
                rule.description()
            );
        }
        return Ok(EXIT_OK);
    }
    for entry in &config.rules {
        let state = if entry.enabled { "" } else { "  (disabled)" };
        if entry.plugin.is_none() {
            let rule = rules::from_entry(entry).map_err(Error::config)?;
            println!(
                "{:<20} {:<8} {:<10} {}{state}",
                rule.id(),
                rule.version(),
                rule.source(),
                rule.description()
            );
            continue;
        }
        let plugin = PluginRule::from_entry(entry).map_err(Error::config)?;
        let load = plugin.load;
        println!(
            "{:<20} {:<8} plugin {}{state}\n    {}\n    needs: {}\n    loaded {} in {:.2} ms",
            rules::Rule::id(&plugin),
            rules::Rule::version(&plugin),
            plugin.path().display(),
            rules::Rule::description(&plugin),
            plugin.needs(),
            if load.from_cache {
                "from the compile cache"
            } else {
                "and compiled (now cached)"
            },
            load.elapsed.as_secs_f64() * 1e3,
        );
        for s in plugin.settings() {
            let value = entry
                .config
                .get(&s.name)
                .map(|v| format!("{v} (default {})", s.default_value))
                .unwrap_or_else(|| s.default_value.clone());
            println!(
                "    config.{} = {value}  [{}] {}",
                s.name, s.kind, s.description
            );
        }
    }
    println!("plugin cache: {}", wasm::cache_dir().display());
    Ok(EXIT_OK)
}

const SCAFFOLD_CARGO: &str = r#"[package]
name = "{name}"
description = "A costwatch rule plugin"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the plugin (a WebAssembly component on wasm32-wasip2); rlib: for `cargo test`.
crate-type = ["cdylib", "rlib"]

[dependencies]
costwatch-rule = { path = "{sdk}" }

# A workspace of its own, wherever it sits.
[workspace]

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = true
"#;

const SCAFFOLD_LIB: &str = r#"//! {name}: a costwatch rule plugin.
//!
//! Build: `cargo build --target wasm32-wasip2 --release`
//! Try:   `costwatch rule test target/wasm32-wasip2/release/<crate>.wasm --data CUR_FILE_OR_DIR`

use costwatch_rule::stats::{median, trailing_before};
use costwatch_rule::*;

/// A day well above the median of the days before it.
pub struct MyRule {
    window_days: usize,
    ratio: f64,
    min_daily: f64,
}

impl Rule for MyRule {
    fn info() -> Info {
        Info::new(
            "{name}",
            env!("CARGO_PKG_VERSION"),
            "a day well above the median of the days before it",
        )
        .history_days(90)
    }

    fn from_config(c: &mut Config) -> Result<Self, RuleError> {
        Ok(Self {
            window_days: c.days("window_days", 28, "days before the evaluated day that form the baseline")?
                as usize,
            ratio: c.number("ratio", 3.0, "fire when the day costs this many times the baseline")?,
            min_daily: c.number("min_daily", 10.0, "ignore days cheaper than this (dollars)")?,
        })
    }

    fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        let mut findings = Vec::new();
        for s in batch {
            let today = s.last();
            let base = median(trailing_before(&s.amounts, 1, self.window_days));
            if today >= self.min_daily && base > 0.0 && today >= self.ratio * base {
                let message = format!(
                    "{} cost {} on {}, {:.1}× its usual {}",
                    s.key.label(),
                    money(today),
                    ctx.day,
                    today / base,
                    money(base)
                );
                findings.push(
                    Finding::new(&s.key, Severity::Warning, today, base, message).score(today / base),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(MyRule);

#[cfg(test)]
mod tests {
    use super::*;

    fn series(amounts: Vec<f64>) -> Series {
        Series {
            key: SeriesKey {
                account: "111122223333".into(),
                service: "AmazonEC2".into(),
                service_name: "Amazon Elastic Compute Cloud".into(),
                usage_type: "USE1-BoxUsage:m5.large".into(),
                region: "us-east-1".into(),
            },
            amounts,
        }
    }

    #[test]
    fn fires_on_a_big_day_only() {
        let rule = MyRule::from_config(&mut Config::new(Vec::new())).unwrap();
        let ctx = Context { day: "2026-03-18".into(), weekday: 2, config: Vec::new() };
        let mut amounts = vec![20.0; 60];
        assert!(rule.evaluate(&ctx, &[series(amounts.clone())]).unwrap().is_empty());
        amounts.push(100.0);
        let found = rule.evaluate(&ctx, &[series(amounts)]).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("5.0×"), "{}", found[0].message);
    }

    #[test]
    fn rejects_unknown_settings() {
        let mut config = Config::new(vec![("ratoi".into(), "2".into())]);
        MyRule::from_config(&mut config).unwrap();
        assert!(config.finish().is_err());
    }
}
"#;

const SCAFFOLD_README: &str = r#"# {name}

A costwatch rule plugin (interface `costwatch:rule@0.1.0`).

    cargo test                                          # the rule's own tests, natively
    cargo build --target wasm32-wasip2 --release        # the plugin
    costwatch rule test target/wasm32-wasip2/release/*.wasm --data CUR_FILE_OR_DIR

Use it in costwatch.toml:

    [[rules]]
    plugin = "path/to/{file}.wasm"
    config = { ratio = 3.0 }
"#;
