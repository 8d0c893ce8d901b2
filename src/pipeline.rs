//! The daily job and its replay: sources → ledger → rules → findings → alerts → outbox → delivery.

use crate::alerts::{delivery, digest};
use crate::config::Config;
use crate::error::Error;
use crate::findings::lifecycle;
use crate::ledger::{AlertRecord, Forecast, Ledger};
use crate::model::{SourceReport, SourceStatus, money};
use crate::rules::{self, History, Rule, RuleFailure, RuleTiming};
use crate::sources::{Source, SyncContext};
use anyhow::Result;
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::sync::Arc;

/// Everything a run needs: configuration, the open ledger, sources and rules.
pub struct Job {
    pub config: Config,
    pub ledger: Ledger,
    sources: Vec<Box<dyn Source>>,
    rules: Vec<Box<dyn Rule>>,
    runtime: tokio::runtime::Runtime,
}

/// What one daily run did, printed as its summary and stored with the run.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub run_date: NaiveDate,
    pub dry_run: bool,
    /// The billing day evaluated (the newest complete one), if any.
    pub evaluated_day: Option<NaiveDate>,
    pub sources: Vec<SourceReport>,
    pub rules_run: usize,
    pub series_evaluated: usize,
    pub rule_failures: Vec<RuleFailure>,
    /// Each rule's time and findings.
    pub rule_timings: Vec<RuleTiming>,
    pub alerts: Vec<AlertRecord>,
    pub findings_updated: usize,
    pub findings_resolved: usize,
    /// Where each pending digest went, or why it is still in the outbox.
    pub deliveries: Vec<(i64, Result<String, String>)>,
    /// The newest cost forecast in the ledger covering the run date.
    pub forecast: Option<Forecast>,
    /// Which rules cannot alert yet for want of history, in words.
    pub learning: Option<String>,
    /// The missed run dates replayed first, when the last successful run is older than
    /// the day before.
    pub catch_up: Option<CatchUp>,
}

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

/// What a backtest found: the alerts it would have sent and the rules that failed, by billing day.
#[derive(Debug)]
pub struct Backtest {
    pub alerts: Vec<AlertRecord>,
    pub failures: Vec<(NaiveDate, RuleFailure)>,
}

impl RunSummary {
    /// Whether anything failed (a source, a rule, or a delivery).
    pub fn failed(&self) -> bool {
        self.sources.iter().any(SourceReport::failed)
            || !self.rule_failures.is_empty()
            || self.deliveries.iter().any(|(_, r)| r.is_err())
    }

    /// Paid API requests made by all sources.
    pub fn api_calls(&self) -> u32 {
        self.sources.iter().map(|s| s.api_calls).sum()
    }
}

impl Job {
    /// Opens the ledger and builds sources and rules from the config. A rule setting that
    /// does not validate is a config error, raised before any data is read.
    pub fn new(config: Config, ledger: Ledger) -> Result<Self> {
        let sources = config.sources.build(&config.aws);
        let rules = rules::from_entries(&config.rules).map_err(Error::config)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            config,
            ledger,
            sources,
            rules,
            runtime,
        })
    }

    /// Brings the ledger up to date from every source. With `fail_fast`, the first source
    /// error is returned; otherwise it is recorded in that source's report and the rest go on.
    pub fn sync(&self, today: NaiveDate, fail_fast: bool) -> Result<Vec<SourceReport>> {
        let mut reports = Vec::new();
        for source in &self.sources {
            let ctx = SyncContext {
                runtime: &self.runtime,
                today,
                meter: Arc::default(),
            };
            let result = source.sync(&self.ledger, &ctx);
            let (api_calls, throttled, cost) = ctx.meter.read();
            let operations = ctx.meter.operations();
            let report = |status, detail, days_ingested| SourceReport {
                source: source.name().into(),
                status,
                detail,
                api_calls,
                throttled,
                cost,
                days_ingested,
                operations: operations.clone(),
            };
            match result {
                Ok(synced) => {
                    reports.push(report(synced.status, synced.detail, synced.days_ingested))
                }
                Err(e) if fail_fast => return Err(e),
                Err(e) => {
                    tracing::error!(source = source.name(), error = %format!("{e:#}"), "source failed");
                    reports.push(report(SourceStatus::Failed, format!("{e:#}"), 0));
                }
            }
        }
        Ok(reports)
    }

    /// The daily job for `run_date`: sync, catch up missed run dates, evaluate the newest
    /// complete day, update findings, queue a digest of new alerts and deliver what is pending.
    /// Rerunning a date sends nothing twice. A dry run ingests data but keeps no findings,
    /// alerts or digests and delivers nothing.
    pub fn run(&self, run_date: NaiveDate, dry_run: bool) -> Result<RunSummary> {
        let (mut summary, run_id) = self.evaluate(run_date, dry_run)?;
        if let Some(id) = run_id {
            let deliveries =
                delivery::deliver_pending(&self.ledger, &self.config.alerts, &self.runtime)?;
            summary.deliveries = delivery::results(&deliveries);
            finish(&self.ledger, id, &summary)?;
        }
        Ok(summary)
    }

    /// [`Job::run`] up to the outbox: the digests are queued, not delivered. Returns the
    /// summary and the run record it opened (none for a dry run), which [`finish`] closes.
    pub fn evaluate(
        &self,
        run_date: NaiveDate,
        dry_run: bool,
    ) -> Result<(RunSummary, Option<i64>)> {
        let missed = if dry_run {
            None
        } else {
            self.missed(run_date)?
        };
        let run_id = if dry_run {
            None
        } else {
            Some(self.ledger.start_run(run_date)?)
        };
        let sources = self.sync(run_date, false)?;
        let first = (missed.as_ref())
            .and_then(|m| m.dates.first().copied())
            .unwrap_or(run_date);
        let history = self.load_history(first, run_date)?;
        let evaluated_day = history.newest_complete_day(run_date, &self.config.detection);
        let mut summary = RunSummary {
            run_date,
            dry_run,
            evaluated_day,
            sources,
            rules_run: self.rules.len(),
            series_evaluated: 0,
            rule_failures: Vec::new(),
            rule_timings: Vec::new(),
            alerts: Vec::new(),
            findings_updated: 0,
            findings_resolved: 0,
            deliveries: Vec::new(),
            forecast: self.ledger.latest_forecast(run_date)?,
            learning: None,
            catch_up: None,
        };
        if let Some(missed) = missed {
            summary.catch_up = Some(self.catch_up(&history, run_date, missed, &mut summary)?);
        }
        if let Some(day) = evaluated_day {
            summary.learning = rules::learning_note(&self.rules, history.days_known(day));
        }
        let notes: Vec<String> = (summary.forecast.iter().map(forecast_note))
            .chain(summary.learning.clone())
            .collect();
        if let Some(day) = evaluated_day {
            let problems = |failures: &[RuleFailure]| problems(&summary.sources, failures);
            let done = self.evaluate_day(&history, run_date, day, dry_run, &notes, problems)?;
            summary.series_evaluated = done.series;
            summary.rule_failures.extend(done.failures);
            summary.rule_timings = done.timings;
            summary.alerts = done.alerts;
            summary.findings_updated = done.updated;
            summary.findings_resolved = done.resolved;
        } else if !dry_run {
            // Nothing to evaluate, but a failing source must still be heard of.
            let problems = problems(&summary.sources, &[]);
            self.queue_digest(&self.ledger, run_date, &[], &notes, &problems)?;
        }
        Ok((summary, run_id))
    }

    /// The run dates missed since the last successful run before `run_date` (none on the
    /// first run), the newest `max_catch_up_days` of them.
    fn missed(&self, run_date: NaiveDate) -> Result<Option<Missed>> {
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

    /// Replays each missed run date, oldest first: its day's alerts go into a digest of its own.
    fn catch_up(
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
                let done = self.evaluate_day(history, *date, day, false, &notes, |_| Vec::new())?;
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

    /// Evaluates `day` for `run_date`: rules, findings and the digest of the new alerts (with
    /// the problems `problems` makes of the rule failures), in one transaction.
    fn evaluate_day(
        &self,
        history: &History,
        run_date: NaiveDate,
        day: NaiveDate,
        dry_run: bool,
        notes: &[String],
        problems: impl Fn(&[RuleFailure]) -> Vec<String>,
    ) -> Result<DayDone> {
        let snapshot = history.snapshot(day, self.config.detection.history_days as usize);
        let evaluation = rules::evaluate_all(&self.rules, &snapshot);
        let problems = problems(&evaluation.failures);
        let ran: Vec<&str> = evaluation.succeeded.iter().map(String::as_str).collect();
        let start = std::time::Instant::now();
        let outcome = self.ledger.in_transaction(!dry_run, |ledger| {
            let outcome = lifecycle::apply(
                ledger,
                history.source(),
                run_date,
                day,
                evaluation.findings,
                &ran,
                self.config.detection.resolve_after_quiet_days,
            )?;
            self.queue_digest(ledger, run_date, &outcome.alerts, notes, &problems)?;
            Ok(outcome)
        })?;
        tracing::info!(
            %run_date,
            alerts = outcome.alerts.len(),
            seconds = start.elapsed().as_secs_f64(),
            "findings applied"
        );
        Ok(DayDone {
            series: snapshot.series.len(),
            failures: evaluation.failures,
            timings: evaluation.timings,
            alerts: outcome.alerts,
            updated: outcome.updated,
            resolved: outcome.resolved,
        })
    }

    /// Queues the digest of a run if it has new alerts, or problems not yet told for this run
    /// date (rerunning a date while a source is down does not repeat the mail).
    fn queue_digest(
        &self,
        ledger: &Ledger,
        run_date: NaiveDate,
        alerts: &[AlertRecord],
        notes: &[String],
        problems: &[String],
    ) -> Result<()> {
        if alerts.is_empty() && (problems.is_empty() || ledger.has_digest(run_date)?) {
            return Ok(());
        }
        let report = digest::Report {
            run_date,
            alerts,
            notes,
            problems,
        };
        let digest = digest::render(&self.config.alerts, &report)?;
        let ids: Vec<i64> = alerts.iter().map(|a| a.id).collect();
        ledger.enqueue_digest(run_date, &digest.subject, &digest.message, &ids)?;
        Ok(())
    }

    /// Replays the daily job for every run date in `[from, to]` over the ledger's history and
    /// returns the alerts that would have been sent. Findings start empty and nothing is kept.
    pub fn backtest(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AlertRecord>> {
        Ok(self.backtest_report(from, to)?.alerts)
    }

    /// [`Job::backtest`] with the rule failures of each replayed day.
    pub fn backtest_report(&self, from: NaiveDate, to: NaiveDate) -> Result<Backtest> {
        let history = self.load_history(from, to)?;
        let detection = &self.config.detection;
        self.ledger.in_transaction(false, |ledger| {
            ledger.clear_findings()?;
            let mut alerts = Vec::new();
            let mut failures = Vec::new();
            for run_date in from.iter_days().take_while(|d| *d <= to) {
                let Some(day) = history.newest_complete_day(run_date, detection) else { continue };
                let snapshot = history.snapshot(day, detection.history_days as usize);
                let evaluation = rules::evaluate_all(&self.rules, &snapshot);
                for failure in &evaluation.failures {
                    tracing::warn!(rule = %failure.rule, day = %day, error = %failure.error, "rule failed");
                    failures.push((day, failure.clone()));
                }
                let ran: Vec<&str> = evaluation.succeeded.iter().map(String::as_str).collect();
                let outcome = lifecycle::apply(
                    ledger,
                    history.source(),
                    run_date,
                    day,
                    evaluation.findings,
                    &ran,
                    detection.resolve_after_quiet_days,
                )?;
                alerts.extend(outcome.alerts);
            }
            Ok(Backtest { alerts, failures })
        })
    }

    /// Usage history from `history_days` (plus the data-lag allowance) before `first_run` up to `last_run`.
    fn load_history(&self, first_run: NaiveDate, last_run: NaiveDate) -> Result<History> {
        let d = &self.config.detection;
        let back = Days::new((d.history_days + d.max_data_lag_days) as u64);
        let start = std::time::Instant::now();
        let history = History::load(&self.ledger, first_run - back, last_run)?;
        tracing::info!(
            source = history.source(),
            series = history.len(),
            seconds = start.elapsed().as_secs_f64(),
            "history loaded"
        );
        Ok(history)
    }
}

/// Closes the run record `id` on `ledger` with the summary and its status.
pub fn finish(ledger: &Ledger, id: i64, summary: &RunSummary) -> Result<()> {
    let status = if summary.failed() { "failed" } else { "ok" };
    ledger.finish_run(
        id,
        status,
        &serde_json::to_string(summary)?,
        &summary.sources,
    )
}

/// The run dates a run missed since the last successful one.
struct Missed {
    since: NaiveDate,
    /// The ones replayed, oldest first.
    dates: Vec<NaiveDate>,
    /// How many older ones were not.
    skipped: usize,
}

/// What evaluating one day did.
struct DayDone {
    series: usize,
    failures: Vec<RuleFailure>,
    timings: Vec<RuleTiming>,
    alerts: Vec<AlertRecord>,
    updated: usize,
    resolved: usize,
}

/// Source and rule failures, in words for the digest.
fn problems(sources: &[SourceReport], failures: &[RuleFailure]) -> Vec<String> {
    let sources = sources
        .iter()
        .filter(|s| s.failed())
        .map(|s| format!("source {}: {}", s.source, s.detail));
    let rules = failures
        .iter()
        .map(|f| format!("rule {}: {}", f.rule, f.error));
    sources.chain(rules).collect()
}

/// The forecast in one sentence.
pub fn forecast_note(f: &Forecast) -> String {
    let interval = match (f.lower, f.upper) {
        (Some(lo), Some(hi)) => format!(" (80% interval {} to {})", money(lo), money(hi)),
        _ => String::new(),
    };
    format!(
        "Forecast cost from {} to the end of the period ({}): {}{interval}.",
        f.period_start,
        f.period_end,
        money(f.mean)
    )
}
