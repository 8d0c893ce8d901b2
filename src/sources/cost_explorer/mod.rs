//! Cost Explorer: daily cost per linked account × service × usage type, and the month-end
//! forecast, fetched incrementally within a request budget.

mod config;
mod fetch;
mod forecast;
mod query;
mod source;

pub use config::CostExplorerConfig;
pub use source::{CostExplorerSource, REQUEST_PRICE, SOURCE};

/// `[sources.cost_explorer]` in the file `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("template.toml");
