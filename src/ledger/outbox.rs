//! The outbox: digests kept as data until every channel has delivered them, each channel's
//! delivery state apart (attempts, last error).

use super::Ledger;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

/// A digest in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub run_date: NaiveDate,
    /// The route it is for (`""`: the default one).
    pub route: String,
    pub subject: String,
    /// The digest as JSON (`None` for a digest an older costwatch queued as a finished e-mail).
    pub digest: Option<String>,
    /// The finished RFC 5322 e-mail of such an older digest.
    pub message: Vec<u8>,
}

/// One channel's delivery of one digest.
#[derive(Debug, Clone)]
pub struct DeliveryState {
    pub channel: String,
    /// `pending`, `delivered` or `dropped`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub delivered_to: Option<String>,
}

impl Ledger {
    /// Whether a digest was already queued for `run_date` (a rerun tells a problem only once).
    pub fn has_digest(&self, run_date: NaiveDate) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE run_date = ?1)",
            [run_date],
            |r| r.get(0),
        )?)
    }

    /// The run date of the newest digest queued before `run_date`.
    pub fn last_digest_before(&self, run_date: NaiveDate) -> Result<Option<NaiveDate>> {
        Ok(self.conn.query_row(
            "SELECT MAX(run_date) FROM outbox WHERE run_date < ?1",
            [run_date],
            |r| r.get(0),
        )?)
    }

    /// Stores a digest for `route`, to be delivered by `channels`, and attaches the given
    /// alerts to it; returns its id.
    pub fn enqueue_digest(
        &self,
        run_date: NaiveDate,
        route: &str,
        subject: &str,
        digest: &str,
        alert_ids: &[i64],
        channels: &[&str],
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO outbox (run_date, created_at, subject, message, status, digest, route)
             VALUES (?1, ?2, ?3, x'', 'pending', ?4, ?5)",
            params![run_date, Utc::now().to_rfc3339(), subject, digest, route],
        )?;
        let id = self.conn.last_insert_rowid();
        let mut attach = self
            .conn
            .prepare_cached("UPDATE alerts SET outbox_id = ?1 WHERE id = ?2")?;
        for alert in alert_ids {
            attach.execute(params![id, alert])?;
        }
        let mut deliver = self.conn.prepare_cached(
            "INSERT INTO deliveries (outbox_id, channel, status) VALUES (?1, ?2, 'pending')",
        )?;
        for channel in channels {
            deliver.execute(params![id, channel])?;
        }
        Ok(id)
    }

    /// Digests with a delivery still pending, oldest first.
    pub fn pending_digests(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_entries("WHERE status = 'pending'")
    }

    /// Claims the pending digests not claimed by someone else since `stale_before` for
    /// `claimant`, and returns them. A claim kept in a shared ledger before sending keeps a
    /// concurrent run from sending the same digest; [`Ledger::release_claim`] ends it.
    pub fn claim_pending(
        &self,
        claimant: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>> {
        let claimed: Vec<i64> = {
            let mut stmt = self.conn.prepare(
                "UPDATE outbox SET claimed_by = ?1, claimed_at = ?2
                 WHERE status = 'pending' AND (claimed_by IS NULL OR claimed_at < ?3)
                 RETURNING id",
            )?;
            stmt.query_map(
                params![claimant, now.to_rfc3339(), stale_before.to_rfc3339()],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?
        };
        Ok((self.pending_digests()?.into_iter())
            .filter(|m| claimed.contains(&m.id))
            .collect())
    }

    /// Ends a claim on a digest once its sending was recorded.
    pub fn release_claim(&self, outbox_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE id = ?1",
            [outbox_id],
        )?;
        Ok(())
    }

    /// Every digest, newest first (for `costwatch outbox list`).
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let mut all = self.outbox_entries("")?;
        all.reverse();
        all.truncate(limit);
        Ok(all)
    }

    /// One digest.
    pub fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>> {
        Ok(self
            .outbox_entries(&format!("WHERE id = {id}"))?
            .into_iter()
            .next())
    }

    fn outbox_entries(&self, filter: &str) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, run_date, route, subject, digest, message FROM outbox {filter} ORDER BY id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxEntry {
                id: r.get(0)?,
                run_date: r.get(1)?,
                route: r.get(2)?,
                subject: r.get(3)?,
                digest: r.get(4)?,
                message: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The delivery states of a digest, by channel.
    pub fn deliveries(&self, outbox_id: i64) -> Result<Vec<DeliveryState>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT channel, status, attempts, last_error, delivered_to
             FROM deliveries WHERE outbox_id = ?1 ORDER BY channel",
        )?;
        let rows = stmt.query_map([outbox_id], |r| {
            Ok(DeliveryState {
                channel: r.get(0)?,
                status: r.get(1)?,
                attempts: r.get(2)?,
                last_error: r.get(3)?,
                delivered_to: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds a pending delivery through `channel` unless the digest has one (a digest queued
    /// by an older costwatch, or a channel configured since).
    pub fn ensure_delivery(&self, outbox_id: i64, channel: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO deliveries (outbox_id, channel, status) VALUES (?1, ?2, 'pending')",
            params![outbox_id, channel],
        )?;
        Ok(())
    }

    /// Records a delivery through `channel`.
    pub fn mark_delivered(
        &self,
        outbox_id: i64,
        channel: &str,
        tries: u32,
        delivered_to: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE deliveries SET status = 'delivered', attempts = attempts + ?3, last_error = NULL,
                delivered_to = ?4
             WHERE outbox_id = ?1 AND channel = ?2",
            params![outbox_id, channel, tries, delivered_to],
        )?;
        self.close_if_done(outbox_id)
    }

    /// Records `tries` failed attempts through `channel`; the next run tries again.
    pub fn mark_attempt_failed(
        &self,
        outbox_id: i64,
        channel: &str,
        tries: u32,
        error: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE deliveries SET attempts = attempts + ?3, last_error = ?4
             WHERE outbox_id = ?1 AND channel = ?2",
            params![outbox_id, channel, tries, error],
        )?;
        Ok(())
    }

    /// Gives up a digest's pending deliveries; false when there is no such digest.
    pub fn drop_digest(&self, outbox_id: i64) -> Result<bool> {
        let found = self.outbox_entry(outbox_id)?.is_some();
        self.conn.execute(
            "UPDATE deliveries SET status = 'dropped' WHERE outbox_id = ?1 AND status = 'pending'",
            [outbox_id],
        )?;
        self.close_if_done(outbox_id)?;
        Ok(found)
    }

    /// Marks a digest done once no delivery is pending.
    fn close_if_done(&self, outbox_id: i64) -> Result<()> {
        let pending: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM deliveries WHERE outbox_id = ?1 AND status = 'pending' LIMIT 1",
                [outbox_id],
                |r| r.get(0),
            )
            .optional()?;
        if pending.is_none() {
            self.conn.execute(
                "UPDATE outbox SET status = 'delivered' WHERE id = ?1",
                [outbox_id],
            )?;
        }
        Ok(())
    }
}
