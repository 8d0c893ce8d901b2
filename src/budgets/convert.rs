//! Budgets between costwatch's form and the SDK's: what is sent, and what an account's
//! budget reads as (or why costwatch does not manage it).
//!
//! Filters and cost types go as `CostFilters` and `CostTypes`: the API model marks them
//! deprecated (since 2025-04) for `FilterExpression` and `Metrics`, but AWS still serves them
//! and they are what most existing budgets (and the console's classic form) hold.
#![allow(deprecated)]

use super::amount::Amount;
use super::spec::{
    AutoAdjust, Budget, CostBasis, FilterKey, Includes, Limit, Notification, NotificationKind,
    Subscriber, Threshold,
};
use crate::model::BudgetPeriod;
use anyhow::Result;
use aws_sdk_budgets::types as aws;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The SDK budget to send (its notifications go apart).
pub fn to_aws(b: &Budget) -> Result<aws::Budget> {
    let filters: HashMap<String, Vec<String>> = (b.filters.iter())
        .map(|(key, values)| (key.aws_name().to_string(), values.iter().cloned().collect()))
        .collect();
    let i = &b.include;
    let cost_types = aws::CostTypes::builder()
        .include_tax(i.tax)
        .include_subscription(i.subscription)
        .use_blended(b.cost == CostBasis::Blended)
        .include_refund(i.refund)
        .include_credit(i.credit)
        .include_upfront(i.upfront)
        .include_recurring(i.recurring)
        .include_other_subscription(i.other_subscription)
        .include_support(i.support)
        .include_discount(i.discount)
        .use_amortized(b.cost == CostBasis::Amortized)
        .build();
    let time_unit = match b.period {
        BudgetPeriod::Monthly => aws::TimeUnit::Monthly,
        BudgetPeriod::Quarterly => aws::TimeUnit::Quarterly,
        BudgetPeriod::Annually => aws::TimeUnit::Annually,
    };
    let mut budget = aws::Budget::builder()
        .budget_name(&b.name)
        .budget_type(aws::BudgetType::Cost)
        .time_unit(time_unit)
        .cost_types(cost_types)
        .set_cost_filters(Some(filters));
    budget = match &b.limit {
        Limit::Fixed { amount, currency } => budget.budget_limit(
            aws::Spend::builder()
                .amount(amount.to_string())
                .unit(currency)
                .build()?,
        ),
        Limit::AutoAdjust(AutoAdjust::Forecast) => budget.auto_adjust_data(
            aws::AutoAdjustData::builder()
                .auto_adjust_type(aws::AutoAdjustType::Forecast)
                .build()?,
        ),
        Limit::AutoAdjust(AutoAdjust::History { periods }) => budget.auto_adjust_data(
            aws::AutoAdjustData::builder()
                .auto_adjust_type(aws::AutoAdjustType::Historical)
                .historical_options(
                    aws::HistoricalOptions::builder()
                        .budget_adjustment_period(*periods as i32)
                        .build()?,
                )
                .build()?,
        ),
    };
    Ok(budget.build()?)
}

/// The SDK notification (GREATER_THAN its threshold).
pub fn notification_to_aws(n: &Notification) -> Result<aws::Notification> {
    let (threshold, kind) = match n.threshold {
        Threshold::Percent(p) => (p, aws::ThresholdType::Percentage),
        Threshold::Amount(a) => (a, aws::ThresholdType::AbsoluteValue),
    };
    Ok(aws::Notification::builder()
        .notification_type(match n.kind {
            NotificationKind::Actual => aws::NotificationType::Actual,
            NotificationKind::Forecasted => aws::NotificationType::Forecasted,
        })
        .comparison_operator(aws::ComparisonOperator::GreaterThan)
        .threshold(threshold)
        .threshold_type(kind)
        .build()?)
}

/// The SDK subscriber.
pub fn subscriber_to_aws(s: &Subscriber) -> Result<aws::Subscriber> {
    let kind = match s {
        Subscriber::Email(_) => aws::SubscriptionType::Email,
        Subscriber::Sns(_) => aws::SubscriptionType::Sns,
    };
    Ok(aws::Subscriber::builder()
        .subscription_type(kind)
        .address(s.address())
        .build()?)
}

/// An account's budget with its notifications and their subscribers, as costwatch reads
/// it; `Err` says what costwatch does not manage about it.
pub fn from_aws(
    b: &aws::Budget,
    notifications: &[(aws::Notification, Vec<aws::Subscriber>)],
) -> Result<Budget, String> {
    if b.budget_type() != &aws::BudgetType::Cost {
        return Err(format!(
            "a {} budget (costwatch manages COST budgets)",
            b.budget_type().as_str()
        ));
    }
    let period = match b.time_unit() {
        aws::TimeUnit::Monthly => BudgetPeriod::Monthly,
        aws::TimeUnit::Quarterly => BudgetPeriod::Quarterly,
        aws::TimeUnit::Annually => BudgetPeriod::Annually,
        other => {
            return Err(format!(
                "a {} budget (costwatch manages monthly, quarterly and annual ones)",
                other.as_str()
            ));
        }
    };
    if b.cost_filters().is_none() && (b.filter_expression().is_some() || !b.metrics().is_empty()) {
        return Err("filtered by a FilterExpression, which costwatch does not read".into());
    }
    let limit = match (b.auto_adjust_data(), b.budget_limit()) {
        (Some(data), _) => Limit::AutoAdjust(match data.auto_adjust_type() {
            aws::AutoAdjustType::Forecast => AutoAdjust::Forecast,
            _ => AutoAdjust::History {
                periods: data
                    .historical_options()
                    .map_or(1, |h| h.budget_adjustment_period().max(1) as u32),
            },
        }),
        (None, Some(spend)) => Limit::Fixed {
            amount: Amount::parse(spend.amount())?,
            currency: spend.unit().to_string(),
        },
        (None, None) => return Err("it has no amount".into()),
    };
    let t = b.cost_types();
    let flag = |f: fn(&aws::CostTypes) -> Option<bool>| t.and_then(f).unwrap_or(true);
    let set = |f: fn(&aws::CostTypes) -> Option<bool>| t.and_then(f).unwrap_or(false);
    let cost = if set(aws::CostTypes::use_amortized) {
        CostBasis::Amortized
    } else if set(aws::CostTypes::use_blended) {
        CostBasis::Blended
    } else {
        CostBasis::Unblended
    };
    let include = Includes {
        tax: flag(aws::CostTypes::include_tax),
        subscription: flag(aws::CostTypes::include_subscription),
        refund: flag(aws::CostTypes::include_refund),
        credit: flag(aws::CostTypes::include_credit),
        upfront: flag(aws::CostTypes::include_upfront),
        recurring: flag(aws::CostTypes::include_recurring),
        other_subscription: flag(aws::CostTypes::include_other_subscription),
        support: flag(aws::CostTypes::include_support),
        discount: flag(aws::CostTypes::include_discount),
    };
    let mut filters = BTreeMap::new();
    for (key, values) in b.cost_filters().into_iter().flatten() {
        let key = FilterKey::from_aws(key)
            .ok_or_else(|| format!("filtered by {key}, a filter costwatch does not write"))?;
        if !values.is_empty() {
            filters.insert(key, values.iter().cloned().collect::<BTreeSet<_>>());
        }
    }
    let notifications = notifications
        .iter()
        .map(|(n, subscribers)| notification_from_aws(n, subscribers))
        .collect::<Result<_, _>>()?;
    Ok(Budget {
        name: b.budget_name().to_string(),
        limit,
        period,
        cost,
        include,
        filters,
        notifications,
    })
}

/// An account's notification as costwatch reads it (GREATER_THAN ones only).
fn notification_from_aws(
    n: &aws::Notification,
    subscribers: &[aws::Subscriber],
) -> Result<Notification, String> {
    let kind = match n.notification_type() {
        aws::NotificationType::Actual => NotificationKind::Actual,
        aws::NotificationType::Forecasted => NotificationKind::Forecasted,
        other => return Err(format!("a notification of type {}", other.as_str())),
    };
    if n.comparison_operator() != &aws::ComparisonOperator::GreaterThan {
        return Err(format!(
            "a notification {} {} (costwatch writes GREATER_THAN ones)",
            n.comparison_operator().as_str(),
            n.threshold()
        ));
    }
    let threshold = match n.threshold_type() {
        Some(aws::ThresholdType::AbsoluteValue) => Threshold::Amount(n.threshold()),
        _ => Threshold::Percent(n.threshold()),
    };
    let subscribers = subscribers
        .iter()
        .map(|s| match s.subscription_type() {
            aws::SubscriptionType::Sns => Ok(Subscriber::Sns(s.address().to_string())),
            aws::SubscriptionType::Email => Ok(Subscriber::Email(s.address().to_string())),
            other => Err(format!("a subscriber of type {}", other.as_str())),
        })
        .collect::<Result<_, _>>()?;
    Ok(Notification {
        kind,
        threshold,
        subscribers,
    })
}
