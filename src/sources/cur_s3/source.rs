//! Downloading a new assembly's files and replacing its billing period's facts.

use super::CurS3Config;
use super::discover::{Assembly, discover};
use crate::aws::{AwsConfig, Meter, download, s3_request_price};
use crate::ledger::Ledger;
use crate::model::{SeriesFacts, SourceStatus};
use crate::sources::files::SOURCE;
use crate::sources::{Source, SyncContext, Synced};
use anyhow::{Context, Result};
use aws_sdk_s3::Client;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// CUR / Data Exports / FOCUS exports in an S3 bucket.
pub struct CurS3Source {
    settings: CurS3Config,
    aws: AwsConfig,
    options: costwatch_cur::ReadOptions,
}

impl CurS3Source {
    /// The source of these settings, calling AWS through `aws`, keeping `tag_keys`' values.
    pub fn new(settings: CurS3Config, aws: AwsConfig, tag_keys: &[String]) -> Self {
        Self {
            settings,
            aws,
            options: costwatch_cur::ReadOptions::new(tag_keys),
        }
    }

    async fn client(&self, meter: &Arc<Meter>) -> Result<Client> {
        let sdk = crate::aws::sdk_config(
            &self.aws,
            self.settings.region.as_deref(),
            self.settings.endpoint_url.as_deref(),
        )
        .await?;
        let path_style = self.settings.endpoint_url.is_some() || self.aws.endpoint_url.is_some();
        Ok(Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(path_style)
                .interceptor(meter.interceptor(s3_request_price))
                .build(),
        ))
    }

    async fn sync_async(&self, ledger: &Ledger, meter: &Arc<Meter>) -> Result<Synced> {
        let bucket = &self.settings.bucket;
        let client = self.client(meter).await?;
        let assemblies = discover(&client, bucket, &self.settings.base()).await?;
        let mut notes = Vec::new();
        let mut days = 0;
        let todo: Vec<&Assembly> = assemblies
            .iter()
            .filter(|a| {
                ledger
                    .ingested_periods(&a.stamp(bucket))
                    .map(|p| p.is_none())
                    .unwrap_or(true)
            })
            .collect();
        if todo.is_empty() {
            notes.push(format!(
                "{} assembl{} found, none new",
                assemblies.len(),
                if assemblies.len() == 1 { "y" } else { "ies" }
            ));
        }
        for assembly in todo {
            let dir = scratch_dir()?;
            let result = self.ingest(&client, ledger, assembly, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            days += result?;
            notes.push(format!(
                "{} assembly {} ({} file(s)) replaced",
                assembly.period,
                assembly.id,
                assembly.data_keys.len()
            ));
        }
        Ok(Synced {
            status: SourceStatus::Ok,
            detail: notes.join("; "),
            days_ingested: days,
        })
    }

    /// Downloads one assembly's files, reads them and replaces its billing period.
    /// The next file downloads while one is read, so network and processors work at once;
    /// at most two files are on disk.
    async fn ingest(
        &self,
        client: &Client,
        ledger: &Ledger,
        assembly: &Assembly,
        dir: &Path,
    ) -> Result<usize> {
        let bucket = &self.settings.bucket;
        let keys = &assembly.data_keys;
        let name = |i: usize| keys[i].rsplit('/').next().unwrap_or("part");
        let local = |i: usize| dir.join(format!("{i:05}-{}", name(i)));
        let bar = progress(keys.len() as u64, &assembly.period);
        let mut facts = SeriesFacts::default();
        let mut periods = BTreeSet::from([assembly.period.clone()]);
        if !keys.is_empty() {
            download(client, bucket, &keys[0], &local(0)).await?;
        }
        for i in 0..keys.len() {
            if let Some(bar) = &bar {
                bar.set_message(format!("reading {}", name(i)));
            }
            let read = tokio::task::spawn_blocking({
                let (path, options) = (local(i), self.options.clone());
                move || costwatch_cur::read_file(&path, &options)
            });
            let next = async {
                match keys.get(i + 1) {
                    Some(key) => download(client, bucket, key, &local(i + 1)).await,
                    None => Ok(()),
                }
            };
            let (read, next) = tokio::join!(read, next);
            let file_facts = read
                .context("reader thread")?
                .map_err(|e| e.at(format!("s3://{bucket}/{}", keys[i])))?;
            next?;
            let _ = std::fs::remove_file(local(i));
            periods.extend(file_facts.billing_periods());
            facts.merge(file_facts);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let periods: Vec<String> = periods.into_iter().collect();
        let mut stamp = assembly.stamp(bucket);
        stamp.periods = periods.clone();
        ledger.replace_periods(SOURCE, &periods, &facts, &[stamp])
    }
}

impl Source for CurS3Source {
    fn name(&self) -> &str {
        "cur_s3"
    }

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced> {
        ctx.runtime.block_on(self.sync_async(ledger, &ctx.meter))
    }
}

fn progress(len: u64, period: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(format!("CUR {period}"));
    Some(bar)
}

fn scratch_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "costwatch-cur-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
