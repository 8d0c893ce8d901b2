//! The rules' read path: the usage history of a window as dense per-series arrays, read in
//! one pass over the window's days, and the facts of one scope for a root cause.
//!
//! Both read through the keys: `daily_amounts` is keyed by (day, series), so a window of
//! days is one range of the key, and a scope's facts are found by seeking its series on
//! each day. Neither query's cost grows with the ledger's history outside the window, nor
//! (for a scope) with the series outside the scope; `tests::read_plans_seek_the_keys`
//! keeps it so.

use super::Ledger;
use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};
use rusqlite::params;
use rusqlite::types::Value;
use std::collections::HashMap;
use std::rc::Rc;

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
/// A scope's daily amounts: one seek per day and series.
const SCOPE_AMOUNTS_SQL: &str = "SELECT day, series, amortized_cost, usage_amount
     FROM daily_amounts WHERE day IN rarray(?1) AND series IN rarray(?2)";

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

/// Usage cost of one day of a scope, split by the dimensions a root cause is told in.
#[derive(Debug, Clone)]
pub struct ScopeCost {
    pub day: NaiveDate,
    pub account: String,
    /// Service name, else product code.
    pub service: String,
    pub usage_type: String,
    pub region: String,
    pub tags: String,
    pub usage_unit: String,
    pub cost: f64,
    pub usage_amount: f64,
}

/// What a root cause is about: the series of one source matching the non-empty fields.
#[derive(Debug, Clone, Copy)]
pub struct ScopeFilter<'a> {
    pub source: &'a str,
    pub account: &'a str,
    pub service_code: &'a str,
    pub usage_type: &'a str,
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

    /// The first day with usage facts of `account` (of any account when empty) in `source`.
    pub fn usage_start(&self, source: &str, account: &str) -> Result<Option<NaiveDate>> {
        Ok(self.conn.query_row(
            "SELECT MIN(first_day) FROM usage_starts
             WHERE source = ?1 AND (?2 = '' OR account = ?2)",
            params![source, account],
            |r| r.get(0),
        )?)
    }

    /// The usage facts of a scope in `[from, to]`, by day, region and tags: the scope's
    /// series are found through their index, then their daily amounts by key.
    pub fn scope_costs(
        &self,
        scope: ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ScopeCost>> {
        let (sql, values) = scope_series_sql(&scope);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        // A line item may fall outside its billing period's month (the last hours of a
        // month in another time zone), so one month more on each side.
        let month = |d: NaiveDate| d.with_day(1).expect("every month has a first day");
        let first = (month(from) - Months::new(1)).format("%Y-%m").to_string();
        let last = (month(to) + Months::new(1)).format("%Y-%m").to_string();
        let mut bound: Vec<&dyn rusqlite::ToSql> = Vec::new();
        bound.push(&scope.source);
        bound.push(&first);
        bound.push(&last);
        for v in &values {
            bound.push(v);
        }
        struct Named {
            account: String,
            service: String,
            usage_type: String,
            region: String,
            tags: String,
            unit: String,
        }
        let mut by_id: HashMap<i64, Named> = HashMap::new();
        let mut rows = stmt.query(&*bound)?;
        while let Some(r) = rows.next()? {
            by_id.insert(
                r.get(0)?,
                Named {
                    account: r.get(1)?,
                    service: r.get(2)?,
                    usage_type: r.get(3)?,
                    region: r.get(4)?,
                    tags: r.get(5)?,
                    unit: r.get(6)?,
                },
            );
        }
        if by_id.is_empty() {
            return Ok(Vec::new());
        }
        let days: Vec<Value> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|d| Value::Text(d.format("%F").to_string()))
            .collect();
        let ids: Vec<Value> = by_id.keys().map(|&id| Value::Integer(id)).collect();
        let mut amounts = self.conn.prepare_cached(SCOPE_AMOUNTS_SQL)?;
        let mut rows = amounts.query(params![Rc::new(days), Rc::new(ids)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let n = &by_id[&r.get::<_, i64>(1)?];
            out.push(ScopeCost {
                day: r.get(0)?,
                account: n.account.clone(),
                service: n.service.clone(),
                usage_type: n.usage_type.clone(),
                region: n.region.clone(),
                tags: n.tags.clone(),
                usage_unit: n.unit.clone(),
                cost: r.get(2)?,
                usage_amount: r.get(3)?,
            });
        }
        Ok(out)
    }
}

/// The query of a scope's series in a range of billing periods (`?1` source, `?2` and `?3`
/// the periods), through `cost_series_by_scope` (the unary `+` keeps SQLite from reading
/// every series of the periods through the `UNIQUE` key instead), and the values of its
/// other parameters.
fn scope_series_sql<'a>(scope: &ScopeFilter<'a>) -> (String, Vec<&'a str>) {
    let mut sql = String::from(
        "SELECT id, account, COALESCE(NULLIF(service_name, ''), service_code), usage_type,
            region, tags, usage_unit
         FROM cost_series WHERE source = ?1 AND charge_category = 'usage'
           AND +billing_period BETWEEN ?2 AND ?3",
    );
    let mut values = Vec::new();
    for (column, value) in [
        ("account", scope.account),
        ("service_code", scope.service_code),
        ("usage_type", scope.usage_type),
    ] {
        if !value.is_empty() {
            values.push(value);
            sql += &format!(" AND {column} = ?{}", 3 + values.len());
        }
    }
    (sql, values)
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

    #[test]
    fn a_scope_reads_only_its_own_series() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let facts: Facts = ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
            .iter()
            .flat_map(|d| {
                [
                    fact(d, "1", "AmazonEC2", 10.0),
                    fact(d, "2", "AmazonEC2", 5.0),
                ]
            })
            .collect();
        let periods = ["2026-02".to_string(), "2026-03".to_string()];
        ledger
            .replace_periods("cur", &periods, &SeriesFacts::from(&facts), &[])
            .unwrap();
        let scope = ScopeFilter {
            source: "cur",
            account: "2",
            service_code: "AmazonEC2",
            usage_type: "BoxUsage",
        };
        let rows = ledger
            .scope_costs(scope, day("2026-02-28"), day("2026-03-01"))
            .unwrap();
        assert_eq!(rows.len(), 2, "two days across two billing periods");
        assert!(rows.iter().all(|r| r.account == "2" && r.cost == 5.0));
        let whole = ScopeFilter {
            account: "",
            service_code: "",
            usage_type: "",
            ..scope
        };
        let all = ledger
            .scope_costs(whole, day("2026-02-27"), day("2026-03-02"))
            .unwrap();
        assert_eq!(all.len(), 8);
        let other = ScopeFilter {
            source: "cost_explorer",
            ..scope
        };
        let none = ledger.scope_costs(other, day("2026-02-27"), day("2026-03-02"));
        assert!(none.unwrap().is_empty());
    }

    /// The plan of `sql`, one line per step.
    fn plan(ledger: &Ledger, sql: &str, values: usize) -> String {
        let mut stmt = ledger
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls: Vec<Value> = vec![Value::Null; values];
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
