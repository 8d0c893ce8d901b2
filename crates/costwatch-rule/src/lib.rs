//! SDK for costwatch rule plugins.
//!
//! A rule is one type implementing [`Rule`], exported with [`export_rule!`], built with
//! `cargo build --target wasm32-wasip2 --release` (a `cdylib` on that target is already a
//! WebAssembly component). The host pushes each evaluated day's series to
//! [`Rule::evaluate`] as dense daily arrays; the rule returns [`Finding`]s.
//!
//! ```
//! use costwatch_rule::*;
//!
//! struct Big { limit: f64 }
//!
//! impl Rule for Big {
//!     fn info() -> Info {
//!         Info::new("big-days", env!("CARGO_PKG_VERSION"), "days above a fixed limit")
//!     }
//!     fn from_config(config: &mut Config) -> Result<Self, RuleError> {
//!         Ok(Big { limit: config.number("limit", 100.0, "dollars per day")? })
//!     }
//!     fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
//!         Ok(batch.iter().filter(|s| s.last() > self.limit).map(|s| {
//!             Finding::new(&s.key, Severity::Warning, s.last(), self.limit,
//!                 format!("{} cost {} on {}", s.key.label(), money(s.last()), ctx.day))
//!         }).collect())
//!     }
//! }
//!
//! export_rule!(Big);
//! ```
//!
//! The algorithms of costwatch's built-in rules are here too ([`detect`], [`stats`]), so a
//! plugin can reuse exactly what the host runs natively.

pub mod bindings {
    //! Generated from `wit/v0.1.0` (`costwatch:rule@0.1.0`); documented in the WIT file.
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        world: "rule-plugin",
        path: "../../wit/v0.1.0",
        pub_export_macro: true,
        default_bindings_module: "costwatch_rule::bindings",
    });
}

mod config;
mod log;

pub use bindings::costwatch::rule::types::{
    Action, Context, Dimension, Finding, Needs, RuleError, RuleInfo, Series, SeriesKey, Setting,
    Severity,
};
pub use config::Config;
pub use costwatch_detect as detect;
pub use costwatch_detect::{DAYS_PER_MONTH, DailySeries, Detection, Params, stats};
pub use log::{debug, error, info, warn};

/// The interface version this SDK builds plugins for.
pub const INTERFACE: &str = "costwatch:rule@0.1.0";

/// A detection rule. Each host call gets a fresh instance, so a rule keeps no state between
/// calls: [`Rule::from_config`] builds it from its `config` table every time.
pub trait Rule: Sized {
    /// Id, version, description and what data the rule needs.
    fn info() -> Info;
    /// Reads the rule's settings with [`Config`]'s typed getters (which also describe them to
    /// `costwatch rule list`). Unknown keys are rejected after this returns.
    fn from_config(config: &mut Config) -> Result<Self, RuleError>;
    /// Evaluates `ctx.day` (the last value of every series) for one batch of series.
    fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError>;
}

/// What a rule is and what it needs; see [`Rule::info`].
#[derive(Debug, Clone)]
pub struct Info {
    /// The rule's id, unique among a config's rules.
    pub id: String,
    /// The rule's version.
    pub version: String,
    /// One line on what the rule catches.
    pub description: String,
    /// Days of history per series (the evaluated day included).
    pub history_days: u32,
    /// Dimensions to break series down by; empty means all (the finest grain).
    pub dimensions: Vec<Dimension>,
    /// Usage type patterns (`*` matches any text); empty means all.
    pub usage_types: Vec<String>,
}

impl Info {
    /// A rule that sees every series at the finest grain with 90 days of history.
    pub fn new(id: &str, version: &str, description: &str) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
            description: description.into(),
            history_days: 90,
            dimensions: Vec::new(),
            usage_types: Vec::new(),
        }
    }

    /// Days of history per series.
    pub fn history_days(mut self, days: u32) -> Self {
        self.history_days = days;
        self
    }

    /// Dimensions to break series down by (the rest are summed).
    pub fn dimensions(mut self, dimensions: &[Dimension]) -> Self {
        self.dimensions = dimensions.to_vec();
        self
    }

    /// Only series whose usage type matches one of these patterns (`*` matches any text).
    pub fn usage_types(mut self, patterns: &[&str]) -> Self {
        self.usage_types = patterns.iter().map(|p| p.to_string()).collect();
        self
    }
}

impl Series {
    /// Cost on the evaluated day.
    pub fn last(&self) -> f64 {
        self.amounts.last().copied().unwrap_or(0.0)
    }

    /// The series as the built-in detectors take it.
    pub fn daily(&self, weekday: u8) -> DailySeries<'_> {
        DailySeries {
            amounts: &self.amounts,
            last_weekday: weekday,
        }
    }
}

impl SeriesKey {
    /// `Amazon CloudWatch USE1-CW:MetricMonitorUsage in account 111122223333 (us-east-1)`,
    /// leaving out the dimensions the series is not broken down by.
    pub fn label(&self) -> String {
        let service = if self.service_name.is_empty() {
            &self.service
        } else {
            &self.service_name
        };
        let mut out = [service.as_str(), self.usage_type.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if out.is_empty() {
            out.push_str("spend");
        }
        if !self.account.is_empty() {
            out.push_str(&format!(" in account {}", self.account));
        }
        if !self.region.is_empty() {
            out.push_str(&format!(" ({})", self.region));
        }
        out
    }
}

impl Finding {
    /// A finding for `key`; the monthly impact is `(observed - expected) × 30.4`, the score 0,
    /// no detail, action notify.
    pub fn new(
        key: &SeriesKey,
        severity: Severity,
        observed: f64,
        expected: f64,
        message: impl Into<String>,
    ) -> Self {
        Self {
            key: key.clone(),
            severity,
            observed,
            expected,
            score: 0.0,
            monthly_impact: (observed - expected) * DAYS_PER_MONTH,
            message: message.into(),
            detail: None,
            action: Action::Notify,
        }
    }

    /// A finding from a built-in detector's detection.
    pub fn from_detection(key: &SeriesKey, d: &Detection, message: impl Into<String>) -> Self {
        Self {
            score: d.score,
            monthly_impact: d.monthly_impact,
            ..Self::new(key, severity(d.severity), d.observed, d.expected, message)
        }
    }

    /// Root-cause detail text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Strength of the evidence.
    pub fn score(mut self, score: f64) -> Self {
        self.score = score;
        self
    }

    /// Extra cost per month if it lasts.
    pub fn monthly_impact(mut self, dollars: f64) -> Self {
        self.monthly_impact = dollars;
        self
    }

    /// What the host should do besides keeping it.
    pub fn action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }
}

/// The SDK's severity for a detector's.
pub fn severity(s: detect::Severity) -> Severity {
    match s {
        detect::Severity::Info => Severity::Info,
        detect::Severity::Warning => Severity::Warning,
        detect::Severity::Critical => Severity::Critical,
    }
}

/// `$1,234.56` style, as costwatch prints money (the host's own formatting).
pub use costwatch_detect::money;

#[doc(hidden)]
pub mod __export {
    //! What [`export_rule!`](crate::export_rule) expands to call.
    use super::*;

    /// Sends panic messages to the host log (the plugin's stderr is captured too, but the
    /// log names the rule and survives the trap that follows).
    fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                crate::error(&format!("panicked: {info}"));
            }))
        });
    }

    pub fn info<R: Rule>() -> RuleInfo {
        init();
        let info = R::info();
        let mut config = Config::new(Vec::new());
        // Reading an empty config records every setting with its default.
        let _ = R::from_config(&mut config);
        RuleInfo {
            id: info.id,
            version: info.version,
            description: info.description,
            config_schema: config.schema().to_vec(),
            needs: Needs {
                history_days: info.history_days,
                dimensions: info.dimensions,
                usage_types: info.usage_types,
            },
        }
    }

    pub fn validate<R: Rule>(entries: Vec<(String, String)>) -> Result<(), RuleError> {
        init();
        build::<R>(entries).map(|_| ())
    }

    pub fn evaluate<R: Rule>(ctx: Context, batch: Vec<Series>) -> Result<Vec<Finding>, RuleError> {
        init();
        let rule = build::<R>(ctx.config.clone())?;
        rule.evaluate(&ctx, &batch)
    }

    fn build<R: Rule>(entries: Vec<(String, String)>) -> Result<R, RuleError> {
        let mut config = Config::new(entries);
        let rule = R::from_config(&mut config)?;
        config.finish()?;
        Ok(rule)
    }
}

/// Exports a [`Rule`] as the plugin's implementation of `costwatch:rule@0.1.0`.
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        // Only the WebAssembly build exports the interface, so a plugin's own `cargo test`
        // (native, where a `cdylib` cannot carry the component's export names) links too.
        #[cfg(target_arch = "wasm32")]
        struct __CostwatchRuleExport;

        #[cfg(target_arch = "wasm32")]
        impl $crate::bindings::exports::costwatch::rule::rule::Guest for __CostwatchRuleExport {
            fn info() -> $crate::RuleInfo {
                $crate::__export::info::<$rule>()
            }
            fn validate_config(
                config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<(), $crate::RuleError> {
                $crate::__export::validate::<$rule>(config)
            }
            fn evaluate(
                ctx: $crate::Context,
                batch: ::std::vec::Vec<$crate::Series>,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, $crate::RuleError> {
                $crate::__export::evaluate::<$rule>(ctx, batch)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!(__CostwatchRuleExport with_types_in $crate::bindings);

        // Checked natively too: the type must be a rule.
        const _: fn() = || {
            fn is_rule<R: $crate::Rule>() {}
            is_rule::<$rule>();
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_labels() {
        assert_eq!(money(1234.5), "$1,234.50");
        let key = SeriesKey {
            account: "1".into(),
            service: "AmazonCloudWatch".into(),
            service_name: String::new(),
            usage_type: "USE1-CW:MetricMonitorUsage".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(
            key.label(),
            "AmazonCloudWatch USE1-CW:MetricMonitorUsage in account 1 (us-east-1)"
        );
    }
}
