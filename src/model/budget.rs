//! Budgets as the `budget` rule watches them: a period, the facts that count, a limit.

use super::ChargeCategory;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// How long a budget's spend adds up before it starts again (calendar periods, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    #[default]
    Monthly,
    Quarterly,
    Annually,
}

impl BudgetPeriod {
    /// The name written in the config: `monthly`, `quarterly`, `annually`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annually => "annually",
        }
    }

    /// The first day of the period holding `day`.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        let month = match self {
            Self::Monthly => day.month(),
            Self::Quarterly => (day.month() - 1) / 3 * 3 + 1,
            Self::Annually => 1,
        };
        NaiveDate::from_ymd_opt(day.year(), month, 1).expect("the first of a month exists")
    }

    /// The first day of the period after the one holding `day`.
    pub fn end(self, day: NaiveDate) -> NaiveDate {
        let months = match self {
            Self::Monthly => 1,
            Self::Quarterly => 3,
            Self::Annually => 12,
        };
        self.start(day) + Months::new(months)
    }

    /// The period holding `day` in words: `2026-03`, `2026-Q1`, `2026`.
    pub fn label(self, day: NaiveDate) -> String {
        match self {
            Self::Monthly => day.format("%Y-%m").to_string(),
            Self::Quarterly => format!("{}-Q{}", day.year(), (day.month() - 1) / 3 + 1),
            Self::Annually => day.year().to_string(),
        }
    }
}

/// The daily facts a budget counts, as the ledger can select and sum them. An empty list
/// selects everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpendFilter {
    pub accounts: Vec<String>,
    /// AWS Budgets' service names (Cost Explorer's `SERVICE` values, see [`budgets_service`]).
    pub services: Vec<String>,
    pub usage_types: Vec<String>,
    pub regions: Vec<String>,
    /// Tag key and value pairs, any of which selects a fact; an empty value selects facts
    /// without that tag.
    pub tags: Vec<(String, String)>,
    /// The charge categories counted (usage and other always are).
    pub categories: Vec<ChargeCategory>,
    /// Amortized cost instead of unblended.
    pub amortized: bool,
}

/// A `[[budgets]]` entry the `budget` rule projects from the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetWatch {
    pub name: String,
    /// The budget's amount for one period, in dollars.
    pub limit: f64,
    pub period: BudgetPeriod,
    pub spend: SpendFilter,
    /// Where AWS's first FORECASTED notification fires, in dollars (none: the budget has none).
    pub first_forecast_alert: Option<f64>,
    /// Whether the budget counts the whole account's cost (no filter), so that Cost
    /// Explorer's forecast of the account's month is its forecast too.
    pub whole_account: bool,
}

/// A ledger series' service as AWS Budgets' `Service` filter names it (Cost Explorer's
/// `SERVICE` dimension): Cost Explorer facts carry that name already; the CUR's product names
/// mostly are it, except EC2, which Cost Explorer splits into compute and "EC2 - Other", and
/// services whose CUR name is their code (kept as the code, e.g. `AmazonCloudWatch`).
pub fn budgets_service(service_code: &str, service_name: &str, usage_type: &str) -> String {
    const COMPUTE: [&str; 5] = [
        "BoxUsage",
        "SpotUsage",
        "DedicatedUsage",
        "HostUsage",
        "ReservedHostUsage",
    ];
    if service_code == "AmazonEC2" {
        return if COMPUTE.iter().any(|c| usage_type.contains(c)) {
            "Amazon Elastic Compute Cloud - Compute".into()
        } else {
            "EC2 - Other".into()
        };
    }
    if service_name.is_empty() || service_name.replace(' ', "") == service_code {
        return service_code.to_string();
    }
    service_name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_and_end_on_calendar_boundaries() {
        let day: NaiveDate = "2026-05-17".parse().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(BudgetPeriod::Monthly.start(day), d("2026-05-01"));
        assert_eq!(BudgetPeriod::Monthly.end(day), d("2026-06-01"));
        assert_eq!(BudgetPeriod::Quarterly.start(day), d("2026-04-01"));
        assert_eq!(BudgetPeriod::Quarterly.end(day), d("2026-07-01"));
        assert_eq!(BudgetPeriod::Annually.end(day), d("2027-01-01"));
        assert_eq!(BudgetPeriod::Quarterly.label(day), "2026-Q2");
    }

    #[test]
    fn service_names_are_cost_explorer_s() {
        let s = budgets_service;
        assert_eq!(
            s(
                "AmazonCloudWatch",
                "Amazon CloudWatch",
                "USE1-CW:MetricMonitorUsage"
            ),
            "AmazonCloudWatch"
        );
        assert_eq!(
            s(
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USE1-NatGateway-Bytes"
            ),
            "EC2 - Other"
        );
        assert_eq!(
            s(
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "BoxUsage:m5.large"
            ),
            "Amazon Elastic Compute Cloud - Compute"
        );
        assert_eq!(
            s(
                "AmazonS3",
                "Amazon Simple Storage Service",
                "TimedStorage-ByteHrs"
            ),
            "Amazon Simple Storage Service"
        );
        assert_eq!(s("AWS Lambda", "AWS Lambda", "Request"), "AWS Lambda");
    }
}
