//! What API sources remember between runs: fetched days and forecasts.

use super::Ledger;
use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

/// A month-end (or period) cost forecast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Forecast {
    pub made_on: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub metric: String,
    pub mean: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Ledger {
    /// When each day in `[from, to]` was last fetched from `source`.
    pub fn fetched_days(
        &self,
        source: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<NaiveDate, NaiveDate>> {
        let mut stmt = self.conn.prepare(
            "SELECT day, fetched_at FROM fetched_days WHERE source = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![source, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores a forecast (replacing one made the same day for the same period and metric).
    pub fn store_forecast(&self, f: &Forecast) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO forecasts (made_on, period_start, period_end, metric, mean, lower, upper)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![f.made_on, f.period_start, f.period_end, f.metric, f.mean, f.lower, f.upper],
        )?;
        Ok(())
    }

    /// The newest forecast made on or before `day` for a period containing it.
    pub fn latest_forecast(&self, day: NaiveDate) -> Result<Option<Forecast>> {
        Ok(self
            .conn
            .query_row(
                "SELECT made_on, period_start, period_end, metric, mean, lower, upper FROM forecasts
                 WHERE made_on <= ?1 AND period_end > ?1 ORDER BY made_on DESC LIMIT 1",
                [day],
                |r| {
                    Ok(Forecast {
                        made_on: r.get(0)?,
                        period_start: r.get(1)?,
                        period_end: r.get(2)?,
                        metric: r.get(3)?,
                        mean: r.get(4)?,
                        lower: r.get(5)?,
                        upper: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }
}
