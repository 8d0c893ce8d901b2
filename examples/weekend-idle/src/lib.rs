//! Example rule written from scratch against the costwatch-rule SDK (see docs/plugins.md).
//!
//! Many teams stop their development instances and databases on weekends. When a weekend
//! costs as much as a weekday in an account whose weekends are usually cheap, someone forgot:
//! this rule says so on Saturday and Sunday, per account and region.
//!
//! Build: `cargo build --target wasm32-wasip2 --release`

use costwatch_rule::stats::median;
use costwatch_rule::*;

pub struct WeekendIdle {
    weeks: usize,
    usual_weekend_share: f64,
    alert_share: f64,
    min_daily: f64,
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

    fn from_config(c: &mut Config) -> Result<Self, RuleError> {
        let rule = Self {
            weeks: c.days("weeks", 4, "past weeks compared")? as usize,
            usual_weekend_share: c.number(
                "usual_weekend_share",
                0.5,
                "weekends usually cost at most this share of a weekday (else the account runs all week)",
            )?,
            alert_share: c.number("alert_share", 0.8, "alert when this weekend day reaches this share of a weekday")?,
            min_daily: c.number("min_daily", 20.0, "ignore weekend days cheaper than this (dollars)")?,
        };
        if rule.weeks > 4 {
            return Err(RuleError::BadConfig(
                "weeks: at most 4 (the rule asks for 35 days)".into(),
            ));
        }
        Ok(rule)
    }

    fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        // Saturday = 5, Sunday = 6.
        if ctx.weekday < 5 {
            return Ok(Vec::new());
        }
        Ok(batch.iter().filter_map(|s| self.check(ctx, s)).collect())
    }
}

impl WeekendIdle {
    fn check(&self, ctx: &Context, s: &Series) -> Option<Finding> {
        let n = s.amounts.len();
        let today = s.last();
        let needed = self.weeks * 7 + 1;
        if n < needed || today < self.min_daily {
            return None;
        }
        // Index i is `n - 1 - i` days before today; weekday of index i counts back from today's.
        let weekday = |i: usize| (ctx.weekday as usize + 7 * 5 - (n - 1 - i) % 7) % 7;
        let past = &s.amounts[n - needed..n - 1];
        let offset = n - needed;
        let (mut weekdays, mut weekends) = (Vec::new(), Vec::new());
        for (j, &x) in past.iter().enumerate() {
            if weekday(offset + j) >= 5 {
                weekends.push(x);
            } else {
                weekdays.push(x);
            }
        }
        let (weekday_cost, weekend_cost) = (median(&weekdays), median(&weekends));
        if weekday_cost.is_nan()
            || weekday_cost <= 0.0
            || weekend_cost > self.usual_weekend_share * weekday_cost
        {
            return None;
        }
        if today < self.alert_share * weekday_cost {
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

    fn series(amounts: Vec<f64>) -> Series {
        Series {
            key: SeriesKey {
                account: "111122223333".into(),
                service: String::new(),
                service_name: String::new(),
                usage_type: String::new(),
                region: "us-east-1".into(),
            },
            amounts,
        }
    }

    /// 35 days ending on a Saturday: weekdays $100, weekends $10, then today.
    fn weeks(today: f64) -> Vec<f64> {
        let mut xs: Vec<f64> = (0..34)
            .map(|i| {
                let weekday = (5 + 7 * 5 - (34 - i) % 7) % 7;
                if weekday >= 5 { 10.0 } else { 100.0 }
            })
            .collect();
        xs.push(today);
        xs
    }

    #[test]
    fn forgotten_weekend_fires_usual_weekend_does_not() {
        let rule = WeekendIdle::from_config(&mut Config::new(Vec::new())).unwrap();
        let saturday = Context {
            day: "2026-03-14".into(),
            weekday: 5,
            config: Vec::new(),
        };
        assert!(
            rule.evaluate(&saturday, &[series(weeks(11.0))])
                .unwrap()
                .is_empty()
        );
        let found = rule.evaluate(&saturday, &[series(weeks(95.0))]).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("Saturday"),
            "{}",
            found[0].message
        );
    }
}
