//! Which days to fetch and in what pieces: every request costs $0.01, so only days missing
//! or still open to restatement are fetched, in pieces that fit the run's request budget,
//! newest first (detection can start before a long backfill ends); every complete day
//! fetched is kept, and the next run goes on where this one stopped.

use super::CostExplorerConfig as Settings;
use super::fetch::fetch;
use super::forecast::fetch_forecast;
use super::query::{Budget, Stop};
use crate::aws::{AwsConfig, Meter};
use crate::ledger::Ledger;
use crate::model::SourceStatus;
use crate::sources::{Source, SyncContext, Synced};
use anyhow::{Result, bail};
use aws_sdk_costexplorer::Client;
use chrono::{Datelike, Days, Months, NaiveDate};
use std::sync::Arc;

/// Ledger source name.
pub const SOURCE: &str = "cost_explorer";
/// Price of one Cost Explorer API request, in dollars.
pub const REQUEST_PRICE: f64 = 0.01;
/// Days in the first piece of a run, before the run has measured what a day costs.
const FIRST_PIECE_DAYS: usize = 7;
/// Days in a piece at most (a GetCostAndUsage range spans at most two months then).
const MAX_PIECE_DAYS: usize = 31;

/// The Cost Explorer source.
pub struct CostExplorerSource {
    settings: Settings,
    aws: AwsConfig,
}

impl CostExplorerSource {
    /// The source of these settings, calling AWS through `aws`.
    pub fn new(settings: Settings, aws: AwsConfig) -> Self {
        Self { settings, aws }
    }

    /// Days in the back-fill window that are missing or may still be restated by AWS,
    /// newest first.
    fn days_to_fetch(&self, ledger: &Ledger, today: NaiveDate) -> Result<Vec<NaiveDate>> {
        let first = today - Days::new(self.settings.backfill_days.max(1) as u64);
        let last = today - Days::new(1);
        let fetched = ledger.fetched_days(SOURCE, first, last)?;
        let restate = Days::new(self.settings.restate_days as u64);
        let month = today.with_day(1).expect("every month has a first day");
        let previous_month = (today.day() <= self.settings.previous_month_until_day)
            .then(|| (month - Months::new(1), month));
        let needed = |day: NaiveDate| match fetched.get(&day) {
            None => true,
            Some(&on) if on >= today => false,
            Some(&on) => {
                day + restate >= today
                    || on <= day + restate
                    || previous_month.is_some_and(|(start, end)| day >= start && day < end)
            }
        };
        let mut days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| needed(*d))
            .collect();
        days.reverse();
        Ok(days)
    }

    async fn sync_async(
        &self,
        ledger: &Ledger,
        today: NaiveDate,
        meter: &Arc<Meter>,
    ) -> Result<Synced> {
        let days = self.days_to_fetch(ledger, today)?;
        let forecast_due = self.settings.forecast
            && ledger
                .latest_forecast(today)?
                .is_none_or(|f| f.made_on < today);
        if days.is_empty() && !forecast_due {
            return Ok(Synced {
                status: SourceStatus::Ok,
                detail: "up to date".into(),
                days_ingested: 0,
            });
        }
        let config = crate::aws::sdk_config(
            &self.aws,
            Some("us-east-1"),
            self.settings.endpoint_url.as_deref(),
        )
        .await?;
        let client = Client::from_conf(
            aws_sdk_costexplorer::config::Builder::from(&config)
                .interceptor(meter.interceptor(|_| REQUEST_PRICE))
                .build(),
        );
        // The forecast's request is kept aside.
        let max = self.settings.max_requests_per_run;
        let reserve = u32::from(forecast_due).min(max);
        let mut budget = Budget {
            made: 0,
            max: max - reserve,
        };
        let mut progress = Progress::default();
        let mut pending: &[NaiveDate] = &days;
        while !pending.is_empty() {
            let fits = progress.days_fitting(budget.left());
            if fits == 0 {
                progress.stopped = Some(Stop::Budget(max));
                break;
            }
            let piece = newest_piece(pending, fits);
            let (end, start) = (piece[0], piece[piece.len() - 1]);
            let before = budget.made;
            let fetched = fetch(&client, start, end, &mut budget).await?;
            let kept = fetched.complete.len();
            if kept > 0 {
                progress.days_ingested +=
                    ledger.replace_days(SOURCE, &fetched.complete, &fetched.facts, today)?;
            }
            progress.record(kept, piece.len(), budget.made - before);
            if let Some(stop) = fetched.stopped {
                progress.stopped = Some(stop);
                break;
            }
            pending = &pending[piece.len()..];
        }
        let remaining = days.len() - progress.days_kept;
        let fetched = format!("{} of {} day(s) fetched", progress.days_kept, days.len());
        if let Some(Stop::Error(why)) = &progress.stopped {
            // The days fetched before the error are kept; the rest is the next run's.
            bail!("{why} ({fetched}; the other {remaining} are left for the next run)");
        }
        let mut notes = Vec::new();
        if !days.is_empty() {
            notes.push(fetched);
        }
        if let Some(Stop::Budget(max)) = &progress.stopped {
            notes.push(format!(
                "request budget of {max} reached; {remaining} day(s) left for the next runs ({})",
                progress.runs_needed(remaining, self.settings.max_requests_per_run)
            ));
        }
        if reserve == 1 {
            let forecast = fetch_forecast(&client, today).await?;
            notes.push(format!("month-end forecast {:.2}", forecast.mean));
            ledger.store_forecast(&forecast)?;
        }
        let status = if remaining > 0 {
            SourceStatus::Partial
        } else {
            SourceStatus::Ok
        };
        Ok(Synced {
            status,
            detail: notes.join("; "),
            days_ingested: progress.days_ingested,
        })
    }
}

impl Source for CostExplorerSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced> {
        ctx.runtime
            .block_on(self.sync_async(ledger, ctx.today, &ctx.meter))
    }
}

/// What a run has fetched so far, and what a day has cost in requests.
#[derive(Debug, Default)]
struct Progress {
    days_kept: usize,
    days_ingested: usize,
    days_tried: usize,
    requests: u32,
    stopped: Option<Stop>,
}

impl Progress {
    fn record(&mut self, kept: usize, tried: usize, requests: u32) {
        self.days_kept += kept;
        self.days_tried += tried;
        self.requests += requests;
    }

    /// Requests a day takes, as measured this run (none yet: unknown).
    fn requests_per_day(&self) -> Option<f64> {
        (self.days_tried > 0).then(|| self.requests as f64 / self.days_tried as f64)
    }

    /// Days the next piece may span with `left` requests: the first piece is a week; then
    /// as many days as the measured cost per day allows.
    fn days_fitting(&self, left: u32) -> usize {
        if left == 0 {
            return 0;
        }
        match self.requests_per_day() {
            None => FIRST_PIECE_DAYS,
            Some(per_day) => {
                ((left as f64 / per_day.max(0.01)).floor() as usize).clamp(1, MAX_PIECE_DAYS)
            }
        }
    }

    /// "about N more run(s)" at `budget` requests a run, as measured.
    fn runs_needed(&self, days: usize, budget: u32) -> String {
        match self.requests_per_day() {
            Some(per_day) if budget > 0 => {
                let runs = (days as f64 * per_day / budget as f64).ceil().max(1.0);
                format!("about {runs} more run(s) at {budget} requests")
            }
            _ => "raise max_requests_per_run to fetch them".into(),
        }
    }
}

/// The newest contiguous days of `pending` (newest first), at most `most`.
fn newest_piece(pending: &[NaiveDate], most: usize) -> &[NaiveDate] {
    let mut len = 1;
    while len < pending.len().min(most) && pending[len - 1] - Days::new(1) == pending[len] {
        len += 1;
    }
    &pending[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_contiguous_and_newest_first() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let days = [
            d("2026-03-05"),
            d("2026-03-04"),
            d("2026-03-03"),
            d("2026-03-01"),
        ];
        assert_eq!(newest_piece(&days, 10), &days[..3]);
        assert_eq!(newest_piece(&days, 2), &days[..2]);
        assert_eq!(newest_piece(&days[3..], 2), &days[3..]);
    }

    #[test]
    fn a_piece_fits_what_is_left() {
        let mut p = Progress::default();
        assert_eq!(p.days_fitting(0), 0);
        assert_eq!(p.days_fitting(20), FIRST_PIECE_DAYS);
        p.record(7, 7, 14); // two requests a day
        assert_eq!(p.days_fitting(6), 3);
        assert_eq!(p.days_fitting(1000), MAX_PIECE_DAYS);
        assert_eq!(p.runs_needed(40, 20), "about 4 more run(s) at 20 requests");
    }
}
