//! Built-in rules: the detectors of `costwatch-detect`, one rule each, configurable per `[[rules]]`.

use super::offsets::{Siblings, accounts_offset};
use super::{Rule, RuleConfig, Snapshot};
use crate::model::{Action, Finding, Scope, Severity, money};
use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};
use costwatch_detect::stats::mean;
use costwatch_detect::{DAYS_PER_MONTH, DailySeries, Detection, Kind, Params};
use std::collections::BTreeMap;

/// The built-in rules that run by default (`budget` needs its `monthly_limit`).
pub const DEFAULTS: [Kind; 5] = [
    Kind::Spike,
    Kind::Shift,
    Kind::Creep,
    Kind::NewSpend,
    Kind::Pace,
];

/// A built-in detector with its parameters.
pub struct BuiltinRule {
    kind: Kind,
    params: Params,
    /// With `budget_headroom`, warnings and above propose an AWS budget for their scope at
    /// the observed monthly rate plus this share.
    budget_headroom: Option<f64>,
}

impl BuiltinRule {
    /// The rule of a `[[rules]]` entry of `kind`; unknown or mistyped settings are errors
    /// that name the rule, the key and the entry's line.
    pub fn from_config(kind: Kind, entry: &RuleConfig) -> Result<Self, String> {
        let mut params = Params::default();
        let mut budget_headroom = None;
        for (key, value) in &entry.config {
            let set = if key == "budget_headroom" && kind != Kind::Budget {
                headroom(value).map(|h| budget_headroom = Some(h))
            } else {
                set_param(&mut params, kind, key, value)
            };
            set.map_err(|e| {
                format!(
                    "rules.config.{key} of rule {:?} (entry at line {}): {e}",
                    kind.as_str(),
                    entry.line
                )
            })?;
        }
        Ok(Self {
            kind,
            params,
            budget_headroom,
        })
    }

    /// The rule with default parameters.
    pub fn default_for(kind: Kind) -> Self {
        Self {
            kind,
            params: Params::default(),
            budget_headroom: None,
        }
    }

    fn detect(&self, series: &DailySeries) -> Option<Detection> {
        match self.kind {
            Kind::Spike => costwatch_detect::spike(series, &self.params),
            Kind::Shift => costwatch_detect::shift(series, &self.params),
            Kind::Creep => costwatch_detect::creep(series, &self.params),
            Kind::NewSpend => costwatch_detect::new_spend(series, &self.params),
            Kind::Pace | Kind::Budget => {
                unreachable!("pace and budget read totals: see BuiltinRule::monthly")
            }
        }
    }
}

impl Rule for BuiltinRule {
    fn id(&self) -> &str {
        self.kind.as_str()
    }

    fn description(&self) -> &str {
        match self.kind {
            Kind::Spike => "a day well above its weekday-adjusted robust baseline",
            Kind::Shift => "a lasting step up in daily cost",
            Kind::Creep => "sustained growth no single day makes obvious",
            Kind::NewSpend => "spend on a service or usage type never seen before in that account",
            Kind::Pace => "an account's month heading well above the previous month's cost",
            Kind::Budget => "the month's usage cost heading past its monthly budget",
        }
    }

    fn history_days(&self) -> usize {
        let p = &self.params;
        match self.kind {
            Kind::Spike => p.spike.min_history_days + 1,
            Kind::Shift => p.shift.min_history_days + p.shift.min_days.max(1),
            Kind::Creep => p.creep.short_days.max(3) + 28,
            Kind::NewSpend => p.new_spend.min_history_days + p.new_spend.ramp_days.max(1),
            // The whole previous month, then the first days of this one.
            Kind::Pace => 31 + p.pace.min_elapsed_days,
            Kind::Budget => p.budget.min_elapsed_days,
        }
    }

    fn evaluate(&self, snapshot: &Snapshot) -> Result<Vec<Finding>> {
        if matches!(self.kind, Kind::Pace | Kind::Budget) {
            return Ok(self.monthly(snapshot));
        }
        let weekday = snapshot.weekday();
        let mut detections: Vec<(usize, Detection)> = (snapshot.series.iter().enumerate())
            .filter_map(|(i, s)| {
                let d = self.detect(&DailySeries {
                    amounts: s.known(),
                    last_weekday: weekday,
                })?;
                Some((i, d))
            })
            .collect();
        // A rise its siblings' drops make up for is a workload that moved between accounts.
        if let Some(recent) = self.recent_days() {
            let siblings = Siblings::new(snapshot);
            detections.retain(|(i, d)| {
                let moved = siblings.offset(*i, recent, d.observed - d.expected);
                if moved {
                    tracing::debug!(rule = self.id(), scope = %snapshot.series[*i].scope.key(),
                        "a rise made up for by drops in other accounts: moved, not new");
                }
                !moved
            });
        }
        Ok(detections
            .into_iter()
            .map(|(i, d)| self.finding(snapshot.day, snapshot.series[i].scope.clone(), &d))
            .collect())
    }
}

impl BuiltinRule {
    /// The days a detection's rise is over, for the cross-account offset check (`None`:
    /// the rule does not look at single series' rises).
    fn recent_days(&self) -> Option<usize> {
        match self.kind {
            Kind::NewSpend => Some(1),
            Kind::Spike => Some(3),
            Kind::Shift => Some(3),
            // A creep's rise spans weeks (the fast one's baseline eight).
            Kind::Creep => Some(56),
            Kind::Pace | Kind::Budget => None,
        }
    }

    /// The finding for a detection on `scope`, explained in words.
    fn finding(&self, day: NaiveDate, scope: Scope, d: &Detection) -> Finding {
        Finding {
            rule: self.kind.as_str().to_string(),
            message: explain(d, &scope.service_name, &scope.usage_type, &scope.account),
            scope,
            day,
            severity: d.severity,
            observed: d.observed,
            expected: d.expected,
            score: d.score,
            monthly_impact: d.monthly_impact,
            detail: None,
            action: self.action(d),
        }
    }

    /// A budget proposal for warnings and above when `budget_headroom` is set.
    fn action(&self, d: &Detection) -> Action {
        match self.budget_headroom {
            Some(h) if d.severity >= Severity::Warning => Action::BudgetAlert {
                monthly_limit: (d.observed * DAYS_PER_MONTH * (1.0 + h)).round(),
            },
            _ => Action::Notify,
        }
    }

    /// Pace and budget, which project the month of a total: each account's (pace, against
    /// its previous month) or all accounts' together (budget, against the limit).
    fn monthly(&self, snapshot: &Snapshot) -> Vec<Finding> {
        let day = snapshot.day;
        let month = day.with_day(1).expect("every month has a first day");
        let days = |from: NaiveDate, to: NaiveDate| (to - from).num_days() as usize;
        let this_month = days(month, month + Months::new(1));
        let previous_month = days(month - Months::new(1), month);
        // Totals over the known days, aligned on the evaluated day (the last).
        let mut totals: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for s in &snapshot.series {
            let key = if self.kind == Kind::Pace {
                s.scope.account.as_str()
            } else {
                ""
            };
            let known = s.known();
            let total = totals.entry(key).or_default();
            if total.len() < known.len() {
                total.splice(0..0, std::iter::repeat_n(0.0, known.len() - total.len()));
            }
            let offset = total.len() - known.len();
            for (t, a) in total[offset..].iter_mut().zip(known) {
                *t += a;
            }
        }
        totals
            .iter()
            .filter_map(|(&account, amounts)| {
                let series = DailySeries {
                    amounts,
                    last_weekday: snapshot.weekday(),
                };
                let day_of_month = day.day() as usize;
                let d = match self.kind {
                    Kind::Pace => costwatch_detect::pace(
                        &series,
                        day_of_month,
                        this_month,
                        previous_month,
                        &self.params,
                    ),
                    _ => costwatch_detect::budget(&series, day_of_month, this_month, &self.params),
                }?;
                // An account's rise the other accounts' drops make up for: moved work. A
                // drop is the last week's rate below the previous month's.
                let others =
                    (totals.iter())
                        .filter(|(other, _)| **other != account)
                        .map(|(_, amounts)| {
                            let n = amounts.len();
                            let month_start = n.saturating_sub(day_of_month);
                            let before =
                                &amounts[month_start.saturating_sub(previous_month)..month_start];
                            let recent = &amounts[n.saturating_sub(7)..];
                            if before.is_empty() || recent.is_empty() {
                                return 0.0;
                            }
                            (mean(before) - mean(recent)).max(0.0)
                        });
                if self.kind == Kind::Pace && accounts_offset(d.observed - d.expected, others) {
                    return None;
                }
                let scope = Scope {
                    account: account.to_string(),
                    service_code: String::new(),
                    service_name: String::new(),
                    usage_type: String::new(),
                };
                Some(self.finding(day, scope, &d))
            })
            .collect()
    }
}

/// One or two sentences on what was seen and what it costs.
fn explain(d: &Detection, service: &str, usage_type: &str, account: &str) -> String {
    let what = format!("{service} {usage_type} in account {account}");
    let ratio = if d.expected > 0.0 {
        format!(" ({:.1}× the usual)", d.observed / d.expected)
    } else {
        String::new()
    };
    let impact = format!("about {} a month if it lasts", money(d.monthly_impact));
    match d.kind {
        Kind::Spike => format!(
            "Spike: {what} cost {} in one day, expected {}{ratio}; {impact}.",
            money(d.observed),
            money(d.expected)
        ),
        Kind::Shift => format!(
            "Lasting increase: {what} now costs {}/day, up from {}/day{ratio}; {impact}.",
            money(d.observed),
            money(d.expected)
        ),
        Kind::Creep => format!(
            "Slow creep: {what} has been growing steadily, now {}/day against {}/day before{ratio}; \
             {} more next month at this pace.",
            money(d.observed),
            money(d.expected),
            money(d.monthly_impact)
        ),
        Kind::NewSpend => format!(
            "New spend: {what} started costing {}/day where there was none before; {impact}.",
            money(d.observed)
        ),
        Kind::Pace => format!(
            "Month pace: account {account} is on course for {}/day this month against {}/day last \
             month ({:+.0}%), {} more over the month at the recent rate.",
            money(d.observed),
            money(d.expected),
            100.0 * (d.observed / d.expected - 1.0),
            money(d.monthly_impact)
        ),
        Kind::Budget => format!(
            "Budget: this month's usage cost is on course for {:.0}% of the monthly budget \
             ({}/day against {}/day budgeted), {} over at the recent rate.",
            100.0 * d.score,
            money(d.observed),
            money(d.expected),
            money(d.monthly_impact)
        ),
    }
}

/// A `budget_headroom`: a share, e.g. 0.2 for 20% above the observed monthly rate.
fn headroom(value: &toml::Value) -> Result<f64, String> {
    match value {
        toml::Value::Float(x) if x.is_finite() && *x >= 0.0 => Ok(*x),
        toml::Value::Integer(x) if *x >= 0 => Ok(*x as f64),
        _ => Err(format!("{value} is not a non-negative share (0.2 = 20%)")),
    }
}

/// A settable parameter.
enum Slot<'a> {
    Number(&'a mut f64),
    Days(&'a mut usize),
    Flag(&'a mut bool),
}

fn set_param(p: &mut Params, kind: Kind, key: &str, value: &toml::Value) -> Result<(), String> {
    let slot = match (kind, key) {
        (_, "min_daily_spend") => Slot::Number(&mut p.min_daily_spend),
        (_, "season_days") => Slot::Days(&mut p.season_days),
        (_, "warning_monthly") => Slot::Number(&mut p.severity.warning_monthly),
        (_, "critical_monthly") => Slot::Number(&mut p.severity.critical_monthly),
        (Kind::Spike, "window_days") => Slot::Days(&mut p.spike.window_days),
        (Kind::Spike, "min_history_days") => Slot::Days(&mut p.spike.min_history_days),
        (Kind::Spike, "min_abs_delta") => Slot::Number(&mut p.spike.min_abs_delta),
        (Kind::Spike, "min_relative") => Slot::Number(&mut p.spike.min_relative),
        (Kind::Spike, "k") => Slot::Number(&mut p.spike.k),
        (Kind::Spike, "noise_floor_relative") => Slot::Number(&mut p.spike.noise_floor_relative),
        (Kind::Spike, "skip_monthly_recurring") => Slot::Flag(&mut p.spike.skip_monthly_recurring),
        (Kind::Shift, "recent_days") => Slot::Days(&mut p.shift.recent_days),
        (Kind::Shift, "min_days") => Slot::Days(&mut p.shift.min_days),
        (Kind::Shift, "window_days") => Slot::Days(&mut p.shift.window_days),
        (Kind::Shift, "min_history_days") => Slot::Days(&mut p.shift.min_history_days),
        (Kind::Shift, "min_abs_delta") => Slot::Number(&mut p.shift.min_abs_delta),
        (Kind::Shift, "min_relative") => Slot::Number(&mut p.shift.min_relative),
        (Kind::Shift, "k") => Slot::Number(&mut p.shift.k),
        (Kind::Shift, "noise_floor_relative") => Slot::Number(&mut p.shift.noise_floor_relative),
        (Kind::Shift, "skip_monthly_recurring") => Slot::Flag(&mut p.shift.skip_monthly_recurring),
        (Kind::Creep, "short_days") => Slot::Days(&mut p.creep.short_days),
        (Kind::Creep, "long_days") => Slot::Days(&mut p.creep.long_days),
        (Kind::Creep, "level_days") => Slot::Days(&mut p.creep.level_days),
        (Kind::Creep, "min_growth") => Slot::Number(&mut p.creep.min_growth),
        (Kind::Creep, "k") => Slot::Number(&mut p.creep.k),
        (Kind::Creep, "min_relative") => Slot::Number(&mut p.creep.min_relative),
        (Kind::Creep, "min_abs_delta") => Slot::Number(&mut p.creep.min_abs_delta),
        (Kind::Creep, "slow_days") => Slot::Days(&mut p.creep.slow_days),
        (Kind::Creep, "slow_min_weekly_growth") => {
            Slot::Number(&mut p.creep.slow_min_weekly_growth)
        }
        (Kind::Creep, "slow_k") => Slot::Number(&mut p.creep.slow_k),
        (Kind::Creep, "slow_min_relative") => Slot::Number(&mut p.creep.slow_min_relative),
        (Kind::NewSpend, "min_history_days") => Slot::Days(&mut p.new_spend.min_history_days),
        (Kind::NewSpend, "ramp_days") => Slot::Days(&mut p.new_spend.ramp_days),
        (Kind::NewSpend, "min_daily") => Slot::Number(&mut p.new_spend.min_daily),
        (Kind::NewSpend, "max_prior_daily") => Slot::Number(&mut p.new_spend.max_prior_daily),
        (Kind::NewSpend, "max_prior_fraction") => Slot::Number(&mut p.new_spend.max_prior_fraction),
        (Kind::Pace, "min_elapsed_days") => Slot::Days(&mut p.pace.min_elapsed_days),
        (Kind::Pace, "recent_days") => Slot::Days(&mut p.pace.recent_days),
        (Kind::Pace, "min_relative") => Slot::Number(&mut p.pace.min_relative),
        (Kind::Pace, "min_abs_monthly") => Slot::Number(&mut p.pace.min_abs_monthly),
        (Kind::Budget, "monthly_limit") => Slot::Number(&mut p.budget.monthly_limit),
        (Kind::Budget, "alert_at") => Slot::Number(&mut p.budget.alert_at),
        (Kind::Budget, "min_elapsed_days") => Slot::Days(&mut p.budget.min_elapsed_days),
        (Kind::Budget, "recent_days") => Slot::Days(&mut p.budget.recent_days),
        _ => return Err("unknown setting for this rule".into()),
    };
    match (slot, value) {
        (Slot::Number(n), toml::Value::Float(x)) if x.is_finite() && *x >= 0.0 => *n = *x,
        (Slot::Number(n), toml::Value::Integer(x)) if *x >= 0 => *n = *x as f64,
        (Slot::Days(n), toml::Value::Integer(x)) if *x > 0 => *n = *x as usize,
        (Slot::Flag(b), toml::Value::Boolean(x)) => *b = *x,
        (Slot::Number(_), _) => return Err(format!("{value} is not a non-negative number")),
        (Slot::Days(_), _) => {
            return Err(format!("{value} is not a positive whole number of days"));
        }
        (Slot::Flag(_), _) => return Err(format!("{value} is not true or false")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_setting_names_rule_key_and_line() {
        let mut config = toml::Table::new();
        config.insert("treshold".into(), toml::Value::Integer(3));
        let entry = RuleConfig {
            config,
            line: 12,
            ..RuleConfig::builtin(Kind::Spike)
        };
        let err = BuiltinRule::from_config(Kind::Spike, &entry).err().unwrap();
        assert!(
            err.contains("treshold") && err.contains("line 12") && err.contains("spike"),
            "{err}"
        );
    }
}
