//! NAT gateway data processing (`*-NatGateway-Bytes`, $0.045 per GB in most regions) jumping
//! per account and region: a robust z-score of the evaluated day against the weeks before,
//! with absolute and relative floors. A NAT spike is nearly always traffic that should not take
//! that path (S3 or DynamoDB without a gateway endpoint, image pulls, a chatty new service,
//! cross-AZ routing), so the finding says where to look.

use costwatch_rule::stats::{mad, median, trailing, trailing_before};
use costwatch_rule::*;

/// NAT gateway data processing per GB (us-east-1 and most regions).
const PRICE_PER_GB: f64 = 0.045;

settings! {
    /// NAT gateway data-processing spikes.
    pub struct NatGateway {
        /// Days before the evaluated day that form the baseline.
        window_days: days = 28, min 14;
        /// Minimum robust z-score of the day.
        k: number = 4.0, min 0.0;
        /// Minimum excess over the baseline, dollars per day.
        min_abs_delta: number = 10.0, min 0.0;
        /// Minimum excess over the baseline, relative.
        min_relative: number = 0.5, min 0.0;
        /// Noise is never assumed below this share of the baseline.
        noise_floor: number = 0.05, min 0.0;
        /// Monthly impact from which it is a warning.
        warning_monthly: number = 100.0;
        /// Monthly impact from which it is critical.
        critical_monthly: number = 1000.0;
    }
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

    fn check(&self, _ctx: &Context, s: &Series) -> Option<Finding> {
        let history = trailing_before(s.known(), 1, self.window_days);
        // New spend (or a series that only just started) is not a spike.
        if history.iter().filter(|&&x| x > 0.0).count() < 14 {
            return None;
        }
        let (today, base) = (s.last(), median(history));
        let noise = mad(history).max(base * self.noise_floor).max(0.01);
        let (z, excess) = ((today - base) / noise, today - base);
        if z < self.k || excess < self.min_abs_delta || excess < self.min_relative * base {
            return None;
        }
        // Days in a row (ending today) above the bar: a lasting change, not a one-off.
        let bar = base + self.k * noise;
        let run = trailing(s.known(), 7)
            .iter()
            .rev()
            .take_while(|&&x| x >= bar)
            .count();
        let impact = monthly(excess);
        let place = s.key.place();
        let in_a_row = if run > 1 {
            format!(", {run} days in a row")
        } else {
            String::new()
        };
        let message = format!(
            "NAT gateway data processing in {place} cost {} (about {:.0} GB) against {}/day usually \
             ({:.1}×){in_a_row}; about {} a month if it lasts.",
            money(today),
            today / PRICE_PER_GB,
            money(base),
            today / base.max(0.01),
            money(impact),
        );
        let detail = format!(
            "About {:.0} GB more than usual went through NAT gateways in {place}. Usual causes: S3 or \
             DynamoDB traffic without a gateway VPC endpoint (free), container image pulls from \
             public registries, a new service calling out to the internet, or traffic crossing \
             availability zones to reach a NAT gateway. Group the NAT gateway's VPC flow logs by \
             destination to find it.",
            excess / PRICE_PER_GB
        );
        let severity = Severity::from_impact(impact, self.warning_monthly, self.critical_monthly);
        Some(
            Finding::new(&s.key, severity, today, base, message)
                .score(z)
                .detail(detail),
        )
    }
}

export_rule!(NatGateway);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_fires_noise_does_not() {
        let ctx = testing::context("2026-03-18");
        let mut xs: Vec<f64> = (0..34).map(|i| 21.0 + (i % 5) as f64).collect();
        let quiet = testing::run::<NatGateway>(&[], &ctx, &[testing::series(&xs)]).unwrap();
        assert!(quiet.is_empty());
        xs.push(120.0);
        let found = testing::run::<NatGateway>(&[], &ctx, &[testing::series(&xs)]).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("GB"), "{}", found[0].message);
    }
}
