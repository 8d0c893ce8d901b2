//! A plugin's bindings for the interface version it was built for, with its `config` table in
//! that version's form, called in the host's own (0.2) types.

use super::host::State;
use super::language::Language;
use super::v0_2::{Context, Finding, RuleError, RuleInfo, Series, Setting, Value};
use super::{settings, v0_1, v0_2};
use wasmtime::Store;
use wasmtime::component::InstancePre;

/// An interface version this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V0_1,
    V0_2,
}

impl Version {
    /// The version of `costwatch:rule@VERSION` this host runs it as: same major, and for
    /// 0.x the same minor.
    pub fn of(version: &str) -> Option<Self> {
        let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
        match (parts.next(), parts.next()) {
            (Some(Some(0)), Some(Some(1))) => Some(Self::V0_1),
            (Some(Some(0)), Some(Some(2))) => Some(Self::V0_2),
            _ => None,
        }
    }
}

/// What the context says besides the config.
pub struct Day {
    pub day: String,
    pub weekday: u8,
    pub history_start: String,
}

/// The linked component, ready to instantiate, with the bindings of its version and its
/// `config` table.
#[derive(Clone)]
pub enum Guest {
    /// 0.1: each config value as TOML text.
    V0_1(v0_1::RulePluginPre<State>, Vec<(String, String)>),
    /// 0.2: typed config values.
    V0_2(v0_2::RulePluginPre<State>, Vec<(String, Value)>),
}

impl Guest {
    /// The bindings of `version` over a linked component, with an empty config.
    pub fn new(version: Version, pre: InstancePre<State>) -> wasmtime::Result<Self> {
        Ok(match version {
            Version::V0_1 => Self::V0_1(v0_1::RulePluginPre::new(pre)?, Vec::new()),
            Version::V0_2 => Self::V0_2(v0_2::RulePluginPre::new(pre)?, Vec::new()),
        })
    }

    /// The same plugin with `table` as its config: typed by the schema's kinds for 0.2 (keys
    /// it does not list and values of another kind are refused here), as text for 0.1.
    pub fn configured(&self, table: &toml::Table, schema: &[Setting]) -> Result<Self, String> {
        Ok(match self {
            Self::V0_1(pre, _) => {
                let text = table.iter().map(|(k, v)| (k.clone(), v.to_string()));
                Self::V0_1(pre.clone(), text.collect())
            }
            Self::V0_2(pre, _) => Self::V0_2(pre.clone(), settings::typed(schema, table)?),
        })
    }

    /// `info` in a fresh instance.
    pub fn info(&self, store: &mut Store<State>) -> wasmtime::Result<RuleInfo> {
        match self {
            Self::V0_1(pre, _) => {
                let rule = pre.instantiate(&mut *store)?;
                Ok(v0_1::info(rule.costwatch_rule_rule().call_info(store)?))
            }
            Self::V0_2(pre, _) => {
                let rule = pre.instantiate(&mut *store)?;
                rule.costwatch_rule_rule().call_info(store)
            }
        }
    }

    /// `validate-config` of its config in a fresh instance.
    pub fn validate(&self, store: &mut Store<State>) -> wasmtime::Result<Result<(), RuleError>> {
        match self {
            Self::V0_1(pre, config) => {
                let rule = pre.instantiate(&mut *store)?;
                let result = rule
                    .costwatch_rule_rule()
                    .call_validate_config(store, config)?;
                Ok(result.map_err(v0_1::rule_error))
            }
            Self::V0_2(pre, config) => {
                let rule = pre.instantiate(&mut *store)?;
                rule.costwatch_rule_rule()
                    .call_validate_config(store, config)
            }
        }
    }

    /// `evaluate` of one batch in a fresh instance.
    pub fn evaluate(
        &self,
        store: &mut Store<State>,
        day: &Day,
        batch: &[Series],
    ) -> wasmtime::Result<Result<Vec<Finding>, RuleError>> {
        match self {
            Self::V0_1(pre, config) => {
                let rule = pre.instantiate(&mut *store)?;
                let result = rule.costwatch_rule_rule().call_evaluate(
                    store,
                    &v0_1::context(day, config),
                    &v0_1::series(batch),
                )?;
                Ok(result
                    .map(|found| found.into_iter().map(v0_1::finding).collect())
                    .map_err(v0_1::rule_error))
            }
            Self::V0_2(pre, config) => {
                let context = Context {
                    day: day.day.clone(),
                    weekday: day.weekday,
                    history_start: day.history_start.clone(),
                    config: config.clone(),
                };
                let rule = pre.instantiate(&mut *store)?;
                rule.costwatch_rule_rule()
                    .call_evaluate(store, &context, batch)
            }
        }
    }
}

/// The interface version a component was built for, or why this host cannot run it and how
/// to rebuild it (in its language).
pub fn version_of(
    component: &wasmtime::component::Component,
    engine: &wasmtime::Engine,
    name: &str,
    language: Language,
) -> anyhow::Result<Version> {
    let ty = component.component_type();
    let exported: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let mut versions: Vec<String> = exported
        .iter()
        .cloned()
        .chain(ty.imports(engine).map(|(n, _)| n.to_string()))
        .filter_map(|n| {
            Some(
                n.strip_prefix("costwatch:rule/")?
                    .split_once('@')?
                    .1
                    .to_string(),
            )
        })
        .collect();
    versions.sort();
    versions.dedup();
    let rebuild = format!(
        "rebuild it for {} (wit/v0.2.0) {}",
        super::INTERFACE,
        language.build_hint()
    );
    let runs = format!("this costwatch runs {} and 0.1.x plugins", super::INTERFACE);
    if let Some(bad) = versions.iter().find(|v| Version::of(v).is_none()) {
        anyhow::bail!(
            "plugin {name} ({}) was built for costwatch:rule@{bad}, but {runs}: {rebuild}",
            language.name()
        );
    }
    let rule = exported
        .iter()
        .find_map(|n| n.strip_prefix("costwatch:rule/rule@"))
        .and_then(Version::of);
    rule.ok_or_else(|| {
        anyhow::anyhow!(
            "{name} ({}) is not a costwatch rule plugin: it does not export \
             costwatch:rule/rule; {runs}: {rebuild}",
            language.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::of("0.1.0"), Some(Version::V0_1));
        assert_eq!(Version::of("0.1.7"), Some(Version::V0_1));
        assert_eq!(Version::of("0.2.3"), Some(Version::V0_2));
        assert!(Version::of("0.3.0").is_none() && Version::of("1.0.0").is_none());
        assert!(Version::of("x").is_none());
    }
}
