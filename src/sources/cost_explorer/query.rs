//! One grouped GetCostAndUsage query over a range of days, page by page within the run's
//! request budget. A query cut short (budget spent, throttled past the SDK's retries) still
//! says which days it returned completely: pages come oldest day first, so every day before
//! the last one seen is complete.

use crate::aws::describe;
use anyhow::{Context, Result, anyhow};
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput;
use aws_sdk_costexplorer::types::{
    DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType,
};
use chrono::{Days, NaiveDate};

/// Requests made by one run against its budget.
#[derive(Debug)]
pub struct Budget {
    pub made: u32,
    pub max: u32,
}

impl Budget {
    /// Whether no request is left.
    pub fn exhausted(&self) -> bool {
        self.made >= self.max
    }

    /// Requests left.
    pub fn left(&self) -> u32 {
        self.max.saturating_sub(self.made)
    }

    fn take(&mut self) -> bool {
        if self.exhausted() {
            return false;
        }
        self.made += 1;
        true
    }
}

/// One grouped row of an answer.
#[derive(Debug, Clone)]
pub struct Row {
    pub day: NaiveDate,
    pub keys: [String; 2],
    pub unblended: f64,
    pub amortized: f64,
    pub usage: f64,
    pub unit: String,
}

/// Why a query stopped before its last page.
#[derive(Debug, Clone)]
pub enum Stop {
    /// The run's request budget is spent.
    Budget(u32),
    /// Cost Explorer answered an error (after the SDK's retries), or could not be reached.
    Error(String),
}

/// What a query returned: its rows, and whether it ran to its last page; when it did not,
/// the first day that may be incomplete and why it stopped.
#[derive(Debug)]
pub struct Answer {
    pub rows: Vec<Row>,
    /// `None` when every page was read; else the day from which rows may be missing.
    pub cut: Option<(NaiveDate, Stop)>,
}

impl Answer {
    /// Whether `day` was returned completely.
    pub fn complete(&self, day: NaiveDate) -> bool {
        self.cut.as_ref().is_none_or(|(from, _)| day < *from)
    }
}

/// A query: the range, its granularity, two group-by dimensions and a filter.
pub struct Query<'a> {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub granularity: Granularity,
    pub group_by: [&'a str; 2],
    pub filter: Expression,
}

impl Query<'_> {
    /// Runs the query page by page while the budget lasts.
    pub async fn run(&self, client: &Client, budget: &mut Budget) -> Result<Answer> {
        let period = DateInterval::builder()
            .start(self.start.to_string())
            .end((self.end + Days::new(1)).to_string())
            .build()?;
        let mut rows = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // Days from the last one seen on may be incomplete when the query stops here.
            let from = rows.last().map_or(self.start, |r: &Row| r.day);
            if !budget.take() {
                return Ok(Answer {
                    rows,
                    cut: Some((from, Stop::Budget(budget.max))),
                });
            }
            let mut request = client
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(self.granularity.clone())
                .metrics("UnblendedCost")
                .metrics("AmortizedCost")
                .metrics("UsageQuantity")
                .filter(self.filter.clone())
                .set_next_page_token(token.clone());
            for key in self.group_by {
                request = request.group_by(
                    GroupDefinition::builder()
                        .r#type(GroupDefinitionType::Dimension)
                        .key(key)
                        .build(),
                );
            }
            let page = match request.send().await {
                Ok(page) => page,
                Err(e) => {
                    let reason = describe("Cost Explorer GetCostAndUsage", &e);
                    return Ok(Answer {
                        rows,
                        cut: Some((from, Stop::Error(reason))),
                    });
                }
            };
            parse_page(&page, &mut rows)?;
            token = page
                .next_page_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                return Ok(Answer { rows, cut: None });
            }
        }
    }
}

fn parse_page(page: &GetCostAndUsageOutput, rows: &mut Vec<Row>) -> Result<()> {
    for result in page.results_by_time() {
        let start = result.time_period().map(|p| p.start()).unwrap_or_default();
        let day = NaiveDate::parse_from_str(start.get(..10).unwrap_or(start), "%Y-%m-%d")
            .with_context(|| format!("Cost Explorer returned an unreadable day {start:?}"))?;
        for group in result.groups() {
            let keys = group.keys();
            let metric = |name: &str| -> Result<(f64, String)> {
                let Some(value) = group.metrics().and_then(|m| m.get(name)) else {
                    return Ok((0.0, String::new()));
                };
                let amount = value.amount().unwrap_or("0");
                let amount = amount.parse::<f64>().map_err(|_| {
                    anyhow!("Cost Explorer {name} {amount:?} for {keys:?} on {day} is not a number")
                })?;
                Ok((amount, value.unit().unwrap_or("").to_string()))
            };
            let (usage, unit) = metric("UsageQuantity")?;
            rows.push(Row {
                day,
                keys: [
                    keys.first().cloned().unwrap_or_default(),
                    keys.get(1).cloned().unwrap_or_default(),
                ],
                unblended: metric("UnblendedCost")?.0,
                amortized: metric("AmortizedCost")?.0,
                usage,
                unit,
            });
        }
    }
    Ok(())
}
