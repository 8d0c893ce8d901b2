//! Typed TOML configuration, assembled from the components' own tables (`[sources.*]` from
//! the sources, `[[rules]]` and `[detection]` from the rules, `[alerts]` from the alerts,
//! `[[budgets]]` and `[budgets_from_findings]` from the budgets, `[aws]`). Unknown keys are
//! rejected; every error names the key and line.

use crate::alerts::{AlertsConfig, Route};
use crate::aws::AwsConfig;
use crate::budgets::{Budget, FindingsBudgets};
use crate::error::Error;
use crate::findings::Silence;
use crate::rules::{DetectionConfig, RuleConfig, plugin_dirs};
use crate::sources::{SourcesConfig, TEMPLATES};
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod iam;

/// The line of the template the sources' own parts go in place of.
const SOURCES_MARKER: &str = "# {sources}\n";

/// The commented configuration `costwatch init` writes.
pub fn template() -> String {
    let sources = TEMPLATES.join("\n");
    include_str!("template.toml").replace(SOURCES_MARKER, &sources)
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite ledger file; relative paths are relative to the config file.
    pub ledger: Option<PathBuf>,
    /// Folder of rule plugins named without a path (`plugin = "nat-gateway"`), searched
    /// before the bundled ones beside the binary; relative to the config file.
    pub plugin_dir: Option<PathBuf>,
    #[serde(default)]
    pub sources: SourcesConfig,
    #[serde(default)]
    pub aws: AwsConfig,
    #[serde(default)]
    pub detection: DetectionConfig,
    /// Rules to run; when absent, every built-in rule with its defaults.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Who gets which alerts (an alert matching none goes to `[alerts] to`).
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Findings to keep but not send (planned changes).
    #[serde(default)]
    pub silences: Vec<Silence>,
    /// AWS budgets to keep as declared (`costwatch budgets plan|apply`), watched by the
    /// `budget` rule.
    #[serde(default)]
    pub budgets: Vec<Budget>,
    /// Budgets proposed from findings: who they notify, and whether the daily run applies them.
    #[serde(default)]
    pub budgets_from_findings: FindingsBudgets,
}

/// A TOML error as `line N, column C: message` with the offending line quoted; a line that may
/// hold a secret is not quoted and its value is masked in the message (a misplaced
/// `password = ...` must not end up in a cron log).
fn describe(e: &toml::de::Error, text: &str) -> String {
    let Some(span) = e.span() else {
        return e.message().to_string();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let source = text.lines().nth(line - 1).unwrap_or_default();
    let secret = ["pass", "secret", "token", "credential", "pwd", "auth"]
        .iter()
        .any(|w| source.to_ascii_lowercase().contains(w));
    let message = e.message().trim_end();
    if secret {
        // Neither the line nor the value (a type error quotes it) is shown.
        let (key, value) = source
            .split_once('=')
            .map_or(("", ""), |(k, v)| (k.trim(), v.trim().trim_matches('"')));
        let message = if value.is_empty() {
            message.to_string()
        } else {
            message.replace(value, "***")
        };
        return format!(
            "line {line}, column {column}: {key}: {message} (the line is not shown: it may hold a secret)"
        );
    }
    format!("line {line}, column {column}: {message}\n  {line} | {source}")
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("empty config is valid")
    }
}

impl Config {
    /// Reads and validates a config file; relative paths become relative to its folder.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config {}", path.display())).because(e)
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::from_text(&text, &path.display().to_string(), base)
    }

    /// Validates config text read from `origin` (named in errors); relative paths become
    /// relative to `base`.
    pub fn from_text(text: &str, origin: &str, base: &Path) -> Result<Self, Error> {
        let mut config = Self::parse(text).map_err(|e| Error::config(format!("{origin}: {e}")))?;
        (config.resolve_paths(base)).map_err(|e| Error::config(format!("{origin}: {e}")))?;
        Ok(config)
    }

    /// Parses config text (paths stay as written).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| describe(&e, text))?;
        for (rule, line) in config.rules.iter_mut().zip(entry_lines(text, "[[rules]]")) {
            rule.line = line;
        }
        for (route, line) in config
            .routes
            .iter_mut()
            .zip(entry_lines(text, "[[routes]]"))
        {
            route.line = line;
        }
        config.validate()?;
        crate::budgets::duplicate_name(&config.budgets, text)?;
        config
            .budgets_from_findings
            .default_subscribers(&config.alerts.to);
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
            rule.validate()?;
        }
        self.alerts.validate()?;
        let channels = self.alerts.channel_names();
        for route in &self.routes {
            route.validate(&channels)?;
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) -> Result<(), String> {
        for path in [self.ledger.as_mut(), self.plugin_dir.as_mut()]
            .into_iter()
            .flatten()
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        for source in self.sources.configured_mut() {
            source.resolve_paths(base);
        }
        let dirs = plugin_dirs(self.plugin_dir.as_deref());
        for rule in &mut self.rules {
            rule.resolve_paths(base, &dirs)?;
        }
        self.alerts.resolve_paths(base);
        Ok(())
    }
}

/// Line numbers of each `header` (`[[rules]]`), in order.
fn entry_lines(text: &str, header: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(header))
        .map(|(i, _)| i + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_examples_parse_when_uncommented() {
        let uncommented: String = template()
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(k, _)| {
                            k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                {
                    rest
                }
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = Config::parse(&uncommented).unwrap();
        assert!(config.sources.cost_explorer.is_some() && config.alerts.smtp.is_some());
        assert!(config.alerts.webhook.is_some() && config.alerts.sns.is_some());
        assert_eq!((config.routes.len(), config.silences.len()), (1, 1));
        assert_eq!(config.sources.tag_keys, ["user:team"]);
    }

    #[test]
    fn template_parses() {
        let config = Config::parse(&template()).unwrap();
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
        assert!(err.contains("line 3") && err.contains("spiek"), "{err}");
        assert!(
            err.contains("new-spend"),
            "the valid names are listed: {err}"
        );
    }
}
