//! `[detection]` and `[[rules]]`: what rules see, and which rules run with what settings.

use costwatch_detect::Kind;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Settings shared by every rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionConfig {
    /// Days of history handed to rules.
    pub history_days: u32,
    /// A candidate day whose total is below this share of the recent median is
    /// treated as still being billed (incomplete) and not evaluated.
    pub partial_day_ratio: f64,
    /// How many days back from the run date the newest complete day may lie.
    pub max_data_lag_days: u32,
    /// An open finding not seen for this many days is resolved.
    pub resolve_after_quiet_days: u32,
    /// Most missed run dates (since the last successful run) a run replays before its own.
    pub max_catch_up_days: u32,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            history_days: 180,
            partial_day_ratio: 0.5,
            max_data_lag_days: 3,
            resolve_after_quiet_days: 7,
            max_catch_up_days: 7,
        }
    }
}

/// One `[[rules]]` entry: a built-in rule or a WebAssembly rule plugin (exactly one of the two).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// A built-in rule (spike, shift, creep, new-spend, pace, budget).
    pub builtin: Option<Kind>,
    /// A rule plugin (`.wasm` component); relative paths are relative to the config file.
    pub plugin: Option<PathBuf>,
    /// Time limit of one plugin call, in milliseconds (default 10000).
    pub timeout_ms: Option<u64>,
    /// Memory limit of a plugin instance, in MiB (default 256).
    pub memory_mb: Option<u64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Rule-specific settings, checked by the rule before any data is read.
    #[serde(default)]
    pub config: toml::Table,
    /// Line of this entry in the config file, for error messages.
    #[serde(skip)]
    pub line: usize,
}

impl RuleConfig {
    /// The entry of a built-in rule with its defaults.
    pub fn builtin(kind: Kind) -> Self {
        Self {
            builtin: Some(kind),
            plugin: None,
            timeout_ms: None,
            memory_mb: None,
            enabled: true,
            config: toml::Table::new(),
            line: 0,
        }
    }

    /// Checks what serde cannot: exactly one of `builtin` and `plugin`, and plugin-only
    /// settings on plugins, positive.
    pub fn validate(&self) -> Result<(), String> {
        let at = format!("rules (entry at line {})", self.line);
        match (&self.builtin, &self.plugin) {
            (Some(_), Some(_)) => Err(format!("{at}: give either builtin or plugin, not both")),
            (None, None) => Err(format!(
                "{at}: give builtin = \"NAME\" or plugin = \"PATH.wasm\""
            )),
            (None, Some(_)) if self.timeout_ms == Some(0) || self.memory_mb == Some(0) => {
                Err(format!("{at}: timeout_ms and memory_mb must be positive"))
            }
            (Some(_), None) if self.timeout_ms.is_some() || self.memory_mb.is_some() => Err(
                format!("{at}: timeout_ms and memory_mb apply to plugins only"),
            ),
            _ => Ok(()),
        }
    }

    /// Makes a relative plugin path relative to `base`, the config file's folder; a plugin
    /// given by name alone (`nat-gateway`, no folder or `.wasm`) is looked up in `dirs`.
    pub fn resolve_paths(&mut self, base: &Path, dirs: &[PathBuf]) -> Result<(), String> {
        let Some(plugin) = self.plugin.as_mut() else {
            return Ok(());
        };
        if plugin.components().count() == 1 && plugin.extension().is_none() {
            let name = plugin.display().to_string();
            *plugin = find_plugin(&name, dirs).ok_or_else(|| {
                let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                format!(
                    "rules (entry at line {}): no plugin {name:?} ({name}.wasm) in {}; build the \
                     bundled ones with scripts/build-plugins.sh, or set plugin_dir",
                    self.line,
                    searched.join(", ")
                )
            })?;
        } else if plugin.is_relative() {
            *plugin = base.join(&*plugin);
        }
        Ok(())
    }
}

/// `NAME.wasm` (or with `_` for `-`, as cargo names the file) in the first of `dirs` that has it.
fn find_plugin(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let files = [
        format!("{name}.wasm"),
        format!("{}.wasm", name.replace('-', "_")),
    ];
    (dirs.iter())
        .flat_map(|d| files.iter().map(move |f| d.join(f)))
        .find(|p| p.is_file())
}

/// Where plugins named without a path are looked for: `plugin_dir`, then beside the binary
/// (`plugins/`, as in the Lambda package) and in `../share/costwatch/plugins` from it (as
/// `cargo install` and `scripts/build-plugins.sh` lay them out).
pub fn plugin_dirs(plugin_dir: Option<&Path>) -> Vec<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    (plugin_dir.map(Path::to_path_buf).into_iter())
        .chain(
            exe_dir
                .iter()
                .flat_map(|d| [d.join("plugins"), d.join("../share/costwatch/plugins")]),
        )
        .collect()
}

fn yes() -> bool {
    true
}
