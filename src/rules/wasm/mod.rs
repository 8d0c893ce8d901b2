//! Team-written rules as WebAssembly components (`costwatch:rule@0.2.0` and the frozen 0.1.0,
//! see `wit/`), in any language that builds a component.
//!
//! A plugin is compiled once and cached on disk ([`cache_dir`]). Every call gets a fresh
//! instance in a fresh store with an epoch deadline, a memory cap that traps instead of
//! failing an allocation, and WASI without files, network or environment (its stdout and
//! stderr go to the log). Series are pushed in batches sized to the memory cap. A plugin that
//! loops, runs out of memory, crashes, overflows its stack or returns an error fails as a
//! rule, with a message naming the plugin and quoting its own error; the other rules still run.

mod batch;
mod engine;
mod failure;
mod guest;
mod host;
mod language;
mod settings;
mod sizing;
mod v0_1;
mod v0_2;

pub use batch::{glob, region_of};
pub use engine::{Limits, cache_dir};
pub use language::Language;
pub use sizing::Model as MemoryModel;

use super::{Rule, Snapshot};
use crate::model::{Action, Finding, Scope, Severity};
use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{Days, NaiveDate};
use failure::Failure;
use guest::Guest;
use host::State;
use sizing::Sizing;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The newest interface this host runs (it runs 0.1.x plugins too).
pub const INTERFACE: &str = "costwatch:rule@0.2.0";

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

/// One setting a plugin's `config` table takes, in words.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: String,
    /// The kind with its bounds: `days, at least 4`.
    pub kind: String,
    /// The default as TOML text.
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
    schema: Vec<v0_2::Setting>,
    needs: v0_2::Needs,
    guest: Guest,
    interface: guest::Version,
    language: Language,
    limits: Limits,
    sizing: Sizing,
    pub load: LoadStats,
}

impl PluginRule {
    /// Loads (compiling or from the cache) and asks the plugin what it is.
    pub fn load(path: &Path, limits: Limits) -> Result<Self> {
        let start = Instant::now();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read plugin {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let language = Language::detect(&bytes);
        let compiled = engine::compile(path, &bytes, language)?;
        let interface = guest::version_of(&compiled.component, engine::engine(), &name, language)?;
        let pre = engine::linker()?
            .instantiate_pre(&compiled.component)
            .map_err(|e| {
                anyhow!(
                    "plugin {name} ({}) needs imports costwatch does not offer ({e}); plugins \
                     get WASI 0.2 without files, network or environment, and the host \
                     interface of {INTERFACE} (or 0.1.0): rebuild it {}",
                    language.name(),
                    language.build_hint()
                )
            })?;
        let guest = Guest::new(interface, pre)
            .map_err(|e| anyhow!("plugin {name} does not fit the interface it names: {e:#}"))?;
        let load = LoadStats {
            elapsed: start.elapsed(),
            from_cache: compiled.from_cache,
        };
        let (info, baseline) = call(&name, &name, limits, |store| guest.info(store))?;
        if info.id.trim().is_empty() {
            bail!("plugin {name} reports an empty rule id");
        }
        let plugin = Self {
            path: path.to_path_buf(),
            name,
            id: info.id,
            version: info.version,
            description: info.description,
            schema: info.config_schema,
            needs: info.needs,
            guest,
            interface,
            language,
            limits,
            sizing: Sizing::new(language, limits.memory_bytes, baseline),
            load,
        };
        tracing::debug!(
            rule = %plugin.id,
            path = %plugin.path.display(),
            language = language.name(),
            from_cache = load.from_cache,
            load_us = load.elapsed.as_micros() as u64,
            baseline_bytes = baseline,
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

    /// Checks a `config` table against the plugin's settings and its `validate-config`, and
    /// keeps it for evaluation.
    pub fn configure(&mut self, table: &toml::Table) -> Result<()> {
        let configured = self
            .guest
            .configured(table, &self.schema)
            .map_err(|e| anyhow!("bad config: {e}"))?;
        let (result, _) = self.call(|store| configured.validate(store))?;
        result.map_err(|e| anyhow!("{}", rule_error(&e)))?;
        self.guest = configured;
        Ok(())
    }

    /// The plugin file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The language it was written in, as its build tools recorded it.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The interface it was built for: `costwatch:rule@0.2.0` or `costwatch:rule@0.1.0`.
    pub fn interface(&self) -> &'static str {
        match self.interface {
            guest::Version::V0_1 => "costwatch:rule@0.1.0",
            guest::Version::V0_2 => INTERFACE,
        }
    }

    /// Memory a fresh instance takes before any data, and how much more per byte of series
    /// pushed (assumed for its language, and measured on large calls).
    pub fn memory(&self) -> (usize, MemoryModel) {
        (self.sizing.baseline(), self.sizing.model())
    }

    /// The settings its `config` table takes.
    pub fn settings(&self) -> Vec<Setting> {
        self.schema
            .iter()
            .map(|s| Setting {
                name: s.name.clone(),
                kind: settings::kind_text(s),
                default_value: settings::toml_text(&s.default_value),
                description: s.description.clone(),
            })
            .collect()
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
                    v0_2::Dimension::Account => "account",
                    v0_2::Dimension::Service => "service",
                    v0_2::Dimension::UsageType => "usage type",
                    v0_2::Dimension::Region => "region",
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

    /// One call in a fresh store, and the most memory it took.
    fn call<R>(
        &self,
        f: impl FnOnce(&mut wasmtime::Store<State>) -> wasmtime::Result<R>,
    ) -> Result<(R, usize), Failure> {
        call(&self.name, &self.id, self.limits, f)
    }

    /// One batch: its findings, or why it failed.
    fn evaluate_batch(
        &self,
        day: &guest::Day,
        batch: &[v0_2::Series],
    ) -> Result<Vec<v0_2::Finding>, Failure> {
        let (result, peak) = self.call(|store| self.guest.evaluate(store, day, batch))?;
        self.sizing.measured(batch, peak);
        result.map_err(|e| Failure {
            out_of_memory: false,
            message: format!("plugin {} returned an error: {}", self.name, rule_error(&e)),
        })
    }

    fn finding(&self, day: NaiveDate, f: v0_2::Finding) -> Finding {
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
                v0_2::Severity::Info => Severity::Info,
                v0_2::Severity::Warning => Severity::Warning,
                v0_2::Severity::Critical => Severity::Critical,
            },
            observed: finite(f.observed),
            expected: finite(f.expected),
            score: finite(f.score),
            monthly_impact: finite(f.monthly_impact),
            message: f.message,
            detail: f.detail,
            action: match f.action {
                v0_2::Action::Notify => Action::Notify,
                v0_2::Action::BudgetAlert(limit) => Action::BudgetAlert {
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
        let mut rest: VecDeque<v0_2::Series> = batch::select(snapshot, &self.needs).into();
        let day = guest::Day {
            day: snapshot.day.to_string(),
            weekday: snapshot.weekday(),
            history_start: history_start(snapshot).to_string(),
        };
        let mut findings = Vec::new();
        while !rest.is_empty() {
            let batch = self.sizing.next_batch(&mut rest);
            match self.evaluate_batch(&day, &batch) {
                Ok(found) => {
                    findings.extend(found.into_iter().map(|f| self.finding(snapshot.day, f)))
                }
                // A smaller batch may fit: put it back and go on with halves.
                Err(e) if e.out_of_memory && batch.len() > 1 => {
                    tracing::debug!(rule = %self.id, series = batch.len(), "batch ran out of memory; halving");
                    self.sizing.halve();
                    batch.into_iter().rev().for_each(|s| rest.push_front(s));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(findings)
    }
}

/// One call of plugin `name` (rule `rule`, for its log lines) in a fresh store, and the most
/// memory it took; a failure explained.
fn call<R>(
    name: &str,
    rule: &str,
    limits: Limits,
    f: impl FnOnce(&mut wasmtime::Store<State>) -> wasmtime::Result<R>,
) -> Result<(R, usize), Failure> {
    let mut store = engine::store(rule, limits);
    let result = f(&mut store);
    store.data().flush_output();
    match result {
        Ok(r) => Ok((r, store.data().peak_memory)),
        Err(e) => Err(failure::explain(name, &e, store.data(), limits)),
    }
}

/// The first day of billing data in the snapshot's history (its day when it has none).
fn history_start(snapshot: &Snapshot) -> NaiveDate {
    let known = snapshot
        .series
        .iter()
        .map(|s| s.amounts.len() - s.known_from)
        .max()
        .unwrap_or(1);
    snapshot.day - Days::new(known.saturating_sub(1) as u64)
}

/// ` (entry at line N)`, or nothing for an entry not from a file.
fn at_line(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (entry at line {line})")
    }
}

fn rule_error(e: &v0_2::RuleError) -> String {
    match e {
        v0_2::RuleError::BadConfig(m) => format!("bad config: {m}"),
        v0_2::RuleError::BadInput(m) => format!("bad input: {m}"),
        v0_2::RuleError::Internal(m) => m.clone(),
    }
}
