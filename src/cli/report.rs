//! `costwatch report`: one self-contained HTML page (charts inlined) of the alerts of a
//! range of run dates, the silenced ones among them, and the findings back to normal.

use super::{Cli, Input, open_job};
use crate::alerts::digest::{self, Images};
use crate::error::EXIT_OK;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: Input,
    /// First run date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: NaiveDate,
    /// Last run date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: NaiveDate,
    /// The HTML file to write.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

pub fn execute(cli: &Cli, args: &ReportArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    let alerts = job.ledger.alerts_between(args.from, args.to)?;
    let (silenced, sent): (Vec<_>, Vec<_>) =
        alerts.into_iter().partition(|a| a.reason == "silenced");
    let history = job.history(args.from, args.to)?;
    let series = |a: &crate::ledger::AlertRecord| job.chart_data(&history, a);
    let resolved = job
        .ledger
        .resolved_between(Some(args.from.pred_opt().unwrap_or(args.from)), args.to)?;
    let parts = digest::Parts {
        run_date: args.to,
        alerts: &sent,
        silenced: &silenced,
        resolved: &resolved,
        sources: &[],
        evaluated: true,
        notes: &[],
        problems: &[],
        series: &series,
    };
    let mut report = digest::build(&parts);
    report.subject = format!(
        "costwatch report {} to {}: {} alert{}",
        args.from,
        args.to,
        report.alerts.len(),
        if report.alerts.len() == 1 { "" } else { "s" }
    );
    let html = digest::html(&report, Images::Inline)?;
    std::fs::write(&args.out, html).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {}: {} alert(s), {} silenced, {} back to normal",
        args.out.display(),
        report.alerts.len(),
        report.silenced.len(),
        report.resolved.len()
    );
    Ok(EXIT_OK)
}
