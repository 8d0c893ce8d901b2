//! A rule built for the frozen `costwatch:rule@0.1.0` (settings as TOML text, series without
//! the first day with data), as plugins were before 0.2: a day above `ratio` times the median
//! of the 28 days before it, and at least $10.

wit_bindgen::generate!({ world: "rule-plugin", path: "../../../wit/v0.1.0" });

use costwatch::rule::types::{
    Action, Context, Finding, Needs, RuleError, RuleInfo, Series, Setting, Severity,
};
use exports::costwatch::rule::rule::Guest;

struct Legacy;

fn ratio(config: &[(String, String)]) -> Result<f64, RuleError> {
    match config.iter().find(|(k, _)| k == "ratio") {
        None => Ok(3.0),
        Some((_, v)) => v
            .parse::<f64>()
            .map_err(|_| RuleError::BadConfig(format!("ratio = {v}: not a number"))),
    }
}

impl Guest for Legacy {
    fn info() -> RuleInfo {
        RuleInfo {
            id: "legacy".into(),
            version: "0.1.0".into(),
            description: "a day above a multiple of its median (interface 0.1)".into(),
            config_schema: vec![Setting {
                name: "ratio".into(),
                kind: "number".into(),
                default_value: "3.0".into(),
                description: "times the median".into(),
            }],
            needs: Needs {
                history_days: 29,
                dimensions: Vec::new(),
                usage_types: Vec::new(),
            },
        }
    }

    fn validate_config(config: Vec<(String, String)>) -> Result<(), RuleError> {
        ratio(&config).map(|_| ())
    }

    fn evaluate(ctx: Context, batch: Vec<Series>) -> Result<Vec<Finding>, RuleError> {
        let ratio = ratio(&ctx.config)?;
        let mut found = Vec::new();
        for s in batch {
            let Some((&today, before)) = s.amounts.split_last() else {
                continue;
            };
            let mut window = before.to_vec();
            window.sort_by(f64::total_cmp);
            let median = window.get(window.len() / 2).copied().unwrap_or(0.0);
            if today >= 10.0 && today > ratio * median {
                found.push(Finding {
                    message: format!("{} cost {today:.2} on {}", s.key.usage_type, ctx.day),
                    key: s.key,
                    severity: Severity::Warning,
                    observed: today,
                    expected: median,
                    score: 0.0,
                    monthly_impact: (today - median) * 30.4,
                    detail: None,
                    action: Action::Notify,
                });
            }
        }
        Ok(found)
    }
}

export!(Legacy);
