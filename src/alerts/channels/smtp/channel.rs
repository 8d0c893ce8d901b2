//! Sending a digest by SMTP.

use super::{SmtpConfig, SmtpSecurity};
use crate::alerts::channels::{Channel, Outgoing, email_bytes};
use anyhow::{Context, Result, anyhow};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// The SMTP channel.
pub struct Smtp(pub SmtpConfig);

impl Channel for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn send(&self, outgoing: &Outgoing, runtime: &tokio::runtime::Runtime) -> Result<String> {
        runtime.block_on(send(&self.0, outgoing))
    }
}

async fn send(smtp: &SmtpConfig, outgoing: &Outgoing<'_>) -> Result<String> {
    let timeout = Duration::from_secs(smtp.timeout_secs);
    let mut builder = match smtp.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    }
    .port(smtp.port)
    .timeout(Some(timeout));
    if let Some(user) = &smtp.username {
        let password = match &smtp.password_env {
            Some(var) => std::env::var(var).map_err(|_| {
                // Not named: a password put in `password_env` by mistake must not be logged.
                anyhow!("the environment variable named by alerts.smtp.password_env is not set")
            })?,
            None => String::new(),
        };
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let transport = builder.build();
    let from = mailbox_address(outgoing.from)?;
    let to = (outgoing.to.iter())
        .map(|t| mailbox_address(t))
        .collect::<Result<Vec<_>>>()?;
    let envelope = Envelope::new(Some(from), to)?;
    let message = email_bytes(outgoing)?;
    // lettre's own timeout covers only the connection; bound the whole exchange.
    tokio::time::timeout(timeout, transport.send_raw(&envelope, &message))
        .await
        .map_err(|_| {
            anyhow!(
                "SMTP {}:{} did not answer within {}s",
                smtp.host,
                smtp.port,
                smtp.timeout_secs
            )
        })?
        .with_context(|| format!("SMTP {}:{}", smtp.host, smtp.port))?;
    Ok(format!("smtp://{}:{}", smtp.host, smtp.port))
}

fn mailbox_address(s: &str) -> Result<Address> {
    Ok(s.parse::<lettre::message::Mailbox>()?.email)
}
