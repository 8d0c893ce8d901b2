//! The domain model every stage shares: daily cost facts (read by `costwatch-cur`),
//! findings with their severity and action, the scopes they are about, budgets as the
//! `budget` rule watches them, and money as people read it. It depends on no other module of
//! costwatch.

mod budget;
mod finding;
mod run;

pub use budget::{BudgetPeriod, BudgetWatch, SpendFilter, budgets_service};
pub use costwatch_cur::facts::{
    ChargeCategory, DailyAmount, FactKey, FactValue, Facts, Series, SeriesFacts, SeriesKey, Text,
};
pub use costwatch_detect::{Severity, money};
pub use finding::{Action, Finding, Scope};
pub use run::{SourceReport, SourceStatus};

/// `value`, or `placeholder` when it is empty (an alert spanning every service, a fact
/// without a region).
pub fn or<'a>(value: &'a str, placeholder: &'a str) -> &'a str {
    if value.is_empty() { placeholder } else { value }
}
