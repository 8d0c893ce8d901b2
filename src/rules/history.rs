//! Dense daily usage history loaded from the ledger once, and the per-day snapshots rules see.

use super::Scope;
use crate::config::Detection;
use crate::ledger::Ledger;
use anyhow::Result;
use chrono::{Datelike, Days, NaiveDate};
use costwatch_detect::stats::median;

/// Daily usage cost of every series over a span of days, as dense arrays.
pub struct History {
    start: NaiveDate,
    series: Vec<(Scope, Vec<f64>)>,
    totals: Vec<f64>,
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
}

impl<'a> Snapshot<'a> {
    /// Weekday of the evaluated day, 0 = Monday.
    pub fn weekday(&self) -> u8 {
        self.day.weekday().num_days_from_monday() as u8
    }
}

impl History {
    /// Loads usage for `[from, to]` from the ledger.
    pub fn load(ledger: &Ledger, from: NaiveDate, to: NaiveDate) -> Result<Self> {
        let len = (to - from).num_days().max(-1) + 1;
        let len = len as usize;
        let index = |day: NaiveDate| (day - from).num_days() as usize;
        let series = ledger
            .usage_series(from, to)?
            .into_iter()
            .map(|s| {
                let mut amounts = vec![0.0; len];
                for (day, cost) in s.days {
                    amounts[index(day)] += cost;
                }
                let scope = Scope {
                    account: s.account,
                    service_code: s.service_code,
                    service_name: s.service_name,
                    usage_type: s.usage_type,
                };
                (scope, amounts)
            })
            .collect();
        let mut totals = vec![0.0; len];
        for (day, total) in ledger.usage_totals(from, to)? {
            totals[index(day)] = total;
        }
        Ok(Self {
            start: from,
            series,
            totals,
        })
    }

    /// The snapshot for `day` with up to `days` days of history; series with no spend in
    /// the window are left out.
    pub fn snapshot(&self, day: NaiveDate, days: usize) -> Snapshot<'_> {
        let series = match self.offset(day) {
            Some(end) => {
                let begin = (end + 1).saturating_sub(days);
                self.series
                    .iter()
                    .map(|(scope, amounts)| SeriesView {
                        scope,
                        amounts: &amounts[begin..=end],
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
    use crate::ledger::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts};

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
