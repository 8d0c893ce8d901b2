//! The digests a run queues (one per route) and their delivery; each alert's chart data.

use super::Job;
use crate::alerts::digest::chart::BudgetSpan;
use crate::alerts::digest::{self, CHART_DAYS, ChartData};
use crate::alerts::{deliver_pending, route_alerts};
use crate::findings::Silence;
use crate::ledger::{AlertRecord, Ledger};
use crate::model::SourceReport;
use crate::rules::History;
use anyhow::Result;
use chrono::{Datelike, NaiveDate};

/// What a run tells besides its alerts.
pub(super) struct Told<'a> {
    pub(super) run_date: NaiveDate,
    /// Whether a complete day was evaluated (else the data is stale).
    pub(super) evaluated: bool,
    pub(super) sources: &'a [SourceReport],
    pub(super) notes: &'a [String],
    pub(super) problems: &'a [String],
}

impl Job {
    /// Delivers every pending digest through the channels it is due on.
    pub fn deliver(&self) -> Result<Vec<crate::alerts::Delivery>> {
        let c = &self.config;
        deliver_pending(&self.ledger, &c.alerts, &c.routes, &c.aws, &self.runtime)
    }

    /// The silences in force on `day`: the config's and the snoozed scopes.
    pub(super) fn silences(&self, day: NaiveDate) -> Result<Vec<Silence>> {
        let snoozed = self.ledger.snoozes(day)?;
        Ok((self.config.silences.iter().cloned())
            .chain(snoozed.iter().map(Silence::from))
            .collect())
    }

    /// Queues one digest per route with its alerts (the default route gets those no route
    /// matches), or one with the problems not yet told for this run date (rerunning a date
    /// while a source is down does not repeat the mail).
    pub(super) fn queue_digests(
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
}
