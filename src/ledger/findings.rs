//! Findings (one open per scope) and the alerts decided from them.

use super::Ledger;
use crate::model::{Action, Finding, Severity};
use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

/// The open finding of a scope, as far as the lifecycle needs it.
#[derive(Debug, Clone)]
pub struct OpenFinding {
    pub id: i64,
    pub alerted_severity: Severity,
    pub last_day: NaiveDate,
}

/// An alert as stored, and as printed by `backtest --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRecord {
    #[serde(skip)]
    pub id: i64,
    /// The run date: the day this notification goes out.
    pub day: NaiveDate,
    pub rule: String,
    pub account: String,
    /// Product code, e.g. `AmazonEC2`.
    pub service: String,
    pub service_name: String,
    pub usage_type: String,
    pub severity: Severity,
    /// Cost per day observed on `data_day` (or over the rule's recent window).
    pub observed: f64,
    /// Cost per day the baseline expected.
    pub expected: f64,
    pub monthly_impact: f64,
    pub message: String,
    /// Root cause: where the change is (regions, tags, usage types, accounts) and whether it is
    /// volume or price; empty when nothing more can be said.
    pub detail: String,
    /// What the rule asked for besides the notification.
    pub action: Action,
    /// `new` for a newly opened finding, `escalated` when its severity rose.
    pub reason: String,
    /// The billing day the finding is about.
    pub data_day: NaiveDate,
}

impl AlertRecord {
    pub(super) fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            day: r.get("run_date")?,
            rule: r.get("rule")?,
            account: r.get("account")?,
            service: r.get("service_code")?,
            service_name: r.get("service_name")?,
            usage_type: r.get("usage_type")?,
            severity: Severity::parse(&r.get::<_, String>("severity")?),
            observed: r.get("observed")?,
            expected: r.get("expected")?,
            monthly_impact: r.get("monthly_impact")?,
            message: r.get("message")?,
            detail: r.get("detail")?,
            action: serde_json::from_str(&r.get::<_, String>("action")?).unwrap_or_default(),
            reason: r.get("reason")?,
            data_day: r.get("day")?,
        })
    }
}

/// A finding back to normal.
#[derive(Debug, Clone)]
pub struct ResolvedFinding {
    pub account: String,
    pub service_name: String,
    pub usage_type: String,
    pub rule: String,
    pub first_day: NaiveDate,
    pub resolved_day: NaiveDate,
}

/// A finding as `costwatch findings` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRecord {
    pub id: i64,
    pub rule: String,
    pub status: String,
    pub account: String,
    pub service: String,
    pub service_name: String,
    pub usage_type: String,
    pub severity: Severity,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub resolved_day: Option<NaiveDate>,
    pub monthly_impact: f64,
    pub message: String,
    /// Acknowledged until this day (inclusive), if it is.
    pub acked_until: Option<NaiveDate>,
    pub ack_note: Option<String>,
}

/// A scope snoozed until a day (`costwatch snooze`); an empty field matches any.
#[derive(Debug, Clone, Serialize)]
pub struct Snooze {
    pub account: String,
    pub service_code: String,
    pub usage_type: String,
    pub until: NaiveDate,
    pub note: String,
}

impl Ledger {
    /// Findings resolved after `after` (any time when `None`) and up to `until`.
    pub fn resolved_between(
        &self,
        after: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<ResolvedFinding>> {
        let mut stmt = self.conn.prepare(
            "SELECT account, service_name, usage_type, rule, first_day, resolved_day FROM findings
             WHERE status = 'resolved' AND resolved_day <= ?2 AND (?1 IS NULL OR resolved_day > ?1)
             ORDER BY resolved_day, id",
        )?;
        let rows = stmt.query_map(params![after, until], |r| {
            Ok(ResolvedFinding {
                account: r.get(0)?,
                service_name: r.get(1)?,
                usage_type: r.get(2)?,
                rule: r.get(3)?,
                first_day: r.get(4)?,
                resolved_day: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Findings, the open ones only with `open_only`, newest first.
    pub fn findings(&self, open_only: bool) -> Result<Vec<FindingRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, rule, status, account, service_code, service_name, usage_type, severity,
                first_day, last_day, resolved_day, monthly_impact, message, acked_until, ack_note
             FROM findings WHERE (?1 = 0 OR status = 'open') ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([open_only], |r| {
            Ok(FindingRecord {
                id: r.get(0)?,
                rule: r.get(1)?,
                status: r.get(2)?,
                account: r.get(3)?,
                service: r.get(4)?,
                service_name: r.get(5)?,
                usage_type: r.get(6)?,
                severity: Severity::parse(&r.get::<_, String>(7)?),
                first_day: r.get(8)?,
                last_day: r.get(9)?,
                resolved_day: r.get(10)?,
                monthly_impact: r.get(11)?,
                message: r.get(12)?,
                acked_until: r.get(13)?,
                ack_note: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Acknowledges a finding until a day (for good when `None`); false when there is none.
    pub fn ack_finding(&self, id: i64, until: Option<NaiveDate>, note: &str) -> Result<bool> {
        let until = until.unwrap_or(NaiveDate::MAX);
        let n = self.conn.execute(
            "UPDATE findings SET acked_until = ?2, ack_note = ?3 WHERE id = ?1",
            params![id, until, note],
        )?;
        Ok(n > 0)
    }

    /// Snoozes a scope until a day.
    pub fn snooze(&self, snooze: &Snooze) -> Result<()> {
        self.conn.execute(
            "INSERT INTO snoozes (account, service_code, usage_type, until, note, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                snooze.account,
                snooze.service_code,
                snooze.usage_type,
                snooze.until,
                snooze.note,
                chrono::Utc::now().to_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// Snoozes in force on `day`.
    pub fn snoozes(&self, day: NaiveDate) -> Result<Vec<Snooze>> {
        let mut stmt = self.conn.prepare(
            "SELECT account, service_code, usage_type, until, note FROM snoozes WHERE until >= ?1",
        )?;
        let rows = stmt.query_map([day], |r| {
            Ok(Snooze {
                account: r.get(0)?,
                service_code: r.get(1)?,
                usage_type: r.get(2)?,
                until: r.get(3)?,
                note: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The day an open finding is acknowledged until, if it is.
    pub fn acked_until(&self, finding_id: i64) -> Result<Option<NaiveDate>> {
        Ok(self
            .conn
            .query_row(
                "SELECT acked_until FROM findings WHERE id = ?1",
                [finding_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The alerts of run dates in `[from, to]`, by run date.
    pub fn alerts_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AlertRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM alerts WHERE run_date BETWEEN ?1 AND ?2 ORDER BY run_date, id",
        )?;
        let rows = stmt.query_map(params![from, to], AlertRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The open finding for a scope key, if any.
    pub fn open_finding(&self, scope: &str) -> Result<Option<OpenFinding>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, alerted_severity, last_day FROM findings WHERE scope = ?1 AND status = 'open'",
                [scope],
                |r| {
                    Ok(OpenFinding {
                        id: r.get(0)?,
                        alerted_severity: Severity::parse(&r.get::<_, String>(1)?),
                        last_day: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The highest level an alert of `scope` since `since` (a data day) reported, if any.
    pub fn reported_level(&self, scope: &str, since: NaiveDate) -> Result<Option<f64>> {
        Ok(self.conn.query_row(
            "SELECT MAX(a.observed) FROM alerts a JOIN findings f ON f.id = a.finding_id
             WHERE f.scope = ?1 AND a.day >= ?2 AND a.reason <> 'silenced'",
            params![scope, since],
            |r| r.get(0),
        )?)
    }

    /// Opens a new finding (alerted at its own severity) and returns its id.
    pub fn open_new_finding(&self, f: &Finding) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO findings (scope, rule, account, service_code, service_name, usage_type, status,
                first_day, last_day, severity, alerted_severity, observed, expected, score, monthly_impact, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                f.scope.key(),
                f.rule,
                f.scope.account,
                f.scope.service_code,
                f.scope.service_name,
                f.scope.usage_type,
                f.day,
                f.severity.as_str(),
                f.observed,
                f.expected,
                f.score,
                f.monthly_impact,
                f.message
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Updates an open finding with a newer detection; `alerted` raises its alerted severity.
    pub fn update_finding(&self, id: i64, f: &Finding, alerted: Option<Severity>) -> Result<()> {
        self.conn.execute(
            "UPDATE findings SET rule = ?2, last_day = MAX(last_day, ?3), severity = ?4, observed = ?5, expected = ?6,
                score = ?7, monthly_impact = ?8, message = ?9, alerted_severity = COALESCE(?10, alerted_severity)
             WHERE id = ?1",
            params![
                id,
                f.rule,
                f.day,
                f.severity.as_str(),
                f.observed,
                f.expected,
                f.score,
                f.monthly_impact,
                f.message,
                alerted.map(Severity::as_str)
            ],
        )?;
        Ok(())
    }

    /// Resolves open findings of the given rules last seen before `cutoff`; returns how many.
    pub fn resolve_quiet_findings(
        &self,
        cutoff: NaiveDate,
        resolved_on: NaiveDate,
        rules: &[&str],
    ) -> Result<usize> {
        let mut stmt = self.conn.prepare(
            "UPDATE findings SET status = 'resolved', resolved_day = ?2
             WHERE status = 'open' AND last_day < ?1 AND rule = ?3",
        )?;
        let mut resolved = 0;
        for rule in rules {
            resolved += stmt.execute(params![cutoff, resolved_on, rule])?;
        }
        Ok(resolved)
    }

    /// Records an alert for a finding and returns it.
    pub fn insert_alert(
        &self,
        run_date: NaiveDate,
        finding_id: i64,
        reason: &str,
        f: &Finding,
    ) -> Result<AlertRecord> {
        self.conn.execute(
            "INSERT INTO alerts (run_date, finding_id, reason, rule, day, account, service_code, service_name,
                usage_type, severity, observed, expected, monthly_impact, message, detail, action)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                run_date,
                finding_id,
                reason,
                f.rule,
                f.day,
                f.scope.account,
                f.scope.service_code,
                f.scope.service_name,
                f.scope.usage_type,
                f.severity.as_str(),
                f.observed,
                f.expected,
                f.monthly_impact,
                f.message,
                f.detail.as_deref().unwrap_or_default(),
                serde_json::to_string(&f.action)?
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        Ok(self.conn.query_row(
            "SELECT * FROM alerts WHERE id = ?1",
            [id],
            AlertRecord::from_row,
        )?)
    }

    /// Forgets every finding and alert (used inside a rolled-back backtest transaction, so a
    /// replay starts from a clean slate).
    pub fn clear_findings(&self) -> Result<()> {
        self.conn
            .execute_batch("DELETE FROM alerts; DELETE FROM findings;")?;
        Ok(())
    }
}
