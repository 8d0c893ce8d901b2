//! AWS Budgets as code: the `[[budgets]]` the config declares and the budgets findings
//! propose, planned against the account's (a field-by-field diff), applied call by call
//! (resumable: a rerun finishes what a failed apply left), imported from budgets that already
//! exist, and watched by the `budget` rule between AWS's own notifications.

mod account;
mod amount;
mod apply;
mod calls;
mod checks;
mod config;
mod convert;
mod daily;
mod diff;
mod fields;
mod iam;
mod import;
mod plan;
mod proposals;
pub mod render;
mod spec;
mod watch;

pub use account::Account;
pub use amount::Amount;
pub use apply::{Failed, Report, apply};
pub use calls::{Call, MANAGED_TAG, Origin};
pub use config::{FindingsBudgets, duplicate_name};
pub use daily::apply_proposals;
pub use diff::{FieldChange, Sign};
pub use fields::Subscribers;
pub use iam::iam;
pub use import::{entry, matches};
pub use plan::{Action, Change, Desired, Options, Plan, Skipped, plan};
pub use proposals::{PREFIX, Proposal, proposal_name, propose};
pub use spec::{
    AutoAdjust, Budget, CostBasis, FilterKey, Filters, Includes, Limit, Notification,
    NotificationKind, Subscriber, Threshold,
};
