//! A budget as costwatch manages it, whether `[[budgets]]` declares it, a finding proposes
//! it or the account holds it: a COST budget, its limit and period, what it counts, its
//! filters and its GREATER_THAN notifications with their subscribers.

use super::amount::Amount;
use crate::model::BudgetPeriod;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One budget (a `[[budgets]]` entry reads into one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "super::config::Entry")]
pub struct Budget {
    pub name: String,
    pub limit: Limit,
    pub period: BudgetPeriod,
    pub cost: CostBasis,
    pub include: Includes,
    pub filters: Filters,
    pub notifications: Vec<Notification>,
}

/// How much a period may cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// A fixed amount.
    Fixed { amount: Amount, currency: String },
    /// An amount AWS sets itself each period.
    AutoAdjust(AutoAdjust),
}

/// Where an auto-adjusting budget's amount comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoAdjust {
    /// AWS's forecast of the period.
    Forecast,
    /// The average of this many past periods.
    History { periods: u32 },
}

/// Which cost a budget adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostBasis {
    #[default]
    Unblended,
    Amortized,
    Blended,
}

impl CostBasis {
    /// The name written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unblended => "unblended",
            Self::Amortized => "amortized",
            Self::Blended => "blended",
        }
    }
}

/// The kinds of charge a budget counts (AWS's `CostTypes`); each is counted by default.
/// Discounts counted make it a net cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Includes {
    pub tax: bool,
    pub subscription: bool,
    pub refund: bool,
    pub credit: bool,
    pub upfront: bool,
    pub recurring: bool,
    pub other_subscription: bool,
    pub support: bool,
    pub discount: bool,
}

impl Default for Includes {
    fn default() -> Self {
        Self {
            tax: true,
            subscription: true,
            refund: true,
            credit: true,
            upfront: true,
            recurring: true,
            other_subscription: true,
            support: true,
            discount: true,
        }
    }
}

impl Includes {
    /// Each kind by its config name, in a fixed order.
    pub fn fields(&self) -> [(&'static str, bool); 9] {
        [
            ("tax", self.tax),
            ("subscription", self.subscription),
            ("refund", self.refund),
            ("credit", self.credit),
            ("upfront", self.upfront),
            ("recurring", self.recurring),
            ("other_subscription", self.other_subscription),
            ("support", self.support),
            ("discount", self.discount),
        ]
    }
}

/// A budget's filters: the values of each dimension it counts (any value of one dimension,
/// every dimension given).
pub type Filters = BTreeMap<FilterKey, BTreeSet<String>>;

/// A dimension a budget can filter on (AWS's `CostFilters` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterKey {
    Service,
    LinkedAccount,
    UsageType,
    UsageTypeGroup,
    Region,
    Tag,
    CostCategory,
    Az,
    InstanceType,
    Operation,
    PurchaseType,
    RecordType,
    BillingEntity,
    LegalEntityName,
}

impl FilterKey {
    /// Every key.
    pub const ALL: [FilterKey; 14] = [
        Self::Service,
        Self::LinkedAccount,
        Self::UsageType,
        Self::UsageTypeGroup,
        Self::Region,
        Self::Tag,
        Self::CostCategory,
        Self::Az,
        Self::InstanceType,
        Self::Operation,
        Self::PurchaseType,
        Self::RecordType,
        Self::BillingEntity,
        Self::LegalEntityName,
    ];

    /// The key in the config's `filters` table.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::LinkedAccount => "linked_account",
            Self::UsageType => "usage_type",
            Self::UsageTypeGroup => "usage_type_group",
            Self::Region => "region",
            Self::Tag => "tag",
            Self::CostCategory => "cost_category",
            Self::Az => "az",
            Self::InstanceType => "instance_type",
            Self::Operation => "operation",
            Self::PurchaseType => "purchase_type",
            Self::RecordType => "record_type",
            Self::BillingEntity => "billing_entity",
            Self::LegalEntityName => "legal_entity_name",
        }
    }

    /// The key in AWS's `CostFilters`.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Service => "Service",
            Self::LinkedAccount => "LinkedAccount",
            Self::UsageType => "UsageType",
            Self::UsageTypeGroup => "UsageTypeGroup",
            Self::Region => "Region",
            Self::Tag => "TagKeyValue",
            Self::CostCategory => "CostCategory",
            Self::Az => "AZ",
            Self::InstanceType => "InstanceType",
            Self::Operation => "Operation",
            Self::PurchaseType => "PurchaseType",
            Self::RecordType => "RecordType",
            Self::BillingEntity => "BillingEntity",
            Self::LegalEntityName => "LegalEntityName",
        }
    }

    /// The key of an AWS `CostFilters` name.
    pub fn from_aws(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.aws_name() == name)
    }
}

/// A notification: AWS mails its subscribers when the actual or forecasted cost of a period
/// goes above the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub kind: NotificationKind,
    pub threshold: Threshold,
    pub subscribers: BTreeSet<Subscriber>,
}

impl Notification {
    /// Whether `other` is the same notification for AWS (its type and threshold; the
    /// subscribers are its members).
    pub fn same(&self, other: &Notification) -> bool {
        self.kind == other.kind && self.threshold.same(&other.threshold)
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}", self.kind.aws_name(), self.threshold)
    }
}

/// Whether a notification watches the actual or the forecasted cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    Actual,
    Forecasted,
}

impl NotificationKind {
    /// AWS's name: `ACTUAL`, `FORECASTED`.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Actual => "ACTUAL",
            Self::Forecasted => "FORECASTED",
        }
    }

    /// The name written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Actual => "actual",
            Self::Forecasted => "forecasted",
        }
    }
}

/// Where a notification fires: a share of the budget's amount or an amount.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Threshold {
    Percent(f64),
    Amount(f64),
}

impl Threshold {
    /// Whether both fire at the same point (AWS keeps thresholds as doubles).
    pub fn same(&self, other: &Threshold) -> bool {
        match (self, other) {
            (Self::Percent(a), Self::Percent(b)) | (Self::Amount(a), Self::Amount(b)) => {
                (a - b).abs() < 1e-9 * a.abs().max(1.0)
            }
            _ => false,
        }
    }

    /// Where it fires in dollars for a budget of `limit`.
    pub fn dollars(&self, limit: f64) -> f64 {
        match *self {
            Self::Percent(p) => limit * p / 100.0,
            Self::Amount(a) => a,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |x: f64| Amount::from_f64(x).map_or_else(|_| x.to_string(), |a| a.to_string());
        match *self {
            Self::Percent(p) => write!(f, "{}%", number(p)),
            Self::Amount(a) => write!(f, "{} absolute", number(a)),
        }
    }
}

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subscriber {
    Email(String),
    /// An SNS topic ARN.
    Sns(String),
}

impl Subscriber {
    /// `email:ADDRESS` or `sns:TOPIC-ARN`, checked.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(address) = text.strip_prefix("email:") {
            return if super::checks::email(address) {
                Ok(Self::Email(address.to_string()))
            } else {
                Err(format!("{text:?}: not an e-mail address"))
            };
        }
        if let Some(arn) = text.strip_prefix("sns:") {
            return if super::checks::sns_topic_arn(arn) {
                Ok(Self::Sns(arn.to_string()))
            } else {
                Err(format!(
                    "{text:?}: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
                ))
            };
        }
        Err(format!(
            "{text:?}: a subscriber is \"email:ADDRESS\" or \"sns:TOPIC-ARN\""
        ))
    }

    /// The address AWS keeps.
    pub fn address(&self) -> &str {
        match self {
            Self::Email(a) | Self::Sns(a) => a,
        }
    }
}

impl fmt::Display for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email(a) => write!(f, "email:{a}"),
            Self::Sns(a) => write!(f, "sns:{a}"),
        }
    }
}

impl Serialize for Subscriber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Budget {
    /// The amount in words: `1200 USD`, `auto-adjusting from the forecast`.
    pub fn limit_text(&self) -> String {
        match &self.limit {
            Limit::Fixed { amount, currency } => format!("{amount} {currency}"),
            Limit::AutoAdjust(AutoAdjust::Forecast) => "auto-adjusting from the forecast".into(),
            Limit::AutoAdjust(AutoAdjust::History { periods }) => {
                format!("auto-adjusting from the last {periods} period(s)")
            }
        }
    }

    /// The filters in words: `Service = AmazonCloudWatch; LinkedAccount = 111122223333`.
    pub fn filters_text(&self) -> String {
        if self.filters.is_empty() {
            return "none (the whole account)".into();
        }
        let parts: Vec<String> = (self.filters.iter())
            .map(|(key, values)| {
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                format!("{} = {}", key.aws_name(), values.join(", "))
            })
            .collect();
        parts.join("; ")
    }

    /// What the budget counts, in words: `amortized, excluding refund, credit`.
    pub fn cost_text(&self) -> String {
        let excluded: Vec<&str> = (self.include.fields().into_iter())
            .filter(|(_, on)| !on)
            .map(|(name, _)| name)
            .collect();
        if excluded.is_empty() {
            format!("{}, every charge type", self.cost.as_str())
        } else {
            format!("{}, excluding {}", self.cost.as_str(), excluded.join(", "))
        }
    }
}

/// The `[[budgets]]` of a config text, or the error with its line: the tests' fixtures.
#[cfg(test)]
pub(crate) fn parse_budgets(text: &str) -> Result<Vec<Budget>, String> {
    #[derive(Deserialize)]
    struct Doc {
        budgets: Vec<Budget>,
    }
    toml::from_str::<Doc>(text).map(|d| d.budgets).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        format!("line {line}: {}", e.message())
    })
}
