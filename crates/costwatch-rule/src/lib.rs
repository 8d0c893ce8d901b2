//! SDK for costwatch rule plugins (interface `costwatch:rule@0.2.0`).
//!
//! A rule is a struct of settings declared with [`settings!`], implementing [`Rule`] (usually
//! just [`Rule::info`] and [`Rule::check`], which sees one series at a time), exported with
//! [`export_rule!`] and built with `cargo build --target wasm32-wasip2 --release` (a `cdylib`
//! on that target is already a WebAssembly component). The host pushes each evaluated day's
//! series as dense daily arrays; the rule returns [`Finding`]s.
//!
//! ```
//! use costwatch_rule::*;
//!
//! settings! {
//!     /// Days above a fixed limit.
//!     pub struct Big {
//!         /// Dollars per day that fire.
//!         limit: number = 100.0, min 0.0;
//!     }
//! }
//!
//! impl Rule for Big {
//!     fn info() -> Info {
//!         Info::new("big-days", env!("CARGO_PKG_VERSION"), "days above a fixed limit")
//!     }
//!     fn check(&self, ctx: &Context, s: &Series) -> Option<Finding> {
//!         (s.last() > self.limit).then(|| {
//!             Finding::new(&s.key, Severity::Warning, s.last(), self.limit,
//!                 format!("{} cost {} on {}", s.key.label(), money(s.last()), ctx.day))
//!         })
//!     }
//! }
//!
//! export_rule!(Big);
//!
//! let found = testing::run::<Big>(&[], &testing::context("2026-03-18"), &[testing::series(&[5.0, 150.0])]);
//! assert_eq!(found.unwrap().len(), 1);
//! ```
//!
//! The algorithms of costwatch's built-in rules are here too ([`detect`], [`stats`]), so a
//! plugin can reuse exactly what the host runs natively.

pub mod bindings {
    //! Generated from `wit/v0.2.0` (`costwatch:rule@0.2.0`); documented in the WIT file.
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        world: "rule-plugin",
        path: "../../wit/v0.2.0",
        pub_export_macro: true,
        default_bindings_module: "costwatch_rule::bindings",
    });
}

#[doc(hidden)]
pub mod __export;
mod log;
mod settings;
pub mod testing;

pub use bindings::costwatch::rule::types::{
    Action, Context, Crash, Dimension, Finding, Needs, RuleError, RuleInfo, Series, SeriesKey,
    Setting, SettingKind, Severity, Value,
};
pub use costwatch_detect as detect;
/// `$1,234.56` style, as costwatch prints money (the host's own formatting).
pub use costwatch_detect::money;
pub use costwatch_detect::{DAYS_PER_MONTH, DailySeries, Detection, Params, stats};
pub use log::{debug, error, info, warn};
pub use settings::{Config, SettingType, Settings};

/// The interface version this SDK builds plugins for.
pub const INTERFACE: &str = "costwatch:rule@0.2.0";

/// A detection rule: a struct of [`settings!`] the host builds from the rule's `config`
/// table on every call (each call runs in a fresh instance, so a rule keeps no state).
pub trait Rule: Settings {
    /// Id, version, description and what data the rule needs.
    fn info() -> Info;

    /// Checks how the settings combine (each one is already checked against its kind and
    /// bounds); runs before any data is read and on every call.
    fn validate(&self) -> Result<(), RuleError> {
        Ok(())
    }

    /// The finding for one series on `ctx.day`, if any. The default [`Rule::evaluate`] calls
    /// it for every series of the batch.
    fn check(&self, ctx: &Context, series: &Series) -> Option<Finding> {
        let _ = (ctx, series);
        None
    }

    /// Evaluates `ctx.day` (the last value of every series) for one batch of series.
    fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        Ok(batch.iter().filter_map(|s| self.check(ctx, s)).collect())
    }
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

    /// The days costwatch has data for, from the first one to the evaluated day: baselines
    /// read these, since the zeros before them are unknown days, not days without spend.
    pub fn known(&self) -> &[f64] {
        &self.amounts[(self.known_from as usize).min(self.amounts.len())..]
    }

    /// The known days as the built-in detectors take them (what the built-in rules pass).
    pub fn daily(&self, weekday: u8) -> DailySeries<'_> {
        DailySeries {
            amounts: self.known(),
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

    /// `account 111122223333 us-east-1`, or `(all regions)` for a series summing them.
    pub fn place(&self) -> String {
        let region = if self.region.is_empty() {
            "(all regions)"
        } else {
            &self.region
        };
        format!("account {} {region}", self.account)
    }
}

/// Dollars a month from dollars a day (costwatch counts [`DAYS_PER_MONTH`] days a month).
pub fn monthly(per_day: f64) -> f64 {
    per_day * DAYS_PER_MONTH
}

impl Severity {
    /// Info below `warning_at` dollars a month, critical from `critical_at`, else warning:
    /// how the built-in rules grade a finding.
    pub fn from_impact(monthly_impact: f64, warning_at: f64, critical_at: f64) -> Self {
        let params = costwatch_detect::SeverityParams {
            warning_monthly: warning_at,
            critical_monthly: critical_at,
        };
        severity(params.classify(monthly_impact))
    }
}

impl Finding {
    /// A finding for `key`; the monthly impact is [`monthly`]`(observed - expected)`, the
    /// score 0, no detail, action notify.
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
            monthly_impact: monthly(observed - expected),
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

/// Exports a [`Rule`] as the plugin's implementation of `costwatch:rule@0.2.0`.
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
                config: ::std::vec::Vec<(::std::string::String, $crate::Value)>,
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
    fn money_labels_and_severity() {
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
        assert_eq!(Severity::from_impact(99.0, 100.0, 1000.0), Severity::Info);
        assert_eq!(
            Severity::from_impact(100.0, 100.0, 1000.0),
            Severity::Warning
        );
        assert_eq!(
            Severity::from_impact(5e3, 100.0, 1000.0),
            Severity::Critical
        );
    }

    #[test]
    fn known_days_leave_out_the_unknown_start() {
        let mut s = testing::series(&[0.0, 0.0, 4.0, 5.0]);
        s.known_from = 2;
        assert_eq!(s.known(), &[4.0, 5.0]);
        assert_eq!(s.daily(0).amounts.len(), 2);
    }
}
