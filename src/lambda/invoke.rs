//! One invocation: the daily job on a downloaded copy of the ledger, stored back only if no
//! other invocation stored one in between, and the digests sent only by the invocation whose
//! ledger was stored.
//!
//! Sending comes after storing, never before: the run queues its digests and claims them (the
//! claim is in the ledger it uploads), then uploads conditionally. An invocation that loses
//! the upload has sent nothing; it downloads the winner's ledger and runs again on it, where
//! the winner's findings and claimed digests are, so it neither re-alerts nor sends them.
//! The winner sends what it claimed, then stores the outcome (delivered, or pending again
//! after a failure) with the run's record; if another invocation stored a ledger meanwhile,
//! the outcome is applied to that one. A claim is taken over only after [`CLAIM_TTL`], when
//! its invocation has certainly ended: if that one died between sending and storing, that
//! digest is sent again (the only way a digest goes out twice).

use super::store::{Store, Upload};
use super::{ConfigSource, Event, Settings};
use crate::alerts::delivery::{self, Delivery};
use crate::aws::Meter;
use crate::config::Config;
use crate::ledger::Ledger;
use crate::pipeline::{self, Job, RunSummary};
use anyhow::{Context, Result, bail};
use chrono::{TimeDelta, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs of the job on a newer ledger before an invocation gives up.
pub const MAX_RUNS: u32 = 3;
/// How long a claim on a digest holds: longer than a Lambda function may run (15 minutes).
pub const CLAIM_TTL: TimeDelta = TimeDelta::minutes(20);
/// Uploads of a delivery outcome before giving up (each after a newer ledger appeared).
const MAX_RECORDS: u32 = 5;

/// What an invocation returns: the run summary, and how the ledger was stored.
#[derive(Debug, Serialize)]
pub struct Invocation {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub ledger: LedgerReport,
}

/// How the ledger object was read and written.
#[derive(Debug, Serialize)]
pub struct LedgerReport {
    /// `s3://bucket/key`.
    pub location: String,
    /// Its ETag after this invocation.
    pub etag: String,
    /// Runs of the job: more than one when another invocation stored a ledger first.
    pub runs: u32,
    /// The S3 operations on the ledger and config objects, with their attempts.
    pub operations: BTreeMap<String, u32>,
}

/// Runs the daily job for the event's date (today by default) on the ledger in S3.
/// `request_id` (the Lambda request id) names this invocation's claims and working folder.
pub fn invoke(settings: &Settings, event: &Event, request_id: &str) -> Result<Invocation> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let meter = Arc::new(Meter::default());
    let store = runtime.block_on(Store::connect(
        &settings.aws,
        settings.ledger.clone(),
        &meter,
    ))?;
    let config = match &settings.config {
        ConfigSource::Inline(text) => Config::from_text(text, "the configuration", &cwd())?,
        ConfigSource::S3(object) => {
            let text = runtime.block_on(store.read_text(object))?;
            Config::from_text(&text, &object.to_string(), &cwd())?
        }
    };
    let work = WorkDir::new(&settings.work_dir.join(sanitize(request_id)))?;
    let local = work.0.join("costwatch.db");
    let date = event.date.unwrap_or_else(|| Utc::now().date_naive());
    for run in 1..=MAX_RUNS {
        let etag = runtime.block_on(store.download(&local))?;
        let (mut summary, run_id, claimed) = {
            let job = Job::new(config.clone(), Ledger::open(&local)?)?;
            let (summary, run_id) = job.evaluate(date, false)?;
            let now = Utc::now();
            let claimed = delivery::claim_due(
                &job.ledger,
                &config.alerts,
                &config.aws,
                request_id,
                now,
                now - CLAIM_TTL,
            )?;
            (
                summary,
                run_id.context("a run that is no dry run has a record")?,
                claimed,
            )
        };
        let won = match runtime.block_on(store.upload(&local, etag.as_deref()))? {
            Upload::Won(etag) => etag,
            Upload::Lost => {
                tracing::warn!(
                    run,
                    ledger = %store.location,
                    "another invocation stored the ledger first: running again on its ledger"
                );
                continue;
            }
        };
        let deliveries = delivery::send(
            &claimed,
            &config.alerts,
            &config.routes,
            &config.aws,
            &runtime,
        )?;
        summary.deliveries = deliveries.clone();
        let etag = record(&runtime, &store, &local, won, &deliveries, run_id, &summary)?;
        return Ok(Invocation {
            summary,
            ledger: LedgerReport {
                location: store.location.to_string(),
                etag,
                runs: run,
                operations: meter.operations(),
            },
        });
    }
    bail!(
        "the ledger {} was stored by other invocations {MAX_RUNS} times while this one ran; \
         nothing of this invocation was kept and nothing was sent: invoke it again",
        store.location
    )
}

/// Stores the deliveries' outcome and the run's record: on the ledger just uploaded (`etag`),
/// or on a newer one another invocation stored since. Returns the final ETag.
fn record(
    runtime: &tokio::runtime::Runtime,
    store: &Store,
    local: &Path,
    mut etag: String,
    deliveries: &[Delivery],
    run_id: i64,
    summary: &RunSummary,
) -> Result<String> {
    for _ in 0..MAX_RECORDS {
        {
            let ledger = Ledger::open(local)?;
            delivery::record(&ledger, deliveries)?;
            pipeline::finish(&ledger, run_id, summary)?;
        }
        match runtime.block_on(store.upload(local, Some(&etag)))? {
            Upload::Won(new) => return Ok(new),
            Upload::Lost => {
                etag = runtime
                    .block_on(store.download(local))?
                    .context("the ledger object was deleted while this invocation ran")?;
            }
        }
    }
    bail!(
        "the ledger {} kept changing: the outcome of the digests sent ({}) was not stored; \
         they stay claimed until {} minutes have passed",
        store.location,
        deliveries.len(),
        CLAIM_TTL.num_minutes()
    )
}

/// The folder relative config paths are taken from (the function's code on Lambda).
fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// A request id as a folder name.
fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// An invocation's working folder, removed when it ends.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path.to_path_buf()))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
