//! Links from an alert to the matching Cost Explorer view: daily cost, the alert's account,
//! service and usage type as filters, over the weeks the chart shows.

use chrono::NaiveDate;

/// The console's Cost Explorer page.
const COST_EXPLORER: &str =
    "https://us-east-1.console.aws.amazon.com/costmanagement/home#/cost-explorer";

/// The Cost Explorer view of a scope (empty fields are not filtered on) over `[from, to]`;
/// `service` is a Cost Explorer `SERVICE` value ("Amazon Elastic Compute Cloud - Compute").
pub fn cost_explorer(
    account: &str,
    service: &str,
    usage_type: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> String {
    let mut filters = Vec::new();
    for (dimension, value) in [
        ("LinkedAccount", account),
        ("Service", service),
        ("UsageType", usage_type),
    ] {
        if !value.is_empty() {
            filters.push(format!(
                r#"{{"dimension":{{"id":"{dimension}","displayValue":"{dimension}"}},"operator":"INCLUDES","values":[{{"value":"{}","displayValue":"{}"}}]}}"#,
                json_escape(value),
                json_escape(value)
            ));
        }
    }
    let filter = format!("[{}]", filters.join(","));
    let group_by = if usage_type.is_empty() {
        "UsageType"
    } else {
        "Region"
    };
    format!(
        "{COST_EXPLORER}?chartStyle=STACK&costAggregate=unBlendedCost&granularity=Daily\
         &groupBy=%5B%22{group_by}%22%5D&startDate={from}&endDate={to}&filter={}",
        percent_encode(&filter)
    )
}

fn json_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_filters_the_scope_and_the_dates() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let url = cost_explorer("123", "AmazonEC2", "", d("2026-02-01"), d("2026-03-19"));
        assert!(url.starts_with(COST_EXPLORER));
        assert!(url.contains("startDate=2026-02-01&endDate=2026-03-19"));
        assert!(url.contains("LinkedAccount") && url.contains("%22123%22"));
        assert!(
            !url.contains("UsageType%22%2C%22operator"),
            "no usage type filter"
        );
        assert!(!url.contains(' ') && !url.contains('"'));
    }
}
