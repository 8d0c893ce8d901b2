//! CloudWatch custom metrics (`*-CW:MetricMonitorUsage`, $0.30 per metric-month: how Container
//! Insights and other metric sources are billed) and CloudWatch Logs ingestion
//! (`*-DataProcessing-Bytes`, where Container Insights' performance logs land) creeping up per
//! account and region.
//!
//! AWS's own anomaly detector learns a slow creep as the new normal. This rule compares the
//! growth over a short recent window with the trend of a long window before it: it fires when
//! the recent growth is steep, clearly faster than the long-window trend, the level has
//! risen well above what that trend projects, and the spend is above an absolute floor.

use costwatch_rule::stats::{median, theil_sen_slope, trailing, trailing_before};
use costwatch_rule::*;

/// CloudWatch metrics, first 10,000 a month, per metric-month.
const PRICE_PER_METRIC_MONTH: f64 = 0.30;
/// CloudWatch Logs standard ingestion per GB (us-east-1).
const PRICE_PER_LOG_GB: f64 = 0.50;

settings! {
    /// CloudWatch metrics and log ingestion creeping up.
    pub struct ContainerInsights {
        /// Recent window whose growth is measured.
        short_days: days = 14, min 4;
        /// Window before it that gives the normal trend.
        long_days: days = 56, min 14;
        /// Days whose median is the current level (at most short_days).
        level_days: days = 7;
        /// No finding below this cost per day (dollars).
        min_daily: number = 2.0, min 0.0;
        /// Minimum recent growth per day relative to the long-window level (0.01 = 1%/day).
        min_growth: number = 0.01, min 0.0;
        /// The recent slope must be this many times the long-window slope.
        trend_ratio: number = 2.0, min 0.0;
        /// Minimum rise of the level over the long-window trend, relative.
        min_rise: number = 0.15, min 0.0;
        /// No finding below this estimated extra cost per month (dollars).
        min_monthly_impact: number = 20.0, min 0.0;
        /// Monthly impact from which it is a warning.
        warning_monthly: number = 100.0;
        /// Monthly impact from which it is critical.
        critical_monthly: number = 1000.0;
        /// Warnings and above propose a budget alert at the current monthly run rate plus this share.
        budget_headroom: number = 0.2, min 0.0;
    }
}

impl Rule for ContainerInsights {
    fn info() -> Info {
        Info::new(
            "container-insights",
            env!("CARGO_PKG_VERSION"),
            "CloudWatch custom metrics and Container Insights log ingestion creeping up per account and region",
        )
        .history_days(90)
        .dimensions(&[
            Dimension::Account,
            Dimension::Service,
            Dimension::UsageType,
            Dimension::Region,
        ])
        .usage_types(&["*CW:MetricMonitorUsage", "*DataProcessing-Bytes"])
    }

    fn validate(&self) -> Result<(), RuleError> {
        if self.level_days > self.short_days {
            return Err(RuleError::BadConfig(
                "level_days must be at most short_days".into(),
            ));
        }
        Ok(())
    }

    fn check(&self, _ctx: &Context, s: &Series) -> Option<Finding> {
        let cloudwatch = s.key.service.is_empty() || s.key.service == "AmazonCloudWatch";
        cloudwatch.then(|| self.creep(s)).flatten()
    }
}

impl ContainerInsights {
    fn creep(&self, s: &Series) -> Option<Finding> {
        let xs = s.known();
        if xs.len() < self.short_days + 14 {
            return None;
        }
        let level = median(trailing(xs, self.level_days));
        if level.is_nan() || level < self.min_daily {
            return None;
        }
        let short = trailing(xs, self.short_days);
        let long = trailing_before(xs, self.short_days, self.long_days);
        // A series that only just started has no trend to compare with.
        if long.iter().filter(|&&x| x > 0.0).count() * 4 < long.len() * 3 {
            return None;
        }
        let base = median(long);
        let short_slope = theil_sen_slope(short);
        let long_slope = theil_sen_slope(long).max(0.0);
        if !(base > 0.0 && short_slope > 0.0) {
            return None;
        }
        let growth = short_slope / base;
        // What the long-window trend projects for today: its median sits mid-window.
        let projected = base + long_slope * (self.short_days as f64 + long.len() as f64 / 2.0);
        let rise = level / projected - 1.0;
        let steep = growth >= self.min_growth && short_slope >= self.trend_ratio * long_slope;
        if !steep || rise < self.min_rise {
            return None;
        }
        // Extra cost per month a month from now if the recent pace goes on, over the trend.
        let in_a_month = level + short_slope * DAYS_PER_MONTH;
        let monthly_impact = monthly(in_a_month - projected);
        if monthly_impact < self.min_monthly_impact {
            return None;
        }
        let severity =
            Severity::from_impact(monthly_impact, self.warning_monthly, self.critical_monthly);
        let metrics = s.key.usage_type.contains("MetricMonitorUsage");
        let what = if metrics {
            "CloudWatch custom metrics"
        } else {
            "CloudWatch Logs ingestion"
        };
        let place = s.key.place();
        let message = format!(
            "Creeping {what} in {place}: {}/day now against {}/day before, growing {:.1}%/day over \
             the last {} days ({:.1}× the earlier trend); about {} a month more in a month at this pace.",
            money(level),
            money(base),
            growth * 100.0,
            self.short_days,
            if long_slope > 0.0 {
                short_slope / long_slope
            } else {
                f64::INFINITY
            }
            .min(99.9),
            money(monthly_impact),
        );
        let detail = if metrics {
            format!(
                "{} is billed at {} per metric-month: about {:.0} metrics now against {:.0} before \
                 (+{:.0} a week). Container Insights (especially enhanced observability), embedded \
                 metric format logs and per-pod or per-request dimensions are the usual causes: \
                 list metrics by namespace in {place} and look for new high-cardinality dimensions.",
                s.key.usage_type,
                money(PRICE_PER_METRIC_MONTH),
                monthly(level) / PRICE_PER_METRIC_MONTH,
                monthly(base) / PRICE_PER_METRIC_MONTH,
                monthly(short_slope * 7.0) / PRICE_PER_METRIC_MONTH,
            )
        } else {
            format!(
                "{} is log ingestion at about {}/GB: roughly {:.1} GB/day now against {:.1} GB/day \
                 before. Container Insights performance logs (/aws/containerinsights/*/performance) \
                 and verbose application logs are the usual causes: compare log group ingestion in {place}.",
                s.key.usage_type,
                money(PRICE_PER_LOG_GB),
                level / PRICE_PER_LOG_GB,
                base / PRICE_PER_LOG_GB,
            )
        };
        let action = if severity >= Severity::Warning {
            Action::BudgetAlert((monthly(level) * (1.0 + self.budget_headroom)).round())
        } else {
            Action::Notify
        };
        let noise = costwatch_rule::stats::mad(long).max(base * 0.02);
        Some(
            Finding::new(&s.key, severity, level, projected, message)
                .score((level - projected) / noise)
                .monthly_impact(monthly_impact)
                .detail(detail)
                .action(action),
        )
    }
}

export_rule!(ContainerInsights);

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(amounts: &[f64]) -> Series {
        let mut s = testing::series(amounts);
        s.key = SeriesKey {
            service: "AmazonCloudWatch".into(),
            service_name: "AmazonCloudWatch".into(),
            ..testing::key("USE1-CW:MetricMonitorUsage")
        };
        s
    }

    #[test]
    fn flat_is_quiet_and_creep_fires() {
        let ctx = testing::context("2026-03-18");
        let flat: Vec<f64> = (0..90).map(|i| 18.0 + (i % 7) as f64 * 0.3).collect();
        let quiet = testing::run::<ContainerInsights>(&[], &ctx, &[metrics(&flat)]).unwrap();
        assert!(quiet.is_empty());
        let creep: Vec<f64> = (0..90)
            .map(|i| {
                if i < 70 {
                    18.0
                } else {
                    18.0 * 1.03f64.powi(i - 69)
                }
            })
            .collect();
        let found = testing::run::<ContainerInsights>(&[], &ctx, &[metrics(&creep)]).unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("custom metrics"),
            "{}",
            found[0].message
        );
        assert!(found[0].detail.as_deref().unwrap().contains("metric-month"));
    }

    #[test]
    fn settings_are_checked_alone_and_together() {
        let bad = testing::rule::<ContainerInsights>(&[("short_days", Value::Days(2))]);
        assert!(
            matches!(bad, Err(RuleError::BadConfig(m)) if m == "short_days = 2: must be at least 4")
        );
        let bad = testing::rule::<ContainerInsights>(&[("level_days", Value::Days(20))]);
        assert!(matches!(bad, Err(RuleError::BadConfig(m)) if m.contains("at most short_days")));
    }
}
