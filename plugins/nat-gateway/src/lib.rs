//! NAT gateway data processing (`*-NatGateway-Bytes`, $0.045 per GB in most regions) jumping
//! per account and region: a robust z-score of the evaluated day against the weeks before,
//! with absolute and relative floors. A NAT spike is nearly always traffic that should not take
//! that path (S3 or DynamoDB without a gateway endpoint, image pulls, a chatty new service,
//! cross-AZ routing), so the finding says where to look.

use costwatch_rule::stats::{mad, median, trailing, trailing_before};
use costwatch_rule::*;

/// NAT gateway data processing per GB (us-east-1 and most regions).
const PRICE_PER_GB: f64 = 0.045;

pub struct NatGateway {
    window_days: usize,
    k: f64,
    min_abs_delta: f64,
    min_relative: f64,
    noise_floor: f64,
    warning_monthly: f64,
    critical_monthly: f64,
}

impl Rule for NatGateway {
    fn info() -> Info {
        Info::new(
            "nat-gateway",
            env!("CARGO_PKG_VERSION"),
            "NAT gateway data-processing spikes per account and region",
        )
        .history_days(35)
        .dimensions(&[Dimension::Account, Dimension::Service, Dimension::Region])
        .usage_types(&["*NatGateway-Bytes"])
    }

    fn from_config(c: &mut Config) -> Result<Self, RuleError> {
        Ok(Self {
            window_days: c.days(
                "window_days",
                28,
                "days before the evaluated day that form the baseline",
            )? as usize,
            k: c.number("k", 4.0, "minimum robust z-score of the day")?,
            min_abs_delta: c.number(
                "min_abs_delta",
                10.0,
                "minimum excess over the baseline, dollars per day",
            )?,
            min_relative: c.number(
                "min_relative",
                0.5,
                "minimum excess over the baseline, relative",
            )?,
            noise_floor: c.number(
                "noise_floor",
                0.05,
                "noise is never assumed below this share of the baseline",
            )?,
            warning_monthly: c.number(
                "warning_monthly",
                100.0,
                "monthly impact from which it is a warning",
            )?,
            critical_monthly: c.number(
                "critical_monthly",
                1000.0,
                "monthly impact from which it is critical",
            )?,
        })
    }

    fn evaluate(&self, _ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        Ok(batch.iter().filter_map(|s| self.check(s)).collect())
    }
}

impl NatGateway {
    fn check(&self, s: &Series) -> Option<Finding> {
        let history = trailing_before(&s.amounts, 1, self.window_days);
        // New spend (or a series that only just started) is not a spike.
        if history.iter().filter(|&&x| x > 0.0).count() < 14 {
            return None;
        }
        let today = s.last();
        let base = median(history);
        let noise = mad(history).max(base * self.noise_floor).max(0.01);
        let z = (today - base) / noise;
        let excess = today - base;
        if z < self.k || excess < self.min_abs_delta || excess < self.min_relative * base {
            return None;
        }
        // Days in a row (ending today) above the bar: a lasting change, not a one-off.
        let bar = base + self.k * noise;
        let run = trailing(&s.amounts, 7)
            .iter()
            .rev()
            .take_while(|&&x| x >= bar)
            .count();
        let monthly_impact = excess * DAYS_PER_MONTH;
        let severity = if monthly_impact >= self.critical_monthly {
            Severity::Critical
        } else if monthly_impact >= self.warning_monthly {
            Severity::Warning
        } else {
            Severity::Info
        };
        let where_ = format!(
            "account {} {}",
            s.key.account,
            if s.key.region.is_empty() {
                "(all regions)"
            } else {
                &s.key.region
            }
        );
        let message = format!(
            "NAT gateway data processing in {where_} cost {} (about {:.0} GB) against {}/day usually \
             ({:.1}×){}; about {} a month if it lasts.",
            money(today),
            today / PRICE_PER_GB,
            money(base),
            today / base.max(0.01),
            if run > 1 {
                format!(", {run} days in a row")
            } else {
                String::new()
            },
            money(monthly_impact),
        );
        let detail = format!(
            "About {:.0} GB more than usual went through NAT gateways in {where_}. Usual causes: S3 or \
             DynamoDB traffic without a gateway VPC endpoint (free), container image pulls from \
             public registries, a new service calling out to the internet, or traffic crossing \
             availability zones to reach a NAT gateway. Group the NAT gateway's VPC flow logs by \
             destination to find it.",
            excess / PRICE_PER_GB
        );
        Some(
            Finding::new(&s.key, severity, today, base, message)
                .score(z)
                .monthly_impact(monthly_impact)
                .detail(detail),
        )
    }
}

export_rule!(NatGateway);

#[cfg(test)]
mod tests {
    use super::*;

    fn series(amounts: Vec<f64>) -> Series {
        Series {
            key: SeriesKey {
                account: "111122223333".into(),
                service: "AmazonEC2".into(),
                service_name: String::new(),
                usage_type: String::new(),
                region: "us-east-1".into(),
            },
            amounts,
        }
    }

    #[test]
    fn spike_fires_noise_does_not() {
        let rule = NatGateway::from_config(&mut Config::new(Vec::new())).unwrap();
        let ctx = Context {
            day: "2026-03-18".into(),
            weekday: 2,
            config: Vec::new(),
        };
        let mut xs: Vec<f64> = (0..34).map(|i| 21.0 + (i % 5) as f64).collect();
        assert!(
            rule.evaluate(&ctx, &[series(xs.clone())])
                .unwrap()
                .is_empty()
        );
        xs.push(120.0);
        let found = rule.evaluate(&ctx, &[series(xs)]).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("GB"), "{}", found[0].message);
    }
}
