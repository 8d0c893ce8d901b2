//! Where digests go. Each channel is a folder `channels/<name>/`: its `[alerts.<name>]`
//! table (`config.rs`) and its [`Channel`]; one line of `register!` (src/alerts/config.rs)
//! adds it to the config.

pub mod eml;
pub mod smtp;
pub mod sns;
pub mod webhook;

use super::digest::Digest;
use crate::aws::{AwsConfig, Statement};
use anyhow::Result;
use chrono::NaiveDate;

/// A digest on its way: the outbox entry, its route's recipients and the digest itself.
pub struct Outgoing<'a> {
    /// The outbox id.
    pub id: i64,
    pub run_date: NaiveDate,
    /// The route's name (`""` for the default route).
    pub route: &'a str,
    pub from: &'a str,
    /// The route's e-mail recipients.
    pub to: &'a [String],
    /// The digest; `None` for a digest an older costwatch queued as a finished e-mail.
    pub digest: Option<&'a Digest>,
    /// That finished e-mail (RFC 5322), else empty.
    pub message: &'a [u8],
}

/// A way digests reach people: e-mail (SMTP, or `.eml` files), a chat webhook, SNS.
pub trait Channel {
    /// The channel's name, as in `[alerts.<name>]` and a route's `channels`.
    fn name(&self) -> &'static str;
    /// Sends one digest within the channel's own deadline; where it went.
    fn send(&self, outgoing: &Outgoing, runtime: &tokio::runtime::Runtime) -> Result<String>;
}

/// An `[alerts.<name>]` table.
pub trait ChannelConfig: std::fmt::Debug {
    /// Builds the channel (AWS ones through the `[aws]` settings).
    fn build(&self, aws: &AwsConfig) -> Box<dyn Channel>;
    /// Checks what serde cannot (addresses, names of environment variables).
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
    /// The IAM statements its sending needs (`costwatch iam-policy`).
    fn iam(&self) -> Vec<Statement> {
        Vec::new()
    }
    /// The environment variable it reads a secret from, if any (a deployment passes it on).
    fn secret_env(&self) -> Option<&str> {
        None
    }
}

/// Whether `name` can name an environment variable (and is not, say, a secret itself).
pub fn env_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit())
}

/// The e-mail of `outgoing`: its digest rendered, or the e-mail an older costwatch queued.
pub fn email_bytes(outgoing: &Outgoing) -> Result<Vec<u8>> {
    match outgoing.digest {
        Some(digest) => super::digest::email(digest, outgoing.from, outgoing.to),
        None => Ok(outgoing.message.to_vec()),
    }
}
