//! The write calls a plan is made of, one Budgets API request each, with the IAM action each
//! needs and a line telling it.

use super::spec::{Budget, Notification, Subscriber};
use serde::Serialize;

/// The tag costwatch sets on the budgets it creates.
pub const MANAGED_TAG: &str = "costwatch:managed";

/// Where a budget costwatch creates comes from (the value of its [`MANAGED_TAG`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A `[[budgets]]` entry.
    Config,
    /// A finding's `budget-alert` action.
    Finding,
}

impl Origin {
    /// The tag value: `config` or `finding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Finding => "finding",
        }
    }
}

/// One Budgets API write request.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// The budget with its notifications, subscribers and the managed tag, in one request.
    CreateBudget {
        budget: Budget,
        origin: Origin,
    },
    /// The budget's own fields (amount, period, cost types, filters).
    UpdateBudget {
        budget: Budget,
    },
    DeleteBudget {
        name: String,
    },
    /// A notification with its subscribers.
    CreateNotification {
        budget: String,
        notification: Notification,
    },
    /// A notification's type or threshold.
    UpdateNotification {
        budget: String,
        old: Notification,
        new: Notification,
    },
    DeleteNotification {
        budget: String,
        notification: Notification,
    },
    CreateSubscriber {
        budget: String,
        notification: Notification,
        subscriber: Subscriber,
    },
    DeleteSubscriber {
        budget: String,
        notification: Notification,
        subscriber: Subscriber,
    },
}

impl Call {
    /// The API operation, e.g. `UpdateBudget`.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::CreateBudget { .. } => "CreateBudget",
            Self::UpdateBudget { .. } => "UpdateBudget",
            Self::DeleteBudget { .. } => "DeleteBudget",
            Self::CreateNotification { .. } => "CreateNotification",
            Self::UpdateNotification { .. } => "UpdateNotification",
            Self::DeleteNotification { .. } => "DeleteNotification",
            Self::CreateSubscriber { .. } => "CreateSubscriber",
            Self::DeleteSubscriber { .. } => "DeleteSubscriber",
        }
    }

    /// The IAM actions the request needs.
    pub fn iam_actions(&self) -> &'static str {
        match self {
            Self::CreateBudget { .. } => "budgets:ModifyBudget and budgets:TagResource",
            _ => "budgets:ModifyBudget",
        }
    }

    /// The budget it changes.
    pub fn budget(&self) -> &str {
        match self {
            Self::CreateBudget { budget, .. } | Self::UpdateBudget { budget } => &budget.name,
            Self::DeleteBudget { name } => name,
            Self::CreateNotification { budget, .. }
            | Self::UpdateNotification { budget, .. }
            | Self::DeleteNotification { budget, .. }
            | Self::CreateSubscriber { budget, .. }
            | Self::DeleteSubscriber { budget, .. } => budget,
        }
    }

    /// The request in one line: `UpdateNotification web: ACTUAL > 80% → ACTUAL > 90%`.
    pub fn describe(&self) -> String {
        let what = match self {
            Self::CreateBudget { budget, .. } => format!(
                "{} {} with {} notification(s), tagged {MANAGED_TAG}",
                budget.period.as_str(),
                budget.limit_text(),
                budget.notifications.len()
            ),
            Self::UpdateBudget { budget } => format!(
                "{} {}, {}, filters {}",
                budget.period.as_str(),
                budget.limit_text(),
                budget.cost_text(),
                budget.filters_text()
            ),
            Self::DeleteBudget { .. } => "the budget and its notifications".into(),
            Self::CreateNotification { notification, .. } => {
                let to: Vec<String> = (notification.subscribers.iter())
                    .map(|s| s.to_string())
                    .collect();
                format!("{notification} to {}", to.join(", "))
            }
            Self::UpdateNotification { old, new, .. } => format!("{old} → {new}"),
            Self::DeleteNotification { notification, .. } => notification.to_string(),
            Self::CreateSubscriber {
                notification,
                subscriber,
                ..
            }
            | Self::DeleteSubscriber {
                notification,
                subscriber,
                ..
            } => format!("{subscriber} on {notification}"),
        };
        format!("{} {}: {what}", self.operation(), self.budget())
    }
}

/// A call as `--format json` lists it: its operation, budget and what it sends.
impl Serialize for Call {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut call = s.serialize_struct("Call", 3)?;
        call.serialize_field("operation", self.operation())?;
        call.serialize_field("budget", self.budget())?;
        call.serialize_field("request", &self.describe())?;
        call.end()
    }
}
