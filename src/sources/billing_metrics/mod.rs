//! CloudWatch billing metrics: `AWS/Billing` `EstimatedCharges` as daily deltas.

mod config;
mod source;

pub use config::BillingMetricsConfig;
pub use source::{BillingMetricsSource, SOURCE};

/// `[sources.billing_metrics]` in the file `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("template.toml");
