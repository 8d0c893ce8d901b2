//! `costwatch sync`: ingest only.

use super::{Cli, Input, open_job};
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub input: Input,
}

pub fn execute(cli: &Cli, args: &SyncArgs) -> Result<i32> {
    let (job, _lock) = open_job(cli, &args.input)?;
    for report in job.sync(chrono::Utc::now().date_naive(), true)? {
        println!(
            "{}: {} ({} day(s) ingested, {} API calls)",
            report.source, report.detail, report.days_ingested, report.api_calls
        );
    }
    Ok(crate::error::EXIT_OK)
}
