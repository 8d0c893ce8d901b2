//! The root cause of a finding, in words: how its scope's usage cost changed from a baseline
//! to the recent days, whether that is more usage or a higher price per unit, and where the
//! change is: the accounts, services and usage types the scope leaves open, regions and tags.

use crate::ledger::{Ledger, ScopeCost, ScopeFilter};
use crate::model::Finding;
use crate::model::money;
use crate::model::or;
use anyhow::Result;
use chrono::{Datelike, Days, Months, NaiveDate};
use std::collections::{BTreeSet, HashMap};

/// Days before the recent window that form the baseline.
const BASELINE_DAYS: u64 = 28;
/// Contributors named per dimension.
const TOP: usize = 3;
/// Contributors with a smaller share of a dimension's rises are not named.
const MIN_SHARE: f64 = 0.02;

/// The recent window `[recent_from, day]` and the baseline's first day, by rule: a spike or
/// new spend is its day, a step the three days it has lasted when told, pace and budget the
/// month so far against the previous month, anything slower the last week against the four
/// before.
fn windows(f: &Finding) -> (NaiveDate, NaiveDate) {
    let back = |days: u64| f.day - Days::new(days);
    let recent_from = match f.rule.as_str() {
        "spike" | "new-spend" => f.day,
        "shift" => back(2),
        "pace" | "budget" => f.day.with_day(1).expect("every month has a first day"),
        _ => back(6),
    };
    let base_from = if matches!(f.rule.as_str(), "pace" | "budget") {
        recent_from - Months::new(1)
    } else {
        recent_from - Days::new(BASELINE_DAYS)
    };
    (recent_from, base_from)
}

/// The root cause of `f` from the facts of `source` (the one the rules read), or `None`
/// when they show no increase.
pub fn explain(ledger: &Ledger, source: &str, f: &Finding) -> Result<Option<String>> {
    let (recent_from, base_from) = windows(f);
    let s = &f.scope;
    // Days before the account's first day with data are unknown, not zero.
    let base_from = match ledger.usage_start(source, &s.account)? {
        Some(first) => base_from.max(first).min(recent_from),
        None => return Ok(None),
    };
    let scope = ScopeFilter {
        source,
        account: &s.account,
        service_code: &s.service_code,
        usage_type: &s.usage_type,
    };
    let rows = ledger.scope_costs(scope, base_from, f.day)?;
    let days = |from: NaiveDate, to: NaiveDate| (to - from).num_days().max(1) as f64;
    let windows = Windows {
        rows: &rows,
        recent_from,
        recent_days: days(recent_from, f.day + Days::new(1)),
        base_days: days(base_from, recent_from),
    };
    let total = windows.change(|_| String::new());
    if total.first().is_none_or(|(_, d)| *d <= 0.0) {
        return Ok(None);
    }
    let mut sentences: Vec<String> = windows.volume_or_price().into_iter().collect();
    type Label = fn(&ScopeCost) -> String;
    let mut dimensions: Vec<(&str, Label)> = Vec::new();
    if s.account.is_empty() {
        dimensions.push(("account", |c| c.account.clone()));
    }
    if s.service_code.is_empty() {
        dimensions.push(("service", |c| c.service.clone()));
    }
    if s.usage_type.is_empty() {
        dimensions.push(("usage type", |c| c.usage_type.clone()));
    }
    dimensions.push(("region", |c| or(&c.region, "no region").to_string()));
    if rows.iter().any(|c| !c.tags.is_empty()) {
        dimensions.push(("tags", |c| or(&c.tags, "untagged").to_string()));
    }
    for (name, label) in dimensions {
        let rises: Vec<(String, f64)> = windows
            .change(label)
            .into_iter()
            .filter(|(_, d)| *d > 0.0)
            .collect();
        let all: f64 = rises.iter().map(|(_, d)| d).sum();
        let parts: Vec<String> = rises
            .into_iter()
            .enumerate()
            .filter(|(i, (_, d))| *i == 0 || *d >= MIN_SHARE * all)
            .take(TOP)
            .map(|(_, (k, d))| format!("{k} +{}/day", money(d)) + &share(d, all))
            .collect();
        if !parts.is_empty() {
            sentences.push(format!("By {name}: {}.", parts.join(", ")));
        }
    }
    Ok(Some(sentences.join(" ")))
}

/// The baseline and recent windows over a scope's rows, as average cost per day.
struct Windows<'a> {
    rows: &'a [ScopeCost],
    recent_from: NaiveDate,
    /// Calendar days in the recent window.
    recent_days: f64,
    /// Calendar days in the baseline (fewer when the ledger's data begins within it).
    base_days: f64,
}

impl Windows<'_> {
    /// `(label, change in cost per day)` per value of `label`, largest increase first.
    fn change(&self, label: impl Fn(&ScopeCost) -> String) -> Vec<(String, f64)> {
        let mut by: HashMap<String, f64> = HashMap::new();
        for c in self.rows {
            *by.entry(label(c)).or_default() += self.contribution(c);
        }
        let mut out: Vec<(String, f64)> = by.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The cost of row `c` as a signed contribution to the change in the daily average.
    fn contribution(&self, c: &ScopeCost) -> f64 {
        if c.day >= self.recent_from {
            c.cost / self.recent_days
        } else {
            -c.cost / self.base_days
        }
    }

    /// The daily averages of `value` over the baseline and over the recent days.
    fn averages(&self, value: fn(&ScopeCost) -> f64) -> (f64, f64) {
        let (mut before, mut now) = (0.0, 0.0);
        for c in self.rows {
            if c.day >= self.recent_from {
                now += value(c);
            } else {
                before += value(c);
            }
        }
        (before / self.base_days, now / self.recent_days)
    }

    /// Whether the change is more usage or a higher price per unit; only for one unit.
    fn volume_or_price(&self) -> Option<String> {
        let units: BTreeSet<&str> = self.rows.iter().map(|c| c.usage_unit.as_str()).collect();
        let [unit] = units.into_iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let (use_before, use_now) = self.averages(|c| c.usage_amount);
        let (cost_before, cost_now) = self.averages(|c| c.cost);
        if use_now <= 0.0 || unit.is_empty() {
            return None;
        }
        if use_before <= 0.0 {
            return Some(format!(
                "Usage: {} {unit}/day, none before.",
                amount(use_now)
            ));
        }
        let (price_before, price_now) = (cost_before / use_before, cost_now / use_now);
        if cost_before <= 0.0 {
            return Some(format!(
                "Usage went from {} to {} {unit}/day at {}/{unit}; before, it cost nothing (free tier \
                 or fully covered by a commitment).",
                amount(use_before),
                amount(use_now),
                unit_price(price_now)
            ));
        }
        let steady = |ratio: f64| (0.9..=1.1).contains(&ratio);
        Some(
            match (
                steady(use_now / use_before),
                steady(price_now / price_before),
            ) {
                (_, true) => format!(
                    "Usage went from {} to {} {unit}/day at about the same price ({}/{unit}): more usage, \
                 not a price change.",
                    amount(use_before),
                    amount(use_now),
                    unit_price(price_now)
                ),
                (true, false) => format!(
                    "Usage stayed near {} {unit}/day but the price went from {} to {} per {unit}: a rate or \
                 pricing change (a discount, reservation or savings plan no longer applying?).",
                    amount(use_before),
                    unit_price(price_before),
                    unit_price(price_now)
                ),
                (false, false) => format!(
                    "Usage went from {} to {} {unit}/day and the price from {} to {} per {unit}.",
                    amount(use_before),
                    amount(use_now),
                    unit_price(price_before),
                    unit_price(price_now)
                ),
            },
        )
    }
}

/// ` (95% of the rise)`, or nothing when this one is the whole rise.
fn share(part: f64, all: f64) -> String {
    let percent = 100.0 * part / all;
    if percent >= 99.5 {
        String::new()
    } else {
        format!(" ({percent:.0}% of the rise)")
    }
}

/// A usage amount, to a precision that suits its size (`1,234,567`, `12.3`, `0.042`).
fn amount(x: f64) -> String {
    if x >= 100.0 {
        money(x.round())
            .trim_start_matches('$')
            .trim_end_matches(".00")
            .to_string()
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// A price per unit, which is often a fraction of a cent: up to four significant digits.
fn unit_price(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        "$0".to_string()
    } else if x >= 1.0 {
        money(x)
    } else {
        let decimals = (3 - x.log10().floor() as i32).clamp(4, 12) as usize;
        let mut text = format!("${x:.decimals$}");
        while text.ends_with('0') && text.len() > "$0.00".len() {
            text.pop();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Scope, Severity};
    use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn facts(rows: &[(u32, &str, f64, f64)]) -> Facts {
        let mut facts = Facts::default();
        for &(d, region, cost, usage) in rows {
            let key = FactKey {
                billing_period: "2026-03".into(),
                day: day(d),
                account: "111122223333".into(),
                service_code: "AmazonEC2".into(),
                usage_type: "BoxUsage:m5.large".into(),
                region: region.into(),
                category: ChargeCategory::Usage,
                tags: "".into(),
            };
            facts.entry(key).or_default().add(&FactValue {
                service_name: "Amazon EC2".into(),
                unblended: cost,
                amortized: cost,
                usage_amount: usage,
                usage_unit: "Hrs".into(),
            });
        }
        facts
    }

    fn finding(rule: &str, d: u32) -> Finding {
        Finding {
            rule: rule.into(),
            scope: Scope {
                account: "111122223333".into(),
                service_code: "AmazonEC2".into(),
                service_name: "Amazon EC2".into(),
                usage_type: "BoxUsage:m5.large".into(),
            },
            day: day(d),
            severity: Severity::Warning,
            observed: 0.0,
            expected: 0.0,
            score: 0.0,
            monthly_impact: 0.0,
            message: String::new(),
            detail: None,
            action: Action::Notify,
        }
    }

    #[test]
    fn a_spike_is_told_as_volume_and_placed_in_its_region() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let mut rows: Vec<(u32, &str, f64, f64)> =
            (1..20).map(|d| (d, "us-east-1", 10.0, 100.0)).collect();
        rows.push((20, "us-east-1", 12.0, 120.0));
        rows.push((20, "eu-west-1", 38.0, 380.0));
        ledger
            .replace_periods(
                "cur",
                &["2026-03".to_string()],
                &SeriesFacts::from(&facts(&rows)),
                &[],
            )
            .unwrap();
        let text = explain(&ledger, "cur", &finding("spike", 20))
            .unwrap()
            .unwrap();
        assert!(text.contains("from 100 to 500 Hrs/day"), "{text}");
        assert!(text.contains("not a price change"), "{text}");
        assert!(
            text.contains("By region: eu-west-1 +$38.00/day (95% of the rise), us-east-1 +$2.00/day (5% of the rise)."),
            "{text}"
        );
    }

    #[test]
    fn a_price_change_is_told_as_price() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let rows: Vec<(u32, &str, f64, f64)> = (1..=20)
            .map(|d| (d, "us-east-1", if d > 17 { 30.0 } else { 10.0 }, 100.0))
            .collect();
        ledger
            .replace_periods(
                "cur",
                &["2026-03".to_string()],
                &SeriesFacts::from(&facts(&rows)),
                &[],
            )
            .unwrap();
        let text = explain(&ledger, "cur", &finding("shift", 20))
            .unwrap()
            .unwrap();
        assert!(
            text.contains("price went from $0.10 to $0.30 per Hrs"),
            "{text}"
        );
    }
}
