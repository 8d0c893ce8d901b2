//! The facts of one scope for a root cause: the scope's series are found through their
//! index (`cost_series_by_scope`), then their daily amounts by key, so a root cause costs
//! the same however large the rest of the ledger is.

use super::Ledger;
use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};
use rusqlite::params;
use rusqlite::types::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// A scope's daily amounts: one seek per day and series.
pub(super) const SCOPE_AMOUNTS_SQL: &str = "SELECT day, series, amortized_cost, usage_amount
     FROM daily_amounts WHERE day IN rarray(?1) AND series IN rarray(?2)";

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
pub(super) fn scope_series_sql<'a>(scope: &ScopeFilter<'a>) -> (String, Vec<&'a str>) {
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
}
