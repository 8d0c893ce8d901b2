//! Typed TOML configuration. Unknown keys are rejected; every error names the key and line.

use crate::error::Error;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The commented configuration `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("config_template.toml");

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite ledger file; relative paths are relative to the config file.
    pub ledger: Option<PathBuf>,
    #[serde(default)]
    pub sources: Sources,
    #[serde(default)]
    pub detection: Detection,
    /// Rules to run; when absent, every built-in rule with its defaults.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub alerts: Alerts,
}

/// Where billing data comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    pub files: Option<FilesSource>,
}

/// Local CUR / FOCUS files or folders of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSource {
    pub paths: Vec<PathBuf>,
}

/// Settings shared by every rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detection {
    /// Days of history handed to rules.
    pub history_days: u32,
    /// A candidate day whose total is below this share of the recent median is
    /// treated as still being billed (incomplete) and not evaluated.
    pub partial_day_ratio: f64,
    /// How many days back from the run date the newest complete day may lie.
    pub max_data_lag_days: u32,
    /// An open finding not seen for this many days is resolved.
    pub resolve_after_quiet_days: u32,
}

impl Default for Detection {
    fn default() -> Self {
        Self {
            history_days: 90,
            partial_day_ratio: 0.5,
            max_data_lag_days: 3,
            resolve_after_quiet_days: 7,
        }
    }
}

/// One `[[rules]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Name of a built-in rule (`costwatch rule list` style names: spike, shift, creep, new-spend).
    pub builtin: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Rule-specific settings, checked by the rule before any data is read.
    #[serde(default)]
    pub config: toml::Table,
    /// Line of this entry in the config file, for error messages.
    #[serde(skip)]
    pub line: usize,
}

fn yes() -> bool {
    true
}

/// Where alert digests go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Alerts {
    /// Folder for `.eml` digests when no SMTP server is configured.
    pub outbox_dir: PathBuf,
    pub from: String,
    pub to: Vec<String>,
    pub smtp: Option<Smtp>,
}

impl Default for Alerts {
    fn default() -> Self {
        Self {
            outbox_dir: PathBuf::from("outbox"),
            from: "costwatch <costwatch@localhost>".into(),
            to: vec!["finops@localhost".into()],
            smtp: None,
        }
    }
}

/// SMTP delivery settings; the password is read from an environment variable, never stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    pub password_env: Option<String>,
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_timeout() -> u64 {
    30
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("empty config is valid")
    }
}

impl Config {
    /// Reads and validates a config file; relative paths become relative to its folder.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))?;
        let mut config =
            Self::parse(&text).map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new(""));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Parses config text (paths stay as written).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        let entry_lines = rule_entry_lines(text);
        for (rule, line) in config.rules.iter_mut().zip(entry_lines) {
            rule.line = line;
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let d = &self.detection;
        if d.history_days < 28 {
            return Err(format!(
                "detection.history_days = {}: at least 28 days are needed",
                d.history_days
            ));
        }
        if !(0.0..1.0).contains(&d.partial_day_ratio) {
            return Err("detection.partial_day_ratio must be in [0, 1)".into());
        }
        for rule in &self.rules {
            if !crate::rules::builtin::NAMES.contains(&rule.builtin.as_str()) {
                return Err(format!(
                    "rules.builtin = {:?} (line {}): unknown rule; built-in rules are {}",
                    rule.builtin,
                    rule.line,
                    crate::rules::builtin::NAMES.join(", ")
                ));
            }
        }
        let addresses = std::iter::once(("alerts.from", &self.alerts.from))
            .chain(self.alerts.to.iter().map(|to| ("alerts.to", to)));
        for (key, address) in addresses {
            address
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| format!("{key} = {address:?}: not an email address ({e})"))?;
        }
        if self.alerts.to.is_empty() {
            return Err("alerts.to: at least one recipient is needed".into());
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(ledger) = self.ledger.as_mut() {
            join(ledger);
        }
        if let Some(files) = self.sources.files.as_mut() {
            files.paths.iter_mut().for_each(join);
        }
        join(&mut self.alerts.outbox_dir);
    }
}

/// Line numbers of each `[[rules]]` header, in order.
fn rule_entry_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[rules]]"))
        .map(|(i, _)| i + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses() {
        let config = Config::parse(TEMPLATE).unwrap();
        assert!(!config.rules.is_empty());
    }

    #[test]
    fn typo_names_key_and_line() {
        let err = Config::parse("[detection]\nhistory_days = 90\nhistroy = 3\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("histroy"), "{err}");
    }

    #[test]
    fn unknown_rule_names_line() {
        let err = Config::parse("\n[[rules]]\nbuiltin = \"spiek\"\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("spiek"), "{err}");
    }
}
