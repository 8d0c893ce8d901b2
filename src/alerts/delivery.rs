//! Delivering the outbox: every pending digest through each channel it is still due on.
//! A channel that fails is tried a few times with a growing delay, then again on each later
//! run, without sending again through the channels that succeeded; nothing leaves the outbox
//! undelivered.

use super::channels::{Channel, Outgoing};
use super::digest::Digest;
use super::{AlertsConfig, Route};
use crate::aws::AwsConfig;
use crate::ledger::{Ledger, OutboxEntry};
use anyhow::Result;
use chrono::{DateTime, Utc};
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
    /// Attempts it took (or made, when it failed).
    pub tries: u32,
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
        let due = due(ledger, entry, &channels)?;
        let sent = send_due(&due, &channels, alerts, routes, runtime)?;
        record(ledger, &sent)?;
        out.extend(sent);
    }
    Ok(out)
}

/// A digest to send, and the channels it is still due on.
#[derive(Debug, Clone)]
pub struct Due {
    pub entry: OutboxEntry,
    /// The names of the channels whose delivery is still pending.
    pub channels: Vec<String>,
}

/// Claims the pending digests for `claimant` (see [`Ledger::claim_pending`]): what a run on
/// a shared ledger sends once that ledger is stored.
pub fn claim_due(
    ledger: &Ledger,
    alerts: &AlertsConfig,
    aws: &AwsConfig,
    claimant: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<Vec<Due>> {
    let channels = alerts.channels(aws);
    (ledger
        .claim_pending(claimant, now, stale_before)?
        .into_iter())
    .map(|entry| due(ledger, entry, &channels))
    .collect()
}

/// Sends claimed digests (recording nothing: see [`record`]).
pub fn send(
    due: &[Due],
    alerts: &AlertsConfig,
    routes: &[Route],
    aws: &AwsConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Delivery>> {
    let channels = alerts.channels(aws);
    let mut out = Vec::new();
    for d in due {
        out.extend(send_due(d, &channels, alerts, routes, runtime)?);
    }
    Ok(out)
}

/// Records what happened on each channel (delivered, or tried and still pending) and ends
/// the digests' claims.
pub fn record(ledger: &Ledger, deliveries: &[Delivery]) -> Result<()> {
    for d in deliveries {
        match &d.result {
            Ok(target) => ledger.mark_delivered(d.outbox_id, &d.channel, d.tries, target)?,
            Err(e) => ledger.mark_attempt_failed(d.outbox_id, &d.channel, d.tries, e)?,
        }
        ledger.release_claim(d.outbox_id)?;
    }
    Ok(())
}

/// The channels `entry` is still due on (configured ones only: a channel removed from the
/// config keeps its pending state for when it is back).
fn due(ledger: &Ledger, entry: OutboxEntry, channels: &[Box<dyn Channel>]) -> Result<Due> {
    if entry.digest.is_none() {
        // Queued by an older costwatch as a finished e-mail: it goes by e-mail.
        ledger.ensure_delivery(entry.id, channels[0].name())?;
    }
    let pending = (ledger.deliveries(entry.id)?.into_iter())
        .filter(|state| state.status == "pending")
        .filter(|state| channels.iter().any(|c| c.name() == state.channel))
        .map(|state| state.channel)
        .collect();
    Ok(Due {
        entry,
        channels: pending,
    })
}

/// Sends one digest through each channel it is due on.
fn send_due(
    due: &Due,
    channels: &[Box<dyn Channel>],
    alerts: &AlertsConfig,
    routes: &[Route],
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Delivery>> {
    let entry = &due.entry;
    let digest: Option<Digest> = match &entry.digest {
        Some(json) => Some(serde_json::from_str(json)?),
        None => None,
    };
    let route = routes.iter().find(|r| r.name == entry.route);
    let to = match route {
        Some(r) if !r.to.is_empty() => &r.to,
        _ => &alerts.to,
    };
    let mut out = Vec::new();
    for channel in channels
        .iter()
        .filter(|c| due.channels.iter().any(|n| n == c.name()))
    {
        let outgoing = Outgoing {
            id: entry.id,
            run_date: entry.run_date,
            route: &entry.route,
            from: &alerts.from,
            to,
            digest: digest.as_ref(),
            message: &entry.message,
        };
        let (result, tries) = send_through(channel.as_ref(), &outgoing, runtime);
        if let Err(e) = &result {
            tracing::warn!(outbox_id = entry.id, channel = channel.name(), error = %e,
                "digest not delivered; kept in the outbox for a later run");
        }
        out.push(Delivery {
            outbox_id: entry.id,
            channel: channel.name().into(),
            result,
            tries,
        });
    }
    Ok(out)
}

/// Sends through `channel`, up to [`ATTEMPTS`] times with a doubling delay between them;
/// also returns how many tries it took.
fn send_through(
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
