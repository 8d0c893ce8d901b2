//! `[alerts]`: where digests go.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where alert digests go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Folder for `.eml` digests when no SMTP server is configured.
    pub outbox_dir: PathBuf,
    pub from: String,
    pub to: Vec<String>,
    pub smtp: Option<SmtpConfig>,
}

impl Default for AlertsConfig {
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
pub struct SmtpConfig {
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

impl AlertsConfig {
    /// Checks the addresses and that the SMTP password is named, not given.
    pub fn validate(&self) -> Result<(), String> {
        let env_name = |v: &str| {
            v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && v.chars().next().is_some_and(|c| !c.is_ascii_digit())
        };
        if let Some(var) = self.smtp.as_ref().and_then(|s| s.password_env.as_deref())
            && !env_name(var)
        {
            // The value is not echoed: it may be the password itself.
            return Err(
                "alerts.smtp.password_env must name an environment variable (e.g. SMTP_PASSWORD), \
                 not hold the password"
                    .into(),
            );
        }
        let addresses = std::iter::once(("alerts.from", &self.from))
            .chain(self.to.iter().map(|to| ("alerts.to", to)));
        for (key, address) in addresses {
            address
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| format!("{key} = {address:?}: not an email address ({e})"))?;
        }
        if self.to.is_empty() {
            return Err("alerts.to: at least one recipient is needed".into());
        }
        Ok(())
    }

    /// Makes the outbox folder relative to `base`, the config file's folder.
    pub fn resolve_paths(&mut self, base: &Path) {
        if self.outbox_dir.is_relative() {
            self.outbox_dir = base.join(&self.outbox_dir);
        }
    }
}
