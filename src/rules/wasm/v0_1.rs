//! `costwatch:rule@0.1.0` (`wit/v0.1.0`, frozen): its plugins keep running, their types
//! converted to and from the host's own (0.2).

use super::v0_2 as latest;

wasmtime::component::bindgen!({
    world: "rule-plugin",
    path: "wit/v0.1.0",
});

use self::costwatch::rule::host::Level;
use self::costwatch::rule::types::{
    Action, Context, Dimension, Finding, RuleError, RuleInfo, Series, SeriesKey, Setting, Severity,
};

/// A 0.1 rule's info: setting kinds from their names, defaults from their TOML text.
pub fn info(info: RuleInfo) -> latest::RuleInfo {
    latest::RuleInfo {
        id: info.id,
        version: info.version,
        description: info.description,
        config_schema: info.config_schema.into_iter().map(setting).collect(),
        needs: latest::Needs {
            history_days: info.needs.history_days,
            dimensions: info.needs.dimensions.into_iter().map(dimension).collect(),
            usage_types: info.needs.usage_types,
        },
    }
}

fn setting(s: Setting) -> latest::Setting {
    let kind = match s.kind.as_str() {
        "number" => latest::SettingKind::Number,
        "days" => latest::SettingKind::Days,
        "bool" => latest::SettingKind::Flag,
        "strings" => latest::SettingKind::Texts,
        _ => latest::SettingKind::Text,
    };
    let default_value = super::settings::parse(kind, &s.default_value)
        .unwrap_or_else(|_| latest::Value::Text(s.default_value.clone()));
    latest::Setting {
        name: s.name,
        kind,
        default_value,
        description: s.description,
        min: None,
        max: None,
    }
}

fn dimension(d: Dimension) -> latest::Dimension {
    match d {
        Dimension::Account => latest::Dimension::Account,
        Dimension::Service => latest::Dimension::Service,
        Dimension::UsageType => latest::Dimension::UsageType,
        Dimension::Region => latest::Dimension::Region,
    }
}

/// The context as 0.1 takes it: without the history start, settings as TOML text.
pub fn context(day: &super::guest::Day, config: &[(String, String)]) -> Context {
    Context {
        day: day.day.clone(),
        weekday: day.weekday,
        config: config.to_vec(),
    }
}

/// A batch as 0.1 takes it: without the first day with data (its rules see zeros).
pub fn series(batch: &[latest::Series]) -> Vec<Series> {
    batch
        .iter()
        .map(|s| Series {
            key: SeriesKey {
                account: s.key.account.clone(),
                service: s.key.service.clone(),
                service_name: s.key.service_name.clone(),
                usage_type: s.key.usage_type.clone(),
                region: s.key.region.clone(),
            },
            amounts: s.amounts.clone(),
        })
        .collect()
}

/// A 0.1 finding in the host's types.
pub fn finding(f: Finding) -> latest::Finding {
    let k = f.key;
    latest::Finding {
        key: latest::SeriesKey {
            account: k.account,
            service: k.service,
            service_name: k.service_name,
            usage_type: k.usage_type,
            region: k.region,
        },
        severity: match f.severity {
            Severity::Info => latest::Severity::Info,
            Severity::Warning => latest::Severity::Warning,
            Severity::Critical => latest::Severity::Critical,
        },
        observed: f.observed,
        expected: f.expected,
        score: f.score,
        monthly_impact: f.monthly_impact,
        message: f.message,
        detail: f.detail,
        action: match f.action {
            Action::Notify => latest::Action::Notify,
            Action::BudgetAlert(limit) => latest::Action::BudgetAlert(limit),
        },
    }
}

/// A 0.1 error in the host's types.
pub fn rule_error(e: RuleError) -> latest::RuleError {
    match e {
        RuleError::BadConfig(m) => latest::RuleError::BadConfig(m),
        RuleError::BadInput(m) => latest::RuleError::BadInput(m),
        RuleError::Internal(m) => latest::RuleError::Internal(m),
    }
}

/// A 0.1 log level in the host's types.
pub fn level(level: Level) -> latest::Level {
    match level {
        Level::Debug => latest::Level::Debug,
        Level::Info => latest::Level::Info,
        Level::Warn => latest::Level::Warn,
        Level::Error => latest::Level::Error,
    }
}
