//! The rules' read path: the usage history of a window as dense per-series arrays, read in
//! one pass over the window's days (`daily_amounts` is keyed by day first, so a window is one
//! range of the key). Its cost does not grow with the history outside the window; with
//! [`super::scope`], whose reads seek their scope's series by key, this is the regression
//! test of the daily run's scale (`tests::read_plans_seek_the_keys`).

use super::Ledger;
use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::params;
use std::collections::HashMap;

/// Sources in order of preference: rules read the most detailed source that has data in the
/// window, and only that one. Sources name services and usage types differently (CUR product
/// codes, Cost Explorer service names, service-level billing metrics), so mixing them day by day
/// would make series appear and vanish, which reads as new spend or drops.
pub const SOURCE_PREFERENCE: [&str; 3] = ["cur", "cost_explorer", "billing_metrics"];

/// The billing periods of each source whose days overlap a window.
const PERIODS_SQL: &str = "SELECT source, billing_period FROM period_days
     WHERE first_day <= ?2 AND last_day >= ?1 ORDER BY billing_period";
/// The usage series of one source's billing period, through the `UNIQUE` key's prefix (the
/// unary `+` keeps SQLite from choosing `cost_series_by_scope`, which would read every
/// usage series of the source for each period).
const PERIOD_SERIES_SQL: &str = "SELECT id, account, service_code, usage_type, service_name
     FROM cost_series WHERE source = ?1 AND billing_period = ?2 AND +charge_category = 'usage'";
/// Every daily amount of a window of days: one range of the primary key.
const WINDOW_AMOUNTS_SQL: &str = "SELECT day, series, amortized_cost FROM daily_amounts
     WHERE day BETWEEN ?1 AND ?2";
/// The first usage day of each account of a source.
const USAGE_STARTS_SQL: &str = "SELECT account, first_day FROM usage_starts WHERE source = ?1";
/// Daily usage cost (amortized) of every series of one source over `[first_day, ...]`.
#[derive(Debug, Default)]
pub struct UsageHistory {
    /// The source read (see [`SOURCE_PREFERENCE`]); empty when the window has no usage.
    pub source: String,
    pub series: Vec<UsageSeries>,
}

/// One account × service × usage type series of a [`UsageHistory`], summed over regions,
/// tags and billing periods.
#[derive(Debug, Clone)]
pub struct UsageSeries {
    pub account: String,
    pub service_code: String,
    pub service_name: String,
    pub usage_type: String,
    /// Cost per day from the window's first day; days without facts are 0.
    pub amounts: Vec<f64>,
    /// Whether the series has any fact in the window (a fact may be 0).
    pub has_facts: bool,
    /// The offset in `amounts` of the first day the series' account has usage facts in
    /// the source: days before it are unknown, not days without spend.
    pub known_from: usize,
}

impl Ledger {
    /// The usage history of `[from, to]` from the preferred source with usage in it, in one
    /// pass over the window's daily amounts.
    pub fn usage_history(&self, from: NaiveDate, to: NaiveDate) -> Result<UsageHistory> {
        let len = ((to - from).num_days() + 1).max(0) as usize;
        // Series id -> (source rank, index in `series`).
        let mut slot: Vec<Option<(usize, u32)>> = Vec::new();
        let mut series: Vec<UsageSeries> = Vec::new();
        let mut ranks: Vec<usize> = Vec::new();
        let mut index: HashMap<(usize, String, String, String), u32> = HashMap::new();
        let mut periods = self.conn.prepare_cached(PERIODS_SQL)?;
        let mut period_series = self.conn.prepare_cached(PERIOD_SERIES_SQL)?;
        let periods: Vec<(String, String)> = periods
            .query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (source, period) in &periods {
            let rank = source_rank(source);
            let mut rows = period_series.query(params![source, period])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let (account, service_code, usage_type, name): (String, String, String, String) =
                    (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
                let next = series.len() as u32;
                let key = (rank, account, service_code, usage_type);
                let at = match index.get(&key) {
                    Some(&at) => at,
                    None => {
                        let (_, account, service_code, usage_type) = key.clone();
                        series.push(UsageSeries {
                            account,
                            service_code,
                            service_name: String::new(),
                            usage_type,
                            amounts: Vec::new(),
                            has_facts: false,
                            known_from: 0,
                        });
                        ranks.push(rank);
                        index.insert(key, next);
                        next
                    }
                };
                // Periods come oldest first: the newest name wins.
                if !name.is_empty() {
                    series[at as usize].service_name = name;
                }
                let id = usize::try_from(id)?;
                if id >= slot.len() {
                    slot.resize(id + 1, None);
                }
                slot[id] = Some((rank, at));
            }
        }
        drop(index);

        let mut found = [false; SOURCE_PREFERENCE.len() + 1];
        let mut amounts = self.conn.prepare_cached(WINDOW_AMOUNTS_SQL)?;
        let mut rows = amounts.query(params![from, to])?;
        let mut day = DayIndex::new(from);
        while let Some(row) = rows.next()? {
            let Some(Some((rank, at))) = usize::try_from(row.get::<_, i64>(1)?)
                .ok()
                .and_then(|id| slot.get(id))
            else {
                continue;
            };
            let i = day.of(row.get_ref(0)?.as_str()?)?;
            let s = &mut series[*at as usize];
            if s.amounts.is_empty() {
                s.amounts = vec![0.0; len];
            }
            s.amounts[i] += row.get::<_, f64>(2)?;
            s.has_facts = true;
            found[*rank] = true;
        }
        let Some(best) = found.iter().position(|&f| f) else {
            return Ok(UsageHistory::default());
        };
        let mut chosen: Vec<UsageSeries> = (series.into_iter().zip(ranks))
            .filter(|(s, rank)| *rank == best && s.has_facts)
            .map(|(s, _)| s)
            .collect();
        let source = source_name(best);
        let mut starts = self.conn.prepare_cached(USAGE_STARTS_SQL)?;
        let starts: HashMap<String, NaiveDate> = starts
            .query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for s in &mut chosen {
            if let Some(&first) = starts.get(&s.account) {
                s.known_from = ((first - from).num_days().max(0) as usize).min(len);
            }
        }
        chosen.sort_by(|a, b| {
            (&a.account, &a.service_code, &a.usage_type).cmp(&(
                &b.account,
                &b.service_code,
                &b.usage_type,
            ))
        });
        Ok(UsageHistory {
            source: source.to_string(),
            series: chosen,
        })
    }
}

/// A source's place in [`SOURCE_PREFERENCE`]; unknown sources come last.
fn source_rank(source: &str) -> usize {
    SOURCE_PREFERENCE
        .iter()
        .position(|s| *s == source)
        .unwrap_or(SOURCE_PREFERENCE.len())
}

fn source_name(rank: usize) -> &'static str {
    SOURCE_PREFERENCE.get(rank).copied().unwrap_or("other")
}

/// Days as stored (`YYYY-MM-DD`) to offsets from the window's first day; the rows of a
/// window come day by day, so the last day read is remembered.
struct DayIndex {
    from: NaiveDate,
    last: String,
    offset: usize,
}

impl DayIndex {
    fn new(from: NaiveDate) -> Self {
        Self {
            from,
            last: String::new(),
            offset: 0,
        }
    }

    fn of(&mut self, day: &str) -> Result<usize> {
        if day != self.last {
            let date = NaiveDate::parse_from_str(day, "%F")?;
            self.offset = usize::try_from((date - self.from).num_days())?;
            self.last = day.to_string();
        }
        Ok(self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::ScopeFilter;
    use crate::ledger::scope::{SCOPE_AMOUNTS_SQL, scope_series_sql};
    use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts};

    fn fact(day: &str, account: &str, service: &str, cost: f64) -> (FactKey, FactValue) {
        let day: NaiveDate = day.parse().unwrap();
        let key = FactKey {
            billing_period: day.format("%Y-%m").to_string().into(),
            day,
            account: account.into(),
            service_code: service.into(),
            usage_type: "BoxUsage".into(),
            region: "us-east-1".into(),
            category: ChargeCategory::Usage,
            tags: "".into(),
        };
        let value = FactValue {
            service_name: service.into(),
            unblended: cost,
            amortized: cost,
            usage_amount: 1.0,
            usage_unit: "Hrs".into(),
        };
        (key, value)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn rules_read_one_source_for_the_whole_window() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let cur: Facts = [
            fact("2026-03-01", "1", "AmazonEC2", 10.0),
            fact("2026-03-02", "1", "AmazonEC2", 11.0),
        ]
        .into();
        ledger
            .replace_periods("cur", &["2026-03".into()], &SeriesFacts::from(&cur), &[])
            .unwrap();
        let ce: Facts = ["2026-03-01", "2026-03-02", "2026-03-03"]
            .map(|d| fact(d, "1", "Amazon EC2 - Compute", 12.0))
            .into();
        let days: Vec<NaiveDate> = ce.keys().map(|k| k.day).collect();
        ledger
            .replace_days("cost_explorer", &days, &ce, day("2026-03-04"))
            .unwrap();

        let history = ledger
            .usage_history(day("2026-03-01"), day("2026-03-03"))
            .unwrap();
        assert_eq!(history.source, "cur");
        assert_eq!(history.series.len(), 1);
        assert_eq!(history.series[0].service_code, "AmazonEC2");
        assert_eq!(
            history.series[0].amounts,
            [10.0, 11.0, 0.0],
            "the CUR's missing day stays missing"
        );
        let only_ce = ledger
            .usage_history(day("2026-03-03"), day("2026-03-03"))
            .unwrap();
        assert_eq!(only_ce.source, "cost_explorer");
        assert_eq!(only_ce.series[0].service_code, "Amazon EC2 - Compute");
    }

    /// The plan of `sql`, one line per step.
    fn plan(ledger: &Ledger, sql: &str, values: usize) -> String {
        let mut stmt = ledger
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls = vec![rusqlite::types::Value::Null; values];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// The regression test of the daily run's scale: every read the rules and root causes
    /// make goes through a key, none scans `daily_amounts` or `cost_series`. (A query that
    /// scans inside a loop made the daily run quadratic in the ledger's size.)
    #[test]
    fn read_plans_seek_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let window = plan(&ledger, WINDOW_AMOUNTS_SQL, 2);
        assert!(
            window.contains("SEARCH daily_amounts USING PRIMARY KEY (day>? AND day<?)"),
            "{window}"
        );
        let series = plan(&ledger, PERIOD_SERIES_SQL, 2);
        assert!(
            series.starts_with("SEARCH cost_series USING INDEX"),
            "{series}"
        );
        let periods = plan(&ledger, PERIODS_SQL, 2);
        assert!(!periods.contains("cost_series") && !periods.contains("daily_amounts"));
        let scope = plan(&ledger, SCOPE_AMOUNTS_SQL, 2);
        assert!(
            scope.contains("SEARCH daily_amounts USING PRIMARY KEY (day=? AND series=?)"),
            "{scope}"
        );
        let account = ScopeFilter {
            source: "cur",
            account: "1",
            service_code: "",
            usage_type: "",
        };
        let by_scope = plan(&ledger, &scope_series_sql(&account).0, 4);
        assert!(
            by_scope.contains(
                "USING INDEX cost_series_by_scope (source=? AND charge_category=? AND account=?)"
            ),
            "{by_scope}"
        );
        for p in [window, series, scope, by_scope] {
            assert!(
                !p.contains("SCAN daily_amounts") && !p.contains("SCAN cost_series"),
                "{p}"
            );
        }
    }
}
