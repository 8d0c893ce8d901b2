//! `costwatch backtest`: replay the daily job over a date range.

use super::{Cli, Format, Input, open_job};
use crate::error::EXIT_OK;
use crate::model::money;
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
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&alerts)?),
        Format::Text => {
            for a in &alerts {
                println!(
                    "{}  {:<8} {:<9} {}  ({}/month)",
                    a.day,
                    a.severity.as_str(),
                    a.rule,
                    a.message,
                    money(a.monthly_impact)
                );
            }
            println!(
                "{} alert(s) from {} to {}",
                alerts.len(),
                args.from,
                args.to
            );
        }
    }
    Ok(EXIT_OK)
}
