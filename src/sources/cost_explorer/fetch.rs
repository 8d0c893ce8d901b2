//! The daily facts of a range of days, from the queries Cost Explorer's two-dimension limit
//! calls for, the series keyed by linked account × service × usage type:
//!
//! 1. which services each usage type is billed under (service × usage type, monthly: one
//!    page);
//! 2. for each service sharing a usage type with another (data transfer, storage: e.g.
//!    CloudWatch Logs' and S3's `TimedStorage-ByteHrs`), its usage by account × usage type,
//!    filtered to that service;
//! 3. non-usage charges (credits, tax, refunds, fees) by account × record type;
//! 4. the rest of the usage by account × usage type (a usage type billed under one service
//!    belongs to it): the largest query, so last.
//!
//! Pages come oldest day first, so a fetch cut short (the request budget, throttling) keeps
//! the days every query returned completely, and the next run fetches the rest.

use super::query::{Answer, Budget, Query, Row, Stop};
use crate::model::{ChargeCategory, FactKey, FactValue, Facts};
use anyhow::Result;
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::types::{Dimension, DimensionValues, Expression, Granularity};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Record types that are usage (the rest are fees, credits, tax, refunds, commitments).
const USAGE_RECORD_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// What a fetch of a range gave: the facts of its complete days, which days those are, and
/// why the rest is missing if it is.
pub struct Fetched {
    pub facts: Facts,
    pub complete: Vec<NaiveDate>,
    pub stopped: Option<Stop>,
}

/// What rows of an answer are.
enum Part {
    /// Usage of one service (account × usage type).
    Service(String),
    /// Non-usage charges (account × record type).
    Charges,
    /// Usage of usage types billed under one service (account × usage type).
    Usage,
}

/// Fetches `[start, end]` within the budget.
pub async fn fetch(
    client: &Client,
    start: NaiveDate,
    end: NaiveDate,
    budget: &mut Budget,
) -> Result<Fetched> {
    let query = |granularity, group_by, filter| Query {
        start,
        end,
        granularity,
        group_by,
        filter,
    };
    let pairs = query(
        Granularity::Monthly,
        ["SERVICE", "USAGE_TYPE"],
        usage_filter(),
    )
    .run(client, budget)
    .await?;
    if let Some((_, why)) = pairs.cut {
        return Ok(Fetched {
            facts: Facts::new(),
            complete: Vec::new(),
            stopped: Some(why),
        });
    }
    let services = services_of_usage_types(&pairs.rows);
    let shared = sharing_services(&services);
    let mut plan: Vec<(Part, Expression)> = shared
        .iter()
        .map(|(service, usage_types)| {
            let filter = all(vec![
                usage_filter(),
                dimension(Dimension::Service, &[service.as_str()]),
                dimension(Dimension::UsageType, usage_types),
            ]);
            (Part::Service(service.clone()), filter)
        })
        .collect();
    plan.push((
        Part::Charges,
        Expression::builder().not(usage_filter()).build(),
    ));
    let shared_types: Vec<&str> = shared.values().flatten().map(String::as_str).collect();
    let rest = if shared_types.is_empty() {
        usage_filter()
    } else {
        let not_shared = Expression::builder()
            .not(dimension(Dimension::UsageType, &shared_types))
            .build();
        all(vec![usage_filter(), not_shared])
    };
    plan.push((Part::Usage, rest));

    let mut answers: Vec<(Part, Answer)> = Vec::new();
    let planned = plan.len();
    for (part, filter) in plan {
        let group_by = match part {
            Part::Charges => ["LINKED_ACCOUNT", "RECORD_TYPE"],
            Part::Service(_) | Part::Usage => ["LINKED_ACCOUNT", "USAGE_TYPE"],
        };
        let answer = query(Granularity::Daily, group_by, filter)
            .run(client, budget)
            .await?;
        let cut = answer.cut.is_some();
        answers.push((part, answer));
        if cut {
            break;
        }
    }
    let stopped = answers
        .iter()
        .find_map(|(_, a)| a.cut.as_ref().map(|(_, why)| why.clone()));
    // A day is complete when every planned query returned it completely.
    let complete: Vec<NaiveDate> = if answers.len() < planned {
        Vec::new()
    } else {
        (start.iter_days().take_while(|d| *d <= end))
            .filter(|d| answers.iter().all(|(_, a)| a.complete(*d)))
            .collect()
    };
    let days: BTreeSet<NaiveDate> = complete.iter().copied().collect();
    let mut facts = Facts::new();
    for (part, answer) in &answers {
        for row in answer.rows.iter().filter(|r| days.contains(&r.day)) {
            let (service, category) = match part {
                Part::Service(service) => (service.as_str(), ChargeCategory::Usage),
                Part::Usage => (only_service(&services, &row.keys[1]), ChargeCategory::Usage),
                Part::Charges => ("", record_category(&row.keys[1])),
            };
            add(&mut facts, row, service, category);
        }
    }
    Ok(Fetched {
        facts,
        complete,
        stopped,
    })
}

/// The services each usage type is billed under.
fn services_of_usage_types(rows: &[Row]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.keys[1].clone())
            .or_default()
            .insert(r.keys[0].clone());
    }
    out
}

/// Each service that shares a usage type with another, with those usage types.
fn sharing_services(
    services: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (usage_type, of) in services.iter().filter(|(_, of)| of.len() > 1) {
        for service in of {
            out.entry(service.clone())
                .or_default()
                .push(usage_type.clone());
        }
    }
    out
}

/// The one service a usage type is billed under (`Unknown` when the monthly answer did not
/// name it, which only a restatement between the two queries can cause).
fn only_service<'a>(services: &'a BTreeMap<String, BTreeSet<String>>, usage_type: &str) -> &'a str {
    services
        .get(usage_type)
        .and_then(|of| of.first())
        .map_or("Unknown", String::as_str)
}

fn add(facts: &mut Facts, r: &Row, service: &str, category: ChargeCategory) {
    let key = FactKey {
        billing_period: r.day.format("%Y-%m").to_string().into(),
        day: r.day,
        account: r.keys[0].as_str().into(),
        service_code: service.into(),
        usage_type: r.keys[1].as_str().into(),
        region: "".into(),
        category,
        tags: "".into(),
    };
    let value = FactValue {
        service_name: service.into(),
        unblended: r.unblended,
        amortized: r.amortized,
        usage_amount: r.usage,
        usage_unit: r.unit.as_str().into(),
    };
    facts.entry(key).or_default().add(&value);
}

/// `dimension` is one of `values`.
fn dimension<S: AsRef<str>>(dimension: Dimension, values: &[S]) -> Expression {
    let mut builder = DimensionValues::builder().key(dimension);
    for v in values {
        builder = builder.values(v.as_ref());
    }
    Expression::builder().dimensions(builder.build()).build()
}

/// The record type is a usage one.
fn usage_filter() -> Expression {
    dimension(Dimension::RecordType, &USAGE_RECORD_TYPES)
}

/// All of `parts` (Cost Explorer wants an `And` of at least two).
fn all(parts: Vec<Expression>) -> Expression {
    Expression::builder().set_and(Some(parts)).build()
}

/// Charge category of a Cost Explorer record type.
fn record_category(record_type: &str) -> ChargeCategory {
    let t = record_type.to_ascii_lowercase();
    match t.as_str() {
        "credit" => ChargeCategory::Credit,
        "tax" => ChargeCategory::Tax,
        "refund" => ChargeCategory::Refund,
        _ if t.contains("reservation") || t.starts_with("ri") => ChargeCategory::Reservation,
        _ if t.starts_with("savingsplan") || t.contains("savings plan") => {
            ChargeCategory::SavingsPlan
        }
        _ if t.contains("discount") => ChargeCategory::Discount,
        _ if t.contains("fee") => ChargeCategory::Fee,
        _ => ChargeCategory::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_map_to_categories() {
        assert_eq!(record_category("Credit"), ChargeCategory::Credit);
        assert_eq!(
            record_category("Recurring reservation fee"),
            ChargeCategory::Reservation
        );
        assert_eq!(
            record_category("SavingsPlanRecurringFee"),
            ChargeCategory::SavingsPlan
        );
        assert_eq!(record_category("Support fee"), ChargeCategory::Fee);
        assert_eq!(
            record_category("Enterprise Discount Program Discount"),
            ChargeCategory::Discount
        );
    }

    #[test]
    fn only_usage_types_of_several_services_are_shared() {
        let row = |service: &str, usage_type: &str| Row {
            day: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            keys: [service.into(), usage_type.into()],
            unblended: 1.0,
            amortized: 1.0,
            usage: 1.0,
            unit: String::new(),
        };
        let services = services_of_usage_types(&[
            row("AmazonS3", "USE1-TimedStorage-ByteHrs"),
            row("AmazonCloudWatch", "USE1-TimedStorage-ByteHrs"),
            row("AmazonEC2", "USE1-BoxUsage"),
        ]);
        let shared = sharing_services(&services);
        assert_eq!(shared.len(), 2);
        assert_eq!(shared["AmazonS3"], ["USE1-TimedStorage-ByteHrs"]);
        assert_eq!(only_service(&services, "USE1-BoxUsage"), "AmazonEC2");
    }
}
