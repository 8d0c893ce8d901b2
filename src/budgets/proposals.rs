//! Budgets proposed from findings. An alert whose action is `budget-alert(amount)` proposes
//! a monthly budget of that amount scoped to its account, service and usage type, notifying
//! the proposal subscribers when the forecasted or the actual cost passes it. The name comes
//! from the scope, so a finding never makes two budgets and an escalation (a newer alert
//! with another amount) updates the budget it made.

use super::amount::Amount;
use super::config::FindingsBudgets;
use super::spec::{
    Budget, CostBasis, FilterKey, Includes, Limit, Notification, NotificationKind, Threshold,
};
use crate::ledger::AlertRecord;
use crate::model::{Action, BudgetPeriod, budgets_service};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The name prefix of the budgets costwatch makes from findings (and of those `--prune`
/// may delete).
pub const PREFIX: &str = "costwatch-";

/// A budget a finding asks for.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The budget that would be created (or updated to).
    pub budget: Budget,
    /// The alert asking for it.
    pub alert: AlertRecord,
}

/// The budgets the `budget-alert` actions of `alerts` ask for, one per scope (the newest
/// alert of a scope decides its amount), in the alerts' order.
pub fn propose(alerts: &[AlertRecord], settings: &FindingsBudgets) -> Vec<Proposal> {
    let mut by_name: BTreeMap<String, (usize, Proposal)> = BTreeMap::new();
    for (i, alert) in alerts.iter().enumerate() {
        let Action::BudgetAlert { monthly_limit } = alert.action else {
            continue;
        };
        let cents = (monthly_limit * 100.0).round() / 100.0;
        let Ok(amount) = Amount::from_f64(cents) else {
            continue;
        };
        if amount.is_zero() {
            continue;
        }
        let budget = proposed_budget(alert, amount, settings);
        let newer = by_name
            .get(&budget.name)
            .is_none_or(|(_, p)| p.alert.id <= alert.id);
        if newer {
            let proposal = Proposal {
                budget,
                alert: alert.clone(),
            };
            by_name.insert(proposal.budget.name.clone(), (i, proposal));
        }
    }
    let mut out: Vec<(usize, Proposal)> = by_name.into_values().collect();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, p)| p).collect()
}

/// The budget for an alert's scope: `amount` a month of amortized cost (credits and refunds
/// left out, so they cannot hide the rise), FORECASTED and ACTUAL notifications at 100%.
fn proposed_budget(alert: &AlertRecord, amount: Amount, settings: &FindingsBudgets) -> Budget {
    let mut filters = BTreeMap::new();
    let mut filter = |key, value: String| {
        if !value.is_empty() {
            filters.insert(key, [value].into());
        }
    };
    filter(FilterKey::LinkedAccount, alert.account.clone());
    if !alert.service.is_empty() {
        filter(
            FilterKey::Service,
            budgets_service(&alert.service, &alert.service_name, &alert.usage_type),
        );
    }
    filter(FilterKey::UsageType, alert.usage_type.clone());
    let subscribers = &settings.subscribers.0;
    let notifications = if subscribers.is_empty() {
        Vec::new()
    } else {
        [NotificationKind::Forecasted, NotificationKind::Actual]
            .into_iter()
            .map(|kind| Notification {
                kind,
                threshold: Threshold::Percent(100.0),
                subscribers: subscribers.clone(),
            })
            .collect()
    };
    Budget {
        name: proposal_name(&alert.account, &alert.service, &alert.usage_type),
        limit: Limit::Fixed {
            amount,
            currency: "USD".into(),
        },
        period: BudgetPeriod::Monthly,
        cost: CostBasis::Amortized,
        include: Includes {
            credit: false,
            refund: false,
            ..Includes::default()
        },
        filters,
        notifications,
    }
}

/// `costwatch-ACCOUNT-SERVICE-USAGETYPE`, with the characters AWS refuses replaced; a name
/// past AWS's 100 characters is cut and ends with a hash of the whole scope instead.
pub fn proposal_name(account: &str, service_code: &str, usage_type: &str) -> String {
    let scope: Vec<&str> = [account, service_code, usage_type]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let scope = scope.join("-");
    let clean: String = scope
        .chars()
        .map(|c| {
            if c == ':' || c == '\\' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    let name = format!("{PREFIX}{}", clean.replace("/action/", "-action-"));
    if name.chars().count() <= 100 {
        return name;
    }
    let hash = Sha256::digest(scope.as_bytes());
    let tag: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
    let head: String = name.chars().take(91).collect();
    format!("{head}-{tag}")
}

impl Proposal {
    /// The proposal in one paragraph: the budget that would be created, with its name,
    /// amount, filters, notifications and subscribers.
    pub fn describe(&self) -> String {
        let b = &self.budget;
        let a = &self.alert;
        let notifications = if b.notifications.is_empty() {
            "no notifications (set [budgets_from_findings] subscribers)".to_string()
        } else {
            let kinds: Vec<String> = b.notifications.iter().map(|n| n.to_string()).collect();
            let to: Vec<String> = (b.notifications[0].subscribers.iter())
                .map(|s| s.to_string())
                .collect();
            format!(
                "notifications {}, each to {}",
                kinds.join(" and "),
                to.join(", ")
            )
        };
        format!(
            "Proposed AWS budget {:?} (from the {} finding of {}): {} a month ({} cost); filters {}; \
             {notifications}. `costwatch budgets apply --proposals` creates it, or updates it \
             to this amount.",
            b.name,
            a.rule,
            a.data_day,
            b.limit_text(),
            b.cost_text(),
            b.filters_text(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::spec::Subscriber;
    use crate::model::Severity;

    fn alert(id: i64, usage_type: &str, limit: Option<f64>) -> AlertRecord {
        AlertRecord {
            id,
            day: "2026-03-19".parse().unwrap(),
            rule: "container-insights".into(),
            account: "111122223333".into(),
            service: "AmazonCloudWatch".into(),
            service_name: "Amazon CloudWatch".into(),
            usage_type: usage_type.into(),
            severity: Severity::Warning,
            observed: 40.0,
            expected: 23.0,
            monthly_impact: 500.0,
            message: "creep".into(),
            detail: String::new(),
            action: limit.map_or(Action::Notify, |monthly_limit| Action::BudgetAlert {
                monthly_limit,
            }),
            reason: "new".into(),
            data_day: "2026-03-18".parse().unwrap(),
        }
    }

    fn settings() -> FindingsBudgets {
        let mut s = FindingsBudgets::default();
        s.default_subscribers(&["finops@example.com".into()]);
        s
    }

    #[test]
    fn one_budget_per_scope_at_the_newest_amount() {
        let alerts = [
            alert(1, "USE1-CW:MetricMonitorUsage", Some(1200.0)),
            alert(2, "USE1-NatGateway-Bytes", None),
            alert(3, "USE1-CW:MetricMonitorUsage", Some(1499.996)),
        ];
        let proposals = propose(&alerts, &settings());
        assert_eq!(proposals.len(), 1);
        let b = &proposals[0].budget;
        assert_eq!(
            b.name,
            "costwatch-111122223333-AmazonCloudWatch-USE1-CW-MetricMonitorUsage"
        );
        assert_eq!(b.limit_text(), "1500 USD");
        assert_eq!(
            b.filters[&FilterKey::Service].first().unwrap(),
            "AmazonCloudWatch"
        );
        assert_eq!(b.notifications.len(), 2);
        assert!(
            b.notifications[0]
                .subscribers
                .contains(&Subscriber::Email("finops@example.com".into()))
        );
        let text = proposals[0].describe();
        for part in [
            "costwatch-111122223333-AmazonCloudWatch-USE1-CW-MetricMonitorUsage",
            "1500 USD a month",
            "UsageType = USE1-CW:MetricMonitorUsage",
            "FORECASTED > 100% and ACTUAL > 100%",
            "email:finops@example.com",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn long_scopes_get_a_hashed_name_within_100_characters() {
        let long = "x".repeat(120);
        let a = proposal_name("111122223333", "AmazonEC2", &format!("{long}a"));
        let b = proposal_name("111122223333", "AmazonEC2", &format!("{long}b"));
        assert!(a.chars().count() <= 100 && a != b, "{a} {b}");
        assert!(crate::budgets::checks::budget_name(&a).is_ok());
    }
}
