//! What turns an account's budget into the declared one: the fields that differ, for people,
//! and the write calls, in an order AWS accepts (notifications removed before others are
//! added, under the quota; a notification never left without a subscriber on the way, which
//! would delete it).

use super::calls::Call;
use super::spec::{Budget, Limit, Notification, Subscriber};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// One field of a budget that a plan changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub change: Sign,
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Whether a field changes, appears or goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    Update,
    Add,
    Remove,
}

impl FieldChange {
    fn update(field: impl Into<String>, from: impl ToString, to: impl ToString) -> Self {
        Self {
            change: Sign::Update,
            field: field.into(),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
        }
    }

    /// A field the change adds.
    pub fn add(field: impl Into<String>, to: impl ToString) -> Self {
        Self {
            change: Sign::Add,
            field: field.into(),
            from: None,
            to: Some(to.to_string()),
        }
    }

    fn remove(field: impl Into<String>, from: impl ToString) -> Self {
        Self {
            change: Sign::Remove,
            field: field.into(),
            from: Some(from.to_string()),
            to: None,
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to) = (
            self.from.as_deref().unwrap_or(""),
            self.to.as_deref().unwrap_or(""),
        );
        match self.change {
            Sign::Update => write!(f, "~ {} {from} → {to}", self.field),
            Sign::Add => write!(f, "+ {} {to}", self.field),
            Sign::Remove => write!(f, "- {} {from}", self.field),
        }
    }
}

/// The fields of `actual` that differ from `desired`, and the calls that make them equal.
pub fn diff(desired: &Budget, actual: &Budget) -> (Vec<FieldChange>, Vec<Call>) {
    let mut fields = budget_fields(desired, actual);
    let mut calls = Vec::new();
    if !fields.is_empty() {
        calls.push(Call::UpdateBudget {
            budget: desired.clone(),
        });
    }
    let name = &desired.name;
    // The same notification on both sides, then the rest paired by type (a threshold moved).
    let mut left: Vec<&Notification> = actual.notifications.iter().collect();
    let mut kept = Vec::new();
    let mut unmatched = Vec::new();
    for d in &desired.notifications {
        match left.iter().position(|a| a.same(d)) {
            Some(i) => kept.push((left.remove(i), d)),
            None => unmatched.push(d),
        }
    }
    let mut moved = Vec::new();
    let mut created = Vec::new();
    for d in unmatched {
        match left.iter().position(|a| a.kind == d.kind) {
            Some(i) => moved.push((left.remove(i), d)),
            None => created.push(d),
        }
    }
    for gone in left {
        fields.push(FieldChange::remove("notification", gone));
        calls.push(Call::DeleteNotification {
            budget: name.clone(),
            notification: gone.clone(),
        });
    }
    for (old, new) in &moved {
        fields.push(FieldChange::update(
            format!("notification {old}: threshold"),
            old.threshold,
            new.threshold,
        ));
        calls.push(Call::UpdateNotification {
            budget: name.clone(),
            old: (*old).clone(),
            new: (*new).clone(),
        });
    }
    for new in created {
        fields.push(FieldChange::add(
            "notification",
            format!("{new} to {}", subscribers_text(&new.subscribers)),
        ));
        calls.push(Call::CreateNotification {
            budget: name.clone(),
            notification: new.clone(),
        });
    }
    for (old, new) in kept.into_iter().chain(moved) {
        subscriber_changes(name, old, new, &mut fields, &mut calls);
    }
    (fields, calls)
}

/// The fields of the budget itself (what UpdateBudget sends).
fn budget_fields(d: &Budget, a: &Budget) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match (&d.limit, &a.limit) {
        (
            Limit::Fixed { amount, currency },
            Limit::Fixed {
                amount: was,
                currency: was_currency,
            },
        ) => {
            if amount != was {
                out.push(FieldChange::update("amount", was, amount));
            }
            if currency != was_currency {
                out.push(FieldChange::update("currency", was_currency, currency));
            }
        }
        (limit, was) if limit != was => {
            out.push(FieldChange::update("limit", a.limit_text(), d.limit_text()));
        }
        _ => {}
    }
    if d.period != a.period {
        out.push(FieldChange::update(
            "period",
            a.period.as_str(),
            d.period.as_str(),
        ));
    }
    if d.cost != a.cost {
        out.push(FieldChange::update(
            "cost",
            a.cost.as_str(),
            d.cost.as_str(),
        ));
    }
    for ((name, want), (_, was)) in d.include.fields().into_iter().zip(a.include.fields()) {
        if want != was {
            out.push(FieldChange::update(format!("include.{name}"), was, want));
        }
    }
    let keys: BTreeSet<_> = d.filters.keys().chain(a.filters.keys()).collect();
    for key in keys {
        let field = format!("filter {}", key.aws_name());
        let text =
            |values: &BTreeSet<String>| values.iter().cloned().collect::<Vec<_>>().join(", ");
        match (d.filters.get(key), a.filters.get(key)) {
            (Some(want), Some(was)) if want != was => {
                out.push(FieldChange::update(field, text(was), text(want)));
            }
            (Some(want), None) => out.push(FieldChange::add(field, text(want))),
            (None, Some(was)) => out.push(FieldChange::remove(field, text(was))),
            _ => {}
        }
    }
    out
}

/// The subscribers `new` adds to and removes from `old` (the same notification, or the one
/// UpdateNotification turns it into). When every subscriber goes, the new ones come first:
/// AWS deletes a notification whose last subscriber is deleted.
fn subscriber_changes(
    budget: &str,
    old: &Notification,
    new: &Notification,
    fields: &mut Vec<FieldChange>,
    calls: &mut Vec<Call>,
) {
    let added: Vec<&Subscriber> = new.subscribers.difference(&old.subscribers).collect();
    let removed: Vec<&Subscriber> = old.subscribers.difference(&new.subscribers).collect();
    let call = |subscriber: &Subscriber, add: bool| {
        let (budget, notification, subscriber) =
            (budget.to_string(), new.clone(), subscriber.clone());
        if add {
            Call::CreateSubscriber {
                budget,
                notification,
                subscriber,
            }
        } else {
            Call::DeleteSubscriber {
                budget,
                notification,
                subscriber,
            }
        }
    };
    let adds = added.iter().map(|s| call(s, true));
    let removes = removed.iter().map(|s| call(s, false));
    if removed.len() == old.subscribers.len() {
        calls.extend(adds.chain(removes));
    } else {
        calls.extend(removes.chain(adds));
    }
    for s in added {
        fields.push(FieldChange::add("subscriber", format!("{s} on {new}")));
    }
    for s in removed {
        fields.push(FieldChange::remove("subscriber", format!("{s} on {new}")));
    }
}

/// `email:a@example.com, sns:arn:...`.
pub fn subscribers_text(subscribers: &BTreeSet<Subscriber>) -> String {
    let all: Vec<String> = subscribers.iter().map(|s| s.to_string()).collect();
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::spec::{FilterKey, NotificationKind, Threshold, parse_budgets};

    fn budget() -> Budget {
        let text = r#"
[[budgets]]
name = "web"
amount = 1000
filters = { region = ["us-east-1"] }
[[budgets.notifications]]
type = "actual"
percent = 80
subscribers = ["email:a@example.com"]
[[budgets.notifications]]
type = "forecasted"
percent = 100
subscribers = ["email:a@example.com", "email:b@example.com"]
"#;
        parse_budgets(text).unwrap().remove(0)
    }

    #[test]
    fn the_same_budget_needs_nothing() {
        let b = budget();
        assert_eq!(diff(&b, &b), (vec![], vec![]));
    }

    #[test]
    fn fields_and_calls_of_an_update() {
        let actual = budget();
        let mut want = actual.clone();
        want.limit = Limit::Fixed {
            amount: crate::budgets::amount::Amount::parse("1200").unwrap(),
            currency: "USD".into(),
        };
        want.filters
            .insert(FilterKey::Region, ["eu-west-1".to_string()].into());
        want.notifications[0].threshold = Threshold::Percent(90.0);
        want.notifications[1].subscribers = [Subscriber::Email("c@example.com".into())].into();
        want.notifications.push(Notification {
            kind: NotificationKind::Actual,
            threshold: Threshold::Amount(1500.0),
            subscribers: [Subscriber::Email("a@example.com".into())].into(),
        });
        let (fields, calls) = diff(&want, &actual);
        let lines: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            lines,
            [
                "~ amount 1000 → 1200",
                "~ filter Region us-east-1 → eu-west-1",
                "~ notification ACTUAL > 80%: threshold 80% → 90%",
                "+ notification ACTUAL > 1500 absolute to email:a@example.com",
                "+ subscriber email:c@example.com on FORECASTED > 100%",
                "- subscriber email:a@example.com on FORECASTED > 100%",
                "- subscriber email:b@example.com on FORECASTED > 100%",
            ]
        );
        let ops: Vec<&str> = calls.iter().map(Call::operation).collect();
        assert_eq!(
            ops,
            [
                "UpdateBudget",
                "UpdateNotification",
                "CreateNotification",
                // Every subscriber goes: the new one first, or AWS deletes the notification.
                "CreateSubscriber",
                "DeleteSubscriber",
                "DeleteSubscriber",
            ]
        );
    }
}
