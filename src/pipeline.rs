//! The daily job and its replay: sources → ledger → rules → findings → alerts → outbox → delivery.

use crate::alerts::digest::chart::BudgetSpan;
use crate::alerts::digest::{self, CHART_DAYS, ChartData};
use crate::alerts::{deliver_pending, route_alerts};
use crate::budgets;
use crate::config::Config;
use crate::error::Error;
use crate::findings::{Silence, lifecycle};
use crate::ledger::{AlertRecord, Forecast, Ledger};
use crate::model::{BudgetWatch, SourceReport, SourceStatus, money};
use crate::rules::{self, Evaluation, History, Rule, RuleFailure, RuleTiming};
use crate::sources::{Source, SyncContext};
use anyhow::Result;
use chrono::{Datelike, Days, NaiveDate};
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
        let watches = watches(&config);
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
            let report = |status, detail, days_ingested| SourceReport {
                source: source.name().into(),
                status,
                detail,
                api_calls,
                throttled,
                cost,
                days_ingested,
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

    /// The daily job for `run_date`: sync, evaluate the newest complete day, update findings,
    /// queue a digest of new alerts and deliver what is pending. Rerunning a date sends nothing twice.
    /// A dry run ingests data but keeps no findings, alerts or digests and delivers nothing.
    pub fn run(&self, run_date: NaiveDate, dry_run: bool) -> Result<RunSummary> {
        let run_id = if dry_run {
            None
        } else {
            Some(self.ledger.start_run(run_date)?)
        };
        let sources = self.sync(run_date, false)?;
        let history = self.load_history(run_date, run_date)?;
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
        };
        if let Some(day) = evaluated_day {
            summary.learning = rules::learning_note(&self.rules, history.days_known(day));
        }
        let notes: Vec<String> = (summary.forecast.iter().map(forecast_note))
            .chain(summary.learning.clone())
            .collect();
        if let Some(day) = evaluated_day {
            let snapshot = history.snapshot(day, self.config.detection.history_days as usize);
            summary.series_evaluated = snapshot.series.len();
            let mut evaluation = rules::evaluate_all(&self.rules, &snapshot);
            self.watch_budgets(
                &self.ledger,
                &mut evaluation,
                history.source(),
                run_date,
                day,
            );
            let problems = problems(&summary.sources, &evaluation.failures);
            let ran: Vec<&str> = evaluation.succeeded.iter().map(String::as_str).collect();
            let start = std::time::Instant::now();
            let silences = self.silences(run_date)?;
            let outcome = self.ledger.in_transaction(!dry_run, |ledger| {
                let on = lifecycle::Day {
                    source: history.source(),
                    run_date,
                    day,
                    resolve_after_quiet_days: self.config.detection.resolve_after_quiet_days,
                    silences: &silences,
                };
                let outcome = lifecycle::apply(ledger, &on, evaluation.findings, &ran)?;
                let told = Told {
                    run_date,
                    evaluated: true,
                    sources: &summary.sources,
                    notes: &notes,
                    problems: &problems,
                };
                self.queue_digests(ledger, &history, &told, &outcome.alerts, &outcome.silenced)?;
                Ok(outcome)
            })?;
            tracing::info!(
                alerts = outcome.alerts.len(),
                seconds = start.elapsed().as_secs_f64(),
                "findings applied"
            );
            summary.rule_failures = evaluation.failures;
            summary.rule_timings = evaluation.timings;
            summary.alerts = outcome.alerts;
            summary.silenced = outcome.silenced;
            summary.findings_updated = outcome.updated;
            summary.findings_resolved = outcome.resolved;
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
        if let Some(id) = run_id {
            summary.deliveries = self.deliver()?;
            let status = if summary.failed() { "failed" } else { "ok" };
            self.ledger.finish_run(
                id,
                status,
                &serde_json::to_string(&summary)?,
                &summary.sources,
            )?;
        }
        Ok(summary)
    }

    /// Delivers every pending digest through the channels it is due on.
    pub fn deliver(&self) -> Result<Vec<crate::alerts::Delivery>> {
        let c = &self.config;
        deliver_pending(&self.ledger, &c.alerts, &c.routes, &c.aws, &self.runtime)
    }

    /// The silences in force on `day`: the config's and the snoozed scopes.
    fn silences(&self, day: NaiveDate) -> Result<Vec<Silence>> {
        let snoozed = self.ledger.snoozes(day)?;
        Ok((self.config.silences.iter().cloned())
            .chain(snoozed.iter().map(Silence::from))
            .collect())
    }

    /// Queues one digest per route with its alerts (the default route gets those no route
    /// matches), or one with the problems not yet told for this run date (rerunning a date
    /// while a source is down does not repeat the mail).
    fn queue_digests(
        &self,
        ledger: &Ledger,
        history: &History,
        told: &Told,
        alerts: &[AlertRecord],
        silenced: &[AlertRecord],
    ) -> Result<()> {
        let run_date = told.run_date;
        if alerts.is_empty() && (told.problems.is_empty() || ledger.has_digest(run_date)?) {
            return Ok(());
        }
        let after = ledger.last_digest_before(run_date)?;
        let resolved = ledger.resolved_between(after, run_date)?;
        let series = |a: &AlertRecord| self.chart_data(history, a);
        let mut routed = route_alerts(ledger, history.source(), &self.config.routes, alerts)?;
        if routed.is_empty() {
            routed.push((None, Vec::new()));
        }
        let configured = self.config.alerts.channel_names();
        for (route, alerts) in routed {
            let parts = digest::Parts {
                run_date,
                alerts: &alerts,
                silenced,
                resolved: &resolved,
                sources: told.sources,
                evaluated: told.evaluated,
                notes: told.notes,
                problems: told.problems,
                series: &series,
            };
            let digest = digest::build(&parts);
            let channels: Vec<&str> = match route {
                Some(r) if !r.channels.is_empty() => {
                    r.channels.iter().map(String::as_str).collect()
                }
                _ => configured.clone(),
            };
            let ids: Vec<i64> = alerts.iter().map(|a| a.id).collect();
            let name = route.map_or("", |r| r.name.as_str());
            let json = serde_json::to_string(&digest)?;
            ledger.enqueue_digest(run_date, name, &digest.subject, &json, &ids, &channels)?;
        }
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

    /// What an alert's chart shows: its scope's daily cost; for a budget alert, the budget's
    /// period so far (a `[[budgets]]` entry's own spend, or all usage for `monthly_limit`).
    pub fn chart_data(&self, history: &History, a: &AlertRecord) -> Option<ChartData> {
        let scope = crate::model::Scope {
            account: a.account.clone(),
            service_code: a.service.clone(),
            service_name: a.service_name.clone(),
            usage_type: a.usage_type.clone(),
        };
        if a.rule != "budget" {
            let daily = history.scope_window(&scope, a.data_day, CHART_DAYS);
            return Some(ChartData {
                daily,
                budget: None,
            });
        }
        // A `[[budgets]]` entry's scope is `budget:NAME:PERIOD` (names hold no colon).
        if let Some(rest) = a.service.strip_prefix("budget:") {
            let name = rest.split(':').next()?;
            let w = self.watches.iter().find(|w| w.name == name)?;
            let first = w.period.start(a.data_day);
            let last = w.period.end(a.data_day).pred_opt()?;
            let daily = (self
                .ledger
                .spend(history.source(), &w.spend, first, a.data_day))
            .ok()?;
            let budget = Some(BudgetSpan {
                limit: w.limit,
                first,
                last,
            });
            return Some(ChartData { daily, budget });
        }
        let first = a.data_day.with_day(1)?;
        let last = (first + chrono::Months::new(1)).pred_opt()?;
        let days = (a.data_day - first).num_days() as usize + 1;
        let daily = history.scope_window(&scope, a.data_day, days);
        let limit = a.expected * ((last - first).num_days() + 1) as f64;
        let budget = Some(BudgetSpan { limit, first, last });
        Some(ChartData { daily, budget })
    }

    /// The usage history a report of run dates `[first_run, last_run]` charts.
    pub fn history(&self, first_run: NaiveDate, last_run: NaiveDate) -> Result<History> {
        self.load_history(first_run, last_run)
    }

    /// Adds the `budget` rule's findings over `[[budgets]]` to an evaluation (a failure is
    /// the rule's, and keeps its findings open).
    fn watch_budgets(
        &self,
        ledger: &Ledger,
        evaluation: &mut Evaluation,
        source: &str,
        run_date: NaiveDate,
        day: NaiveDate,
    ) {
        if self.watches.is_empty() {
            return;
        }
        let start = std::time::Instant::now();
        let rule = "budget".to_string();
        match rules::watch_budgets(ledger, source, run_date, day, &self.watches) {
            Ok(findings) => {
                evaluation.timings.push(RuleTiming {
                    rule: rule.clone(),
                    seconds: start.elapsed().as_secs_f64(),
                    findings: findings.len(),
                });
                evaluation.findings.extend(findings);
                // A failed `monthly_limit` budget rule keeps the rule's findings open.
                let failed = evaluation.failures.iter().any(|f| f.rule == rule);
                if !failed && !evaluation.succeeded.contains(&rule) {
                    evaluation.succeeded.push(rule);
                }
            }
            Err(e) => {
                evaluation.succeeded.retain(|r| *r != rule);
                evaluation.failures.push(RuleFailure {
                    rule,
                    error: format!("{e:#}"),
                });
            }
        }
    }

    /// Creates or updates the budgets open findings propose (leaving `[[budgets]]` names to
    /// `costwatch budgets apply`).
    fn apply_proposals(&self) -> Result<String> {
        let declared = self.config.budgets.iter().map(|b| b.name.clone()).collect();
        self.runtime.block_on(budgets::apply_proposals(
            &self.config.aws,
            &self.ledger,
            &self.config.budgets_from_findings,
            &declared,
            &Arc::default(),
        ))
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

/// What a run tells besides its alerts.
struct Told<'a> {
    run_date: NaiveDate,
    /// Whether a complete day was evaluated (else the data is stale).
    evaluated: bool,
    sources: &'a [SourceReport],
    notes: &'a [String],
    problems: &'a [String],
}

/// The `[[budgets]]` the `budget` rule projects: all of them unless a `[[rules]]` entry
/// disables the rule; those it cannot project (an auto-adjusting amount, a filter the ledger
/// does not keep) are logged and left to AWS's own notifications.
fn watches(config: &Config) -> Vec<BudgetWatch> {
    let disabled = (config.rules.iter())
        .any(|r| r.builtin == Some(costwatch_detect::Kind::Budget) && !r.enabled);
    if disabled {
        return Vec::new();
    }
    (config.budgets.iter())
        .filter_map(|b| match b.watch(&config.sources.tag_keys) {
            Ok(watch) => Some(watch),
            Err(reason) => {
                tracing::warn!(budget = %b.name, %reason, "budget not projected by the budget rule");
                None
            }
        })
        .collect()
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
