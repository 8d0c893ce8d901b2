//! The daily job and its replay: sources → ledger → rules → findings → alerts → outbox → delivery.

mod budgets;
mod catch_up;
mod digests;

pub use catch_up::{CatchUp, CaughtUpDay};

use crate::config::Config;
use crate::error::Error;
use crate::findings::lifecycle;
use crate::ledger::{AlertRecord, Forecast, Ledger};
use crate::model::{BudgetWatch, SourceReport, SourceStatus, money};
use crate::rules::{self, History, Rule, RuleFailure, RuleTiming};
use crate::sources::{Source, SyncContext};
use anyhow::Result;
use chrono::{Days, NaiveDate};
use digests::Told;
use serde::Serialize;
use std::sync::Arc;

/// Everything a run needs: configuration, the open ledger, sources and rules.
pub struct Job {
    pub config: Config,
    pub ledger: Ledger,
    sources: Vec<Box<dyn Source>>,
    rules: Vec<Box<dyn Rule>>,
    /// The `[[budgets]]` the `budget` rule projects.
    watches: Vec<BudgetWatch>,
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
    /// Alerts held back by a silence or an acknowledgement (kept, not sent).
    pub silenced: Vec<AlertRecord>,
    pub findings_updated: usize,
    pub findings_resolved: usize,
    /// Where each pending digest went on each channel, or why it is still in the outbox.
    pub deliveries: Vec<crate::alerts::Delivery>,
    /// The newest cost forecast in the ledger covering the run date.
    pub forecast: Option<Forecast>,
    /// Which rules cannot alert yet for want of history, in words.
    pub learning: Option<String>,
    /// What the run did to the budgets findings propose (`[budgets_from_findings] apply`).
    pub budgets: Option<String>,
    /// Why applying the proposed budgets failed.
    pub budgets_error: Option<String>,
    /// The missed run dates replayed first, when the last successful run is older than
    /// the day before.
    pub catch_up: Option<CatchUp>,
}

/// What a backtest found: the alerts it would have sent and the rules that failed, by billing day.
#[derive(Debug)]
pub struct Backtest {
    pub alerts: Vec<AlertRecord>,
    pub failures: Vec<(NaiveDate, RuleFailure)>,
}

impl RunSummary {
    /// Whether anything failed (a source, a rule, a delivery or the proposed budgets).
    pub fn failed(&self) -> bool {
        self.sources.iter().any(SourceReport::failed)
            || !self.rule_failures.is_empty()
            || self.deliveries.iter().any(|d| d.result.is_err())
            || self.budgets_error.is_some()
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
        let watches = budgets::watches(&config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            config,
            ledger,
            sources,
            rules,
            watches,
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
    /// complete day, update findings, queue the digests of new alerts and deliver what is
    /// pending. Rerunning a date sends nothing twice. A dry run ingests data but keeps no
    /// findings, alerts or digests and delivers nothing.
    pub fn run(&self, run_date: NaiveDate, dry_run: bool) -> Result<RunSummary> {
        let (mut summary, run_id) = self.evaluate(run_date, dry_run)?;
        if let Some(id) = run_id {
            summary.deliveries = self.deliver()?;
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
            silenced: Vec::new(),
            findings_updated: 0,
            findings_resolved: 0,
            deliveries: Vec::new(),
            forecast: self.ledger.latest_forecast(run_date)?,
            learning: None,
            budgets: None,
            budgets_error: None,
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
            let on = Evaluated {
                run_date,
                day,
                dry_run,
                notes: &notes,
                tell_problems: true,
            };
            let done = self.evaluate_day(&history, &on, &summary.sources)?;
            summary.series_evaluated = done.series;
            summary.rule_failures.extend(done.failures);
            summary.rule_timings = done.timings;
            summary.alerts = done.alerts;
            summary.silenced = done.silenced;
            summary.findings_updated = done.updated;
            summary.findings_resolved = done.resolved;
        } else if !dry_run {
            // Nothing to evaluate, but a failing source must still be heard of.
            let problems = problems(&summary.sources, &[]);
            let told = Told {
                run_date,
                evaluated: false,
                sources: &summary.sources,
                notes: &notes,
                problems: &problems,
            };
            self.queue_digests(&self.ledger, &history, &told, &[], &[])?;
        }
        if run_id.is_some() && self.config.budgets_from_findings.apply {
            match self.apply_proposals() {
                Ok(done) => summary.budgets = Some(done),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "proposed budgets not applied");
                    summary.budgets_error = Some(format!("{e:#}"));
                }
            }
        }
        Ok((summary, run_id))
    }

    /// Evaluates one billing day for a run date: rules, findings and the digests of the new
    /// alerts, in one transaction.
    fn evaluate_day(
        &self,
        history: &History,
        on: &Evaluated,
        sources: &[SourceReport],
    ) -> Result<DayDone> {
        let (run_date, day) = (on.run_date, on.day);
        let snapshot = history.snapshot(day, self.config.detection.history_days as usize);
        let mut evaluation = rules::evaluate_all(&self.rules, &snapshot);
        self.watch_budgets(
            &self.ledger,
            &mut evaluation,
            history.source(),
            run_date,
            day,
        );
        let problems = if on.tell_problems {
            problems(sources, &evaluation.failures)
        } else {
            Vec::new()
        };
        let ran: Vec<&str> = evaluation.succeeded.iter().map(String::as_str).collect();
        let start = std::time::Instant::now();
        let silences = self.silences(run_date)?;
        let outcome = self.ledger.in_transaction(!on.dry_run, |ledger| {
            let today = lifecycle::Day {
                source: history.source(),
                run_date,
                day,
                resolve_after_quiet_days: self.config.detection.resolve_after_quiet_days,
                silences: &silences,
            };
            let outcome = lifecycle::apply(ledger, &today, evaluation.findings, &ran)?;
            let told = Told {
                run_date,
                evaluated: true,
                sources,
                notes: on.notes,
                problems: &problems,
            };
            self.queue_digests(ledger, history, &told, &outcome.alerts, &outcome.silenced)?;
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
            silenced: outcome.silenced,
            updated: outcome.updated,
            resolved: outcome.resolved,
        })
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
                let mut evaluation = rules::evaluate_all(&self.rules, &snapshot);
                self.watch_budgets(ledger, &mut evaluation, history.source(), run_date, day);
                for failure in &evaluation.failures {
                    tracing::warn!(rule = %failure.rule, day = %day, error = %failure.error, "rule failed");
                    failures.push((day, failure.clone()));
                }
                let ran: Vec<&str> = evaluation.succeeded.iter().map(String::as_str).collect();
                let on = lifecycle::Day {
                    source: history.source(),
                    run_date,
                    day,
                    resolve_after_quiet_days: detection.resolve_after_quiet_days,
                    silences: &self.config.silences,
                };
                let outcome = lifecycle::apply(ledger, &on, evaluation.findings, &ran)?;
                alerts.extend(outcome.alerts);
            }
            Ok(Backtest { alerts, failures })
        })
    }

    /// The usage history a report of run dates `[first_run, last_run]` charts.
    pub fn history(&self, first_run: NaiveDate, last_run: NaiveDate) -> Result<History> {
        self.load_history(first_run, last_run)
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

/// Which day a run evaluates, and what its digests tell besides the alerts.
struct Evaluated<'a> {
    run_date: NaiveDate,
    day: NaiveDate,
    dry_run: bool,
    notes: &'a [String],
    /// Whether the digests tell the source and rule failures (a replayed date's do not).
    tell_problems: bool,
}

/// What evaluating one day did.
struct DayDone {
    series: usize,
    failures: Vec<RuleFailure>,
    timings: Vec<RuleTiming>,
    alerts: Vec<AlertRecord>,
    silenced: Vec<AlertRecord>,
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
