//! A chat webhook (`[alerts.webhook]`): Slack's incoming-webhook JSON (a header and a section
//! per alert, with its link), which Mattermost, Microsoft Teams workflows and Google Chat
//! take too. The URL is a secret: it is read from the environment variable the config names.

mod blocks;
mod channel;
mod config;

pub use channel::Webhook;
pub use config::WebhookConfig;
