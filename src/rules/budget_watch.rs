//! The `budget` rule over `[[budgets]]`: each budget's period is projected from the ledger
//! (the cost so far plus the rest of the period at the recent rate; for a budget of the whole
//! account, Cost Explorer's forecast of the month when it is higher) and alerts before AWS's
//! own FORECASTED notification would: at [`EARLY`] of where the first one fires (of the
//! amount without one). A finding's scope is the budget and its period, so a budget alerts
//! once per period, and again only when it escalates to critical (projected over its amount).

use crate::ledger::Ledger;
use crate::model::{Action, BudgetPeriod, BudgetWatch, Finding, Scope, Severity, money};
use anyhow::Result;
use chrono::NaiveDate;
use costwatch_detect::month_projection;

/// The share of AWS's first FORECASTED threshold at which costwatch warns.
pub const EARLY: f64 = 0.9;
/// No verdict before this day of a period (too few days for a rate).
const MIN_ELAPSED_DAYS: i64 = 3;
/// Days whose median is the recent rate.
const RECENT_DAYS: usize = 7;

/// The findings of the run dated `run_date` that evaluates `day`, one per budget heading
/// past its early mark, from the facts of `source`.
pub fn watch_budgets(
    ledger: &Ledger,
    source: &str,
    run_date: NaiveDate,
    day: NaiveDate,
    watches: &[BudgetWatch],
) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for w in watches.iter().filter(|w| w.limit > 0.0) {
        let start = w.period.start(day);
        let end = w.period.end(day);
        if (day - start).num_days() + 1 < MIN_ELAPSED_DAYS {
            continue;
        }
        let daily = ledger.spend(source, &w.spend, start, day)?;
        let period_days = (end - start).num_days() as usize;
        let (from_ledger, recent) = month_projection(&daily, period_days, RECENT_DAYS);
        let so_far: f64 = daily.iter().sum();
        // Cost Explorer forecasts the account's month from the day it was asked on: the days
        // between the evaluated day and that one go at the recent rate, and an older forecast
        // counts for the days still to come only.
        let forecast = match ledger.latest_forecast(run_date)? {
            Some(f)
                if w.whole_account && w.period == BudgetPeriod::Monthly && f.period_end == end =>
            {
                let next = day.succ_opt().unwrap_or(day);
                let gap = (f.period_start - next).num_days().max(0) as f64;
                let covered = (f.period_end - f.period_start.max(next)).num_days().max(0) as f64;
                let span = (f.period_end - f.period_start).num_days().max(1) as f64;
                Some(so_far + recent * gap + f.mean * covered / span)
            }
            _ => None,
        };
        let projected = forecast.map_or(from_ledger, |f| f.max(from_ledger));
        let aws_mark = w.first_forecast_alert.unwrap_or(w.limit);
        if projected < EARLY * aws_mark {
            continue;
        }
        let severity = if projected >= w.limit {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let label = w.period.label(day);
        let message = format!(
            "Budget {}: {label} is on course for {}, {:.0}% of its {} budget; AWS's first \
             FORECASTED notification fires at {}, costwatch warns from {:.0}% of that.",
            w.name,
            money(projected),
            100.0 * projected / w.limit,
            money(w.limit),
            money(aws_mark),
            100.0 * EARLY
        );
        let forecast_note = forecast.map_or(String::new(), |f| {
            format!(
                "; with Cost Explorer's forecast of the rest of the month, {}",
                money(f)
            )
        });
        let detail = format!(
            "{label} so far: {} over {} day(s); the recent rate {}/day puts the period at {}{forecast_note}.",
            money(so_far),
            daily.len(),
            money(recent),
            money(from_ledger)
        );
        out.push(Finding {
            rule: "budget".into(),
            scope: Scope {
                account: String::new(),
                service_code: format!("budget:{}:{label}", w.name),
                service_name: format!("budget {} ({label})", w.name),
                usage_type: String::new(),
            },
            day,
            severity,
            observed: projected / period_days as f64,
            expected: w.limit / period_days as f64,
            score: projected / w.limit,
            monthly_impact: (projected - w.limit).max(0.0),
            message,
            detail: Some(detail),
            action: Action::Notify,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Forecast;
    use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SeriesFacts, SpendFilter};
    use chrono::Days;

    fn ledger_with(daily: &[(u64, f64)]) -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let start: NaiveDate = "2026-03-01".parse().unwrap();
        let facts: Facts = (daily.iter())
            .map(|&(i, cost)| {
                let key = FactKey {
                    billing_period: "2026-03".into(),
                    day: start + Days::new(i),
                    account: "111122223333".into(),
                    service_code: "AmazonEC2".into(),
                    usage_type: "BoxUsage".into(),
                    region: "us-east-1".into(),
                    category: ChargeCategory::Usage,
                    tags: "".into(),
                };
                let value = FactValue {
                    unblended: cost,
                    amortized: cost,
                    ..Default::default()
                };
                (key, value)
            })
            .collect();
        ledger
            .replace_periods("cur", &["2026-03".into()], &SeriesFacts::from(&facts), &[])
            .unwrap();
        (dir, ledger)
    }

    fn watch(limit: f64, first_forecast_alert: Option<f64>) -> BudgetWatch {
        BudgetWatch {
            name: "web".into(),
            limit,
            period: BudgetPeriod::Monthly,
            spend: SpendFilter {
                categories: vec![ChargeCategory::Usage],
                ..Default::default()
            },
            first_forecast_alert,
            whole_account: true,
        }
    }

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn alerts_before_aws_forecast_with_one_scope_per_period() {
        // $100 a day: the month is on course for $3,100.
        let (_dir, ledger) = ledger_with(&(0..10).map(|i| (i, 100.0)).collect::<Vec<_>>());
        let run = |limit, first| {
            watch_budgets(
                &ledger,
                "cur",
                day("2026-03-11"),
                day("2026-03-10"),
                &[watch(limit, first)],
            )
            .unwrap()
        };
        assert!(run(4000.0, None).is_empty(), "far under the budget");
        // AWS's FORECASTED notification at 100% of $3,300 would fire at $3,300; 90% of it is
        // $2,970: costwatch tells first.
        let early = run(3300.0, Some(3300.0));
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].severity, Severity::Warning);
        assert!(
            early[0].message.contains("$3,100.00"),
            "{}",
            early[0].message
        );
        let over = run(3000.0, Some(3000.0));
        assert_eq!(over[0].severity, Severity::Critical);

        // The same budget and period is one scope (the lifecycle updates its finding and
        // alerts again only on escalation); the next period is another.
        assert_eq!(early[0].scope.key(), over[0].scope.key());
        assert_eq!(early[0].scope.service_code, "budget:web:2026-03");
    }

    #[test]
    fn the_cost_explorer_forecast_counts_for_a_whole_account_budget() {
        let (_dir, ledger) = ledger_with(&(0..10).map(|i| (i, 100.0)).collect::<Vec<_>>());
        ledger
            .store_forecast(&Forecast {
                made_on: day("2026-03-11"),
                period_start: day("2026-03-11"),
                period_end: day("2026-04-01"),
                metric: "UnblendedCost".into(),
                mean: 4200.0,
                lower: None,
                upper: None,
            })
            .unwrap();
        let found = watch_budgets(
            &ledger,
            "cur",
            day("2026-03-11"),
            day("2026-03-10"),
            &[watch(5000.0, None)],
        )
        .unwrap();
        assert_eq!(
            found.len(),
            1,
            "$1,000 so far + $4,200 forecast passes 90% of $5,000"
        );
        assert!(found[0].detail.as_deref().unwrap().contains("$5,200.00"));
        let mut filtered = watch(5000.0, None);
        filtered.whole_account = false;
        let found = watch_budgets(
            &ledger,
            "cur",
            day("2026-03-11"),
            day("2026-03-10"),
            &[filtered],
        )
        .unwrap();
        assert!(
            found.is_empty(),
            "the account's forecast is not a filtered budget's"
        );
    }
}
