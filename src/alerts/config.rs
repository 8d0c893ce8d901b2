//! `[alerts]` and `[[routes]]`: who gets which alerts, through which channels.

use super::channels::eml::Eml;
use super::channels::{Channel, ChannelConfig, smtp, sns, webhook};
use crate::aws::{AwsConfig, Statement};
use crate::model::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Declares `[alerts]` from the channels' tables.
macro_rules! register {
    ($($name:ident: $config:ty),* $(,)?) => {
        /// Where digests go: the default recipients, and each channel's table.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct AlertsConfig {
            /// Folder for `.eml` digests when no SMTP server is configured.
            pub outbox_dir: PathBuf,
            pub from: String,
            /// The default route's e-mail recipients.
            pub to: Vec<String>,
            $(
                #[doc = concat!("`[alerts.", stringify!($name), "]`")]
                pub $name: Option<$config>,
            )*
        }

        impl Default for AlertsConfig {
            fn default() -> Self {
                Self {
                    outbox_dir: PathBuf::from("outbox"),
                    from: "costwatch <costwatch@localhost>".into(),
                    to: vec!["finops@localhost".into()],
                    $($name: None,)*
                }
            }
        }

        impl AlertsConfig {
            /// The configured channels' tables.
            fn configured(&self) -> Vec<&dyn ChannelConfig> {
                let mut out: Vec<&dyn ChannelConfig> = Vec::new();
                $(if let Some(c) = &self.$name { out.push(c); })*
                out
            }
        }
    };
}

register! {
    smtp: smtp::SmtpConfig,
    webhook: webhook::WebhookConfig,
    sns: sns::SnsConfig,
}

impl AlertsConfig {
    /// The channels digests go through: e-mail (SMTP, else `.eml` files in `outbox_dir`),
    /// then the others configured.
    pub fn channels(&self, aws: &AwsConfig) -> Vec<Box<dyn Channel>> {
        let mut out: Vec<Box<dyn Channel>> = Vec::new();
        if self.smtp.is_none() {
            out.push(Box::new(Eml {
                dir: self.outbox_dir.clone(),
            }));
        }
        out.extend(self.configured().into_iter().map(|c| c.build(aws)));
        out
    }

    /// The channels' names, as routes name them.
    pub fn channel_names(&self) -> Vec<&'static str> {
        let mut names = vec![if self.smtp.is_some() { "smtp" } else { "eml" }];
        names.extend(self.webhook.as_ref().map(|_| "webhook"));
        names.extend(self.sns.as_ref().map(|_| "sns"));
        names
    }

    /// What the configured channels call AWS for (SNS: publishing to its topic).
    pub fn iam(&self) -> Vec<Statement> {
        self.configured().iter().flat_map(|c| c.iam()).collect()
    }

    /// The environment variables the channels read secrets from.
    pub fn secrets(&self) -> Vec<String> {
        (self.configured().iter())
            .filter_map(|c| c.secret_env().map(String::from))
            .collect()
    }

    /// Checks the addresses and the channels' settings.
    pub fn validate(&self) -> Result<(), String> {
        for channel in self.configured() {
            channel.validate()?;
        }
        let addresses = std::iter::once(("alerts.from", &self.from))
            .chain(self.to.iter().map(|to| ("alerts.to", to)));
        for (key, address) in addresses {
            check_address(key, address)?;
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

fn check_address(key: &str, address: &str) -> Result<(), String> {
    address
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("{key} = {address:?}: not an email address ({e})"))
}

/// One `[[routes]]` entry: the alerts it matches go to its recipients and channels (an
/// alert matching no route goes to the default one: `[alerts] to`, every channel).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Names the route's digests (and its `.eml` files).
    pub name: String,
    /// What an alert must match (every field given).
    #[serde(default, rename = "match")]
    pub matches: RouteMatch,
    /// E-mail recipients (default: `[alerts] to`).
    #[serde(default)]
    pub to: Vec<String>,
    /// Channels, by name (`smtp`, `eml`, `webhook`, `sns`; default: all configured).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Line of this entry in the config file, for error messages.
    #[serde(skip)]
    pub line: usize,
}

/// What a route matches; empty fields match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteMatch {
    #[serde(default)]
    pub account: Vec<String>,
    /// Product codes (or Cost Explorer service names).
    #[serde(default)]
    pub service: Vec<String>,
    /// `key=value` tags, e.g. `user:team=web`: the scope's recent cost carries one of them.
    #[serde(default)]
    pub tag: Vec<String>,
    /// The lowest severity matched.
    pub severity: Option<Severity>,
}

impl Route {
    /// Checks recipients and channel names.
    pub fn validate(&self, channels: &[&str]) -> Result<(), String> {
        let at = format!("routes (entry at line {})", self.line);
        if self.name.trim().is_empty() {
            return Err(format!("{at}: a route needs a name"));
        }
        for to in &self.to {
            check_address(&format!("{at}: to"), to)?;
        }
        for c in &self.channels {
            if !channels.contains(&c.as_str()) {
                return Err(format!(
                    "{at}: channel {c:?} is not configured (configured: {})",
                    channels.join(", ")
                ));
            }
        }
        for tag in &self.matches.tag {
            if !tag.contains('=') {
                return Err(format!(
                    "{at}: match.tag {tag:?}: write KEY=VALUE, e.g. user:team=web"
                ));
            }
        }
        Ok(())
    }
}
