//! `[sources.cost_explorer]`.

use super::CostExplorerSource;
use crate::aws::{ArnScope, Statement};
use crate::sources::{Shared, Source, SourceConfig};
use serde::Deserialize;

/// Cost Explorer GetCostAndUsage / GetCostForecast (paid per request).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostExplorerConfig {
    /// Days back-filled on the first run.
    #[serde(default = "default_backfill_days")]
    pub backfill_days: u32,
    /// Days before today that AWS may still restate; they are fetched again every run.
    #[serde(default = "default_restate_days")]
    pub restate_days: u32,
    /// Until this day of the month, the previous month is refetched too (AWS finalises it late).
    #[serde(default = "default_previous_month_until_day")]
    pub previous_month_until_day: u32,
    /// Most requests one run may make (each costs $0.01).
    #[serde(default = "default_max_requests")]
    pub max_requests_per_run: u32,
    /// Fetch the month-end forecast too.
    #[serde(default = "yes")]
    pub forecast: bool,
    /// Endpoint override for this service only.
    pub endpoint_url: Option<String>,
}

fn default_backfill_days() -> u32 {
    90
}
fn default_restate_days() -> u32 {
    3
}
fn default_previous_month_until_day() -> u32 {
    10
}
fn default_max_requests() -> u32 {
    20
}
fn yes() -> bool {
    true
}

impl SourceConfig for CostExplorerConfig {
    /// Daily cost and usage, and the forecast when it is fetched (Cost Explorer has no
    /// resource-level permissions).
    fn iam(&self, _scope: &ArnScope) -> Vec<Statement> {
        let mut actions = vec!["ce:GetCostAndUsage"];
        if self.forecast {
            actions.push("ce:GetCostForecast");
        }
        vec![Statement::allow("CostExplorer", &actions, ["*"])]
    }

    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(CostExplorerSource::new(self.clone(), shared.aws.clone()))
    }
}
