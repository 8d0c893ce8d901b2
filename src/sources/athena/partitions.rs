//! The table's partitions, one per billing period, from its objects in S3: which period
//! each holds, the values a query names it by, how large it is and a version that changes
//! when any of its objects does.
//!
//! Why the objects and not the catalog: a new assembly of a period rewrites the partition's
//! objects (new ETags) whether or not a crawler ran, and partitions added by projection or
//! `MSCK REPAIR` carry no modification time; the objects are also what Athena reads, so
//! their sizes bound what a query of the partition can scan. One listing (a LIST request per
//! 1,000 objects) tells all of it.

use super::table::{Column, Table};
use crate::aws::{list_objects, split_location as split};
use anyhow::Result;
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The objects of one billing period (or, for a table without billing-period partitions, of
/// the whole table).
#[derive(Debug, Clone)]
pub struct Partition {
    /// `YYYY-MM`; `None` for the whole table.
    pub period: Option<String>,
    /// The partition keys that select it, with their values as written in its S3 paths.
    pub filter: Vec<(Column, String)>,
    /// Total size of its objects, in bytes.
    pub bytes: u64,
    /// Its objects' keys, sizes and ETags, hashed.
    pub version: String,
}

/// How a table is partitioned by billing period.
enum Scheme {
    /// Data Exports: `billing_period=YYYY-MM`.
    Period(Column),
    /// The legacy CUR Athena integration: `year=YYYY/month=M`.
    YearMonth(Column, Column),
    /// Not by billing period: every query reads the whole table.
    Whole,
}

fn scheme(table: &Table) -> Scheme {
    let key = |name: &str| {
        (table.partition_keys.iter())
            .find(|k| k.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    match (key("billing_period"), key("year"), key("month")) {
        (Some(period), _, _) => Scheme::Period(period),
        (None, Some(year), Some(month)) => Scheme::YearMonth(year, month),
        _ => Scheme::Whole,
    }
}

/// One object of the table: its partition values by lower-case key, size and ETag.
struct Object {
    key: String,
    values: BTreeMap<String, String>,
    size: u64,
    etag: String,
}

/// The objects of one partition, as listed, and the partition keys that select it.
struct Listed<'a> {
    filter: Vec<(Column, String)>,
    objects: Vec<&'a Object>,
}

/// The table's partitions, newest period first (a table without billing-period partitions
/// is one partition).
pub async fn list(client: &Client, table: &Table) -> Result<Vec<Partition>> {
    let (bucket, prefix) = split(&table.location);
    let objects = objects(client, bucket, &prefix).await?;
    let mut groups: BTreeMap<Option<String>, Listed> = BTreeMap::new();
    let keys: Vec<String> = (table.partition_keys.iter())
        .map(|k| k.name.to_ascii_lowercase())
        .collect();
    let scheme = scheme(table);
    for object in &objects {
        // Athena reads only objects whose path names every partition key.
        if !keys.iter().all(|k| object.values.contains_key(k)) {
            continue;
        }
        let value = |c: &Column| object.values[&c.name.to_ascii_lowercase()].clone();
        let unit = match &scheme {
            Scheme::Period(c) => {
                period_of(&value(c)).map(|p| (Some(p), vec![(c.clone(), value(c))]))
            }
            Scheme::YearMonth(y, m) => year_month(&value(y), &value(m))
                .map(|p| (Some(p), vec![(y.clone(), value(y)), (m.clone(), value(m))])),
            Scheme::Whole => Some((None, Vec::new())),
        };
        // A partition that is no billing period (`billing_period=x`) is not read.
        let Some((period, filter)) = unit else {
            continue;
        };
        let listed = groups.entry(period).or_insert_with(|| Listed {
            filter,
            objects: Vec::new(),
        });
        listed.objects.push(object);
    }
    let mut out: Vec<Partition> = (groups.into_iter())
        .map(|(period, listed)| Partition {
            period,
            bytes: listed.objects.iter().map(|o| o.size).sum(),
            version: version(&listed.objects),
            filter: listed.filter,
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// The data objects under `prefix` (Athena skips names starting with `_` or `.`).
async fn objects(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for object in list_objects(client, bucket, prefix).await? {
        let Some(key) = object.key() else { continue };
        let (dirs, name) = key[prefix.len()..].rsplit_once('/').unwrap_or(("", key));
        if name.is_empty() || name.starts_with(['_', '.']) {
            continue;
        }
        let values = (dirs.split('/'))
            .filter_map(|d| d.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        out.push(Object {
            key: key.to_string(),
            values,
            size: object.size().unwrap_or(0).max(0) as u64,
            etag: object
                .e_tag()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
        });
    }
    Ok(out)
}

fn version(objects: &[&Object]) -> String {
    let mut hash = Sha256::new();
    for o in objects {
        hash.update(format!("{}\n{}\n{}\n", o.key, o.size, o.etag));
    }
    hex(&hash.finalize()[..12])
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM` of `2025-06` or `2025-06-01`.
fn period_of(value: &str) -> Option<String> {
    let (year, month) = value.get(..7)?.split_once('-')?;
    year_month(year, month)
}

/// `YYYY-MM` of a year and a month (`10`, `1` or `01`).
fn year_month(year: &str, month: &str) -> Option<String> {
    let (year, month): (u32, u32) = (year.parse().ok()?, month.parse().ok()?);
    ((1..=12).contains(&month) && year >= 1000).then(|| format!("{year:04}-{month:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_of_partition_values() {
        assert_eq!(period_of("2025-06").as_deref(), Some("2025-06"));
        assert_eq!(period_of("2025-06-01").as_deref(), Some("2025-06"));
        assert_eq!(year_month("2018", "1").as_deref(), Some("2018-01"));
        assert_eq!(year_month("2018", "13"), None);
        assert_eq!(period_of("current"), None);
        assert_eq!(split("s3://b/cur/r/"), ("b", "cur/r/".to_string()));
        assert_eq!(split("s3://b"), ("b", String::new()));
    }
}
