//! Which report assemblies are in the bucket: legacy CUR manifests, Data Exports manifests,
//! and Data Exports files without one.

use crate::aws::{get_object, list_objects};
use crate::error::Error;
use crate::ledger::FileStamp;
use anyhow::{Result, anyhow};
use aws_sdk_s3::Client;
use std::collections::BTreeSet;

/// One delivery of a billing period's report.
#[derive(Debug, Clone)]
pub struct Assembly {
    /// `YYYY-MM`.
    pub period: String,
    pub id: String,
    pub manifest_key: String,
    pub etag: String,
    pub data_keys: Vec<String>,
}

impl Assembly {
    /// The ledger stamp of this assembly: same path and version = already ingested.
    pub fn stamp(&self, bucket: &str) -> FileStamp {
        FileStamp {
            path: format!("s3://{bucket}/{}", self.manifest_key),
            version: format!("{}:{}", self.id, self.etag),
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
    id_field: &str,
    keys_field: &str,
) -> Result<Manifest> {
    let (text, etag) = get_text(client, bucket, key).await?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("s3://{bucket}/{key}: not JSON")).because(e))?;
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

async fn get_text(client: &Client, bucket: &str, key: &str) -> Result<(String, String)> {
    let object = get_object(client, bucket, key).await?;
    let etag = object
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| anyhow!("reading s3://{bucket}/{key}: {e}"))?
        .into_bytes();
    Ok((String::from_utf8_lossy(&bytes).into_owned(), etag))
}

/// Every object under `prefix`: (key, ETag).
async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<(String, String)>> {
    Ok((list_objects(client, bucket, prefix).await?.iter())
        .filter_map(|object| {
            let etag = object.e_tag().unwrap_or_default().trim_matches('"');
            Some((object.key()?.to_string(), etag.to_string()))
        })
        .collect())
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
pub async fn discover(client: &Client, bucket: &str, base: &str) -> Result<Vec<Assembly>> {
    let objects = list(client, bucket, base).await?;
    let mut assemblies = Vec::new();
    let mut export_periods_with_manifest = BTreeSet::new();
    for (key, _) in &objects {
        let rest = &key[base.len()..];
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            // Legacy CUR: <yyyymmdd-yyyymmdd>/<report>-Manifest.json
            [range, file] if file.ends_with("-Manifest.json") && range.contains('-') => {
                let m = read_manifest(client, bucket, key, "assemblyId", "reportKeys").await?;
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
                let m = read_manifest(client, bucket, key, "executionId", "dataFiles").await?;
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
