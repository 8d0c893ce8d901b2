//! Daily cost facts: what a billing file, Cost Explorer or the billing metrics say one
//! series (account × service × usage type × region × charge category × tags, in one billing
//! period) cost on one day.

use chrono::NaiveDate;
use rustc_hash::FxBuildHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What kind of charge a line item is; only `Usage` feeds usage baselines.
///
/// Variants are in the order of their stored names, so that [`FactKey`]'s order is the
/// ledger's primary-key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChargeCategory {
    /// Credits (promotional, refunds of a kind).
    Credit,
    /// Discounts (EDP, bundled, private rate).
    Discount,
    /// Fees (support, upfront, marketplace).
    Fee,
    /// Anything else.
    Other,
    /// Refunds.
    Refund,
    /// Reservation fees (RIFee).
    Reservation,
    /// Savings plan fees and negations.
    SavingsPlan,
    /// Tax.
    Tax,
    /// Usage, the only category usage baselines are made of.
    Usage,
}

impl ChargeCategory {
    /// The name stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::Fee => "fee",
            Self::Tax => "tax",
            Self::Credit => "credit",
            Self::Refund => "refund",
            Self::Discount => "discount",
            Self::SavingsPlan => "savings-plan",
            Self::Reservation => "reservation",
            Self::Other => "other",
        }
    }
}

/// Text of facts, shared: the facts of one series (a few thousand series in a month of
/// CUR, a few hundred thousand facts) hold the same strings, so cloning one is a count.
pub type Text = std::sync::Arc<str>;

/// Identity of one daily fact, ordered by day first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FactKey {
    /// The day the usage happened (UTC).
    pub day: NaiveDate,
    /// What kind of charge.
    pub category: ChargeCategory,
    /// Billing period as `YYYY-MM`.
    pub billing_period: Text,
    /// The linked (usage) account.
    pub account: Text,
    /// Product code (`AmazonEC2`), or Cost Explorer's service name.
    pub service_code: Text,
    /// Usage type (`USE1-BoxUsage:m5.large`).
    pub usage_type: Text,
    /// Region code, or empty.
    pub region: Text,
    /// Values of the configured tag keys, `key=value` pairs joined by `;`, sorted by key.
    pub tags: Text,
}

/// Summed amounts of one daily fact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactValue {
    /// The service's product name (`Amazon Elastic Compute Cloud`).
    pub service_name: Text,
    /// Unblended cost, dollars.
    pub unblended: f64,
    /// Amortized cost (reservations and savings plans spread over their usage), dollars.
    pub amortized: f64,
    /// Usage amount, in `usage_unit`.
    pub usage_amount: f64,
    /// Pricing unit of the usage (`Hrs`, `GB-Mo`).
    pub usage_unit: Text,
}

impl FactValue {
    /// Adds another value of the same key.
    pub fn add(&mut self, other: &FactValue) {
        self.unblended += other.unblended;
        self.amortized += other.amortized;
        self.usage_amount += other.usage_amount;
        if self.service_name.is_empty() {
            self.service_name.clone_from(&other.service_name);
        }
        if self.usage_unit.is_empty() {
            self.usage_unit.clone_from(&other.usage_unit);
        }
    }
}

/// Daily facts aggregated from some input.
///
/// Ordered as the ledger's primary key (within one source).
pub type Facts = BTreeMap<FactKey, FactValue>;

/// What a daily series is: all of a fact's key but its day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// Billing period as `YYYY-MM`.
    pub billing_period: Text,
    /// The linked (usage) account.
    pub account: Text,
    /// Product code, or Cost Explorer's service name.
    pub service_code: Text,
    /// Usage type.
    pub usage_type: Text,
    /// Region code, or empty.
    pub region: Text,
    /// What kind of charge.
    pub category: ChargeCategory,
    /// As [`FactKey::tags`].
    pub tags: Text,
}

/// One series of [`SeriesFacts`], with its descriptive names.
#[derive(Debug, Clone)]
pub struct Series {
    /// What the series is.
    pub key: SeriesKey,
    /// The service's product name.
    pub service_name: Text,
    /// Pricing unit of the usage.
    pub usage_unit: Text,
}

impl Series {
    /// Takes `other`'s names where this series has none.
    fn take_names(&mut self, other: &Series) {
        for (name, given) in [
            (&mut self.service_name, &other.service_name),
            (&mut self.usage_unit, &other.usage_unit),
        ] {
            if name.is_empty() {
                name.clone_from(given);
            }
        }
    }
}

/// The summed amounts of one series (an index into [`SeriesFacts::series`]) on one day.
#[derive(Debug, Clone, Copy)]
pub struct DailyAmount {
    /// The day.
    pub day: NaiveDate,
    /// The series, an index into [`SeriesFacts::series`].
    pub series: u32,
    /// Unblended cost, dollars.
    pub unblended: f64,
    /// Amortized cost, dollars.
    pub amortized: f64,
    /// Usage amount, in the series' unit.
    pub usage_amount: f64,
}

/// Daily facts in the ledger's own form: each series once, and its daily amounts.
///
/// What the CUR readers produce: a month of CUR has a few thousand series and a few hundred
/// thousand daily amounts, so nothing is done per amount but summing and writing it. The
/// ledger sums amounts whose series' texts are equal on the same day, should a reader give
/// two (bytes that are not UTF-8 can read alike).
#[derive(Debug, Clone, Default)]
pub struct SeriesFacts {
    /// Each series once.
    pub series: Vec<Series>,
    /// The daily amounts, by series index.
    pub amounts: Vec<DailyAmount>,
}

impl SeriesFacts {
    /// The number of daily amounts.
    pub fn len(&self) -> usize {
        self.amounts.len()
    }

    /// Whether there is no daily amount.
    pub fn is_empty(&self) -> bool {
        self.amounts.is_empty()
    }

    /// Adds `more` (another file of the same billing periods): its series that are already
    /// here take their names where these have none, and amounts of the same series and day
    /// are summed, so that memory stays that of the distinct facts however many files a
    /// period has.
    pub fn merge(&mut self, more: SeriesFacts) {
        if self.series.is_empty() {
            *self = more;
            return;
        }
        let mut index: HashMap<SeriesKey, u32, FxBuildHasher> = (self.series.iter())
            .zip(0..)
            .map(|(s, i)| (s.key.clone(), i))
            .collect();
        let ids: Vec<u32> = (more.series.into_iter())
            .map(|s| self.add_series(&mut index, s))
            .collect();
        let mut at: HashMap<(NaiveDate, u32), usize, FxBuildHasher> = (self.amounts.iter())
            .enumerate()
            .map(|(i, a)| ((a.day, a.series), i))
            .collect();
        for a in more.amounts {
            let a = DailyAmount {
                series: ids[a.series as usize],
                ..a
            };
            match at.entry((a.day, a.series)) {
                std::collections::hash_map::Entry::Occupied(kept) => {
                    let kept = &mut self.amounts[*kept.get()];
                    kept.unblended += a.unblended;
                    kept.amortized += a.amortized;
                    kept.usage_amount += a.usage_amount;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(self.amounts.len());
                    self.amounts.push(a);
                }
            }
        }
    }

    /// The index of `series` (found by key in `index`, which maps these series' keys to their
    /// indices), added if new; a series already here takes its names where it has none.
    fn add_series(
        &mut self,
        index: &mut HashMap<SeriesKey, u32, FxBuildHasher>,
        series: Series,
    ) -> u32 {
        let next = u32::try_from(self.series.len()).expect("fewer than 2^32 series");
        let id = *index.entry(series.key.clone()).or_insert(next);
        if id == next {
            self.series.push(series);
        } else {
            self.series[id as usize].take_names(&series);
        }
        id
    }

    /// The billing periods of the series.
    pub fn billing_periods(&self) -> BTreeSet<String> {
        let mut periods = BTreeSet::new();
        for s in &self.series {
            if !periods.contains(&*s.key.billing_period) {
                periods.insert(s.key.billing_period.to_string());
            }
        }
        periods
    }
}

impl From<&Facts> for SeriesFacts {
    /// Facts keyed one by one (Cost Explorer, billing metrics, tests) in the ledger's form.
    fn from(facts: &Facts) -> Self {
        let mut index: HashMap<SeriesKey, u32, FxBuildHasher> = HashMap::default();
        let mut out = SeriesFacts::default();
        for (k, v) in facts {
            let key = SeriesKey {
                billing_period: k.billing_period.clone(),
                account: k.account.clone(),
                service_code: k.service_code.clone(),
                usage_type: k.usage_type.clone(),
                region: k.region.clone(),
                category: k.category,
                tags: k.tags.clone(),
            };
            let named = Series {
                key,
                service_name: v.service_name.clone(),
                usage_unit: v.usage_unit.clone(),
            };
            let series = out.add_series(&mut index, named);
            out.amounts.push(DailyAmount {
                day: k.day,
                series,
                unblended: v.unblended,
                amortized: v.amortized,
                usage_amount: v.usage_amount,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_order_as_their_stored_names() {
        use ChargeCategory::*;
        #[rustfmt::skip]
        let all = [Credit, Discount, Fee, Other, Refund, Reservation, SavingsPlan, Tax, Usage];
        let mut by_name = all;
        by_name.sort_by_key(|c| c.as_str());
        assert_eq!(by_name, all);
        assert!(all.is_sorted());
    }

    fn fact(day: &str, service: &str, cost: f64) -> (FactKey, FactValue) {
        let day: NaiveDate = day.parse().unwrap();
        let key = FactKey {
            billing_period: day.format("%Y-%m").to_string().into(),
            day,
            account: "1".into(),
            service_code: service.into(),
            usage_type: "BoxUsage".into(),
            region: "".into(),
            category: ChargeCategory::Usage,
            tags: "".into(),
        };
        (
            key,
            FactValue {
                service_name: service.into(),
                unblended: cost,
                amortized: cost,
                ..Default::default()
            },
        )
    }

    #[test]
    fn merged_files_keep_one_series_and_sum_the_same_day() {
        let part = |facts: &[(FactKey, FactValue)]| {
            SeriesFacts::from(&facts.iter().cloned().collect::<Facts>())
        };
        let (key, mut unnamed) = fact("2026-03-01", "AmazonEC2", 1.0);
        unnamed.service_name = "".into();
        let mut merged = part(&[(key, unnamed), fact("2026-03-02", "AmazonS3", 2.0)]);
        merged.merge(part(&[
            fact("2026-03-01", "AmazonEC2", 10.0),
            fact("2026-03-03", "AmazonEC2", 5.0),
        ]));
        assert_eq!((merged.series.len(), merged.len()), (2, 3));
        let ec2 = merged
            .series
            .iter()
            .position(|s| &*s.key.service_code == "AmazonEC2")
            .unwrap();
        assert_eq!(
            &*merged.series[ec2].service_name, "AmazonEC2",
            "named by the second file"
        );
        let first_day = merged
            .amounts
            .iter()
            .find(|a| a.series as usize == ec2 && a.day.to_string() == "2026-03-01")
            .unwrap();
        assert_eq!(first_day.unblended, 11.0);
    }
}
