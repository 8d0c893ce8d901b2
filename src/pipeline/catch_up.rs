//! Catching up: the run dates missed since the last successful run, replayed oldest first
//! before the run's own date, each with its own digest.

use super::{Evaluated, Job, RunSummary};
use crate::ledger::AlertRecord;
use crate::rules::History;
use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;

/// The run dates missed since the last successful run, replayed before the run's own.
#[derive(Debug, Serialize)]
pub struct CatchUp {
    /// The date of the last successful run.
    pub since: NaiveDate,
    /// The replayed run dates, oldest first; each date's alerts went into one digest.
    pub days: Vec<CaughtUpDay>,
    /// Older missed run dates not replayed (past `max_catch_up_days`).
    pub skipped: usize,
}

/// One replayed run date.
#[derive(Debug, Serialize)]
pub struct CaughtUpDay {
    pub run_date: NaiveDate,
    /// The billing day it evaluated, if one was complete.
    pub evaluated_day: Option<NaiveDate>,
    pub alerts: Vec<AlertRecord>,
}

/// The run dates a run missed since the last successful one.
pub(super) struct Missed {
    since: NaiveDate,
    /// The ones replayed, oldest first.
    pub(super) dates: Vec<NaiveDate>,
    /// How many older ones were not.
    skipped: usize,
}

impl Job {
    /// The run dates missed since the last successful run before `run_date` (none on the
    /// first run), the newest `max_catch_up_days` of them.
    pub(super) fn missed(&self, run_date: NaiveDate) -> Result<Option<Missed>> {
        let Some(since) = self.ledger.last_successful_run(run_date)? else {
            return Ok(None);
        };
        let all: Vec<NaiveDate> = (since.iter_days().skip(1))
            .take_while(|d| *d < run_date)
            .collect();
        if all.is_empty() {
            return Ok(None);
        }
        let keep = (self.config.detection.max_catch_up_days as usize).min(all.len());
        Ok(Some(Missed {
            since,
            skipped: all.len() - keep,
            dates: all[all.len() - keep..].to_vec(),
        }))
    }

    /// Replays each missed run date, oldest first: its day's alerts go into digests of its own.
    pub(super) fn catch_up(
        &self,
        history: &History,
        run_date: NaiveDate,
        missed: Missed,
        summary: &mut RunSummary,
    ) -> Result<CatchUp> {
        let mut days = Vec::new();
        for date in &missed.dates {
            let evaluated_day = history.newest_complete_day(*date, &self.config.detection);
            let mut alerts = Vec::new();
            if let Some(day) = evaluated_day {
                let notes = [format!(
                    "The run of {date} was missed; this digest was made on {run_date}."
                )];
                let on = Evaluated {
                    run_date: *date,
                    day,
                    dry_run: false,
                    notes: &notes,
                    tell_problems: false,
                };
                let done = self.evaluate_day(history, &on, &summary.sources)?;
                summary.rule_failures.extend(done.failures);
                alerts = done.alerts;
            }
            days.push(CaughtUpDay {
                run_date: *date,
                evaluated_day,
                alerts,
            });
        }
        tracing::info!(since = %missed.since, days = days.len(), skipped = missed.skipped, "caught up missed run dates");
        Ok(CatchUp {
            since: missed.since,
            days,
            skipped: missed.skipped,
        })
    }
}
