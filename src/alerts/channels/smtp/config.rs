//! `[alerts.smtp]`.

use super::Smtp;
use crate::alerts::channels::{Channel, ChannelConfig, env_name};
use crate::aws::AwsConfig;
use serde::Deserialize;

/// SMTP delivery settings; the password is read from an environment variable, never stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    pub password_env: Option<String>,
    /// Deadline of the whole exchange, seconds.
    #[serde(default = "default_timeout")]
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

fn default_port() -> u16 {
    587
}

fn default_timeout() -> u64 {
    30
}

impl ChannelConfig for SmtpConfig {
    fn build(&self, _aws: &AwsConfig) -> Box<dyn Channel> {
        Box::new(Smtp(self.clone()))
    }

    fn validate(&self) -> Result<(), String> {
        match &self.password_env {
            // The value is not echoed: it may be the password itself.
            Some(var) if !env_name(var) => Err(
                "alerts.smtp.password_env must name an environment variable (e.g. SMTP_PASSWORD), \
                 not hold the password"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    fn secret_env(&self) -> Option<&str> {
        self.password_env.as_deref()
    }
}
