//! `costwatch outbox list|retry|drop`: the digests waiting for a channel, and what to do
//! about one.

use super::{Cli, Format, Input, open_job};
use crate::error::{EXIT_FAILED, EXIT_OK, Error};
use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(flatten)]
    pub input: Input,
    #[command(subcommand)]
    pub action: OutboxAction,
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// The newest digests and each channel's delivery state.
    List {
        /// How many digests, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Deliver the pending digests now (every channel still pending).
    Retry,
    /// Give up a digest's pending deliveries.
    Drop {
        /// The digest's id (as `list` shows it).
        id: i64,
    },
}

pub fn execute(cli: &Cli, args: &OutboxArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    match &args.action {
        OutboxAction::List { limit, format } => {
            let mut rows = Vec::new();
            for entry in job.ledger.outbox(*limit)? {
                let deliveries = job.ledger.deliveries(entry.id)?;
                rows.push((entry, deliveries));
            }
            match format {
                Format::Json => {
                    let json: Vec<serde_json::Value> = (rows.iter())
                        .map(|(e, ds)| {
                            serde_json::json!({
                                "id": e.id, "run_date": e.run_date, "route": e.route,
                                "subject": e.subject,
                                "deliveries": ds.iter().map(|d| serde_json::json!({
                                    "channel": d.channel, "status": d.status,
                                    "attempts": d.attempts, "last_error": d.last_error,
                                    "delivered_to": d.delivered_to})).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&json)?);
                }
                Format::Text => {
                    for (e, ds) in &rows {
                        let route = if e.route.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", e.route)
                        };
                        println!("#{} {}{route} {}", e.id, e.run_date, e.subject);
                        for d in ds {
                            let detail = d
                                .delivered_to
                                .clone()
                                .or(d.last_error.clone())
                                .unwrap_or_default();
                            println!(
                                "    {:<8} {:<9} {} attempt(s) {detail}",
                                d.channel, d.status, d.attempts
                            );
                        }
                    }
                }
            }
            Ok(EXIT_OK)
        }
        OutboxAction::Retry => {
            let deliveries = job.deliver()?;
            for d in &deliveries {
                match &d.result {
                    Ok(to) => println!("#{} {}: delivered to {to}", d.outbox_id, d.channel),
                    Err(e) => println!("#{} {}: NOT delivered: {e}", d.outbox_id, d.channel),
                }
            }
            if deliveries.is_empty() {
                println!("nothing pending");
            }
            Ok(if deliveries.iter().any(|d| d.result.is_err()) {
                EXIT_FAILED
            } else {
                EXIT_OK
            })
        }
        OutboxAction::Drop { id } => {
            if !job.ledger.drop_digest(*id)? {
                return Err(Error::config(format!("no digest #{id} in the outbox")).into());
            }
            println!("#{id}: its pending deliveries are dropped");
            Ok(EXIT_OK)
        }
    }
}
