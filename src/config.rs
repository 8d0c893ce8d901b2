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
    pub aws: Aws,
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
    pub cost_explorer: Option<CostExplorerSource>,
    pub billing_metrics: Option<BillingMetricsSource>,
    pub cur_s3: Option<CurS3Source>,
    /// Tag keys (e.g. `user:team`) whose values are kept in the daily facts.
    #[serde(default)]
    pub tag_keys: Vec<String>,
}

/// AWS access shared by the AWS sources: the standard credential chain with optional overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aws {
    /// Named profile (else `AWS_PROFILE`, else the default chain).
    pub profile: Option<String>,
    /// Region for regional APIs (Cost Explorer and billing metrics always use us-east-1).
    pub region: Option<String>,
    /// Role to assume before calling AWS.
    pub role_arn: Option<String>,
    /// Endpoint override for every service (also `AWS_ENDPOINT_URL`), e.g. an emulator.
    pub endpoint_url: Option<String>,
    /// Maximum attempts per request, with the SDK's standard backoff (1 = no retries).
    pub max_attempts: Option<u32>,
}

/// Cost Explorer GetCostAndUsage / GetCostForecast (paid per request).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostExplorerSource {
    /// Days back-filled on the first run.
    #[serde(default = "default_backfill_days")]
    pub backfill_days: u32,
    /// Days before today that AWS may still restate; they are fetched again every run.
    #[serde(default = "default_restate_days")]
    pub restate_days: u32,
    /// Until this day of the month, the previous month is refetched too (AWS finalises it late).
    #[serde(default = "default_previous_month_until_day")]
    pub previous_month_until_day: u32,
    /// Most requests one run may make (each costs $0.01).
    #[serde(default = "default_max_requests")]
    pub max_requests_per_run: u32,
    /// Fetch the month-end forecast too.
    #[serde(default = "yes")]
    pub forecast: bool,
    /// Endpoint override for this service only.
    pub endpoint_url: Option<String>,
}

/// CloudWatch `AWS/Billing` `EstimatedCharges` (us-east-1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingMetricsSource {
    /// Days of month-to-date values to read each run.
    #[serde(default = "default_restate_days")]
    pub lookback_days: u32,
    pub endpoint_url: Option<String>,
}

/// CUR / Data Exports / FOCUS files delivered to S3.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurS3Source {
    pub bucket: String,
    /// Report path prefix as configured in the export.
    #[serde(default)]
    pub prefix: String,
    /// Report (legacy CUR) or export (Data Exports) name.
    pub report: String,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

fn default_backfill_days() -> u32 {
    90
}
fn default_restate_days() -> u32 {
    3
}
fn default_previous_month_until_day() -> u32 {
    10
}
fn default_max_requests() -> u32 {
    20
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

/// One `[[rules]]` entry: a built-in rule or a WebAssembly rule plugin (exactly one of the two).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Name of a built-in rule (spike, shift, creep, new-spend, pace, budget); empty for a plugin.
    #[serde(default)]
    pub builtin: String,
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
        let mut config: Config = toml::from_str(text).map_err(|e| describe(&e, text))?;
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
        let env_name = |v: &str| {
            v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && v.chars().next().is_some_and(|c| !c.is_ascii_digit())
        };
        if let Some(var) = self
            .alerts
            .smtp
            .as_ref()
            .and_then(|s| s.password_env.as_deref())
            && !env_name(var)
        {
            // The value is not echoed: it may be the password itself.
            return Err(
                "alerts.smtp.password_env must name an environment variable (e.g. SMTP_PASSWORD), \
                 not hold the password"
                    .into(),
            );
        }
        for rule in &self.rules {
            match (rule.builtin.is_empty(), &rule.plugin) {
                (false, Some(_)) => {
                    return Err(format!(
                        "rules (entry at line {}): give either builtin or plugin, not both",
                        rule.line
                    ));
                }
                (true, None) => {
                    return Err(format!(
                        "rules (entry at line {}): give builtin = \"NAME\" or plugin = \"PATH.wasm\"",
                        rule.line
                    ));
                }
                (true, Some(_)) => {
                    if rule.timeout_ms == Some(0) || rule.memory_mb == Some(0) {
                        return Err(format!(
                            "rules (entry at line {}): timeout_ms and memory_mb must be positive",
                            rule.line
                        ));
                    }
                    continue;
                }
                (false, None) if rule.timeout_ms.is_some() || rule.memory_mb.is_some() => {
                    return Err(format!(
                        "rules (entry at line {}): timeout_ms and memory_mb apply to plugins only",
                        rule.line
                    ));
                }
                (false, None) => {}
            }
            let builtin = crate::rules::builtin::NAMES
                .iter()
                .chain(crate::rules::builtin::OPT_IN);
            if !builtin.clone().any(|n| *n == rule.builtin) {
                return Err(format!(
                    "rules.builtin = {:?} (line {}): unknown rule; built-in rules are {}",
                    rule.builtin,
                    rule.line,
                    builtin.copied().collect::<Vec<_>>().join(", ")
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
        for rule in &mut self.rules {
            if let Some(plugin) = rule.plugin.as_mut() {
                join(plugin);
            }
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
    fn template_examples_parse_when_uncommented() {
        let uncommented: String = TEMPLATE
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
        assert_eq!(config.sources.tag_keys, ["user:team"]);
    }

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
