//! Example rule written from scratch against the costwatch-rule SDK (see docs/plugins.md).
//!
//! Many teams stop their development instances and databases on weekends. When a weekend
//! costs as much as a weekday in an account whose weekends are usually cheap, someone forgot:
//! this rule says so on Saturday and Sunday, per account and region.
//!
//! Build: `cargo build --target wasm32-wasip2 --release`

use costwatch_rule::stats::median;
use costwatch_rule::*;

settings! {
    /// Compute left running over a weekend.
    pub struct WeekendIdle {
        /// Past weeks compared (the rule asks for 35 days).
        weeks: days = 4, max 4;
        /// Weekends usually cost at most this share of a weekday (else the account runs all week).
        usual_weekend_share: number = 0.5, min 0.0;
        /// Alert when this weekend day reaches this share of a weekday.
        alert_share: number = 0.8, min 0.0;
        /// Ignore weekend days cheaper than this (dollars).
        min_daily: number = 20.0, min 0.0;
    }
}

impl Rule for WeekendIdle {
    fn info() -> Info {
        Info::new(
            "weekend-idle",
            env!("CARGO_PKG_VERSION"),
            "compute left running over a weekend in accounts that usually stop it",
        )
        .history_days(35)
        // Sum instance and database hours per account and region.
        .dimensions(&[Dimension::Account, Dimension::Region])
        .usage_types(&["*BoxUsage*", "*InstanceUsage*", "*SpotUsage*"])
    }

    fn check(&self, ctx: &Context, s: &Series) -> Option<Finding> {
        // Saturday = 5, Sunday = 6.
        if ctx.weekday < 5 {
            return None;
        }
        // Known days only: before the account's first billing day a weekend is not cheap.
        let known = s.known();
        let (n, today) = (known.len(), s.last());
        let needed = self.weeks * 7 + 1;
        if n < needed || today < self.min_daily {
            return None;
        }
        // Index i is `n - 1 - i` days before today; weekday of index i counts back from today's.
        let weekday = |i: usize| (ctx.weekday as usize + 7 * 5 - (n - 1 - i) % 7) % 7;
        let (mut weekdays, mut weekends) = (Vec::new(), Vec::new());
        for (i, &x) in known.iter().enumerate().take(n - 1).skip(n - needed) {
            if weekday(i) >= 5 {
                weekends.push(x);
            } else {
                weekdays.push(x);
            }
        }
        let (weekday_cost, weekend_cost) = (median(&weekdays), median(&weekends));
        if weekday_cost.is_nan()
            || weekday_cost <= 0.0
            || weekend_cost > self.usual_weekend_share * weekday_cost
            || today < self.alert_share * weekday_cost
        {
            return None;
        }
        let day_name = if ctx.weekday == 5 {
            "Saturday"
        } else {
            "Sunday"
        };
        let message = format!(
            "Compute in {} ran through the weekend: {day_name} {} cost {}, like a weekday ({}); \
             weekends usually cost {}.",
            s.key.label(),
            ctx.day,
            money(today),
            money(weekday_cost),
            money(weekend_cost)
        );
        Some(
            Finding::new(&s.key, Severity::Info, today, weekend_cost, message)
                // About 8.7 weekend days a month.
                .monthly_impact((today - weekend_cost) * 8.7)
                .score(today / weekend_cost.max(0.01))
                .detail("Check the instances and databases that the weekend shutdown schedule normally stops."),
        )
    }
}

export_rule!(WeekendIdle);

#[cfg(test)]
mod tests {
    use super::*;

    /// 35 days ending on a Saturday: weekdays $100, weekends $10, then today.
    fn weeks(today: f64) -> Series {
        let mut xs: Vec<f64> = (0..34)
            .map(|i| {
                let weekday = (5 + 7 * 5 - (34 - i) % 7) % 7;
                if weekday >= 5 { 10.0 } else { 100.0 }
            })
            .collect();
        xs.push(today);
        testing::series(&xs)
    }

    #[test]
    fn forgotten_weekend_fires_usual_weekend_does_not() {
        let saturday = testing::context("2026-03-14");
        assert_eq!(saturday.weekday, 5);
        let quiet = testing::run::<WeekendIdle>(&[], &saturday, &[weeks(11.0)]).unwrap();
        assert!(quiet.is_empty());
        let found = testing::run::<WeekendIdle>(&[], &saturday, &[weeks(95.0)]).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("Saturday"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn days_before_the_first_billing_day_are_unknown_not_cheap() {
        let mut s = weeks(95.0);
        s.amounts[..20].fill(0.0);
        s.known_from = 20;
        let found = testing::run::<WeekendIdle>(&[], &testing::context("2026-03-14"), &[s]);
        assert!(
            found.unwrap().is_empty(),
            "two weeks known: too few to compare"
        );
    }
}
