//! What budgets read: the daily cost of the facts a budget's filters select (the `budget`
//! rule projects it), and the budget alerts of open findings (the budgets proposed from them).

use super::{AlertRecord, Ledger};
use crate::model::{SpendFilter, budgets_service};
use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};
use rusqlite::params;
use rusqlite::types::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// Every series of a source in a range of billing periods (through the `UNIQUE` key's prefix).
const SERIES_SQL: &str = "SELECT id, account, service_code, service_name, usage_type, region,
        charge_category, tags
     FROM cost_series WHERE source = ?1 AND billing_period BETWEEN ?2 AND ?3";
/// The daily amounts of some series on some days: one seek per day and series.
const AMOUNTS_SQL: &str = "SELECT day, series, unblended_cost, amortized_cost
     FROM daily_amounts WHERE day IN rarray(?1) AND series IN rarray(?2)";
/// The newest alert asking for a budget of each open finding.
const OPEN_BUDGET_ALERTS_SQL: &str =
    "SELECT a.* FROM alerts a JOIN findings f ON f.id = a.finding_id
     WHERE f.status = 'open' AND a.id = (SELECT MAX(b.id) FROM alerts b
         WHERE b.finding_id = a.finding_id AND b.action LIKE '%\"budget_alert\"%')
     ORDER BY a.id";

impl Ledger {
    /// The daily cost in `[from, to]` of the facts of `source` that `filter` selects, one
    /// value per day (0 where there is none).
    pub fn spend(
        &self,
        source: &str,
        filter: &SpendFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<f64>> {
        let len = ((to - from).num_days() + 1).max(0) as usize;
        let mut out = vec![0.0; len];
        // A line item may fall outside its billing period's month: one month more each side.
        let month = |d: NaiveDate| d.with_day(1).expect("every month has a first day");
        let first = (month(from) - Months::new(1)).format("%Y-%m").to_string();
        let last = (month(to) + Months::new(1)).format("%Y-%m").to_string();
        let mut stmt = self.conn.prepare_cached(SERIES_SQL)?;
        let mut rows = stmt.query(params![source, first, last])?;
        let mut ids = Vec::new();
        while let Some(r) = rows.next()? {
            let text = |i: usize| r.get::<_, String>(i);
            let (code, name, usage_type) = (text(2)?, text(3)?, text(4)?);
            let selected = any_or_empty(&filter.accounts, &text(1)?)
                && (filter.services.is_empty()
                    || filter.services.iter().any(|s| {
                        *s == code || *s == name || *s == budgets_service(&code, &name, &usage_type)
                    }))
                && any_or_empty(&filter.usage_types, &usage_type)
                && any_or_empty(&filter.regions, &text(5)?)
                && (filter.categories.iter())
                    .any(|c| c.as_str() == text(6).as_deref().unwrap_or(""))
                && tagged(&filter.tags, &text(7)?);
            if selected {
                ids.push(Value::Integer(r.get(0)?));
            }
        }
        if ids.is_empty() {
            return Ok(out);
        }
        let days: Vec<Value> = from
            .iter_days()
            .take(len)
            .map(|d| Value::Text(d.format("%F").to_string()))
            .collect();
        let mut stmt = self.conn.prepare_cached(AMOUNTS_SQL)?;
        let mut rows = stmt.query(params![Rc::new(days), Rc::new(ids)])?;
        let column = if filter.amortized { 3 } else { 2 };
        while let Some(r) = rows.next()? {
            let day: NaiveDate = r.get(0)?;
            out[(day - from).num_days() as usize] += r.get::<_, f64>(column)?;
        }
        Ok(out)
    }

    /// The newest alert asking for a budget (`budget-alert` action) of every open finding,
    /// oldest first: what `costwatch budgets apply --proposals` turns into budgets.
    pub fn open_budget_alerts(&self) -> Result<Vec<AlertRecord>> {
        let mut stmt = self.conn.prepare(OPEN_BUDGET_ALERTS_SQL)?;
        let rows = stmt.query_map([], AlertRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Whether `value` is one of `values`, or `values` is empty (no filter).
fn any_or_empty(values: &[String], value: &str) -> bool {
    values.is_empty() || values.iter().any(|v| v == value)
}

/// Whether a series' tags (`key=value;key=value`) match any of the filter's pairs; an empty
/// value matches a series without that key.
fn tagged(filter: &[(String, String)], tags: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let pairs: HashMap<&str, &str> = tags
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    filter
        .iter()
        .any(|(key, value)| match pairs.get(key.as_str()) {
            Some(v) => v == value,
            None => value.is_empty(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts};

    #[test]
    fn spend_sums_the_selected_facts_per_day() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let fact = |d: &str, usage_type: &str, category, tags: &str, cost: f64| {
            let key = FactKey {
                billing_period: "2026-03".into(),
                day: day(d),
                account: "111122223333".into(),
                service_code: "AmazonEC2".into(),
                usage_type: usage_type.into(),
                region: "us-east-1".into(),
                category,
                tags: tags.into(),
            };
            let value = FactValue {
                unblended: cost,
                amortized: cost / 2.0,
                ..Default::default()
            };
            (key, value)
        };
        let facts: Facts = [
            fact(
                "2026-03-01",
                "BoxUsage:m5.large",
                ChargeCategory::Usage,
                "user:team=web",
                10.0,
            ),
            fact(
                "2026-03-02",
                "BoxUsage:m5.large",
                ChargeCategory::Usage,
                "",
                20.0,
            ),
            fact(
                "2026-03-02",
                "NatGateway-Bytes",
                ChargeCategory::Usage,
                "user:team=web",
                5.0,
            ),
            fact(
                "2026-03-02",
                "BoxUsage:m5.large",
                ChargeCategory::Tax,
                "",
                1.0,
            ),
        ]
        .into_iter()
        .collect();
        ledger
            .replace_periods("cur", &["2026-03".into()], &SeriesFacts::from(&facts), &[])
            .unwrap();
        let usage = SpendFilter {
            categories: vec![ChargeCategory::Usage],
            ..Default::default()
        };
        let spend = |f: &SpendFilter| {
            ledger
                .spend("cur", f, day("2026-03-01"), day("2026-03-03"))
                .unwrap()
        };
        assert_eq!(spend(&usage), [10.0, 25.0, 0.0]);
        let compute = SpendFilter {
            services: vec!["Amazon Elastic Compute Cloud - Compute".into()],
            categories: vec![ChargeCategory::Usage, ChargeCategory::Tax],
            amortized: true,
            ..Default::default()
        };
        assert_eq!(spend(&compute), [5.0, 10.5, 0.0]);
        let web = SpendFilter {
            tags: vec![("user:team".into(), "web".into())],
            ..usage.clone()
        };
        assert_eq!(spend(&web), [10.0, 5.0, 0.0]);
        let untagged = SpendFilter {
            tags: vec![("user:team".into(), String::new())],
            ..usage
        };
        assert_eq!(spend(&untagged), [0.0, 20.0, 0.0]);
    }
}
