//! Daily cost facts in the ledger: writing a billing period or a set of days, and the input
//! files already read.

use super::{FileStamp, Ledger};
use crate::model::{ChargeCategory, Facts, SeriesFacts, SeriesKey};
use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::params;
use rustc_hash::FxBuildHasher;
use std::collections::{BTreeMap, HashMap};

impl Ledger {
    /// Replaces every fact of `source` in `periods` with `facts`, in one transaction:
    /// a failure leaves the previous facts intact. Returns the number of distinct days written.
    /// The stamps of the files read are recorded in the same transaction.
    pub fn replace_periods(
        &self,
        source: &str,
        periods: &[String],
        facts: &SeriesFacts,
        files: &[FileStamp],
    ) -> Result<usize> {
        self.write_facts(source, periods, facts, files, Write::New)
    }

    /// Adds `facts` to those of `source`: an amount whose series and day are in the ledger
    /// already is summed into it (another file of a billing period replaced earlier in the
    /// same transaction). Records the stamps of the files read; returns the days written.
    pub fn add_facts(
        &self,
        source: &str,
        facts: &SeriesFacts,
        files: &[FileStamp],
    ) -> Result<usize> {
        self.write_facts(source, &[], facts, files, Write::Sum)
    }

    fn write_facts(
        &self,
        source: &str,
        periods: &[String],
        facts: &SeriesFacts,
        files: &[FileStamp],
        write: Write,
    ) -> Result<usize> {
        self.atomically(|tx| {
        for file in files {
            tx.execute(
                "INSERT INTO ingested_files (path, version, billing_periods) VALUES (?1, ?2, ?3)
                 ON CONFLICT (path) DO UPDATE SET version = ?2, billing_periods = ?3",
                params![file.path, file.version, file.periods.join(",")],
            )?;
        }
        for period in periods {
            // Through the day-first key: only the days the period is known to span.
            tx.execute(
                "DELETE FROM daily_amounts WHERE day BETWEEN
                    (SELECT first_day FROM period_days WHERE source = ?1 AND billing_period = ?2) AND
                    (SELECT last_day FROM period_days WHERE source = ?1 AND billing_period = ?2)
                  AND series IN
                    (SELECT id FROM cost_series WHERE source = ?1 AND billing_period = ?2)",
                params![source, period],
            )?;
            tx.execute(
                "DELETE FROM period_days WHERE source = ?1 AND billing_period = ?2",
                params![source, period],
            )?;
        }
        insert_facts(tx, source, facts, write)
        })
    }

    /// Replaces every fact of `source` on `days` with `facts` and records the days as fetched
    /// on `fetched_on`, in one transaction. Returns the number of distinct days written.
    pub fn replace_days(
        &self,
        source: &str,
        days: &[NaiveDate],
        facts: &Facts,
        fetched_on: NaiveDate,
    ) -> Result<usize> {
        self.atomically(|tx| {
            for day in days {
                tx.execute(
                    "DELETE FROM daily_amounts WHERE day = ?2
                   AND series IN (SELECT id FROM cost_series WHERE source = ?1)",
                    params![source, day],
                )?;
                tx.execute(
                    "INSERT INTO fetched_days (source, day, fetched_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source, day) DO UPDATE SET fetched_at = ?3",
                    params![source, day, fetched_on],
                )?;
            }
            insert_facts(tx, source, &SeriesFacts::from(facts), Write::New)
        })
    }

    /// First and last day with any fact, if the ledger has any.
    pub fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let range: (Option<NaiveDate>, Option<NaiveDate>) = self
            .conn
            // Two subqueries: SQLite reads a lone MIN or MAX off the key's ends, but
            // both in one query scan the table.
            .query_row(
                "SELECT (SELECT MIN(day) FROM daily_amounts), (SELECT MAX(day) FROM daily_amounts)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        Ok(range.0.zip(range.1))
    }
}

/// The text of a series: all of its key but the day (the source is the load's).
type SeriesText<'a> = [&'a str; 7];

fn series_text(k: &SeriesKey) -> SeriesText<'_> {
    [
        &k.billing_period,
        &k.account,
        &k.service_code,
        &k.usage_type,
        &k.region,
        k.category.as_str(),
        &k.tags,
    ]
}

/// The ledger id of each series of `facts`, in their order. Series new to the ledger are
/// added; a series' names become the first ones `facts` give it (series that appear twice
/// are one).
fn series_ids(conn: &rusqlite::Connection, source: &str, facts: &SeriesFacts) -> Result<Vec<i64>> {
    // The distinct series in order of first appearance, with their names; each series' one.
    let mut index: HashMap<SeriesText, usize, FxBuildHasher> = HashMap::default();
    let mut series: Vec<(SeriesText, [&str; 2])> = Vec::new();
    let mut distinct_of: Vec<usize> = Vec::with_capacity(facts.series.len());
    for s in &facts.series {
        let text = series_text(&s.key);
        let i = *index.entry(text).or_insert_with(|| {
            series.push((text, ["", ""]));
            series.len() - 1
        });
        for (name, given) in series[i].1.iter_mut().zip([&s.service_name, &s.usage_unit]) {
            if name.is_empty() {
                *name = given;
            }
        }
        distinct_of.push(i);
    }
    // Those already in the ledger, with their names where these changed.
    let mut ids: Vec<Option<i64>> = vec![None; series.len()];
    let mut renamed: Vec<usize> = Vec::new();
    let mut known = conn.prepare_cached(
        "SELECT id, account, service_code, usage_type, region, charge_category, tags,
            service_name, usage_unit
         FROM cost_series WHERE source = ?1 AND billing_period = ?2",
    )?;
    for period in facts.billing_periods() {
        let mut rows = known.query(params![source, period])?;
        while let Some(row) = rows.next()? {
            let text = |i: usize| row.get_ref(i).and_then(|v| Ok(v.as_str()?));
            let key = [
                period.as_str(),
                text(1)?,
                text(2)?,
                text(3)?,
                text(4)?,
                text(5)?,
                text(6)?,
            ];
            if let Some(&i) = index.get(&key) {
                ids[i] = Some(row.get(0)?);
                if series[i].1 != [text(7)?, text(8)?] {
                    renamed.push(i);
                }
            }
        }
    }
    let mut rename = conn.prepare_cached(
        "UPDATE cost_series SET service_name = ?2, usage_unit = ?3 WHERE id = ?1",
    )?;
    for i in renamed {
        let [name, unit] = series[i].1;
        rename.execute(params![ids[i], name, unit])?;
    }
    // The new ones, numbered after the last.
    let mut next: i64 = conn.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM cost_series",
        [],
        |r| r.get(0),
    )?;
    let mut add = conn.prepare_cached(
        "INSERT INTO cost_series (id, source, billing_period, account, service_code, usage_type,
            region, charge_category, tags, service_name, usage_unit)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for ((text, [name, unit]), id) in series.iter().zip(&mut ids) {
        if id.is_none() {
            let [period, account, service, usage_type, region, category, tags] = text;
            add.execute(params![
                next, source, period, account, service, usage_type, region, category, tags, name,
                unit
            ])?;
            *id = Some(next);
            next += 1;
        }
    }
    Ok(distinct_of
        .into_iter()
        .map(|i| ids[i].expect("every series has an id"))
        .collect())
}

/// How [`insert_facts`] writes an amount whose series and day are in the ledger already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// It is an error: new facts only (the fast path, see [`insert_facts`]).
    New,
    /// It is summed into the one there.
    Sum,
}

/// Rows per `INSERT` statement of [`insert_facts`] at most (a power of two).
const INSERT_ROWS: usize = 1024;

/// One row of `daily_amounts`: day, series id, amounts.
type AmountRow = (NaiveDate, i64, [f64; 3]);

/// Inserts facts for `source`; returns the number of distinct days written.
///
/// Each series is written once ([`series_ids`]), then the daily amounts by day and series
/// id (amounts of the same day and series summed), up to [`INSERT_ROWS`] of one day per
/// statement, the day bound once: the B-tree then grows at the right edge of each day, and
/// within a statement SQLite appends to the page its cursor is on instead of descending
/// from the root for every row. The page cache is enlarged for the load. For new facts,
/// `OR IGNORE` spares SQLite a statement journal (a multi-row insert that may abort must be
/// able to undo itself: a copy of every page it touches, spilled to a temporary file); facts
/// are unique by key, and a statement that inserts fewer rows than it was given is reported
/// as an error. [`Write::Sum`] upserts instead.
fn insert_facts(
    conn: &rusqlite::Connection,
    source: &str,
    facts: &SeriesFacts,
    write: Write,
) -> Result<usize> {
    let cache_size: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -16 * 1024)?; // KiB
    let ids = series_ids(conn, source, facts)?;
    let mut rows: Vec<AmountRow> = facts
        .amounts
        .iter()
        .map(|a| {
            let amounts = [a.unblended, a.amortized, a.usage_amount];
            (a.day, ids[a.series as usize], amounts)
        })
        .collect();
    rows.sort_unstable_by_key(|&(day, id, _)| (day, id));
    rows.dedup_by(|row, kept| {
        let same = (row.0, row.1) == (kept.0, kept.1);
        if same {
            for (sum, amount) in kept.2.iter_mut().zip(row.2) {
                *sum += amount;
            }
        }
        same
    });

    // A statement of `n` rows of one day: the day is bound once, as `?1`.
    let sql = |n: usize| {
        let values: Vec<String> = (0..n)
            .map(|i| {
                let at = 2 + 4 * i;
                format!("(?1, ?{at}, ?{}, ?{}, ?{})", at + 1, at + 2, at + 3)
            })
            .collect();
        let (or_ignore, upsert) = match write {
            Write::New => ("OR IGNORE", ""),
            Write::Sum => (
                "",
                " ON CONFLICT (day, series) DO UPDATE SET
                    unblended_cost = unblended_cost + excluded.unblended_cost,
                    amortized_cost = amortized_cost + excluded.amortized_cost,
                    usage_amount = usage_amount + excluded.usage_amount",
            ),
        };
        format!(
            "INSERT {or_ignore} INTO daily_amounts (day, series, unblended_cost, amortized_cost,
                usage_amount) VALUES {}{upsert}",
            values.join(", ")
        )
    };
    // By the base-2 logarithm of their row count: a day's rows go in statements of
    // [`INSERT_ROWS`], then of decreasing powers of two, so a few shapes serve every load.
    let mut statements: Vec<Option<rusqlite::CachedStatement>> =
        (0..=INSERT_ROWS.ilog2()).map(|_| None).collect();
    let mut days = 0;
    for day_rows in rows.chunk_by(|a, b| a.0 == b.0) {
        days += 1;
        // The day as stored (`YYYY-MM-DD`, as rusqlite writes a `NaiveDate`).
        let day_text = day_rows[0].0.format("%F").to_string();
        let mut rest = day_rows;
        while !rest.is_empty() {
            let shape = rest.len().min(INSERT_ROWS).ilog2();
            let (batch, tail) = rest.split_at(1 << shape);
            rest = tail;
            let insert = match &mut statements[shape as usize] {
                Some(insert) => insert,
                empty => empty.insert(conn.prepare_cached(&sql(batch.len()))?),
            };
            insert.raw_bind_parameter(1, &day_text)?;
            for (i, &(_, id, amounts)) in batch.iter().enumerate() {
                let at = 2 + 4 * i;
                insert.raw_bind_parameter(at, id)?;
                for (j, amount) in amounts.into_iter().enumerate() {
                    insert.raw_bind_parameter(at + 1 + j, amount)?;
                }
            }
            let inserted = insert.raw_execute()?;
            if write == Write::New && inserted != batch.len() {
                anyhow::bail!(
                    "{source}: {} of {} facts were already in the ledger",
                    batch.len() - inserted,
                    batch.len()
                );
            }
        }
    }
    drop(statements);
    conn.pragma_update(None, "cache_size", cache_size)?;
    record_period_days(conn, source, facts)?;
    Ok(days)
}

/// Widens the recorded day span of each billing period in `facts` to cover their days, and
/// moves each account's first usage day back to the first in `facts`.
fn record_period_days(
    conn: &rusqlite::Connection,
    source: &str,
    facts: &SeriesFacts,
) -> Result<()> {
    let mut series_spans: Vec<Option<(NaiveDate, NaiveDate)>> = vec![None; facts.series.len()];
    for a in &facts.amounts {
        let span = series_spans[a.series as usize].get_or_insert((a.day, a.day));
        span.0 = span.0.min(a.day);
        span.1 = span.1.max(a.day);
    }
    let mut spans: BTreeMap<&str, (NaiveDate, NaiveDate)> = BTreeMap::new();
    let mut usage_starts: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for (s, span) in facts.series.iter().zip(series_spans) {
        let Some((first, last)) = span else { continue };
        let period = spans.entry(&s.key.billing_period).or_insert((first, last));
        period.0 = period.0.min(first);
        period.1 = period.1.max(last);
        if s.key.category == ChargeCategory::Usage {
            let start = usage_starts.entry(&s.key.account).or_insert(first);
            *start = (*start).min(first);
        }
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO period_days (source, billing_period, first_day, last_day) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source, billing_period) DO UPDATE
         SET first_day = MIN(first_day, ?3), last_day = MAX(last_day, ?4)",
    )?;
    for (period, (first, last)) in spans {
        upsert.execute(params![source, period, first, last])?;
    }
    let mut start = conn.prepare_cached(
        "INSERT INTO usage_starts (source, account, first_day) VALUES (?1, ?2, ?3)
         ON CONFLICT (source, account) DO UPDATE SET first_day = MIN(first_day, ?3)",
    )?;
    for (account, first) in usage_starts {
        start.execute(params![source, account, first])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FactKey, FactValue};

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
    fn a_day_of_many_facts_is_written_in_statements_of_several_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        // 1,500 series a day: statements of 1,024, 256, 128, 64, 16, 8 and 4 rows.
        let facts: Facts = ["2026-03-01", "2026-03-02", "2026-03-03"]
            .into_iter()
            .flat_map(|day| (0..1500).map(move |n| fact(day, &format!("S{n}"), n as f64)))
            .collect();
        let march = ["2026-03".to_string()];
        let days =
            (ledger.replace_periods("cur", &march, &SeriesFacts::from(&facts), &[])).unwrap();
        assert_eq!(days, 3);
        let (rows, total): (i64, f64) = ledger
            .conn
            .query_row(
                "SELECT COUNT(*), SUM(unblended_cost) FROM daily_costs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((rows, total), (4500, 3.0 * 1499.0 * 1500.0 / 2.0));
    }

    #[test]
    fn a_fact_already_in_the_ledger_is_an_error_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let march = ["2026-03".to_string()];
        let first: Facts = [fact("2026-03-01", "AmazonEC2", 10.0)].into();
        ledger
            .replace_periods("cur", &march, &SeriesFacts::from(&first), &[])
            .unwrap();
        // Not declared as replaced, so the same key is inserted a second time.
        let again: Facts = [
            fact("2026-03-01", "AmazonEC2", 99.0),
            fact("2026-03-02", "AmazonEC2", 5.0),
        ]
        .into();
        let err = ledger
            .replace_periods("cur", &[], &SeriesFacts::from(&again), &[])
            .unwrap_err();
        assert!(err.to_string().contains("already in the ledger"), "{err}");
        let from = "2026-03-01".parse().unwrap();
        let history = ledger
            .usage_history(from, "2026-03-31".parse().unwrap())
            .unwrap();
        let days = history.series[0].amounts.iter().filter(|&&a| a != 0.0);
        assert_eq!(days.count(), 1, "the failed load left nothing behind");
    }

    #[test]
    fn a_reloaded_period_reuses_its_series_and_takes_their_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let march = ["2026-03".to_string()];
        let load = |cost: f64, name: &str| {
            let facts: Facts = ["2026-03-01", "2026-03-02"]
                .map(|d| {
                    let (k, mut v) = fact(d, "AmazonEC2", cost);
                    v.service_name = name.into();
                    (k, v)
                })
                .into();
            ledger
                .replace_periods("cur", &march, &SeriesFacts::from(&facts), &[])
                .unwrap()
        };
        assert_eq!(load(10.0, "EC2"), 2);
        assert_eq!(load(7.0, "Amazon EC2"), 2);
        let count = |sql: &str| -> i64 { ledger.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM cost_series"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM daily_costs"), 2);
        let (name, total): (String, f64) = ledger
            .conn
            .query_row(
                "SELECT MAX(service_name), SUM(unblended_cost) FROM daily_costs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((name.as_str(), total), ("Amazon EC2", 14.0));
    }
}
