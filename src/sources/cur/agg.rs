//! Grouping of line items into daily facts without allocating per row.
//!
//! Every string a key is made of is interned to a small id (the Parquet reader interns a
//! dictionary value once per row group, not once per row), so a group's key is a fixed-size
//! tuple of integers: hashing and comparing it is a few instructions, whatever the strings'
//! length. The typed [`FactKey`] is built once per group at the end.

use super::groups::{Groups, Merge};
use super::layout::Cell;
use crate::ledger::{ChargeCategory, FactKey, FactValue, Facts};
use chrono::NaiveDate;
use std::collections::HashMap;

/// FxHash as rustc-hash 2 has it: fast for short keys and well mixed in the low bits the
/// table indexes by; no DoS resistance is needed for billing files.
pub type FxBuild = rustc_hash::FxBuildHasher;

/// Distinct strings, each with a small id; id 0 is the empty string.
pub struct Interner {
    ids: HashMap<Box<[u8]>, u32, FxBuild>,
    strings: Vec<Box<[u8]>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Self {
            ids: HashMap::default(),
            strings: Vec::new(),
        };
        interner.intern(b"");
        interner
    }
}

impl Interner {
    /// The id of `bytes`, added if new.
    #[inline]
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(bytes) {
            return id;
        }
        let id = u32::try_from(self.strings.len()).expect("fewer than 2^32 distinct strings");
        self.strings.push(bytes.into());
        self.ids.insert(bytes.into(), id);
        id
    }

    /// The id of a text cell (0 for null or a number).
    #[inline]
    pub fn cell(&mut self, cell: Cell) -> u32 {
        match cell {
            Cell::Id(id, _) => id,
            Cell::Str(v) => self.intern(v),
            _ => 0,
        }
    }

    /// The bytes of an id.
    pub fn get(&self, id: u32) -> &[u8] {
        &self.strings[id as usize]
    }
}

/// Identity of one group: interned ids and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    /// Billing period as `year * 100 + month`.
    period: u32,
    day: i32,
    account: u32,
    service_code: u32,
    usage_type: u32,
    region: u32,
    /// Id of the tag values' tuple in [`Aggregator::tag_sets`].
    tags: u32,
    category: ChargeCategory,
}

/// Summed amounts of one group; names are interned ids (0 when not seen yet).
#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    unblended: f64,
    amortized: f64,
    usage_amount: f64,
    service_name: u32,
    usage_unit: u32,
}

impl Merge for Acc {
    #[inline]
    fn merge(&mut self, other: &Self) {
        self.unblended += other.unblended;
        self.amortized += other.amortized;
        self.usage_amount += other.usage_amount;
        if self.service_name == 0 {
            self.service_name = other.service_name;
        }
        if self.usage_unit == 0 {
            self.usage_unit = other.usage_unit;
        }
    }
}

/// Key fields of one row.
pub struct RowKey<'a> {
    /// Billing period as `year * 100 + month`.
    pub period: u32,
    /// Days since 1970-01-01.
    pub day: i32,
    pub category: ChargeCategory,
    pub account: Cell<'a>,
    pub service_code: Cell<'a>,
    pub usage_type: Cell<'a>,
    pub region: Cell<'a>,
}

/// Amounts and descriptive fields of one row.
pub struct RowValue<'a> {
    pub unblended: f64,
    pub amortized: f64,
    pub usage_amount: f64,
    pub service_name: Cell<'a>,
    pub usage_unit: Cell<'a>,
}

/// Daily facts being accumulated from rows.
pub struct Aggregator {
    map: Groups<Key, Acc>,
    /// The strings the ids of keys and values refer to.
    pub strings: Interner,
    /// Distinct tuples of tag value ids (one per configured key); id 0 is "no tags".
    tag_sets: HashMap<Box<[u32]>, u32, FxBuild>,
    tag_list: Vec<Box<[u32]>>,
    tag_ids: Vec<u32>,
    /// Configured tag keys, sorted: the order of the tag values given to [`Aggregator::add`].
    tag_keys: Vec<String>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Aggregator {
    /// `tag_keys` must be sorted (see [`sorted_tag_keys`]).
    pub fn new(tag_keys: Vec<String>) -> Self {
        let empty: Box<[u32]> = vec![0; tag_keys.len()].into();
        let mut tag_sets = HashMap::default();
        tag_sets.insert(empty.clone(), 0);
        Self {
            map: Groups::default(),
            strings: Interner::default(),
            tag_sets,
            tag_list: vec![empty],
            tag_ids: Vec::with_capacity(tag_keys.len()),
            tag_keys,
        }
    }

    /// The interned id of a text cell (0 for null or a number).
    #[inline]
    pub fn id(&mut self, cell: Cell) -> u32 {
        self.strings.cell(cell)
    }

    fn tag_set(&mut self, tags: &[&[u8]]) -> u32 {
        if tags.iter().all(|t| t.is_empty()) {
            return 0;
        }
        self.tag_ids.clear();
        for t in tags {
            let id = self.strings.intern(t);
            self.tag_ids.push(id);
        }
        if let Some(&id) = self.tag_sets.get(self.tag_ids.as_slice()) {
            return id;
        }
        let id = self.tag_list.len() as u32;
        self.tag_list.push(self.tag_ids.as_slice().into());
        self.tag_sets.insert(self.tag_ids.as_slice().into(), id);
        id
    }

    /// Adds one row; `tags` holds one value per configured tag key (empty when absent).
    #[inline]
    pub fn add(&mut self, k: &RowKey, tags: &[&[u8]], v: &RowValue) {
        let key = Key {
            period: k.period,
            day: k.day,
            account: self.id(k.account),
            service_code: self.id(k.service_code),
            usage_type: self.id(k.usage_type),
            region: self.id(k.region),
            tags: if tags.is_empty() {
                0
            } else {
                self.tag_set(tags)
            },
            category: k.category,
        };
        let acc = Acc {
            unblended: v.unblended,
            amortized: v.amortized,
            usage_amount: v.usage_amount,
            service_name: self.strings.cell(v.service_name),
            usage_unit: self.strings.cell(v.usage_unit),
        };
        self.map.add(key, acc);
    }

    /// Adds every group of `other` (same tag keys), translating its ids.
    pub fn merge(&mut self, other: Aggregator) {
        let ids: Vec<u32> = other
            .strings
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        let id = |i: u32| ids[i as usize];
        let tag_ids: Vec<u32> = other
            .tag_list
            .iter()
            .map(|set| {
                let values: Vec<&[u8]> = set.iter().map(|&i| other.strings.get(i)).collect();
                self.tag_set(&values)
            })
            .collect();
        for (k, v) in other.map.into_vec() {
            let key = Key {
                account: id(k.account),
                service_code: id(k.service_code),
                usage_type: id(k.usage_type),
                region: id(k.region),
                tags: tag_ids[k.tags as usize],
                ..k
            };
            let acc = Acc {
                service_name: id(v.service_name),
                usage_unit: id(v.usage_unit),
                ..v
            };
            self.map.add(key, acc);
        }
    }

    /// The typed daily facts.
    ///
    /// Groups are put in the facts' order by comparing the ranks of their strings, so
    /// the ordered map is built from sorted input without comparing text.
    pub fn finish(self) -> Facts {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        let strings: Vec<String> = self.strings.strings.iter().map(|s| text(s)).collect();
        let rank = ranks(&strings);
        let tag_texts: Vec<String> = self
            .tag_list
            .iter()
            .map(|set| {
                let mut tags = String::new();
                for (key, &value) in self.tag_keys.iter().zip(set.iter()) {
                    if value != 0 {
                        if !tags.is_empty() {
                            tags.push(';');
                        }
                        tags.push_str(key);
                        tags.push('=');
                        tags.push_str(&strings[value as usize]);
                    }
                }
                tags
            })
            .collect();
        let tag_rank = ranks(&tag_texts);
        let order = |k: &Key| {
            let r = |id: u32| rank[id as usize];
            (
                (k.day, k.category, k.period, r(k.account)),
                (
                    r(k.service_code),
                    r(k.usage_type),
                    r(k.region),
                    tag_rank[k.tags as usize],
                ),
            )
        };
        let mut groups: Vec<_> = self
            .map
            .into_vec()
            .into_iter()
            .map(|(k, acc)| {
                let k = Key {
                    day: k.day.max(0),
                    ..k
                };
                (order(&k), k, acc)
            })
            .collect();
        groups.sort_unstable_by_key(|g| g.0);
        let mut facts: Vec<(FactKey, FactValue)> = Vec::with_capacity(groups.len());
        let mut last = None;
        for (key_order, k, acc) in groups {
            let s = |id: u32| strings[id as usize].clone();
            let service_name = if acc.service_name == 0 {
                k.service_code
            } else {
                acc.service_name
            };
            let value = FactValue {
                service_name: s(service_name),
                unblended: acc.unblended,
                amortized: acc.amortized,
                usage_amount: acc.usage_amount,
                usage_unit: s(acc.usage_unit),
            };
            // Groups whose text is equal are one fact: bytes that are not UTF-8 can read
            // alike, and days before 1970 are clamped to it.
            if last == Some(key_order) {
                facts.last_mut().expect("a previous fact").1.add(&value);
                continue;
            }
            last = Some(key_order);
            let key = FactKey {
                billing_period: format!("{:04}-{:02}", k.period / 100, k.period % 100),
                day: epoch + chrono::Days::new(k.day as u64),
                account: s(k.account),
                service_code: s(k.service_code),
                usage_type: s(k.usage_type),
                region: s(k.region),
                category: k.category,
                tags: tag_texts[k.tags as usize].clone(),
            };
            facts.push((key, value));
        }
        Facts::from_iter(facts)
    }
}

/// The rank of each string in sorted order (equal strings get equal ranks).
fn ranks(strings: &[String]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..strings.len() as u32).collect();
    order.sort_unstable_by_key(|&i| strings[i as usize].as_str());
    let mut rank = vec![0u32; strings.len()];
    let mut current = 0;
    for (n, &i) in order.iter().enumerate() {
        if n > 0 && strings[i as usize] != strings[order[n - 1] as usize] {
            current = n as u32;
        }
        rank[i as usize] = current;
    }
    rank
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
    fn a_group_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<Option<(Key, Acc)>>(), 64);
    }

    #[test]
    fn groups_by_raw_key_and_renders_tags_canonically() {
        let mut agg = Aggregator::new(sorted_tag_keys(&["user:team".into(), "user:app".into()]));
        let key = RowKey {
            period: 202506,
            day: 20_000,
            category: ChargeCategory::Usage,
            account: Cell::Str(b"111"),
            service_code: Cell::Str(b"AmazonEC2"),
            usage_type: Cell::Str(b"BoxUsage"),
            region: Cell::Str(b"us-east-1"),
        };
        let value = RowValue {
            unblended: 1.5,
            amortized: 1.0,
            usage_amount: 2.0,
            service_name: Cell::Null,
            usage_unit: Cell::Str(b"Hrs"),
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
