//! Run records: when a daily run happened, how each source fared, and its summary.

use super::Ledger;
use crate::model::SourceReport;
use anyhow::Result;
use chrono::{NaiveDate, Utc};
use rusqlite::params;

impl Ledger {
    /// Records the start of a run and returns its id.
    pub fn start_run(&self, run_date: NaiveDate) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (run_date, started_at, status) VALUES (?1, ?2, 'running')",
            params![run_date, Utc::now().to_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The date of the newest run before `run_date` that ended `ok`, if any.
    pub fn last_successful_run(&self, run_date: NaiveDate) -> Result<Option<NaiveDate>> {
        Ok(self.conn.query_row(
            "SELECT MAX(run_date) FROM runs WHERE status = 'ok' AND run_date < ?1",
            [run_date],
            |r| r.get(0),
        )?)
    }

    /// Records how a run ended, with its per-source reports and a JSON summary.
    pub fn finish_run(
        &self,
        id: i64,
        status: &str,
        summary: &str,
        sources: &[SourceReport],
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3, summary = ?4 WHERE id = ?1",
            params![id, Utc::now().to_rfc3339(), status, summary],
        )?;
        let mut insert = self.conn.prepare(
            "INSERT INTO run_sources (run_id, source, status, detail, api_calls, days_ingested,
                throttled, cost)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for s in sources {
            insert.execute(params![
                id,
                s.source,
                s.status.as_str(),
                s.detail,
                s.api_calls,
                s.days_ingested as i64,
                s.throttled,
                s.cost
            ])?;
        }
        Ok(())
    }
}
