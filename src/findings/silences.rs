//! Silences: findings people know about (a planned migration week, a known increase) are
//! kept and reported, not sent. A `[[silences]]` entry of the config or a `costwatch snooze`
//! covers a scope for a while; `costwatch ack` covers one finding. A silence with a
//! `max_impact` lets an alert past it through: it got worse than what was expected.

use crate::ledger::Snooze;
use crate::model::Finding;
use chrono::NaiveDate;
use serde::Deserialize;

/// One `[[silences]]` entry: a scope (empty fields match any) and a span of days.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    #[serde(default)]
    pub account: String,
    /// Product code (or Cost Explorer service name).
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub usage_type: String,
    /// First day silenced (default: any).
    pub from: Option<NaiveDate>,
    /// Last day silenced.
    pub until: NaiveDate,
    /// Alerts whose monthly impact is above this break through.
    pub max_impact: Option<f64>,
    /// Why, for the report.
    #[serde(default)]
    pub note: String,
}

impl Silence {
    /// Whether this silence holds back `f`.
    pub fn holds(&self, f: &Finding) -> bool {
        let matches = |want: &str, have: &str| want.is_empty() || want == have;
        matches(&self.account, &f.scope.account)
            && matches(&self.service, &f.scope.service_code)
            && matches(&self.usage_type, &f.scope.usage_type)
            && self.from.is_none_or(|from| f.day >= from)
            && f.day <= self.until
            && self.max_impact.is_none_or(|max| f.monthly_impact <= max)
    }
}

impl From<&Snooze> for Silence {
    fn from(s: &Snooze) -> Self {
        Self {
            account: s.account.clone(),
            service: s.service_code.clone(),
            usage_type: s.usage_type.clone(),
            from: None,
            until: s.until,
            max_impact: None,
            note: s.note.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Scope, Severity};

    #[test]
    fn a_silence_holds_its_scope_and_days_up_to_its_impact() {
        let f = Finding {
            rule: "shift".into(),
            scope: Scope {
                account: "1".into(),
                service_code: "AmazonEC2".into(),
                service_name: "Amazon EC2".into(),
                usage_type: "BoxUsage".into(),
            },
            day: "2026-03-10".parse().unwrap(),
            severity: Severity::Warning,
            observed: 20.0,
            expected: 10.0,
            score: 9.0,
            monthly_impact: 300.0,
            message: String::new(),
            detail: None,
            action: Action::Notify,
        };
        let migration = Silence {
            account: "1".into(),
            until: "2026-03-14".parse().unwrap(),
            max_impact: Some(500.0),
            ..Default::default()
        };
        assert!(migration.holds(&f));
        let worse = Finding {
            monthly_impact: 900.0,
            ..f.clone()
        };
        assert!(
            !migration.holds(&worse),
            "past max_impact it breaks through"
        );
        let other = Silence {
            account: "2".into(),
            ..migration.clone()
        };
        assert!(!other.holds(&f));
        let ended = Silence {
            until: "2026-03-09".parse().unwrap(),
            ..migration
        };
        assert!(!ended.holds(&f));
    }
}
