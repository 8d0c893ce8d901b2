//! `[sources.billing_metrics]`.

use super::BillingMetricsSource;
use crate::aws::{ArnScope, Statement};
use crate::sources::{Shared, Source, SourceConfig};
use serde::Deserialize;

/// CloudWatch `AWS/Billing` `EstimatedCharges` (us-east-1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingMetricsConfig {
    /// Days of month-to-date values to read each run.
    #[serde(default = "default_lookback_days")]
    pub lookback_days: u32,
    /// Endpoint override for this service only.
    pub endpoint_url: Option<String>,
}

fn default_lookback_days() -> u32 {
    3
}

impl SourceConfig for BillingMetricsConfig {
    /// Finding and reading the `AWS/Billing` metrics (CloudWatch reads have no resource-level
    /// permissions).
    fn iam(&self, _scope: &ArnScope) -> Vec<Statement> {
        vec![Statement::allow(
            "BillingMetrics",
            &["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"],
            ["*"],
        )]
    }

    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(BillingMetricsSource::new(self.clone(), shared.aws.clone()))
    }
}
