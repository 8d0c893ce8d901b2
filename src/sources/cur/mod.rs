//! Cost and Usage Report readers: legacy CUR and FOCUS, aggregated to daily facts.
//!
//! Column names are matched after normalising to snake case, so `lineItem/UnblendedCost`
//! (legacy CSV), `line_item_unblended_cost` (Athena / CUR 2.0) and `BilledCost` (FOCUS,
//! as `billed_cost`) are all recognised.

mod csv_reader;
mod layout;

pub use csv_reader::read_csv;

use crate::ledger::Facts;
use anyhow::Result;
use std::path::Path;

/// Reads one billing file (CSV, optionally gzip-compressed) into daily facts.
pub fn read_file(path: &Path) -> Result<Facts> {
    read_csv(path)
}

/// Normalises a column name to snake case: `lineItem/UsageStartDate` → `line_item_usage_start_date`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut prev_lower = false;
    for c in name.trim().chars() {
        if c == '/' || c == ':' || c == ' ' || c == '-' || c == '.' {
            out.push('_');
            prev_lower = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn normalises_all_naming_styles() {
        assert_eq!(
            snake_case("lineItem/UsageStartDate"),
            "line_item_usage_start_date"
        );
        assert_eq!(
            snake_case("bill/BillingPeriodStartDate"),
            "bill_billing_period_start_date"
        );
        assert_eq!(
            snake_case("line_item_unblended_cost"),
            "line_item_unblended_cost"
        );
        assert_eq!(snake_case("BilledCost"), "billed_cost");
        assert_eq!(snake_case("x_UsageType"), "x_usage_type");
        assert_eq!(
            snake_case("resourceTags/user:team"),
            "resource_tags_user_team"
        );
    }
}
