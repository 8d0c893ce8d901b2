//! `[alerts.webhook]`.

use super::Webhook;
use crate::alerts::channels::{Channel, ChannelConfig, env_name};
use crate::aws::AwsConfig;
use serde::Deserialize;

/// A Slack-compatible incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name of the environment variable holding the webhook URL (a secret).
    pub url_env: String,
    /// Deadline of one post, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    15
}

impl ChannelConfig for WebhookConfig {
    fn build(&self, _aws: &AwsConfig) -> Box<dyn Channel> {
        Box::new(Webhook(self.clone()))
    }

    fn validate(&self) -> Result<(), String> {
        if env_name(&self.url_env) {
            Ok(())
        } else {
            Err(
                "alerts.webhook.url_env must name an environment variable (e.g. \
                 SLACK_WEBHOOK_URL), not hold the URL"
                    .into(),
            )
        }
    }

    fn secret_env(&self) -> Option<&str> {
        Some(&self.url_env)
    }
}
