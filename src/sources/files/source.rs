//! Local CUR / FOCUS files: a file or folders of them, read incrementally.
//!
//! A file is re-read only when its size or modification time changed. Files are grouped by
//! billing period: when any file of a period changed, every file holding that period is read
//! again and the period's facts are replaced in one transaction.

use crate::error::Error;
use crate::ledger::{FileStamp, Ledger};
use crate::model::{SeriesFacts, SourceStatus};
use crate::sources::{Source, SyncContext, Synced};
use anyhow::Result;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

/// The ledger source name for CUR-derived facts (files here, S3 exports later).
pub const SOURCE: &str = "cur";

/// Billing files on the local disk.
pub struct FilesSource {
    paths: Vec<PathBuf>,
    options: costwatch_cur::ReadOptions,
}

impl FilesSource {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            options: costwatch_cur::ReadOptions::new(&[]),
        }
    }

    /// Keeps the values of these tag keys (e.g. `user:team`) in the daily facts.
    pub fn with_tag_keys(mut self, tag_keys: &[String]) -> Self {
        self.options = costwatch_cur::ReadOptions::new(tag_keys);
        self
    }
}

impl Source for FilesSource {
    fn name(&self) -> &str {
        "files"
    }

    fn sync(&self, ledger: &Ledger, _ctx: &SyncContext) -> Result<Synced> {
        let files = discover(&self.paths)?;
        let mut stamps = Vec::with_capacity(files.len());
        let mut changed = Vec::new();
        for path in &files {
            let stamp = stamp(path)?;
            if ledger.ingested_periods(&stamp)?.is_none() {
                changed.push(stamp.path.clone());
            }
            stamps.push(stamp);
        }
        let report = |detail: String, days_ingested| Synced {
            status: SourceStatus::Ok,
            detail,
            days_ingested,
        };
        if changed.is_empty() {
            return Ok(report(format!("{} file(s), none changed", files.len()), 0));
        }

        // One file at a time, written and dropped before the next is read, so memory is
        // that of one file. A billing period is replaced when the first file holding it is
        // written; the other files of the period (changed or not) are then summed into it.
        // All in one transaction: a bad file leaves the ledger as it was.
        let mut read = BTreeSet::new();
        let mut periods = BTreeSet::new();
        let mut days = rustc_hash::FxHashSet::default();
        let mut to_read: Vec<String> = changed.iter().rev().cloned().collect();
        ledger.in_transaction(true, |ledger| {
            while let Some(path) = to_read.pop() {
                if !read.insert(path.clone()) {
                    continue;
                }
                let started = Instant::now();
                let facts = costwatch_cur::read_file(Path::new(&path), &self.options)?;
                tracing::info!(file = %path, facts = facts.len(),
                    seconds = started.elapsed().as_secs_f64(), "read");
                let file_periods = facts.billing_periods();
                let stamp = stamps
                    .iter_mut()
                    .find(|s| s.path == path)
                    .expect("stamped above");
                stamp.periods = file_periods.iter().cloned().collect();
                let stamp = [stamp.clone()];
                let fresh: Vec<String> = file_periods.difference(&periods).cloned().collect();
                let started = Instant::now();
                if fresh.len() == file_periods.len() {
                    ledger.replace_periods(SOURCE, &fresh, &facts, &stamp)?;
                } else {
                    ledger.replace_periods(SOURCE, &fresh, &SeriesFacts::default(), &[])?;
                    ledger.add_facts(SOURCE, &facts, &stamp)?;
                }
                days.extend(facts.amounts.iter().map(|a| a.day));
                tracing::info!(
                    facts = facts.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "written to the ledger"
                );
                // The other known files holding these billing periods are summed in as well.
                for other in ledger.files_covering(&fresh)? {
                    if !read.contains(&other) && stamps.iter().any(|s| s.path == other) {
                        to_read.push(other);
                    }
                }
                periods.extend(fresh);
            }
            Ok(())
        })?;
        let periods: Vec<String> = periods.into_iter().collect();
        Ok(report(
            format!(
                "{} file(s), {} read, billing period(s) {} replaced",
                files.len(),
                read.len(),
                periods.join(", ")
            ),
            days.len(),
        ))
    }
}

/// Billing files under `paths` (files as given, folders searched recursively), sorted.
fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::input(format!("{}: cannot read billing data", path.display())).because(e)
        })?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::input(dir.display().to_string()).because(e))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_billing_file(&path) {
            out.push(path);
        } else {
            tracing::debug!(file = %path.display(), "skipped: not a CSV, gzip or Parquet file");
        }
    }
    Ok(())
}

fn is_billing_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    name.ends_with(".csv") || name.ends_with(".gz") || name.ends_with(".parquet")
}

fn stamp(path: &Path) -> Result<FileStamp> {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let meta =
        std::fs::metadata(path).map_err(|e| Error::input(path.display().to_string()).because(e))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    Ok(FileStamp {
        path: canonical.display().to_string(),
        version: format!("{}:{modified_ns}", meta.len()),
        periods: Vec::new(),
    })
}
