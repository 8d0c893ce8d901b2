//! The inputs already read (local files, CUR assemblies on S3), so unchanged ones are not
//! read again.

use super::Ledger;
use anyhow::Result;
use rusqlite::{OptionalExtension, params};

/// An input as last read: its path, its version and the billing periods it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// A local path or an `s3://` address.
    pub path: String,
    /// What changes when the input changes: `size:mtime` of a local file, `assembly:etag` of
    /// a CUR assembly on S3.
    pub version: String,
    pub periods: Vec<String>,
}

impl Ledger {
    /// Billing periods recorded for `file` if it was ingested at the same version.
    pub fn ingested_periods(&self, file: &FileStamp) -> Result<Option<Vec<String>>> {
        let periods: Option<String> = self
            .conn
            .query_row(
                "SELECT billing_periods FROM ingested_files WHERE path = ?1 AND version = ?2",
                params![file.path, file.version],
                |r| r.get(0),
            )
            .optional()?;
        Ok(periods.map(|p| {
            p.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }))
    }

    /// Paths of ingested files whose data covers any of `periods`.
    pub fn files_covering(&self, periods: &[String]) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, billing_periods FROM ingested_files ORDER BY path")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (path, covered) = row?;
            if covered.split(',').any(|p| periods.iter().any(|q| q == p)) {
                out.push(path);
            }
        }
        Ok(out)
    }
}
