//! What a plugin is pushed: the series it asked for (usage-type patterns, dimensions, history
//! days) as dense arrays, each with the first day it has data for.

use super::v0_2::{Dimension, Needs, Series, SeriesKey};
use crate::rules::Snapshot;
use std::collections::HashMap;

/// The series of a snapshot a plugin needs, broken down by its dimensions.
pub fn select(snapshot: &Snapshot, needs: &Needs) -> Vec<Series> {
    let all = needs.dimensions.is_empty();
    let keep = |d: Dimension| all || needs.dimensions.contains(&d);
    let (account, service, usage_type, region) = (
        keep(Dimension::Account),
        keep(Dimension::Service),
        keep(Dimension::UsageType),
        keep(Dimension::Region),
    );
    let days = needs.history_days.max(1) as usize;
    let mut index: HashMap<[String; 4], usize> = HashMap::new();
    let mut out: Vec<Series> = Vec::new();
    for s in &snapshot.series {
        if !needs.usage_types.is_empty()
            && !needs
                .usage_types
                .iter()
                .any(|p| glob(p, &s.scope.usage_type))
        {
            continue;
        }
        let cut = s.amounts.len().saturating_sub(days);
        let amounts = &s.amounts[cut..];
        let known_from = s.known_from.saturating_sub(cut) as u32;
        let key = SeriesKey {
            account: if account {
                s.scope.account.clone()
            } else {
                String::new()
            },
            service: if service {
                s.scope.service_code.clone()
            } else {
                String::new()
            },
            service_name: if service {
                s.scope.service_name.clone()
            } else {
                String::new()
            },
            usage_type: if usage_type {
                s.scope.usage_type.clone()
            } else {
                String::new()
            },
            region: if region {
                region_of(&s.scope.usage_type).into()
            } else {
                String::new()
            },
        };
        let id = [
            key.account.clone(),
            key.service.clone(),
            key.usage_type.clone(),
            key.region.clone(),
        ];
        match index.get(&id) {
            Some(&i) => {
                // Summed series are known from the first day any of them is.
                out[i].known_from = out[i].known_from.min(known_from);
                let target = &mut out[i].amounts;
                // Windows of one snapshot have the same length; align on the last day anyway.
                let offset = target.len().saturating_sub(amounts.len());
                for (t, a) in target[offset..].iter_mut().zip(amounts) {
                    *t += a;
                }
            }
            None => {
                index.insert(id, out.len());
                out.push(Series {
                    key,
                    amounts: amounts.to_vec(),
                    known_from,
                });
            }
        }
    }
    out
}

/// `*` matches any text (also none); everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Region of a usage type from its billing prefix (`USE1-…` is us-east-1); usage types
/// without a known prefix are us-east-1, as AWS bills them.
pub fn region_of(usage_type: &str) -> &'static str {
    let prefix = usage_type.split('-').next().unwrap_or("");
    match prefix {
        "USE1" => "us-east-1",
        "USE2" => "us-east-2",
        "USW1" => "us-west-1",
        "USW2" => "us-west-2",
        "UGW1" => "us-gov-west-1",
        "UGE1" => "us-gov-east-1",
        "CAN1" => "ca-central-1",
        "CAN2" => "ca-west-1",
        "SAE1" => "sa-east-1",
        "EU" => "eu-west-1",
        "EUW2" => "eu-west-2",
        "EUW3" => "eu-west-3",
        "EUC1" => "eu-central-1",
        "EUC2" => "eu-central-2",
        "EUN1" => "eu-north-1",
        "EUS1" => "eu-south-1",
        "EUS2" => "eu-south-2",
        "APN1" => "ap-northeast-1",
        "APN2" => "ap-northeast-2",
        "APN3" => "ap-northeast-3",
        "APS1" => "ap-southeast-1",
        "APS2" => "ap-southeast-2",
        "APS3" => "ap-south-1",
        "APS4" => "ap-southeast-3",
        "APS5" => "ap-south-2",
        "APS6" => "ap-southeast-4",
        "APE1" => "ap-east-1",
        "MES1" => "me-south-1",
        "MEC1" => "me-central-1",
        "AFS1" => "af-south-1",
        "ILC1" => "il-central-1",
        _ => "us-east-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(
            "*-CW:MetricMonitorUsage",
            "USE1-CW:MetricMonitorUsage"
        ));
        assert!(glob("*CW:MetricMonitorUsage", "CW:MetricMonitorUsage"));
        assert!(!glob("*-CW:MetricMonitorUsage", "USE1-CW:Requests"));
        assert!(glob("USE1-*-Bytes", "USE1-NatGateway-Bytes"));
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "acb"));
        assert!(glob("exact", "exact") && !glob("exact", "exact2"));
    }

    #[test]
    fn summed_series_are_known_from_their_first_known_day() {
        let scope = |account: &str| crate::model::Scope {
            account: account.into(),
            service_code: "AmazonEC2".into(),
            service_name: "Amazon EC2".into(),
            usage_type: "USE1-BoxUsage:m5.large".into(),
        };
        let (a, b) = (scope("1"), scope("2"));
        let (xa, xb) = (
            [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            [0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
        );
        let snapshot = Snapshot {
            day: "2026-03-18".parse().unwrap(),
            series: vec![
                crate::rules::SeriesView {
                    scope: &a,
                    amounts: &xa,
                    known_from: 3,
                },
                crate::rules::SeriesView {
                    scope: &b,
                    amounts: &xb,
                    known_from: 5,
                },
            ],
        };
        let needs = Needs {
            history_days: 4,
            dimensions: vec![Dimension::Service],
            usage_types: Vec::new(),
        };
        let out = select(&snapshot, &needs);
        assert_eq!(out.len(), 1, "both accounts summed");
        assert_eq!(out[0].amounts, [0.0, 1.0, 1.0, 3.0]);
        assert_eq!(
            out[0].known_from, 1,
            "the last 4 days, known from the second"
        );
    }

    #[test]
    fn regions() {
        assert_eq!(region_of("USE1-CW:MetricMonitorUsage"), "us-east-1");
        assert_eq!(region_of("EUC1-NatGateway-Bytes"), "eu-central-1");
        assert_eq!(region_of("EU-BoxUsage:t3.micro"), "eu-west-1");
        assert_eq!(region_of("BoxUsage:t3.micro"), "us-east-1");
    }
}
