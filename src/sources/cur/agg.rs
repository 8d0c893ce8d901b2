//! Grouping of line items into daily facts without allocating per row.
//!
//! A row's key fields are written as raw bytes into one reusable buffer and looked up in a
//! hash map keyed by those bytes; a key is allocated only the first time it is seen. The
//! typed [`FactKey`] is built once per group at the end.

use crate::ledger::{ChargeCategory, FactKey, FactValue, Facts};
use chrono::NaiveDate;
use std::collections::HashMap;

/// FxHash as rustc-hash 2 has it: fast for short byte keys and well mixed in the low bits the
/// table indexes by; no DoS resistance is needed for billing files.
pub type FxBuild = rustc_hash::FxBuildHasher;

/// Summed amounts of one group.
#[derive(Debug, Default)]
struct Acc {
    unblended: f64,
    amortized: f64,
    usage_amount: f64,
    service_name: String,
    usage_unit: String,
}

/// Key fields of one row, borrowed from the input.
pub struct RowKey<'a> {
    /// Billing period as `year * 100 + month`.
    pub period: u32,
    /// Days since 1970-01-01.
    pub day: i32,
    pub category: ChargeCategory,
    pub account: &'a [u8],
    pub service_code: &'a [u8],
    pub usage_type: &'a [u8],
    pub region: &'a [u8],
}

/// Amounts and descriptive fields of one row.
pub struct RowValue<'a> {
    pub unblended: f64,
    pub amortized: f64,
    pub usage_amount: f64,
    pub service_name: &'a [u8],
    pub usage_unit: &'a [u8],
}

/// Daily facts being accumulated from rows.
pub struct Aggregator {
    map: HashMap<Box<[u8]>, Acc, FxBuild>,
    key: Vec<u8>,
    /// Configured tag keys, sorted: the order of the tag values given to [`Aggregator::add`].
    tag_keys: Vec<String>,
}

const CATEGORIES: [ChargeCategory; 9] = [
    ChargeCategory::Usage,
    ChargeCategory::Fee,
    ChargeCategory::Tax,
    ChargeCategory::Credit,
    ChargeCategory::Refund,
    ChargeCategory::Discount,
    ChargeCategory::SavingsPlan,
    ChargeCategory::Reservation,
    ChargeCategory::Other,
];

fn put(key: &mut Vec<u8>, field: &[u8]) {
    let len = field.len().min(u16::MAX as usize);
    key.extend_from_slice(&(len as u16).to_le_bytes());
    key.extend_from_slice(&field[..len]);
}

fn take<'a>(key: &mut &'a [u8]) -> &'a [u8] {
    let len = u16::from_le_bytes([key[0], key[1]]) as usize;
    let (field, rest) = key[2..].split_at(len);
    *key = rest;
    field
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Aggregator {
    /// `tag_keys` must be sorted (see [`sorted_tag_keys`]).
    pub fn new(tag_keys: Vec<String>) -> Self {
        Self {
            map: HashMap::with_capacity_and_hasher(1024, FxBuild::default()),
            key: Vec::with_capacity(256),
            tag_keys,
        }
    }

    /// Adds one row; `tags` holds one value per configured tag key (empty when absent).
    #[inline]
    pub fn add(&mut self, k: &RowKey, tags: &[&[u8]], v: &RowValue) {
        let key = &mut self.key;
        key.clear();
        key.extend_from_slice(&k.period.to_le_bytes());
        key.extend_from_slice(&k.day.to_le_bytes());
        key.push(k.category as u8);
        put(key, k.account);
        put(key, k.service_code);
        put(key, k.usage_type);
        put(key, k.region);
        for t in tags {
            put(key, t);
        }
        let acc = match self.map.get_mut(key.as_slice()) {
            Some(acc) => acc,
            None => self.map.entry(key.as_slice().into()).or_default(),
        };
        acc.unblended += v.unblended;
        acc.amortized += v.amortized;
        acc.usage_amount += v.usage_amount;
        if acc.service_name.is_empty() && !v.service_name.is_empty() {
            acc.service_name = text(v.service_name);
        }
        if acc.usage_unit.is_empty() && !v.usage_unit.is_empty() {
            acc.usage_unit = text(v.usage_unit);
        }
    }

    /// Adds every group of `other` (same tag keys).
    pub fn merge(&mut self, other: Aggregator) {
        for (k, v) in other.map {
            let acc = self.map.entry(k).or_default();
            acc.unblended += v.unblended;
            acc.amortized += v.amortized;
            acc.usage_amount += v.usage_amount;
            if acc.service_name.is_empty() {
                acc.service_name = v.service_name;
            }
            if acc.usage_unit.is_empty() {
                acc.usage_unit = v.usage_unit;
            }
        }
    }

    /// The typed daily facts.
    pub fn finish(self) -> Facts {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        let mut facts = Facts::with_capacity(self.map.len());
        for (raw, acc) in self.map {
            let period = u32::from_le_bytes(raw[0..4].try_into().expect("4 bytes"));
            let day = i32::from_le_bytes(raw[4..8].try_into().expect("4 bytes"));
            let category = CATEGORIES[raw[8] as usize];
            let mut rest = &raw[9..];
            let account = text(take(&mut rest));
            let service_code = text(take(&mut rest));
            let usage_type = text(take(&mut rest));
            let region = text(take(&mut rest));
            let mut tags = String::new();
            for key in &self.tag_keys {
                let value = take(&mut rest);
                if !value.is_empty() {
                    if !tags.is_empty() {
                        tags.push(';');
                    }
                    tags.push_str(key);
                    tags.push('=');
                    tags.push_str(&String::from_utf8_lossy(value));
                }
            }
            let service_name = if acc.service_name.is_empty() {
                service_code.clone()
            } else {
                acc.service_name
            };
            let key = FactKey {
                billing_period: format!("{:04}-{:02}", period / 100, period % 100),
                day: epoch + chrono::Days::new(day.max(0) as u64),
                account,
                service_code,
                usage_type,
                region,
                category,
                tags,
            };
            let value = FactValue {
                service_name,
                unblended: acc.unblended,
                amortized: acc.amortized,
                usage_amount: acc.usage_amount,
                usage_unit: acc.usage_unit,
            };
            facts.entry(key).or_default().add(&value);
        }
        facts
    }
}

/// Tag keys as configured, sorted and deduplicated: the canonical order of `FactKey::tags`.
pub fn sorted_tag_keys(keys: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.trim().to_string()).collect();
    keys.retain(|k| !k.is_empty());
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_raw_key_and_renders_tags_canonically() {
        let mut agg = Aggregator::new(sorted_tag_keys(&["user:team".into(), "user:app".into()]));
        let key = RowKey {
            period: 202506,
            day: 20_000,
            category: ChargeCategory::Usage,
            account: b"111",
            service_code: b"AmazonEC2",
            usage_type: b"BoxUsage",
            region: b"us-east-1",
        };
        let value = RowValue {
            unblended: 1.5,
            amortized: 1.0,
            usage_amount: 2.0,
            service_name: b"",
            usage_unit: b"Hrs",
        };
        agg.add(&key, &[b"a1", b"red"], &value);
        agg.add(&key, &[b"a1", b"red"], &value);
        agg.add(&key, &[b"", b"blue"], &value);
        let facts = agg.finish();
        assert_eq!(facts.len(), 2);
        let (k, v) = facts
            .iter()
            .find(|(k, _)| k.tags == "user:app=a1;user:team=red")
            .unwrap();
        assert_eq!(v.unblended, 3.0);
        assert_eq!(v.service_name, "AmazonEC2");
        assert_eq!(k.billing_period, "2025-06");
        assert_eq!(k.day.to_string(), "2024-10-04");
        assert!(facts.keys().any(|k| k.tags == "user:team=blue"));
    }
}
