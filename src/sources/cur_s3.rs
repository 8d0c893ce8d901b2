//! Cost and Usage Reports delivered to S3: discovery through manifests, download of new
//! assemblies only, and replacement of a billing period's facts in one transaction.
//!
//! Layouts recognised under `s3://bucket/<prefix>/<report>/`:
//! - legacy CUR: `<yyyymmdd-yyyymmdd>/<report>-Manifest.json` naming the current assembly
//!   (`assemblyId`) and its CSV.gz or Parquet parts (`reportKeys`);
//! - Data Exports (CUR 2.0 and FOCUS): `metadata/BILLING_PERIOD=YYYY-MM/*-Manifest.json`
//!   naming the execution (`executionId`) and its files (`dataFiles`); without a manifest the
//!   files under `data/BILLING_PERIOD=YYYY-MM/` are taken, identified by their ETags.
//!
//! An assembly is recorded in the ledger (with the facts, in the same transaction) under the
//! manifest's `s3://` path, stamped with a hash of its assembly id and ETag: an unchanged
//! assembly is not downloaded again, and a new one replaces its billing period's facts.

use super::files::SOURCE;
use super::{Source, SyncContext, cur};
use crate::config;
use crate::error::Error;
use crate::ledger::{FileStamp, Ledger, SeriesFacts, SourceReport};
use anyhow::{Context, Result};
use aws_sdk_s3::Client;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// One delivery of a billing period's report.
#[derive(Debug, Clone)]
struct Assembly {
    /// `YYYY-MM`.
    period: String,
    id: String,
    manifest_key: String,
    etag: String,
    data_keys: Vec<String>,
}

impl Assembly {
    /// The ledger stamp of this assembly: same path, size and stamp = already ingested.
    fn stamp(&self, bucket: &str) -> FileStamp {
        FileStamp {
            path: format!("s3://{bucket}/{}", self.manifest_key),
            size: self.data_keys.len() as u64,
            modified_ns: fnv(&format!("{}\n{}", self.id, self.etag)),
            periods: vec![self.period.clone()],
        }
    }
}

fn fnv(text: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// CUR / Data Exports / FOCUS exports in an S3 bucket.
pub struct CurS3Source {
    settings: config::CurS3Source,
    aws: config::Aws,
    options: cur::ReadOptions,
}

impl CurS3Source {
    pub fn new(settings: config::CurS3Source, aws: config::Aws, tag_keys: &[String]) -> Self {
        Self {
            settings,
            aws,
            options: cur::ReadOptions::new(tag_keys),
        }
    }

    /// `<prefix>/<report>/`, without a leading slash.
    fn base(&self) -> String {
        let prefix = self.settings.prefix.trim_matches('/');
        let report = self.settings.report.trim_matches('/');
        if prefix.is_empty() {
            format!("{report}/")
        } else {
            format!("{prefix}/{report}/")
        }
    }

    async fn client(&self) -> Result<Client> {
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
                .build(),
        ))
    }

    async fn sync_async(&self, ledger: &Ledger) -> Result<SourceReport> {
        let bucket = &self.settings.bucket;
        let client = self.client().await?;
        let mut calls = 0u32;
        let assemblies = discover(&client, bucket, &self.base(), &mut calls).await?;
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
            let result = self
                .ingest(&client, ledger, assembly, &dir, &mut calls)
                .await;
            let _ = std::fs::remove_dir_all(&dir);
            days += result?;
            notes.push(format!(
                "{} assembly {} ({} file(s)) replaced",
                assembly.period,
                assembly.id,
                assembly.data_keys.len()
            ));
        }
        Ok(SourceReport {
            source: self.name().into(),
            status: "ok".into(),
            detail: notes.join("; "),
            api_calls: calls,
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
        calls: &mut u32,
    ) -> Result<usize> {
        let bucket = &self.settings.bucket;
        let keys = &assembly.data_keys;
        let name = |i: usize| keys[i].rsplit('/').next().unwrap_or("part");
        let local = |i: usize| dir.join(format!("{i:05}-{}", name(i)));
        let bar = progress(keys.len() as u64, &assembly.period);
        let mut facts = SeriesFacts::default();
        let mut periods = BTreeSet::from([assembly.period.clone()]);
        if !keys.is_empty() {
            download(client, bucket, &keys[0], &local(0), calls).await?;
        }
        for i in 0..keys.len() {
            if let Some(bar) = &bar {
                bar.set_message(format!("reading {}", name(i)));
            }
            let read = tokio::task::spawn_blocking({
                let (path, options) = (local(i), self.options.clone());
                move || cur::read_file(&path, &options)
            });
            let next = async {
                match keys.get(i + 1) {
                    Some(key) => download(client, bucket, key, &local(i + 1), calls).await,
                    None => Ok(()),
                }
            };
            let (read, next) = tokio::join!(read, next);
            let file_facts = read.context("reader thread")?.map_err(|e| {
                Error::input(format!(
                    "s3://{bucket}/{}: {}",
                    keys[i],
                    e.to_string()
                        .replace(&local(i).display().to_string(), name(i))
                ))
            })?;
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

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<SourceReport> {
        ctx.runtime.block_on(self.sync_async(ledger))
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

/// Streams one object to a local file (bounded memory).
async fn download(
    client: &Client,
    bucket: &str,
    key: &str,
    local: &Path,
    calls: &mut u32,
) -> Result<()> {
    *calls += 1;
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("downloading s3://{bucket}/{key}"))?;
    let mut body = object.body;
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(local).with_context(|| format!("creating {}", local.display()))?,
    );
    while let Some(bytes) = body
        .try_next()
        .await
        .with_context(|| format!("downloading s3://{bucket}/{key}"))?
    {
        file.write_all(&bytes)?;
    }
    file.flush()?;
    Ok(())
}

/// A manifest as read from S3: its JSON, ETag, assembly id and data files.
struct Manifest {
    doc: serde_json::Value,
    etag: String,
    id: String,
    data_keys: Vec<String>,
}

impl Manifest {
    fn assembly(self, period: String, manifest_key: &str) -> Assembly {
        Assembly {
            period,
            id: self.id,
            manifest_key: manifest_key.to_string(),
            etag: self.etag,
            data_keys: self.data_keys,
        }
    }
}

/// Reads the manifest at `key`: the assembly id is its `id_field` (else the ETag), the data
/// files its `keys_field` list, which must not be empty.
async fn read_manifest(
    client: &Client,
    bucket: &str,
    key: &str,
    calls: &mut u32,
    id_field: &str,
    keys_field: &str,
) -> Result<Manifest> {
    let (text, etag) = get_text(client, bucket, key, calls).await?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("s3://{bucket}/{key}: not JSON: {e}")))?;
    let id = doc[id_field].as_str().unwrap_or(&etag).to_string();
    let data_keys: Vec<String> = doc[keys_field]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str())
                .map(|k| object_key(bucket, k))
                .collect()
        })
        .unwrap_or_default();
    if data_keys.is_empty() {
        return Err(Error::input(format!("s3://{bucket}/{key}: no {keys_field}")).into());
    }
    Ok(Manifest {
        doc,
        etag,
        id,
        data_keys,
    })
}

async fn get_text(
    client: &Client,
    bucket: &str,
    key: &str,
    calls: &mut u32,
) -> Result<(String, String)> {
    *calls += 1;
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?;
    let etag = object
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let bytes = object
        .body
        .collect()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?
        .into_bytes();
    Ok((String::from_utf8_lossy(&bytes).into_owned(), etag))
}

/// Every object under `prefix`: (key, ETag).
async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    calls: &mut u32,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        *calls += 1;
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                let etag = object.e_tag().unwrap_or_default().trim_matches('"');
                out.push((key.to_string(), etag.to_string()));
            }
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Strips `s3://bucket/` from a manifest's data file reference.
fn object_key(bucket: &str, reference: &str) -> String {
    reference
        .strip_prefix(&format!("s3://{bucket}/"))
        .unwrap_or(reference)
        .trim_start_matches('/')
        .to_string()
}

/// `YYYY-MM` of `20250601-20250701`, `20250601T000000.000Z` or `2025-06`.
fn period_of(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    (digits.len() == 6).then(|| format!("{}-{}", &digits[..4], &digits[4..]))
}

/// The current assembly of every billing period under `base`.
async fn discover(
    client: &Client,
    bucket: &str,
    base: &str,
    calls: &mut u32,
) -> Result<Vec<Assembly>> {
    let objects = list(client, bucket, base, calls).await?;
    let mut assemblies = Vec::new();
    let mut export_periods_with_manifest = BTreeSet::new();
    for (key, _) in &objects {
        let rest = &key[base.len()..];
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            // Legacy CUR: <yyyymmdd-yyyymmdd>/<report>-Manifest.json
            [range, file] if file.ends_with("-Manifest.json") && range.contains('-') => {
                let m =
                    read_manifest(client, bucket, key, calls, "assemblyId", "reportKeys").await?;
                let period = m.doc["billingPeriod"]["start"]
                    .as_str()
                    .and_then(period_of)
                    .or_else(|| period_of(range))
                    .ok_or_else(|| {
                        Error::input(format!("s3://{bucket}/{key}: no billing period"))
                    })?;
                assemblies.push(m.assembly(period, key));
            }
            // Data Exports: metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json
            ["metadata", folder, file]
                if file.ends_with("Manifest.json") && folder.starts_with("BILLING_PERIOD=") =>
            {
                let m =
                    read_manifest(client, bucket, key, calls, "executionId", "dataFiles").await?;
                let period = period_of(folder).ok_or_else(|| {
                    Error::input(format!("s3://{bucket}/{key}: no billing period"))
                })?;
                export_periods_with_manifest.insert(period.clone());
                assemblies.push(m.assembly(period, key));
            }
            _ => {}
        }
    }
    // Data Exports without a manifest: the files of each BILLING_PERIOD folder.
    let mut loose: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for (key, etag) in &objects {
        let rest = &key[base.len()..];
        let parts: Vec<&str> = rest.split('/').collect();
        if let ["data", folder, .., file] = parts.as_slice()
            && folder.starts_with("BILLING_PERIOD=")
            && is_data_file(file)
            && let Some(period) = period_of(folder)
            && !export_periods_with_manifest.contains(&period)
        {
            loose
                .entry(period)
                .or_default()
                .push((key.clone(), etag.clone()));
        }
    }
    for (period, files) in loose {
        let etags: Vec<&str> = files.iter().map(|(_, e)| e.as_str()).collect();
        assemblies.push(Assembly {
            manifest_key: format!("{base}data/BILLING_PERIOD={period}/"),
            id: format!("{:016x}", fnv(&etags.join(","))),
            etag: String::new(),
            period,
            data_keys: files.into_iter().map(|(k, _)| k).collect(),
        });
    }
    assemblies.sort_by(|a, b| a.period.cmp(&b.period));
    Ok(assemblies)
}

fn is_data_file(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".parquet") || name.ends_with(".csv.gz") || name.ends_with(".csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_keys() {
        assert_eq!(period_of("20250601-20250701").unwrap(), "2025-06");
        assert_eq!(period_of("20250601T000000.000Z").unwrap(), "2025-06");
        assert_eq!(period_of("BILLING_PERIOD=2025-06").unwrap(), "2025-06");
        assert_eq!(object_key("b", "s3://b/p/x.parquet"), "p/x.parquet");
        assert_eq!(object_key("b", "p/x.parquet"), "p/x.parquet");
    }
}
