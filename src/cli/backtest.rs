//! `costwatch backtest`: replay the daily job over a date range.

use super::{Cli, Format, Input, open_job, print_alerts};
use crate::error::EXIT_OK;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub input: Input,
    /// First run date to replay.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: NaiveDate,
    /// Last run date to replay.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: NaiveDate,
    /// Output format: a table, or a JSON array of alerts (what ../shared/scenarios/score.py reads).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn execute(cli: &Cli, args: &BacktestArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    job.sync(chrono::Utc::now().date_naive(), true)?;
    let alerts = job.backtest(args.from, args.to)?;
    print_alerts(&alerts, args.format, args.from, args.to)?;
    Ok(EXIT_OK)
}
