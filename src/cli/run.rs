//! `costwatch run`: the daily job.

use super::{Cli, Format, Input, open_job};
use crate::error::{EXIT_FAILED, EXIT_OK};
use crate::model::money;
use crate::pipeline::{CatchUp, RunSummary};
use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: Input,
    /// The run's date (default: today, UTC); the newest complete billing day before it is evaluated.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Ingest and evaluate, print what would be sent, but keep no findings and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the run summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn execute(cli: &Cli, args: &RunArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    let date = args.date.unwrap_or_else(|| Utc::now().date_naive());
    let summary = job.run(date, args.dry_run)?;
    match args.format {
        Format::Text => print!("{}", render(&summary)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    Ok(if summary.failed() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// The catch-up lines of the summary: which missed run dates were replayed.
fn catch_up(c: &CatchUp) -> String {
    let mut out = format!(
        "  caught up: {} missed run date(s) since the last successful run on {}",
        c.days.len(),
        c.since
    );
    if c.skipped > 0 {
        out += &format!(
            " ({} older one(s) not replayed: max_catch_up_days)",
            c.skipped
        );
    }
    out += "\n";
    for d in &c.days {
        let day = d
            .evaluated_day
            .map_or("no complete billing day".to_string(), |day| {
                format!("billing day {day}")
            });
        out += &format!("    {}: {day}, {} alert(s)\n", d.run_date, d.alerts.len());
    }
    out
}

/// The human-readable run summary.
fn render(s: &RunSummary) -> String {
    let mut out = format!(
        "costwatch run for {}{}\n",
        s.run_date,
        if s.dry_run { " (dry run)" } else { "" }
    );
    for src in &s.sources {
        let throttled = match src.throttled {
            0 => String::new(),
            n => format!(" ({n} throttled)"),
        };
        out += &format!(
            "  source {:<8} {:<6} {} day(s) ingested, {} API call(s){throttled}: {}\n",
            src.source,
            src.status.as_str(),
            src.days_ingested,
            src.api_calls,
            src.detail
        );
    }
    out += &format!(
        "  API calls: {} in total, {}\n",
        s.api_calls(),
        money(s.sources.iter().map(|src| src.cost).sum())
    );
    if let Some(c) = &s.catch_up {
        out += &catch_up(c);
    }
    match s.evaluated_day {
        Some(day) => {
            out += &format!(
                "  evaluated: billing day {day}, {} series, {} rule(s)\n",
                s.series_evaluated, s.rules_run
            )
        }
        None => {
            out += "  evaluated: nothing — no complete billing day within the allowed data lag\n"
        }
    }
    if let Some(forecast) = &s.forecast {
        out += &format!(
            "  forecast:  {}\n",
            crate::pipeline::forecast_note(forecast)
        );
    }
    if let Some(learning) = &s.learning {
        out += &format!("  {learning}\n");
    }
    if !s.rule_timings.is_empty() {
        let times: Vec<String> = (s.rule_timings.iter())
            .map(|t| format!("{} {:.2}s", t.rule, t.seconds))
            .collect();
        out += &format!("  rule time: {}\n", times.join(", "));
    }
    for f in &s.rule_failures {
        out += &format!("  rule {} FAILED: {}\n", f.rule, f.error);
    }
    out += &format!(
        "  alerts:    {} new or escalated, {} finding(s) updated, {} resolved\n",
        s.alerts.len(),
        s.findings_updated,
        s.findings_resolved
    );
    for a in &s.alerts {
        out += &format!(
            "    [{}] {} (impact {}/month)\n",
            a.severity.as_str(),
            a.message,
            money(a.monthly_impact)
        );
    }
    if let Some(done) = &s.budgets {
        out += &format!("  budgets:   {done}\n");
    }
    if let Some(e) = &s.budgets_error {
        out += &format!("  budgets:   FAILED: {e}\n");
    }
    if s.dry_run {
        out += "  digest:    not queued (dry run)\n";
    } else if s.deliveries.is_empty() {
        out += "  digest:    nothing to send\n";
    }
    for d in &s.deliveries {
        let id = d.outbox_id;
        match &d.result {
            Ok(to) => out += &format!("  digest:    #{id} delivered to {to}\n"),
            Err(e) => {
                out += &format!(
                    "  digest:    #{id} NOT delivered by {}, kept in the outbox for a later run: {e}\n",
                    d.channel
                )
            }
        }
    }
    if !s.silenced.is_empty() {
        out += &format!(
            "  silenced:  {} alert(s) kept, not sent (costwatch findings, costwatch report)\n",
            s.silenced.len()
        );
    }
    out
}
