//! Delivering outbox digests: to an SMTP server when configured, else as `.eml` files in a folder.
//! A digest stays pending in the ledger until a delivery succeeds, so nothing is lost.

use super::{AlertsConfig as Alerts, SmtpConfig as Smtp, SmtpSecurity};
use crate::ledger::{Ledger, OutboxMessage};
use anyhow::{Context, Result, anyhow};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::Path;
use std::time::Duration;

/// What happened to one pending digest.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub outbox_id: i64,
    /// Where it went, or why it is still pending.
    pub result: Result<String, String>,
}

/// Tries to deliver every pending digest; failures are recorded and left for the next run.
pub fn deliver_pending(
    ledger: &Ledger,
    config: &Alerts,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Delivery>> {
    let deliveries = send(&ledger.pending_messages()?, config, runtime);
    record(ledger, &deliveries)?;
    Ok(deliveries)
}

/// Sends each message (recording nothing: see [`record`]).
pub fn send(
    messages: &[OutboxMessage],
    config: &Alerts,
    runtime: &tokio::runtime::Runtime,
) -> Vec<Delivery> {
    (messages.iter())
        .map(|msg| {
            let result = match &config.smtp {
                Some(smtp) => runtime.block_on(send_smtp(smtp, config, msg)),
                None => write_eml(&config.outbox_dir, msg),
            };
            if let Err(e) = &result {
                tracing::warn!(outbox_id = msg.id, error = %format!("{e:#}"), "digest not delivered; kept in the outbox for the next run");
            }
            Delivery {
                outbox_id: msg.id,
                result: result.map_err(|e| format!("{e:#}")),
            }
        })
        .collect()
}

/// Records what happened to each digest: delivered, or an attempt failed (it stays pending).
pub fn record(ledger: &Ledger, deliveries: &[Delivery]) -> Result<()> {
    for d in deliveries {
        match &d.result {
            Ok(to) => ledger.mark_delivered(d.outbox_id, to)?,
            Err(e) => ledger.mark_attempt_failed(d.outbox_id, e)?,
        }
    }
    Ok(())
}

/// The deliveries as the run summary shows them: each digest's id, and where it went or why not.
pub fn results(deliveries: &[Delivery]) -> Vec<(i64, Result<String, String>)> {
    (deliveries.iter())
        .map(|d| (d.outbox_id, d.result.clone()))
        .collect()
}

/// Writes the digest as `<run date>-<id>.eml` (via a temporary name, so no half file is seen).
fn write_eml(dir: &Path, msg: &OutboxMessage) -> Result<String> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating outbox folder {}", dir.display()))?;
    let path = dir.join(format!("{}-{}.eml", msg.run_date, msg.id));
    let tmp = path.with_extension("eml.tmp");
    std::fs::write(&tmp, &msg.message).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path.display().to_string())
}

async fn send_smtp(smtp: &Smtp, config: &Alerts, msg: &OutboxMessage) -> Result<String> {
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
    let from = mailbox_address(&config.from)?;
    let to = config
        .to
        .iter()
        .map(|t| mailbox_address(t))
        .collect::<Result<Vec<_>>>()?;
    let envelope = Envelope::new(Some(from), to)?;
    // lettre's own timeout covers only the connection; bound the whole exchange.
    tokio::time::timeout(timeout, transport.send_raw(&envelope, &msg.message))
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
