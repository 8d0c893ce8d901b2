//! Fixtures for a rule's own tests, run natively with `cargo test`: series, a context for a
//! day, and running a rule as the host does (its config read and validated, then evaluated).
//!
//! ```
//! use costwatch_rule::{testing, Value};
//! # use costwatch_rule::*;
//! # settings! { pub struct Big { limit: number = 100.0; } }
//! # impl Rule for Big {
//! #     fn info() -> Info { Info::new("big", "0.1.0", "") }
//! #     fn check(&self, _: &Context, s: &Series) -> Option<Finding> {
//! #         (s.last() > self.limit).then(|| Finding::new(&s.key, Severity::Info, s.last(), 0.0, ""))
//! #     }
//! # }
//! let mut rising = testing::series(&[0.0, 0.0, 10.0, 12.0, 150.0]);
//! rising.known_from = 2; // billing data starts on the third day
//! let found = testing::run::<Big>(
//!     &[("limit", Value::Number(120.0))],
//!     &testing::context("2026-03-18"),
//!     &[rising],
//! );
//! assert_eq!(found.unwrap().len(), 1);
//! ```

use crate::{Context, Finding, Rule, RuleError, Series, SeriesKey, Value};

/// The key of a usage type in account `111122223333`, service `AmazonEC2`, region us-east-1.
pub fn key(usage_type: &str) -> SeriesKey {
    SeriesKey {
        account: "111122223333".into(),
        service: "AmazonEC2".into(),
        service_name: "Amazon Elastic Compute Cloud".into(),
        usage_type: usage_type.into(),
        region: "us-east-1".into(),
    }
}

/// A series of `amounts` (oldest first, the last is the evaluated day), all days known,
/// keyed `USE1-BoxUsage:m5.large`.
pub fn series(amounts: &[f64]) -> Series {
    Series {
        key: key("USE1-BoxUsage:m5.large"),
        amounts: amounts.to_vec(),
        known_from: 0,
    }
}

/// The context of evaluating `day` (`YYYY-MM-DD`) with its weekday, 90 days of history and no
/// config.
pub fn context(day: &str) -> Context {
    let days = days_from_civil(day).expect("a YYYY-MM-DD day");
    Context {
        day: day.into(),
        weekday: (days + 3).rem_euclid(7) as u8,
        history_start: civil_from_days(days - 89),
        config: Vec::new(),
    }
}

/// Builds the rule from `config` as the host does on every call (settings read and checked,
/// then [`Rule::validate`]).
pub fn rule<R: Rule>(config: &[(&str, Value)]) -> Result<R, RuleError> {
    crate::__export::build::<R>(
        config
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// Builds the rule from `config` and evaluates `batch` on `ctx`'s day, as one host call.
pub fn run<R: Rule>(
    config: &[(&str, Value)],
    ctx: &Context,
    batch: &[Series],
) -> Result<Vec<Finding>, RuleError> {
    rule::<R>(config)?.evaluate(ctx, batch)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` day (proleptic Gregorian).
fn days_from_civil(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_know_their_weekday_and_history() {
        let ctx = context("2026-03-18");
        assert_eq!(ctx.weekday, 2, "a Wednesday");
        assert_eq!(ctx.history_start, "2025-12-19");
        assert_eq!(context("2024-02-29").weekday, 3);
        assert_eq!(
            civil_from_days(days_from_civil("2024-03-01").unwrap()),
            "2024-03-01"
        );
    }
}
