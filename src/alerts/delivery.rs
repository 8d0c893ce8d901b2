//! Delivering the outbox: every pending digest through each channel it is still due on.
//! A channel that fails is tried a few times with a growing delay, then again on each later
//! run, without sending again through the channels that succeeded; nothing leaves the outbox
//! undelivered.

use super::channels::{Channel, Outgoing};
use super::digest::Digest;
use super::{AlertsConfig, Route};
use crate::aws::AwsConfig;
use crate::ledger::Ledger;
use anyhow::Result;
use std::time::Duration;

/// Attempts per channel and run; the delay before the next doubles from [`FIRST_DELAY`].
const ATTEMPTS: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(500);

/// What happened to one digest on one channel.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub outbox_id: i64,
    pub channel: String,
    /// Where it went, or why it is still pending.
    pub result: Result<String, String>,
}

/// As JSON: `{"outbox_id", "channel", "delivered_to"}` or `{..., "error"}`.
impl serde::Serialize for Delivery {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Delivery", 3)?;
        out.serialize_field("outbox_id", &self.outbox_id)?;
        out.serialize_field("channel", &self.channel)?;
        match &self.result {
            Ok(to) => out.serialize_field("delivered_to", to)?,
            Err(e) => out.serialize_field("error", e)?,
        }
        out.end()
    }
}

/// Tries every pending delivery of every pending digest, a few times with a growing delay;
/// failures are recorded and left for a later run (each run tries again).
pub fn deliver_pending(
    ledger: &Ledger,
    alerts: &AlertsConfig,
    routes: &[Route],
    aws: &AwsConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Delivery>> {
    let channels = alerts.channels(aws);
    let mut out = Vec::new();
    for entry in ledger.pending_digests()? {
        if entry.digest.is_none() {
            // Queued by an older costwatch as a finished e-mail: it goes by e-mail.
            ledger.ensure_delivery(entry.id, channels[0].name())?;
        }
        let digest: Option<Digest> = match &entry.digest {
            Some(json) => Some(serde_json::from_str(json)?),
            None => None,
        };
        let route = routes.iter().find(|r| r.name == entry.route);
        let to = match route {
            Some(r) if !r.to.is_empty() => &r.to,
            _ => &alerts.to,
        };
        for state in ledger.deliveries(entry.id)? {
            if state.status != "pending" {
                continue;
            }
            let Some(channel) = channels.iter().find(|c| c.name() == state.channel) else {
                continue; // no longer configured: kept for when it is again
            };
            let outgoing = Outgoing {
                id: entry.id,
                run_date: entry.run_date,
                route: &entry.route,
                from: &alerts.from,
                to,
                digest: digest.as_ref(),
                message: &entry.message,
            };
            let (result, tries) = send(channel.as_ref(), &outgoing, runtime);
            match &result {
                Ok(target) => ledger.mark_delivered(entry.id, channel.name(), tries, target)?,
                Err(e) => {
                    tracing::warn!(outbox_id = entry.id, channel = channel.name(), error = %e,
                        "digest not delivered; kept in the outbox for a later run");
                    ledger.mark_attempt_failed(entry.id, channel.name(), tries, e)?;
                }
            }
            out.push(Delivery {
                outbox_id: entry.id,
                channel: channel.name().into(),
                result,
            });
        }
    }
    Ok(out)
}

/// Sends through `channel`, up to [`ATTEMPTS`] times with a doubling delay between them;
/// also returns how many tries it took.
fn send(
    channel: &dyn Channel,
    outgoing: &Outgoing,
    runtime: &tokio::runtime::Runtime,
) -> (Result<String, String>, u32) {
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match channel.send(outgoing, runtime) {
            Ok(target) => return (Ok(target), attempt),
            Err(e) if attempt == ATTEMPTS => return (Err(format!("{e:#}")), attempt),
            Err(e) => {
                tracing::debug!(channel = channel.name(), attempt, error = %format!("{e:#}"), "retrying");
                std::thread::sleep(delay);
                delay *= 2;
                attempt += 1;
            }
        }
    }
}
