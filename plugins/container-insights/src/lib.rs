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

pub struct ContainerInsights {
    short_days: usize,
    long_days: usize,
    level_days: usize,
    min_daily: f64,
    min_growth: f64,
    trend_ratio: f64,
    min_rise: f64,
    min_monthly_impact: f64,
    warning_monthly: f64,
    critical_monthly: f64,
    budget_headroom: f64,
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

    fn from_config(c: &mut Config) -> Result<Self, RuleError> {
        let rule = Self {
            short_days: c.days("short_days", 14, "recent window whose growth is measured")? as usize,
            long_days: c.days("long_days", 56, "window before it that gives the normal trend")? as usize,
            level_days: c.days("level_days", 7, "days whose median is the current level")? as usize,
            min_daily: c.number("min_daily", 2.0, "no finding below this cost per day (dollars)")?,
            min_growth: c.number(
                "min_growth",
                0.01,
                "minimum recent growth per day relative to the long-window level (0.01 = 1%/day)",
            )?,
            trend_ratio: c.number(
                "trend_ratio",
                2.0,
                "the recent slope must be this many times the long-window slope",
            )?,
            min_rise: c.number(
                "min_rise",
                0.15,
                "minimum rise of the level over the long-window trend, relative",
            )?,
            min_monthly_impact: c.number(
                "min_monthly_impact",
                20.0,
                "no finding below this estimated extra cost per month (dollars)",
            )?,
            warning_monthly: c.number("warning_monthly", 100.0, "monthly impact from which it is a warning")?,
            critical_monthly: c.number("critical_monthly", 1000.0, "monthly impact from which it is critical")?,
            budget_headroom: c.number(
                "budget_headroom",
                0.2,
                "warnings and above propose a budget alert at the current monthly run rate plus this share",
            )?,
        };
        if rule.short_days < 4 || rule.level_days > rule.short_days {
            return Err(RuleError::BadConfig(
                "short_days must be at least 4 and at least level_days".into(),
            ));
        }
        if rule.long_days < 14 {
            return Err(RuleError::BadConfig("long_days must be at least 14".into()));
        }
        Ok(rule)
    }

    fn evaluate(&self, _ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        Ok(batch
            .iter()
            .filter(|s| s.key.service.is_empty() || s.key.service == "AmazonCloudWatch")
            .filter_map(|s| self.check(s))
            .collect())
    }
}

impl ContainerInsights {
    fn check(&self, s: &Series) -> Option<Finding> {
        let xs = &s.amounts;
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
        let monthly_impact = (in_a_month - projected) * DAYS_PER_MONTH;
        if monthly_impact < self.min_monthly_impact {
            return None;
        }
        let severity = if monthly_impact >= self.critical_monthly {
            Severity::Critical
        } else if monthly_impact >= self.warning_monthly {
            Severity::Warning
        } else {
            Severity::Info
        };
        let metrics = s.key.usage_type.contains("MetricMonitorUsage");
        let what = if metrics {
            "CloudWatch custom metrics"
        } else {
            "CloudWatch Logs ingestion"
        };
        let place = format!(
            "account {} {}",
            s.key.account,
            if s.key.region.is_empty() {
                "(all regions)"
            } else {
                &s.key.region
            }
        );
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
                level * DAYS_PER_MONTH / PRICE_PER_METRIC_MONTH,
                base * DAYS_PER_MONTH / PRICE_PER_METRIC_MONTH,
                short_slope * 7.0 * DAYS_PER_MONTH / PRICE_PER_METRIC_MONTH,
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
            Action::BudgetAlert((level * DAYS_PER_MONTH * (1.0 + self.budget_headroom)).round())
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

    fn series(amounts: Vec<f64>) -> Series {
        Series {
            key: SeriesKey {
                account: "111122223333".into(),
                service: "AmazonCloudWatch".into(),
                service_name: "AmazonCloudWatch".into(),
                usage_type: "USE1-CW:MetricMonitorUsage".into(),
                region: "us-east-1".into(),
            },
            amounts,
        }
    }

    fn ctx() -> Context {
        Context {
            day: "2026-03-18".into(),
            weekday: 2,
            config: Vec::new(),
        }
    }

    fn rule() -> ContainerInsights {
        ContainerInsights::from_config(&mut Config::new(Vec::new())).unwrap()
    }

    #[test]
    fn flat_is_quiet_and_creep_fires() {
        let flat: Vec<f64> = (0..90).map(|i| 18.0 + (i % 7) as f64 * 0.3).collect();
        assert!(rule().evaluate(&ctx(), &[series(flat)]).unwrap().is_empty());
        let creep: Vec<f64> = (0..90)
            .map(|i| {
                if i < 70 {
                    18.0
                } else {
                    18.0 * 1.03f64.powi(i - 69)
                }
            })
            .collect();
        let found = rule().evaluate(&ctx(), &[series(creep)]).unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("custom metrics"),
            "{}",
            found[0].message
        );
        assert!(found[0].detail.as_deref().unwrap().contains("metric-month"));
    }
}
