//! Amazon SNS (`[alerts.sns]`): the digest's text published to a topic (e-mail, SMS, chat
//! and Lambda subscribers of the topic get it), through the `[aws]` settings.

use super::{Channel, ChannelConfig, Outgoing};
use crate::alerts::digest::text;
use crate::aws::{AwsConfig, Statement, describe};
use anyhow::{Result, anyhow, bail};
use serde::Deserialize;

/// An SNS topic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    /// `arn:aws:sns:REGION:ACCOUNT:NAME`.
    pub topic_arn: String,
    /// The topic's region (default: the one in its ARN).
    pub region: Option<String>,
    /// Endpoint override for this service only.
    pub endpoint_url: Option<String>,
}

impl ChannelConfig for SnsConfig {
    fn build(&self, aws: &AwsConfig) -> Box<dyn Channel> {
        Box::new(Sns {
            config: self.clone(),
            aws: aws.clone(),
        })
    }

    fn validate(&self) -> Result<(), String> {
        let parts: Vec<&str> = self.topic_arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sns", region, account, name]
                if !region.is_empty() && account.len() == 12 && !name.is_empty() =>
            {
                Ok(())
            }
            _ => Err(format!(
                "alerts.sns.topic_arn = {:?}: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
                self.topic_arn
            )),
        }
    }

    fn iam(&self) -> Vec<Statement> {
        vec![Statement::allow(
            "AlertsTopic",
            &["sns:Publish"],
            [self.topic_arn.clone()],
        )]
    }
}

/// The SNS channel.
pub struct Sns {
    config: SnsConfig,
    aws: AwsConfig,
}

/// SNS takes subjects of at most 100 characters and messages of at most 256 KB.
const MAX_SUBJECT: usize = 100;
const MAX_MESSAGE: usize = 250_000;

impl Channel for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn send(&self, outgoing: &Outgoing, runtime: &tokio::runtime::Runtime) -> Result<String> {
        let Some(digest) = outgoing.digest else {
            bail!("a digest queued by an older costwatch goes by e-mail only");
        };
        let mut message = text(digest)?;
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message += "\n… (cut: the whole digest is in the e-mail and `costwatch report`)";
        }
        // SNS takes printable ASCII subjects only.
        let subject: String = (digest.subject.chars())
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '-'
                }
            })
            .take(MAX_SUBJECT)
            .collect();
        let region = (self.config.region.clone())
            .or_else(|| self.config.topic_arn.split(':').nth(3).map(String::from));
        runtime.block_on(async {
            let sdk = crate::aws::sdk_config(
                &self.aws,
                region.as_deref(),
                self.config.endpoint_url.as_deref(),
            )
            .await?;
            aws_sdk_sns::Client::new(&sdk)
                .publish()
                .topic_arn(&self.config.topic_arn)
                .subject(subject)
                .message(message)
                .send()
                .await
                .map_err(|e| anyhow!(describe("SNS Publish", &e)))?;
            Ok(format!("sns {}", self.config.topic_arn))
        })
    }
}
