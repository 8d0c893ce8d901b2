//! The outbox: rendered digests kept until a channel delivers them.

use super::Ledger;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

/// A digest waiting for delivery.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub run_date: NaiveDate,
    pub subject: String,
    /// The complete RFC 5322 message.
    pub message: Vec<u8>,
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

    /// Stores a rendered digest and attaches the given alerts to it; returns its id.
    pub fn enqueue_digest(
        &self,
        run_date: NaiveDate,
        subject: &str,
        message: &[u8],
        alert_ids: &[i64],
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO outbox (run_date, created_at, subject, message, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![run_date, Utc::now().to_rfc3339(), subject, message],
        )?;
        let id = self.conn.last_insert_rowid();
        let mut attach = self
            .conn
            .prepare("UPDATE alerts SET outbox_id = ?1 WHERE id = ?2")?;
        for alert in alert_ids {
            attach.execute(params![id, alert])?;
        }
        Ok(id)
    }

    /// Digests not delivered yet, oldest first.
    pub fn pending_messages(&self) -> Result<Vec<OutboxMessage>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, run_date, subject, message FROM outbox WHERE status = 'pending' ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxMessage {
                id: r.get(0)?,
                run_date: r.get(1)?,
                subject: r.get(2)?,
                message: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Claims the pending digests not claimed by someone else since `stale_before` for
    /// `claimant`, and returns them. A claim kept in a shared ledger before sending keeps a
    /// concurrent run from sending the same digest; delivering or failing ends it.
    pub fn claim_pending(
        &self,
        claimant: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxMessage>> {
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
        Ok((self.pending_messages()?.into_iter())
            .filter(|m| claimed.contains(&m.id))
            .collect())
    }

    /// Marks a digest delivered, noting where it went.
    pub fn mark_delivered(&self, id: i64, delivered_to: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, last_error = NULL, delivered_to = ?2,
                claimed_by = NULL, claimed_at = NULL
             WHERE id = ?1",
            params![id, delivered_to],
        )?;
        Ok(())
    }

    /// Records a failed delivery attempt; the digest stays pending for the next run.
    pub fn mark_attempt_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, claimed_by = NULL, claimed_at = NULL
             WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }
}
