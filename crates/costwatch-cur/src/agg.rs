//! Grouping of line items into daily facts without allocating per row.
//!
//! Every string a key is made of is interned to a small id (the Parquet reader interns a
//! dictionary value once per row group, not once per row), so a series' key is a fixed-size
//! tuple of integers: hashing and comparing it is a few instructions, whatever the strings'
//! length. A group is a series' id and a day ([`DailyGroups`]). The series' text is built
//! once per series at the end, in the ledger's form ([`SeriesFacts`]).

use crate::cells::{Cell, epoch};
use crate::facts::{ChargeCategory, DailyAmount, Series, SeriesFacts, SeriesKey, Text};
use crate::groups::{DailyGroups, Delay, FxBuild, Ids, Key, Merge, hash};
use std::collections::HashMap;

/// The name a service is shown by: its product name, or one made from its product code
/// where the file has none or repeats the code (`AmazonCloudWatch` is billed under the
/// product name `AmazonCloudWatch`): `Amazon CloudWatch`, `AWS Lambda`.
pub fn product_name(code: &Text, name: Option<&Text>) -> Text {
    match name {
        Some(name) if name != code => name.clone(),
        _ => {
            let spaced = ["Amazon", "AWS"].iter().find_map(|prefix| {
                let rest = code.strip_prefix(prefix)?;
                rest.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit())
                    .then(|| format!("{prefix} {rest}"))
            });
            spaced.map_or_else(|| code.clone(), Text::from)
        }
    }
}

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

/// What a group is apart from its day: one daily series of costs, as interned ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SeriesIds {
    /// Billing period as `year * 100 + month`.
    period: u32,
    account: u32,
    service_code: u32,
    usage_type: u32,
    region: u32,
    /// Id of the tag values' tuple in [`Aggregator::tag_sets`].
    tags: u32,
    category: ChargeCategory,
}

impl Key for SeriesIds {
    const EMPTY: Self = SeriesIds {
        period: u32::MAX,
        account: u32::MAX,
        service_code: u32::MAX,
        usage_type: u32::MAX,
        region: u32::MAX,
        tags: u32::MAX,
        category: ChargeCategory::Other,
    };
}

/// Descriptive names of a series: interned ids, 0 until a row has one.
#[derive(Debug, Default, Clone, Copy)]
struct Names {
    service_name: u32,
    usage_unit: u32,
}

impl Names {
    /// Takes `other`'s names where this one has none yet.
    fn fill(&mut self, other: Names) {
        if self.service_name == 0 {
            self.service_name = other.service_name;
        }
        if self.usage_unit == 0 {
            self.usage_unit = other.usage_unit;
        }
    }
}

/// Summed amounts of one series on one day.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    unblended: f64,
    amortized: f64,
    usage_amount: f64,
}

impl Merge for Sums {
    #[inline]
    fn merge(&mut self, other: &Self) {
        self.unblended += other.unblended;
        self.amortized += other.amortized;
        self.usage_amount += other.usage_amount;
    }
}

/// Rows between a series' prefetch and its lookup.
const AHEAD: usize = 8;

/// A row waiting for its series' slot to arrive in cache.
#[derive(Clone, Copy)]
struct Pending {
    series: SeriesIds,
    hash: u64,
    day: i32,
    names: Names,
    sums: Sums,
}

/// One line item with its text interned ([`Aggregator::id`]; 0 for none).
pub struct Row {
    /// Billing period as `year * 100 + month`.
    pub period: u32,
    /// Days since 1970-01-01.
    pub day: i32,
    pub category: ChargeCategory,
    pub account: u32,
    pub service_code: u32,
    pub usage_type: u32,
    pub region: u32,
    /// The tag set ([`Aggregator::tag_set`]).
    pub tags: u32,
    pub service_name: u32,
    pub usage_unit: u32,
    pub unblended: f64,
    pub amortized: f64,
    pub usage_amount: f64,
}

/// Daily facts being accumulated from rows.
///
/// A row is looked up in two steps: its series (account, service, usage type, …) in a
/// table small enough to stay in cache, then the series' day in [`DailyGroups`], whose
/// slots are only three sums.
pub struct Aggregator {
    series_ids: Ids<SeriesIds>,
    /// Rows whose series' slot was prefetched, to be added [`AHEAD`] rows later.
    pending: Delay<Pending, AHEAD>,
    series: Vec<(SeriesIds, Names)>,
    days: DailyGroups<Sums>,
    /// The strings the ids of keys and values refer to.
    pub strings: Interner,
    /// Distinct tuples of tag value ids (one per configured key); id 0 is "no tags".
    tag_sets: HashMap<Box<[u32]>, u32, FxBuild>,
    tag_list: Vec<Box<[u32]>>,
    tag_ids: Vec<u32>,
    /// Configured tag keys, sorted: the order of the tag values given to [`Aggregator::add`].
    tag_keys: Vec<String>,
}

fn text(bytes: &[u8]) -> Text {
    String::from_utf8_lossy(bytes).into()
}

impl Aggregator {
    /// `tag_keys` must be sorted (see [`sorted_tag_keys`]).
    pub fn new(tag_keys: Vec<String>) -> Self {
        let empty: Box<[u32]> = vec![0; tag_keys.len()].into();
        let mut tag_sets = HashMap::default();
        tag_sets.insert(empty.clone(), 0);
        Self {
            series_ids: Ids::default(),
            pending: Delay::default(),
            series: Vec::new(),
            days: DailyGroups::default(),
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

    /// The id of a row's tag values, one per configured key (empty when absent); 0 when
    /// none has a value.
    pub fn tag_set(&mut self, tags: &[&[u8]]) -> u32 {
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

    /// The id of `series`, added if new.
    #[inline]
    fn series_id(&mut self, series: SeriesIds, hash: u64) -> u32 {
        let id = self.series_ids.id(series, hash);
        if id as usize == self.series.len() {
            self.series.push((series, Names::default()));
        }
        id
    }

    /// Adds one row (its series is looked up [`AHEAD`] rows later, once in cache).
    #[inline]
    pub fn add(&mut self, row: &Row) {
        let series = SeriesIds {
            period: row.period,
            account: row.account,
            service_code: row.service_code,
            usage_type: row.usage_type,
            region: row.region,
            tags: row.tags,
            category: row.category,
        };
        let hash = hash(&series);
        self.series_ids.prefetch(hash);
        let row = Pending {
            series,
            hash,
            day: row.day,
            names: Names {
                service_name: row.service_name,
                usage_unit: row.usage_unit,
            },
            sums: Sums {
                unblended: row.unblended,
                amortized: row.amortized,
                usage_amount: row.usage_amount,
            },
        };
        if let Some(due) = self.pending.push(row) {
            self.add_pending(due);
        }
    }

    fn add_pending(&mut self, row: Pending) {
        let id = self.series_id(row.series, row.hash);
        self.series[id as usize].1.fill(row.names);
        self.days.add(id, row.day, row.sums);
    }

    /// Adds the rows still pending.
    fn flush(&mut self) {
        let pending: Vec<Pending> = self.pending.drain().collect();
        for row in pending {
            self.add_pending(row);
        }
    }

    /// Adds every group of `other` (same tag keys), translating its ids.
    pub fn merge(&mut self, mut other: Aggregator) {
        other.flush();
        self.flush();
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
        let series_ids: Vec<u32> = other
            .series
            .iter()
            .map(|(s, names)| {
                let series = SeriesIds {
                    account: id(s.account),
                    service_code: id(s.service_code),
                    usage_type: id(s.usage_type),
                    region: id(s.region),
                    tags: tag_ids[s.tags as usize],
                    ..*s
                };
                let mine = self.series_id(series, hash(&series));
                self.series[mine as usize].1.fill(Names {
                    service_name: id(names.service_name),
                    usage_unit: id(names.usage_unit),
                });
                mine
            })
            .collect();
        for (series, day, sums) in other.days.into_vec() {
            self.days.add(series_ids[series as usize], day, sums);
        }
    }

    /// The daily facts: each series' text once, and the amounts of each group.
    pub fn finish(mut self) -> SeriesFacts {
        self.flush();
        let strings: Vec<Text> = self.strings.strings.iter().map(|s| text(s)).collect();
        let tag_texts: Vec<Text> = self
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
                Text::from(tags)
            })
            .collect();
        let mut periods: HashMap<u32, Text, FxBuild> = HashMap::default();
        let series = self
            .series
            .iter()
            .map(|(k, names)| {
                let s = |id: u32| strings[id as usize].clone();
                let period = periods.entry(k.period).or_insert_with(|| {
                    format!("{:04}-{:02}", k.period / 100, k.period % 100).into()
                });
                let service_name = product_name(&strings[k.service_code as usize], {
                    let name = &strings[names.service_name as usize];
                    if name.is_empty() { None } else { Some(name) }
                });
                Series {
                    key: SeriesKey {
                        billing_period: period.clone(),
                        account: s(k.account),
                        service_code: s(k.service_code),
                        usage_type: s(k.usage_type),
                        region: s(k.region),
                        category: k.category,
                        tags: tag_texts[k.tags as usize].clone(),
                    },
                    service_name,
                    usage_unit: s(names.usage_unit),
                }
            })
            .collect();
        let epoch = epoch();
        let amounts = self
            .days
            .into_vec()
            .into_iter()
            .map(|(series, day, sums)| {
                DailyAmount {
                    // Days before 1970 are clamped to it.
                    day: epoch + chrono::Days::new(day.max(0) as u64),
                    series,
                    unblended: sums.unblended,
                    amortized: sums.amortized,
                    usage_amount: sums.usage_amount,
                }
            })
            .collect();
        SeriesFacts { series, amounts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::sorted_tag_keys;

    #[test]
    fn product_names_are_spaced_where_the_file_repeats_the_code() {
        let t = |s: &str| Text::from(s);
        assert_eq!(
            &*product_name(&t("AmazonCloudWatch"), Some(&t("AmazonCloudWatch"))),
            "Amazon CloudWatch"
        );
        assert_eq!(&*product_name(&t("AWSLambda"), None), "AWS Lambda");
        assert_eq!(
            &*product_name(&t("AmazonEC2"), Some(&t("Amazon Elastic Compute Cloud"))),
            "Amazon Elastic Compute Cloud"
        );
        assert_eq!(
            &*product_name(&t("ElasticMapReduce"), None),
            "ElasticMapReduce"
        );
    }

    #[test]
    fn groups_by_raw_key_and_renders_tags_canonically() {
        let mut agg = Aggregator::new(sorted_tag_keys(&["user:team".into(), "user:app".into()]));
        let mut row = |tags: &[&[u8]]| Row {
            period: 202506,
            day: 20_000,
            category: ChargeCategory::Usage,
            account: agg.id(Cell::Str(b"111")),
            service_code: agg.id(Cell::Str(b"AmazonEC2")),
            usage_type: agg.id(Cell::Str(b"BoxUsage")),
            region: agg.id(Cell::Str(b"us-east-1")),
            tags: agg.tag_set(tags),
            service_name: 0,
            usage_unit: agg.id(Cell::Str(b"Hrs")),
            unblended: 1.5,
            amortized: 1.0,
            usage_amount: 2.0,
        };
        let rows = [
            row(&[b"a1", b"red"]),
            row(&[b"a1", b"red"]),
            row(&[b"", b"blue"]),
        ];
        for r in &rows {
            agg.add(r);
        }
        let facts = agg.finish();
        assert_eq!((facts.series.len(), facts.len()), (2, 2));
        let red = facts
            .series
            .iter()
            .position(|s| &*s.key.tags == "user:app=a1;user:team=red")
            .unwrap();
        let series = &facts.series[red];
        assert_eq!(
            &*series.service_name, "Amazon EC2",
            "no product name: made from the code"
        );
        assert_eq!(&*series.key.billing_period, "2025-06");
        let amount = facts
            .amounts
            .iter()
            .find(|a| a.series as usize == red)
            .unwrap();
        assert_eq!(amount.unblended, 3.0);
        assert_eq!(amount.day.to_string(), "2024-10-04");
        assert!(
            facts
                .series
                .iter()
                .any(|s| &*s.key.tags == "user:team=blue")
        );
    }
}
