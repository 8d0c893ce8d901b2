//! `[[budgets]]` and `[budgets_from_findings]`: the budgets the config declares, and who the
//! budgets proposed from findings notify. Every value is checked as it is read, so an error
//! names its key and line (the entry's line for what involves several keys).

use super::amount::Amount;
use super::checks::{self, MAX_NOTIFICATIONS};
use super::fields::{
    AccountId, AmountBound, AnyValue, Bounded, Currency, KeyValue, Name, PercentBound, Region,
    Subscribers, Values,
};
use super::spec::{
    AutoAdjust, Budget, CostBasis, FilterKey, Filters, Includes, Limit, Notification,
    NotificationKind, Subscriber, Threshold,
};
use crate::model::BudgetPeriod;
use serde::Deserialize;

/// `[budgets_from_findings]`: budgets proposed from findings that ask for one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsBudgets {
    /// Whether the daily run creates and updates the proposed budgets itself.
    #[serde(default)]
    pub apply: bool,
    /// Who the proposed budgets notify (default: the `[alerts]` recipients).
    #[serde(default)]
    pub subscribers: Subscribers,
}

impl FindingsBudgets {
    /// Without subscribers of its own, the proposals notify `recipients` (`[alerts] to`,
    /// `Name <address>` or bare addresses), as many as AWS allows.
    pub fn default_subscribers(&mut self, recipients: &[String]) {
        if !self.subscribers.0.is_empty() {
            return;
        }
        self.subscribers.0 = recipients
            .iter()
            .map(|r| match (r.find('<'), r.rfind('>')) {
                (Some(open), Some(close)) if open < close => &r[open + 1..close],
                _ => r.trim(),
            })
            .filter(|address| checks::email(address))
            .map(|address| Subscriber::Email(address.to_string()))
            .take(checks::MAX_EMAIL_SUBSCRIBERS)
            .collect();
    }
}

/// One `[[budgets]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Entry {
    name: Name,
    amount: Option<Amount>,
    currency: Option<Currency>,
    auto_adjust: Option<AutoAdjustEntry>,
    #[serde(default)]
    period: BudgetPeriod,
    #[serde(default)]
    cost: CostBasis,
    #[serde(default)]
    include: Includes,
    #[serde(default)]
    filters: FiltersEntry,
    #[serde(default)]
    notifications: Vec<CheckedNotification>,
}

impl TryFrom<Entry> for Budget {
    type Error = String;

    fn try_from(e: Entry) -> Result<Self, String> {
        let name = e.name.0;
        let at = format!("budget {name:?}");
        let limit = match (e.amount, e.auto_adjust) {
            (Some(_), Some(_)) => {
                return Err(format!("{at}: give amount or auto_adjust, not both"));
            }
            (None, None) => {
                return Err(format!(
                    "{at}: amount is missing (or auto_adjust = {{ from = \"forecast\" }})"
                ));
            }
            (Some(amount), None) if amount.is_zero() => {
                return Err(format!("{at}: amount must be above 0"));
            }
            (Some(amount), None) => Limit::Fixed {
                amount,
                currency: e.currency.map_or_else(|| "USD".to_string(), |c| c.0),
            },
            (None, Some(_)) if e.currency.is_some() => {
                return Err(format!("{at}: currency goes with amount, not auto_adjust"));
            }
            (None, Some(AutoAdjustEntry(adjust))) => {
                let most = match e.period {
                    BudgetPeriod::Monthly => 12,
                    BudgetPeriod::Quarterly => 4,
                    BudgetPeriod::Annually => 1,
                };
                if let AutoAdjust::History { periods } = adjust
                    && periods > most
                {
                    return Err(format!(
                        "{at}: auto_adjust.periods = {periods}; a {} budget can look back at \
                         most {most} period(s)",
                        e.period.as_str()
                    ));
                }
                Limit::AutoAdjust(adjust)
            }
        };
        let notifications: Vec<Notification> = e.notifications.into_iter().map(|n| n.0).collect();
        if notifications.len() > MAX_NOTIFICATIONS {
            return Err(format!(
                "{at}: {} notifications; AWS allows at most {MAX_NOTIFICATIONS} per budget",
                notifications.len()
            ));
        }
        for (i, n) in notifications.iter().enumerate() {
            if notifications[..i].iter().any(|m| m.same(n)) {
                return Err(format!("{at}: the notification {n} is given twice"));
            }
        }
        Ok(Budget {
            name,
            limit,
            period: e.period,
            cost: e.cost,
            include: e.include,
            filters: e.filters.into_filters(),
            notifications,
        })
    }
}

/// `auto_adjust = { from = "forecast" }` or `{ from = "history", periods = 6 }`.
#[derive(Deserialize)]
#[serde(try_from = "AutoAdjustWritten")]
struct AutoAdjustEntry(AutoAdjust);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoAdjustWritten {
    from: AutoAdjustFrom,
    periods: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum AutoAdjustFrom {
    Forecast,
    History,
}

impl TryFrom<AutoAdjustWritten> for AutoAdjustEntry {
    type Error = String;

    fn try_from(w: AutoAdjustWritten) -> Result<Self, String> {
        match (w.from, w.periods) {
            (AutoAdjustFrom::Forecast, None) => Ok(Self(AutoAdjust::Forecast)),
            (AutoAdjustFrom::Forecast, Some(_)) => {
                Err("periods goes with from = \"history\"".into())
            }
            (AutoAdjustFrom::History, Some(periods)) if periods >= 1 => {
                Ok(Self(AutoAdjust::History { periods }))
            }
            (AutoAdjustFrom::History, _) => {
                Err("from = \"history\" needs periods = N (1 or more)".into())
            }
        }
    }
}

/// `filters = { service = [...], linked_account = [...], ... }`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FiltersEntry {
    service: Option<Values<AnyValue>>,
    linked_account: Option<Values<AccountId>>,
    usage_type: Option<Values<AnyValue>>,
    usage_type_group: Option<Values<AnyValue>>,
    region: Option<Values<Region>>,
    tag: Option<Values<KeyValue>>,
    cost_category: Option<Values<KeyValue>>,
    az: Option<Values<AnyValue>>,
    instance_type: Option<Values<AnyValue>>,
    operation: Option<Values<AnyValue>>,
    purchase_type: Option<Values<AnyValue>>,
    record_type: Option<Values<AnyValue>>,
    billing_entity: Option<Values<AnyValue>>,
    legal_entity_name: Option<Values<AnyValue>>,
}

impl FiltersEntry {
    fn into_filters(self) -> Filters {
        let given = [
            (FilterKey::Service, self.service.map(|v| v.set)),
            (FilterKey::LinkedAccount, self.linked_account.map(|v| v.set)),
            (FilterKey::UsageType, self.usage_type.map(|v| v.set)),
            (
                FilterKey::UsageTypeGroup,
                self.usage_type_group.map(|v| v.set),
            ),
            (FilterKey::Region, self.region.map(|v| v.set)),
            (FilterKey::Tag, self.tag.map(|v| v.set)),
            (FilterKey::CostCategory, self.cost_category.map(|v| v.set)),
            (FilterKey::Az, self.az.map(|v| v.set)),
            (FilterKey::InstanceType, self.instance_type.map(|v| v.set)),
            (FilterKey::Operation, self.operation.map(|v| v.set)),
            (FilterKey::PurchaseType, self.purchase_type.map(|v| v.set)),
            (FilterKey::RecordType, self.record_type.map(|v| v.set)),
            (FilterKey::BillingEntity, self.billing_entity.map(|v| v.set)),
            (
                FilterKey::LegalEntityName,
                self.legal_entity_name.map(|v| v.set),
            ),
        ];
        given
            .into_iter()
            .filter_map(|(key, values)| Some((key, values?)))
            .collect()
    }
}

/// A `[[budgets.notifications]]` entry, checked.
#[derive(Deserialize)]
#[serde(try_from = "NotificationEntry")]
struct CheckedNotification(Notification);

/// A `[[budgets.notifications]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationEntry {
    #[serde(rename = "type")]
    kind: NotificationKind,
    percent: Option<Bounded<PercentBound>>,
    amount: Option<Bounded<AmountBound>>,
    subscribers: Subscribers,
}

impl TryFrom<NotificationEntry> for CheckedNotification {
    type Error = String;

    fn try_from(n: NotificationEntry) -> Result<Self, String> {
        let threshold = match (n.percent, n.amount) {
            (Some(p), None) => Threshold::Percent(p.value),
            (None, Some(a)) => Threshold::Amount(a.value),
            _ => {
                return Err(
                    "budgets.notifications: give percent = P (of the budget's amount) \
                            or amount = A, one of the two"
                        .into(),
                );
            }
        };
        Ok(Self(Notification {
            kind: n.kind,
            threshold,
            subscribers: n.subscribers.0,
        }))
    }
}

/// A second `[[budgets]]` entry with a name already used, with that entry's line.
pub fn duplicate_name(budgets: &[Budget], text: &str) -> Result<(), String> {
    let headers: Vec<usize> = (text.lines().enumerate())
        .filter(|(_, l)| l.trim_start().starts_with("[[budgets]]"))
        .map(|(i, _)| i + 1)
        .collect();
    for (i, b) in budgets.iter().enumerate() {
        if budgets[..i].iter().any(|other| other.name == b.name) {
            let at = headers
                .get(i)
                .filter(|_| headers.len() == budgets.len())
                .map_or(String::new(), |line| format!("line {line}: "));
            return Err(format!(
                "{at}budgets.name: a second budget named {:?}; budget names are unique in an account",
                b.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::budgets::spec::parse_budgets as parse;

    const GOOD: &str = r#"
[[budgets]]
name = "costwatch-web"
amount = "1200.50"
period = "quarterly"
cost = "amortized"
include = { credit = false, refund = false }
filters = { service = ["AmazonCloudWatch"], tag = ["user:team$web"], linked_account = ["111122223333"] }

[[budgets.notifications]]
type = "forecasted"
percent = 100
subscribers = ["email:web@example.com", "sns:arn:aws:sns:us-east-1:111122223333:budgets"]
"#;

    #[test]
    fn an_entry_reads_into_a_budget() {
        let b = &parse(GOOD).unwrap()[0];
        assert_eq!(b.limit_text(), "1200.5 USD");
        assert_eq!(b.period, BudgetPeriod::Quarterly);
        assert!(!b.include.credit && b.include.tax);
        assert_eq!(b.filters[&FilterKey::Tag].len(), 1);
        assert_eq!(b.notifications[0].to_string(), "FORECASTED > 100%");
        assert_eq!(b.notifications[0].subscribers.len(), 2);
    }

    #[test]
    fn errors_name_the_key_and_its_line() {
        let bad = |from: &str, to: &str| parse(&GOOD.replace(from, to)).unwrap_err();
        let err = bad("period = \"quarterly\"", "period = \"weekly\"");
        assert!(
            err.starts_with("line 5:") && err.contains("weekly"),
            "{err}"
        );
        let err = bad("percent = 100", "percent = 2000000");
        assert!(
            err.starts_with("line 12:") && err.contains("out of range"),
            "{err}"
        );
        let err = bad("email:web@example.com", "email:web.example.com");
        assert!(
            err.starts_with("line 13:") && err.contains("not an e-mail"),
            "{err}"
        );
        let err = bad(
            "sns:arn:aws:sns:us-east-1:111122223333:budgets",
            "sns:topic",
        );
        assert!(err.contains("not an SNS topic ARN"), "{err}");
        let many: Vec<String> = (0..11)
            .map(|i| format!("\"email:a{i}@example.com\""))
            .collect();
        let err = bad(
            "[\"email:web@example.com\", \"sns:arn:aws:sns:us-east-1:111122223333:budgets\"]",
            &format!("[{}]", many.join(", ")),
        );
        assert!(
            err.starts_with("line 13:") && err.contains("at most 10"),
            "{err}"
        );
        let err = bad(
            "linked_account = [\"111122223333\"]",
            "linked_account = [\"1111\"]",
        );
        assert!(
            err.starts_with("line 8:") && err.contains("12-digit"),
            "{err}"
        );
        let err = bad("name = \"costwatch-web\"", "name = \"web:prod\"");
        assert!(err.starts_with("line 3:"), "{err}");
        let err = bad("amount = \"1200.50\"", "amount = \"12,5\"");
        assert!(err.starts_with("line 4:"), "{err}");
        let err = bad("percent = 100", "percent = 100\namount = 5");
        assert!(err.contains("one of the two"), "{err}");
        let err = bad(
            "amount = \"1200.50\"",
            "amount = 1\nauto_adjust = { from = \"forecast\" }",
        );
        assert!(
            err.starts_with("line 2:") && err.contains("not both"),
            "{err}"
        );
        let eleven: String = (1..=11)
            .map(|p| format!("[[budgets.notifications]]\ntype = \"actual\"\npercent = {p}\nsubscribers = [\"email:a@example.com\"]\n"))
            .collect();
        let err = parse(&format!("[[budgets]]\nname = \"n\"\namount = 1\n{eleven}")).unwrap_err();
        assert!(
            err.contains("11 notifications") && err.contains("at most 10"),
            "{err}"
        );
    }

    #[test]
    fn a_name_used_twice_is_an_error_with_the_line() {
        let text = format!("{GOOD}\n[[budgets]]\nname = \"costwatch-web\"\namount = 5\n");
        let budgets = parse(&text).unwrap();
        let err = duplicate_name(&budgets, &text).unwrap_err();
        assert!(
            err.starts_with("line 15:") && err.contains("second budget"),
            "{err}"
        );
    }

    #[test]
    fn proposals_default_to_the_alert_recipients() {
        let mut f = FindingsBudgets::default();
        f.default_subscribers(&[
            "FinOps <finops@example.com>".into(),
            "ops@example.com".into(),
        ]);
        let subs: Vec<String> = f.subscribers.0.iter().map(|s| s.to_string()).collect();
        assert_eq!(subs, ["email:finops@example.com", "email:ops@example.com"]);
    }
}
