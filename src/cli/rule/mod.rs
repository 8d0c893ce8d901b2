//! `costwatch rule`: write, test and list rules (built-in and WebAssembly plugins).

mod new;

use super::Cli;
use super::{Format, print_alerts};
use crate::config::Config;
use crate::error::{EXIT_FAILED, EXIT_OK, Error};
use crate::ledger::Ledger;
use crate::pipeline::Job;
use crate::rules::RuleConfig;
use crate::rules::wasm::PluginRule;
use crate::rules::{self, wasm};
use crate::sources::files::FilesConfig;
use anyhow::Result;
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
    /// Scaffold a rule plugin (a Rust crate, or a Python app built with componentize-py) that
    /// builds and passes its own tests as created.
    New(new::NewArgs),
    /// Run a plugin alone over billing files, day by day as the daily run would, and print its alerts.
    Test(TestArgs),
    /// Show the configured rules with version and source.
    List(ListArgs),
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
        RuleCommand::New(a) => new::new(a),
        RuleCommand::Test(a) => test(cli, a),
        RuleCommand::List(a) => list(a),
    }
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
            "{:<20} {:<8} plugin {}{state}\n    {}\n    {} plugin for {}\n    needs: {}\n    loaded {} in {:.2} ms; an instance takes {:.1} MiB before any data",
            rules::Rule::id(&plugin),
            rules::Rule::version(&plugin),
            plugin.path().display(),
            rules::Rule::description(&plugin),
            plugin.language().name(),
            plugin.interface(),
            plugin.needs(),
            if load.from_cache {
                "from the compile cache"
            } else {
                "and compiled (now cached)"
            },
            load.elapsed.as_secs_f64() * 1e3,
            plugin.memory().0 as f64 / f64::from(1 << 20),
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
