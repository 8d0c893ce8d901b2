//! Team-written rules as WebAssembly components (`costwatch:rule@0.1.0`, see `wit/`).
//!
//! A plugin is compiled once and cached on disk ([`cache_dir`]). Every call gets a fresh
//! instance in a fresh store with an epoch deadline, a memory cap that traps instead of
//! failing an allocation, and WASI without files, network or environment (its stdout and
//! stderr go to the log). A plugin that loops, runs out of memory, panics, overflows its
//! stack or returns an error fails as a rule, with a message naming the plugin; the other
//! rules still run.

mod batch;
mod engine;

pub use batch::{glob, region_of};
pub use engine::{Limits, cache_dir};

use super::{Rule, Snapshot};
use crate::model::{Action, Finding, Scope, Severity};
use anyhow::{Context as _, Result, anyhow, bail};
use bindings::costwatch::rule::types;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod bindings {
    wasmtime::component::bindgen!({
        world: "rule-plugin",
        path: "wit/v0.1.0",
    });
}

/// The interface this host runs.
pub const INTERFACE: &str = "costwatch:rule@0.1.0";

/// Default time limit of one call.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default memory limit of one instance.
pub const DEFAULT_MEMORY_MB: u64 = 256;

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            memory_bytes: (DEFAULT_MEMORY_MB as usize) << 20,
        }
    }
}

/// How a plugin was loaded.
#[derive(Debug, Clone, Copy)]
pub struct LoadStats {
    /// Reading, compiling or loading from the cache, and linking.
    pub elapsed: Duration,
    pub from_cache: bool,
}

/// One setting a plugin's `config` table takes.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: String,
    pub kind: String,
    pub default_value: String,
    pub description: String,
}

/// A loaded rule plugin with its config.
pub struct PluginRule {
    path: PathBuf,
    /// File name, for messages.
    name: String,
    id: String,
    version: String,
    description: String,
    settings: Vec<Setting>,
    needs: types::Needs,
    pre: bindings::RulePluginPre<engine::State>,
    limits: Limits,
    config: Vec<(String, String)>,
    pub load: LoadStats,
}

impl PluginRule {
    /// Loads (compiling or from the cache) and asks the plugin what it is.
    pub fn load(path: &Path, limits: Limits) -> Result<Self> {
        let start = Instant::now();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read plugin {}", path.display()))?;
        let compiled = engine::compile(path, &bytes)?;
        check_interface(&compiled.component, path)?;
        let pre = engine::linker()?
            .instantiate_pre(&compiled.component)
            .map_err(|e| {
                anyhow!(
                    "plugin {} needs imports costwatch does not offer ({e}); plugins get WASI \
                     without files, network or environment, and the costwatch host log",
                    path.display()
                )
            })?;
        let pre = bindings::RulePluginPre::new(pre)
            .map_err(|e| anyhow!("plugin {} does not fit {INTERFACE}: {e:#}", path.display()))?;
        let load = LoadStats {
            elapsed: start.elapsed(),
            from_cache: compiled.from_cache,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut plugin = Self {
            path: path.to_path_buf(),
            id: name.clone(),
            name,
            version: String::new(),
            description: String::new(),
            settings: Vec::new(),
            needs: types::Needs {
                history_days: 0,
                dimensions: Vec::new(),
                usage_types: Vec::new(),
            },
            pre,
            limits,
            config: Vec::new(),
            load,
        };
        let info = plugin.call(|rule, store| rule.call_info(store))?;
        if info.id.trim().is_empty() {
            bail!("plugin {} reports an empty rule id", plugin.name);
        }
        plugin.id = info.id;
        plugin.version = info.version;
        plugin.description = info.description;
        plugin.needs = info.needs;
        plugin.settings = info
            .config_schema
            .into_iter()
            .map(|s| Setting {
                name: s.name,
                kind: s.kind,
                default_value: s.default_value,
                description: s.description,
            })
            .collect();
        tracing::debug!(
            rule = %plugin.id,
            path = %plugin.path.display(),
            from_cache = load.from_cache,
            load_us = load.elapsed.as_micros() as u64,
            "plugin loaded"
        );
        Ok(plugin)
    }

    /// Loads the plugin of a `[[rules]]` entry with its limits and checks its `config` table;
    /// errors name the plugin, the rule and the entry's line.
    pub fn from_entry(entry: &crate::rules::RuleConfig) -> Result<Self, String> {
        let Some(path) = &entry.plugin else {
            return Err(format!(
                "rules (entry at line {}): not a plugin",
                entry.line
            ));
        };
        let mut limits = Limits::default();
        if let Some(ms) = entry.timeout_ms {
            limits.timeout = Duration::from_millis(ms);
        }
        if let Some(mb) = entry.memory_mb {
            limits.memory_bytes = (mb as usize) << 20;
        }
        let mut plugin = Self::load(path, limits).map_err(|e| {
            format!(
                "rules.plugin = {:?}{}: {e:#}",
                path.display().to_string(),
                at_line(entry.line)
            )
        })?;
        plugin.configure(&entry.config).map_err(|e| {
            format!(
                "rules.config of rule {:?} (plugin {}{}): {e:#}",
                plugin.id,
                path.display(),
                at_line(entry.line)
                    .replacen(" (", ", ", 1)
                    .trim_end_matches(')')
            )
        })?;
        Ok(plugin)
    }

    /// Checks a `config` table with the plugin's `validate-config` and keeps it for evaluation.
    pub fn configure(&mut self, config: &toml::Table) -> Result<()> {
        let entries: Vec<(String, String)> = config
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        match self.call(|rule, store| rule.call_validate_config(store, &entries))? {
            Ok(()) => {
                self.config = entries;
                Ok(())
            }
            Err(e) => Err(anyhow!("{}", rule_error(&e))),
        }
    }

    /// The plugin file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings its `config` table takes.
    pub fn settings(&self) -> &[Setting] {
        &self.settings
    }

    /// History days, dimensions and usage types it asks for, in words.
    pub fn needs(&self) -> String {
        let dims = if self.needs.dimensions.is_empty() {
            "all dimensions".to_string()
        } else {
            let names: Vec<&str> = self
                .needs
                .dimensions
                .iter()
                .map(|d| match d {
                    types::Dimension::Account => "account",
                    types::Dimension::Service => "service",
                    types::Dimension::UsageType => "usage type",
                    types::Dimension::Region => "region",
                })
                .collect();
            format!("per {}", names.join(" × "))
        };
        let usage = if self.needs.usage_types.is_empty() {
            "every usage type".to_string()
        } else {
            self.needs.usage_types.join(", ")
        };
        format!("{} days, {dims}, {usage}", self.needs.history_days)
    }

    /// One call in a fresh store and instance.
    fn call<R>(
        &self,
        f: impl FnOnce(
            &bindings::exports::costwatch::rule::rule::Guest,
            &mut wasmtime::Store<engine::State>,
        ) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let mut store = engine::store(&self.id, self.limits);
        let result = match self.pre.instantiate(&mut store) {
            Ok(instance) => f(instance.costwatch_rule_rule(), &mut store),
            Err(e) => Err(e),
        };
        store.data().flush_output();
        result.map_err(|e| self.explain(store.data(), e))
    }

    /// The failure of a call in words, naming the plugin.
    fn explain(&self, state: &engine::State, e: wasmtime::Error) -> anyhow::Error {
        let text = format!("{e:#}");
        let what = if text.contains("forcing trap when growing memory") {
            format!(
                "ran out of memory: it tried to grow past its {} MiB limit and was stopped",
                self.limits.memory_bytes >> 20
            )
        } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
            match *trap {
                wasmtime::Trap::Interrupt => format!(
                    "ran longer than its time limit of {} ms and was stopped",
                    self.limits.timeout.as_millis()
                ),
                wasmtime::Trap::StackOverflow => {
                    "overflowed its stack (call stack exhausted) and was stopped".to_string()
                }
                wasmtime::Trap::UnreachableCodeReached => match state.panic_message() {
                    Some(message) => format!("panicked: {}", message.replace('\n', " ")),
                    None => {
                        let output = state.output();
                        let last = output.lines().rev().find(|l| !l.trim().is_empty());
                        match last {
                            Some(line) => format!("aborted: {}", line.trim()),
                            None => "aborted (wasm `unreachable` reached)".to_string(),
                        }
                    }
                },
                // Rust guests keep their stack in linear memory: overflowing it is the usual
                // way safe code gets here.
                wasmtime::Trap::MemoryOutOfBounds => {
                    "overflowed its stack or accessed memory out of bounds, and was stopped"
                        .to_string()
                }
                other => format!("trapped and was stopped: {other}"),
            }
        } else {
            format!("failed: {text}")
        };
        anyhow!("plugin {} {what}", self.name)
    }

    fn finding(&self, day: NaiveDate, f: types::Finding) -> Finding {
        let k = f.key;
        let usage_type = if k.usage_type.is_empty() {
            k.region.clone()
        } else {
            k.usage_type
        };
        let service_name = if k.service_name.is_empty() {
            k.service.clone()
        } else {
            k.service_name
        };
        let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
        Finding {
            rule: self.id.clone(),
            scope: Scope {
                account: k.account,
                service_code: k.service,
                service_name,
                usage_type,
            },
            day,
            severity: match f.severity {
                types::Severity::Info => Severity::Info,
                types::Severity::Warning => Severity::Warning,
                types::Severity::Critical => Severity::Critical,
            },
            observed: finite(f.observed),
            expected: finite(f.expected),
            score: finite(f.score),
            monthly_impact: finite(f.monthly_impact),
            message: f.message,
            detail: f.detail,
            action: match f.action {
                types::Action::Notify => Action::Notify,
                types::Action::BudgetAlert(limit) => Action::BudgetAlert {
                    monthly_limit: finite(limit),
                },
            },
        }
    }
}

impl Rule for PluginRule {
    fn id(&self) -> &str {
        &self.id
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn source(&self) -> String {
        format!("plugin {}", self.path.display())
    }

    fn evaluate(&self, snapshot: &Snapshot) -> Result<Vec<Finding>> {
        let series = batch::select(snapshot, &self.needs);
        if series.is_empty() {
            return Ok(Vec::new());
        }
        let context = types::Context {
            day: snapshot.day.to_string(),
            weekday: snapshot.weekday(),
            config: self.config.clone(),
        };
        // The lowered batch, the rule's own working copies and its findings share the cap.
        let budget = self.limits.memory_bytes / 4;
        let mut findings = Vec::new();
        for batch in batch::batches(series, budget) {
            let result = self.call(|rule, store| rule.call_evaluate(store, &context, &batch))?;
            match result {
                Ok(found) => {
                    findings.extend(found.into_iter().map(|f| self.finding(snapshot.day, f)))
                }
                Err(e) => bail!("plugin {} returned an error: {}", self.name, rule_error(&e)),
            }
        }
        Ok(findings)
    }
}

/// ` (entry at line N)`, or nothing for an entry not from a file.
fn at_line(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (entry at line {line})")
    }
}

fn rule_error(e: &types::RuleError) -> String {
    match e {
        types::RuleError::BadConfig(m) => format!("bad config: {m}"),
        types::RuleError::BadInput(m) => format!("bad input: {m}"),
        types::RuleError::Internal(m) => m.clone(),
    }
}

/// Checks that the component implements an interface version this host runs, and tells the
/// author which one to build against when it does not.
fn check_interface(component: &wasmtime::component::Component, path: &Path) -> Result<()> {
    let engine = engine::engine();
    let ty = component.component_type();
    let mut versions: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name)
        .chain(ty.imports(engine).map(|(name, _)| name))
        .filter_map(|name| name.strip_prefix("costwatch:rule/"))
        .filter_map(|rest| rest.split_once('@').map(|(_, v)| v.to_string()))
        .collect();
    versions.sort();
    versions.dedup();
    let rebuild = format!(
        "rebuild it with the costwatch-rule SDK {} (crates/costwatch-rule, interface wit/v0.1.0)",
        env!("CARGO_PKG_VERSION")
    );
    if versions.is_empty() {
        bail!(
            "{} is not a costwatch rule plugin (it does not export costwatch:rule/rule); \
             this costwatch runs {INTERFACE}: {rebuild}",
            path.display()
        );
    }
    if let Some(bad) = versions.iter().find(|v| !compatible(v)) {
        bail!(
            "plugin {} was built for costwatch:rule@{bad}, but this costwatch runs {INTERFACE} \
             (and compatible 0.1.x plugins): {rebuild}",
            path.display()
        );
    }
    let exports_rule = ty
        .exports(engine)
        .any(|(name, _)| name.starts_with("costwatch:rule/rule@"));
    if !exports_rule {
        bail!(
            "{} does not export costwatch:rule/rule: it is not a rule plugin; {rebuild}",
            path.display()
        );
    }
    Ok(())
}

/// Semver compatibility with 0.1.0: same major, and for 0.x the same minor.
fn compatible(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    matches!((parts.next(), parts.next()), (Some(Some(0)), Some(Some(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(compatible("0.1.0") && compatible("0.1.7"));
        assert!(!compatible("0.2.0") && !compatible("1.0.0") && !compatible("x"));
    }
}
