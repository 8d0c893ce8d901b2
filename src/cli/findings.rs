//! `costwatch findings`, `ack` and `snooze`: what is open, and telling costwatch that a
//! finding (or a scope, for a while) is known: kept and reported, not sent.

use super::{Cli, Format, Input, open_job};
use crate::error::{EXIT_OK, Error};
use crate::ledger::Snooze;
use crate::model::money;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;

#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub input: Input,
    /// Only the open ones.
    #[arg(long)]
    pub open: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    #[command(flatten)]
    pub input: Input,
    /// The finding's id (as `costwatch findings` shows it).
    pub finding: i64,
    /// Until this day (default: for good).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<NaiveDate>,
    /// Why, for the report.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Args)]
pub struct SnoozeArgs {
    #[command(flatten)]
    pub input: Input,
    /// The scope: `ACCOUNT[/SERVICE[/USAGE_TYPE]]`, a part `*` or empty for any.
    pub scope: String,
    /// Until this day (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: NaiveDate,
    /// Why, for the report.
    #[arg(long, default_value = "")]
    pub note: String,
}

pub fn list(cli: &Cli, args: &FindingsArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    let findings = job.ledger.findings(args.open)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        Format::Text => {
            for f in &findings {
                let acked = match f.acked_until {
                    Some(d) if d == NaiveDate::MAX => " (acknowledged)".to_string(),
                    Some(d) => format!(" (acknowledged until {d})"),
                    None => String::new(),
                };
                println!(
                    "#{:<5} {:<8} {:<9} {:<8} {} / {} / {}  {}..{}  {}/month{acked}",
                    f.id,
                    f.status,
                    f.rule,
                    f.severity.as_str(),
                    f.account,
                    f.service_name,
                    f.usage_type,
                    f.first_day,
                    f.last_day,
                    money(f.monthly_impact)
                );
            }
            println!("{} finding(s)", findings.len());
        }
    }
    Ok(EXIT_OK)
}

pub fn ack(cli: &Cli, args: &AckArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    if !job
        .ledger
        .ack_finding(args.finding, args.until, &args.note)?
    {
        return Err(Error::config(format!("no finding #{}", args.finding)).into());
    }
    match args.until {
        Some(day) => println!("finding #{} acknowledged until {day}", args.finding),
        None => println!("finding #{} acknowledged", args.finding),
    }
    Ok(EXIT_OK)
}

pub fn snooze(cli: &Cli, args: &SnoozeArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    let mut parts = args.scope.splitn(3, '/').map(|p| match p.trim() {
        "*" => String::new(),
        p => p.to_string(),
    });
    let snooze = Snooze {
        account: parts.next().unwrap_or_default(),
        service_code: parts.next().unwrap_or_default(),
        usage_type: parts.next().unwrap_or_default(),
        until: args.until,
        note: args.note.clone(),
    };
    job.ledger.snooze(&snooze)?;
    println!("{} snoozed until {}", args.scope, args.until);
    Ok(EXIT_OK)
}
