//! The Athena source: which periods changed, the cost guard, one query per period, and
//! each period's facts written in one transaction.

use super::AthenaConfig;
use super::partitions::{self, Partition, hex};
use super::query::{self, Runner};
use super::sql;
use super::table::{self, Table};
use crate::aws::{AwsConfig, Meter, s3_request_price};
use crate::ledger::{FileStamp, Ledger};
use crate::model::SourceStatus;
use crate::sources::files::SOURCE;
use crate::sources::{Source, SyncContext, Synced};
use anyhow::{Context, Result};
use costwatch_cur::{Projection, ReadOptions};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The CUR as an Athena table.
pub struct AthenaSource {
    settings: AthenaConfig,
    aws: AwsConfig,
    options: ReadOptions,
}

/// A partition to query, with its query and ledger stamp.
struct Due {
    partition: Partition,
    sql: String,
    stamp: FileStamp,
}

impl AthenaSource {
    /// The source of these settings, calling AWS through `aws`, keeping `tag_keys`' values.
    pub fn new(settings: AthenaConfig, aws: AwsConfig, tag_keys: &[String]) -> Self {
        Self {
            settings,
            aws,
            options: ReadOptions::new(tag_keys),
        }
    }

    async fn clients(
        &self,
        meter: &Arc<Meter>,
    ) -> Result<(aws_sdk_athena::Client, aws_sdk_s3::Client)> {
        let sdk = crate::aws::sdk_config(
            &self.aws,
            self.settings.region.as_deref(),
            self.settings.endpoint_url.as_deref(),
        )
        .await?;
        // Athena's requests are free; its queries are paid by the bytes they scan.
        let athena = aws_sdk_athena::Client::from_conf(
            aws_sdk_athena::config::Builder::from(&sdk)
                .interceptor(meter.interceptor(|_| 0.0))
                .build(),
        );
        let path_style = self.settings.endpoint_url.is_some() || self.aws.endpoint_url.is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(path_style)
                .interceptor(meter.interceptor(s3_request_price))
                .build(),
        );
        Ok((athena, s3))
    }

    /// The partitions whose objects or query changed since they were last read.
    fn due(
        &self,
        ledger: &Ledger,
        table: &Table,
        projection: &Projection,
        partitions: Vec<Partition>,
    ) -> Result<(Vec<Due>, usize)> {
        let mut due = Vec::new();
        let mut unchanged = 0;
        for partition in partitions {
            let sql = sql::query(table, projection, &partition.filter)?;
            let version = hex(&Sha256::digest(format!("{}\n{sql}", partition.version))[..12]);
            let stamp = FileStamp {
                path: match &partition.period {
                    Some(period) => format!("athena://{}/{period}", table.qualified()),
                    None => format!("athena://{}", table.qualified()),
                },
                version,
                periods: partition.period.iter().cloned().collect(),
            };
            if ledger.ingested_periods(&stamp)?.is_some() {
                unchanged += 1;
            } else {
                due.push(Due {
                    partition,
                    sql,
                    stamp,
                });
            }
        }
        Ok((due, unchanged))
    }

    async fn sync_async(&self, ledger: &Ledger, meter: &Arc<Meter>) -> Result<Synced> {
        let s = &self.settings;
        let (athena, s3) = self.clients(meter).await?;
        let table = table::load(&athena, &s.database, s.table.as_deref()).await?;
        table.check_location(s.location.as_deref())?;
        let projection = table.projection(&self.options.tag_keys)?;
        let format = table.format(&projection, s.format)?;
        let partitions = partitions::list(&s3, &table).await?;
        let found = partitions.len();
        let (due, unchanged) = self.due(ledger, &table, &projection, partitions)?;
        let runner = Runner {
            athena: &athena,
            s3: &s3,
            database: &table.database,
            workgroup: &s.workgroup,
            output_location: s.output_location.as_deref(),
            timeout: Duration::from_secs(s.query_timeout_secs.max(1)),
            options: &self.options,
            meter,
        };
        let mut notes = vec![format!(
            "{} table {}, {found} partition(s), {unchanged} unchanged",
            format.describe(),
            table.qualified()
        )];
        let (mut status, mut scanned, mut days) = (SourceStatus::Ok, 0u64, 0);
        let mut cost = 0.0;
        for Due {
            partition,
            sql,
            mut stamp,
        } in due
        {
            let what = partition.period.as_deref().unwrap_or("every period");
            if scanned + partition.bytes > s.max_bytes_scanned_per_run {
                status = SourceStatus::Partial;
                notes.push(format!(
                    "cost guard: {what} not queried, its objects ({}) would take the bytes scanned \
                     past max_bytes_scanned_per_run ({}); left for the next run",
                    bytes(partition.bytes),
                    bytes(s.max_bytes_scanned_per_run)
                ));
                break;
            }
            let done = runner
                .run(&sql)
                .await
                .with_context(|| format!("{}: {what}", table.qualified()))?;
            scanned += done.bytes_scanned;
            cost += query::cost(done.bytes_scanned);
            let mut periods: BTreeSet<String> = done.facts.billing_periods();
            periods.extend(partition.period.iter().cloned());
            stamp.periods = periods.into_iter().collect();
            days += ledger.replace_periods(
                SOURCE,
                &stamp.periods,
                &done.facts,
                std::slice::from_ref(&stamp),
            )?;
            notes.push(format!(
                "{what} replaced (query {}, {} scanned{})",
                done.id,
                bytes(done.bytes_scanned),
                if done.from_csv {
                    ", result read from S3"
                } else {
                    ""
                }
            ));
        }
        notes.push(format!("{} scanned, ${cost:.5} of queries", bytes(scanned)));
        Ok(Synced {
            status,
            detail: notes.join("; "),
            days_ingested: days,
        })
    }
}

impl Source for AthenaSource {
    fn name(&self) -> &str {
        "athena"
    }

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced> {
        ctx.runtime.block_on(self.sync_async(ledger, &ctx.meter))
    }
}

/// Bytes as people read them: `950 B`, `1.5 MB`, `12.0 GB` (powers of 1,000, as Athena bills).
fn bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_read_as_people_read_them() {
        assert_eq!(super::bytes(950), "950 B");
        assert_eq!(super::bytes(1_500_000), "1.5 MB");
        assert_eq!(super::bytes(100_000_000_000), "100.0 GB");
    }
}
