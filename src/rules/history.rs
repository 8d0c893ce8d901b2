//! Dense daily usage history loaded from the ledger once, and the per-day snapshots rules see.

use super::DetectionConfig as Detection;
use crate::ledger::Ledger;
use crate::model::Scope;
use anyhow::Result;
use chrono::{Datelike, Days, NaiveDate};
use costwatch_detect::stats::median;

/// Daily usage cost of every series over a span of days, as dense arrays.
pub struct History {
    start: NaiveDate,
    /// The ledger source the series come from (empty when there is no usage).
    source: String,
    series: Vec<HistorySeries>,
    totals: Vec<f64>,
}

/// One series of a [`History`].
struct HistorySeries {
    scope: Scope,
    amounts: Vec<f64>,
    /// The offset of the first day its account has data for.
    known_from: usize,
}

/// What a rule sees for one evaluated day: each series' window, ending on that day.
pub struct Snapshot<'a> {
    /// The billing day evaluated (the last element of every window).
    pub day: NaiveDate,
    pub series: Vec<SeriesView<'a>>,
}

/// One series in a snapshot.
pub struct SeriesView<'a> {
    pub scope: &'a Scope,
    /// Cost per day, oldest first, ending on the snapshot's day.
    pub amounts: &'a [f64],
    /// The offset in `amounts` of the first day the series' account has billing data for:
    /// the days before are unknown (0 in `amounts`), not days without spend.
    pub known_from: usize,
}

impl<'a> SeriesView<'a> {
    /// The days with known data: from the account's first day with data to the snapshot's.
    pub fn known(&self) -> &'a [f64] {
        &self.amounts[self.known_from..]
    }
}

impl<'a> Snapshot<'a> {
    /// Weekday of the evaluated day, 0 = Monday.
    pub fn weekday(&self) -> u8 {
        self.day.weekday().num_days_from_monday() as u8
    }
}

impl History {
    /// Loads usage for `[from, to]` from the ledger, in one pass over its days.
    pub fn load(ledger: &Ledger, from: NaiveDate, to: NaiveDate) -> Result<Self> {
        let len = ((to - from).num_days() + 1).max(0) as usize;
        let usage = ledger.usage_history(from, to)?;
        let mut totals = vec![0.0; len];
        let series = usage
            .series
            .into_iter()
            .map(|s| {
                for (t, a) in totals.iter_mut().zip(&s.amounts) {
                    *t += a;
                }
                let scope = Scope {
                    account: s.account,
                    service_code: s.service_code,
                    service_name: s.service_name,
                    usage_type: s.usage_type,
                };
                HistorySeries {
                    scope,
                    amounts: s.amounts,
                    known_from: s.known_from,
                }
            })
            .collect();
        Ok(Self {
            start: from,
            source: usage.source,
            series,
            totals,
        })
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether there is no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The ledger source the history was read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Days of data the source holds up to `day` (from its earliest account's first day).
    pub fn days_known(&self, day: NaiveDate) -> usize {
        let Some(first) = self.series.iter().map(|s| s.known_from).min() else {
            return 0;
        };
        self.offset(day)
            .map_or(0, |end| (end + 1).saturating_sub(first))
    }

    /// The daily cost of a scope (its empty fields match any series) over the `days` days
    /// ending on `day`, oldest first (days before the data are 0): what a chart shows.
    pub fn scope_window(&self, scope: &Scope, day: NaiveDate, days: usize) -> Vec<f64> {
        let mut out = vec![0.0; days];
        let Some(end) = self.offset(day) else {
            return out;
        };
        let matches = |field: &str, want: &str| want.is_empty() || field == want;
        for s in self.series.iter().filter(|s| {
            matches(&s.scope.account, &scope.account)
                && matches(&s.scope.service_code, &scope.service_code)
                && matches(&s.scope.usage_type, &scope.usage_type)
        }) {
            let begin = (end + 1).saturating_sub(days);
            let window = &s.amounts[begin..=end];
            for (o, a) in out[days - window.len()..].iter_mut().zip(window) {
                *o += a;
            }
        }
        out
    }

    /// The snapshot for `day` with up to `days` days of history; series with no spend in
    /// the window are left out.
    pub fn snapshot(&self, day: NaiveDate, days: usize) -> Snapshot<'_> {
        let series = match self.offset(day) {
            Some(end) => {
                let begin = (end + 1).saturating_sub(days);
                self.series
                    .iter()
                    .map(|s| SeriesView {
                        scope: &s.scope,
                        amounts: &s.amounts[begin..=end],
                        known_from: s.known_from.saturating_sub(begin).min(end + 1 - begin),
                    })
                    .filter(|s| s.amounts.iter().any(|&x| x != 0.0))
                    .collect()
            }
            None => Vec::new(),
        };
        Snapshot { day, series }
    }

    /// The newest day on or before `run_date - 1` whose data looks complete: it has spend, and its
    /// total is at least `partial_day_ratio` of the median of the seven days before it. Days
    /// still being billed are skipped; `None` when nothing within `max_data_lag_days` qualifies.
    pub fn newest_complete_day(
        &self,
        run_date: NaiveDate,
        detection: &Detection,
    ) -> Option<NaiveDate> {
        (1..=detection.max_data_lag_days.max(1) as u64).find_map(|back| {
            let day = run_date.checked_sub_days(Days::new(back))?;
            let i = self.offset(day)?;
            let total = self.totals[i];
            let prior: Vec<f64> = self.totals[i.saturating_sub(7)..i]
                .iter()
                .copied()
                .filter(|&t| t > 0.0)
                .collect();
            let complete = total > 0.0
                && (prior.is_empty() || total >= detection.partial_day_ratio * median(&prior));
            complete.then_some(day)
        })
    }

    fn offset(&self, day: NaiveDate) -> Option<usize> {
        let i = (day - self.start).num_days();
        (i >= 0 && (i as usize) < self.totals.len()).then_some(i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts};

    #[test]
    fn a_day_still_being_billed_is_not_evaluated() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let start: NaiveDate = "2026-03-01".parse().unwrap();
        let facts: Facts = (0..10u64)
            .map(|i| {
                let day = start + Days::new(i);
                let key = FactKey {
                    billing_period: "2026-03".into(),
                    day,
                    account: "1".into(),
                    service_code: "AmazonEC2".into(),
                    usage_type: "BoxUsage".into(),
                    region: "".into(),
                    category: ChargeCategory::Usage,
                    tags: "".into(),
                };
                // The tenth day has only a third of a normal day's cost so far.
                let cost = if i == 9 { 30.0 } else { 100.0 };
                (
                    key,
                    FactValue {
                        unblended: cost,
                        amortized: cost,
                        ..Default::default()
                    },
                )
            })
            .collect();
        ledger
            .replace_periods("cur", &["2026-03".into()], &SeriesFacts::from(&facts), &[])
            .unwrap();
        let history = History::load(&ledger, start, start + Days::new(12)).unwrap();
        let detection = Detection::default();
        let run = |d: u64| history.newest_complete_day(start + Days::new(d), &detection);
        assert_eq!(
            run(9),
            Some(start + Days::new(8)),
            "a complete yesterday is evaluated"
        );
        assert_eq!(
            run(10),
            Some(start + Days::new(8)),
            "a partial yesterday is skipped"
        );
        assert_eq!(
            run(11),
            Some(start + Days::new(8)),
            "missing days are skipped within the allowed lag"
        );
        assert_eq!(
            run(13),
            None,
            "older than the allowed lag: nothing to evaluate"
        );
    }
}
