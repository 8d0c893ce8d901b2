//! Command-line interface: one module per subcommand.

mod backtest;
mod budgets;
mod deploy;
mod findings;
mod iam_policy;
mod init;
mod outbox;
mod report;
mod rule;
mod run;
mod schedule;
mod sync;

use crate::config::Config;
use crate::error::Error;
use crate::ledger::{AlertRecord, Ledger};
use crate::lock::LedgerLock;
use crate::logging::LogFormat;
use crate::model::money;
use crate::pipeline::Job;
use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// costwatch: an AWS cost and budget watchdog. It ingests billing data into a local ledger,
/// runs anomaly rules over it every day and sends a digest of what needs attention.
#[derive(Debug, Parser)]
#[command(name = "costwatch", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// SQLite ledger file (default: the config's `ledger`, else ./costwatch.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 run failed (a source, rule or delivery failed), 2 bad usage, \
                          3 configuration error, 4 another costwatch holds the ledger, 5 unreadable billing data, \
                          6 budgets plan: changes pending.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented costwatch.toml to start from.
    Init(init::InitArgs),
    /// Run the daily job: ingest, evaluate rules, open/update findings, queue and deliver the digest.
    Run(run::RunArgs),
    /// Only ingest: bring the ledger up to date from the sources.
    Sync(sync::SyncArgs),
    /// Replay the daily job over a date range and print the alerts it would have sent.
    Backtest(backtest::BacktestArgs),
    /// Write, test and list rules (built-in and WebAssembly plugins).
    Rule(rule::RuleArgs),
    /// Write one self-contained HTML page of the alerts of a range of run dates.
    Report(report::ReportArgs),
    /// List, retry or drop the digests waiting in the outbox.
    Outbox(outbox::OutboxArgs),
    /// List findings (open and resolved).
    Findings(findings::FindingsArgs),
    /// Acknowledge a finding: kept and reported, not sent (until a day, or for good).
    Ack(findings::AckArgs),
    /// Snooze a scope until a day: its findings are kept and reported, not sent.
    Snooze(findings::SnoozeArgs),
    /// AWS Budgets as code: plan, apply and import the [[budgets]] of the config and the
    /// budgets findings propose.
    Budgets(budgets::BudgetsArgs),
    /// Print the least-privilege IAM policy for what the config uses.
    IamPolicy(iam_policy::IamPolicyArgs),
    /// Print how to run the daily job on a schedule: systemd, cron, Kubernetes, EventBridge.
    Schedule(schedule::ScheduleArgs),
    /// Print how to deploy costwatch (an AWS Lambda function with its ledger in S3).
    Deploy(deploy::DeployArgs),
}

/// Where configuration and data come from; shared by the commands that open the ledger
/// (global: `costwatch outbox list --config X` works as well as `outbox --config X list`).
#[derive(Debug, Args)]
pub struct Input {
    /// Config file (default: ./costwatch.toml when present).
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// A CUR or FOCUS file, or a folder of them, used as the only source (no config needed);
    /// repeat it for several.
    #[arg(long, value_name = "PATH", global = true)]
    pub data: Vec<PathBuf>,
}

/// Output format of a command's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl Cli {
    /// Runs the chosen subcommand; the returned code is the process exit code.
    pub fn execute(self) -> Result<i32> {
        match &self.command {
            Command::Init(args) => init::execute(args),
            Command::Run(args) => run::execute(&self, args),
            Command::Sync(args) => sync::execute(&self, args),
            Command::Backtest(args) => backtest::execute(&self, args),
            Command::Rule(args) => rule::execute(&self, args),
            Command::Report(args) => report::execute(&self, args),
            Command::Outbox(args) => outbox::execute(&self, args),
            Command::Findings(args) => findings::list(&self, args),
            Command::Ack(args) => findings::ack(&self, args),
            Command::Snooze(args) => findings::snooze(&self, args),
            Command::Budgets(args) => budgets::execute(&self, args),
            Command::IamPolicy(args) => iam_policy::execute(args),
            Command::Schedule(args) => schedule::execute(&self, args),
            Command::Deploy(args) => deploy::execute(args),
        }
    }
}

/// Loads the config (or defaults for `--data`), takes the ledger lock and opens the job.
fn open_job(cli: &Cli, input: &Input) -> Result<(Job, LedgerLock)> {
    let mut config = if input.config.is_none() && !input.data.is_empty() {
        Config::default()
    } else {
        load_config(input.config.as_deref())?
    };
    if !input.data.is_empty() {
        config.sources.files = Some(crate::sources::files::FilesConfig {
            paths: input.data.clone(),
        });
    }
    let ledger_path = ledger_path(cli, &config);
    let lock = LedgerLock::acquire(&ledger_path)?;
    let ledger = Ledger::open(&ledger_path)?;
    Ok((Job::new(config, ledger)?, lock))
}

/// The config at `path`, else ./costwatch.toml.
fn load_config(path: Option<&Path>) -> Result<Config> {
    let default_config = Path::new("costwatch.toml");
    match path {
        Some(path) => Ok(Config::load(path)?),
        None if default_config.exists() => Ok(Config::load(default_config)?),
        None => Err(Error::config(
            "no configuration: pass --config PATH or --data PATH (or write one with `costwatch init`)",
        )
        .into()),
    }
}

/// `--ledger`, else the config's `ledger`, else ./costwatch.db.
fn ledger_path(cli: &Cli, config: &Config) -> PathBuf {
    cli.ledger
        .clone()
        .or_else(|| config.ledger.clone())
        .unwrap_or_else(|| "costwatch.db".into())
}

/// Prints alerts as a table with a count line, or as a JSON array (what
/// ../shared/scenarios/score.py reads).
fn print_alerts(
    alerts: &[AlertRecord],
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
