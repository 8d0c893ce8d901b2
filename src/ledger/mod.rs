//! The ledger: one SQLite file holding daily cost facts, findings, alerts, runs and the outbox.

mod api_state;
mod facts;
mod findings;
mod outbox;
mod runs;
mod scope;
mod spend;
mod stamps;
mod usage;

pub use api_state::Forecast;
pub use findings::{AlertRecord, FindingRecord, OpenFinding, ResolvedFinding, Snooze};
pub use outbox::{DeliveryState, OutboxEntry};
pub use scope::{ScopeCost, ScopeFilter};
pub use stamps::FileStamp;
pub use usage::{SOURCE_PREFERENCE, UsageHistory, UsageSeries};

use anyhow::{Context, Result};
use rusqlite::Connection;
use std::path::Path;

/// Schema migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
    include_str!("schema_v5.sql"),
    include_str!("schema_v6.sql"),
    include_str!("schema_v7.sql"),
    include_str!("schema_v8.sql"),
    include_str!("schema_v9.sql"),
    include_str!("schema_v10.sql"),
];

/// An open ledger.
pub struct Ledger {
    conn: Connection,
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn =
            Connection::open(path).with_context(|| format!("opening ledger {}", path.display()))?;
        // 16 KiB pages for a new ledger (no effect on an existing one): a billing period's
        // load writes a fifth fewer bytes than with 4 KiB.
        conn.pragma_update(None, "page_size", 16 * 1024)?;
        // A rollback journal, not a WAL: one costwatch process at a time holds a ledger (the
        // lock file), so a WAL's concurrent readers would buy nothing, while a load would be
        // written twice (to the WAL, then into the file at close), and the ledger is one file
        // after every commit. A ledger an older costwatch left in WAL mode is converted here.
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // `rarray()`: a root cause seeks its scope's series on each day by key.
        rusqlite::vtab::array::load_module(&conn)?;
        let ledger = Self { conn };
        ledger
            .migrate()
            .with_context(|| format!("migrating ledger {}", path.display()))?;
        Ok(ledger)
    }

    fn migrate(&self) -> Result<()> {
        let applied: usize = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if applied > MIGRATIONS.len() {
            anyhow::bail!(
                "the ledger has schema version {applied}, newer than this costwatch knows ({}); upgrade costwatch",
                MIGRATIONS.len()
            );
        }
        if applied == MIGRATIONS.len() {
            return Ok(());
        }
        // All in one transaction: a failure leaves the ledger at the version it had.
        let tx = self.conn.unchecked_transaction()?;
        for sql in &MIGRATIONS[applied..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in a transaction that is committed when `commit` is true and rolled back otherwise
    /// (backtests and dry runs see their own writes, then leave no trace).
    pub fn in_transaction<T>(
        &self,
        commit: bool,
        f: impl FnOnce(&Ledger) -> Result<T>,
    ) -> Result<T> {
        if commit {
            return self.atomically(|_| f(self));
        }
        self.conn.execute_batch("BEGIN")?;
        let out = f(self);
        self.conn.execute_batch("ROLLBACK")?;
        out
    }

    /// Runs `f` atomically: in a transaction of its own, or in a savepoint when a transaction
    /// is already open (a failure then undoes `f`'s writes only; the outer transaction decides
    /// on the rest).
    fn atomically<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let nested = !self.conn.is_autocommit();
        let (begin, commit, undo) = if nested {
            (
                "SAVEPOINT atomically",
                "RELEASE atomically",
                "ROLLBACK TO atomically; RELEASE atomically",
            )
        } else {
            ("BEGIN", "COMMIT", "ROLLBACK")
        };
        self.conn.execute_batch(begin)?;
        match f(&self.conn) {
            Ok(out) => {
                self.conn.execute_batch(commit)?;
                Ok(out)
            }
            Err(e) => {
                self.conn.execute_batch(undo)?;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, SeriesFacts};
    use std::path::PathBuf;

    /// A ledger file at schema `version`, as an older costwatch left it.
    fn ledger_at_version(dir: &Path, version: usize) -> (PathBuf, Connection) {
        let path = dir.join(format!("v{version}.db"));
        let conn = Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..version] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", version).unwrap();
        (path, conn)
    }

    #[test]
    fn a_wal_ledger_of_an_older_costwatch_becomes_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = ledger_at_version(dir.path(), MIGRATIONS.len());
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute(
            "INSERT INTO ingested_files (path, version, billing_periods)
             VALUES ('a.csv', '1:2', '2026-03')",
            [],
        )
        .unwrap();
        // As a crash leaves it: the last commit is only in the WAL.
        let crashed = dir.path().join("crashed.db");
        let wal = |db: &Path| PathBuf::from(format!("{}-wal", db.display()));
        std::fs::copy(&path, &crashed).unwrap();
        std::fs::copy(wal(&path), wal(&crashed)).unwrap();
        drop(conn);

        let ledger = Ledger::open(&crashed).unwrap();
        let mode: String = ledger
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        assert!(!wal(&crashed).exists());
        let files: i64 = ledger
            .conn
            .query_row("SELECT COUNT(*) FROM ingested_files", [], |r| r.get(0))
            .unwrap();
        assert_eq!(files, 1);
    }

    #[test]
    fn a_v1_ledger_with_alerts_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = ledger_at_version(dir.path(), 1);
        conn.execute_batch(
            "INSERT INTO findings (id, scope, rule, account, service_code, service_name, usage_type,
                status, first_day, last_day, severity, alerted_severity, observed, expected, score,
                monthly_impact, message)
             VALUES (1, 'a|s|u', 'spike', 'a', 's', 'S', 'u', 'open', '2026-03-01', '2026-03-01',
                'warning', 'warning', 2.0, 1.0, 5.0, 30.0, 'm');
             INSERT INTO alerts (run_date, finding_id, reason, rule, day, account, service_code,
                service_name, usage_type, severity, observed, expected, monthly_impact, message)
             VALUES ('2026-03-02', 1, 'new', 'spike', '2026-03-01', 'a', 's', 'S', 'u', 'warning',
                2.0, 1.0, 30.0, 'm');",
        )
        .unwrap();
        drop(conn);
        let ledger = Ledger::open(&path).unwrap();
        let (detail, action): (String, String) = ledger
            .conn
            .query_row("SELECT detail, action FROM alerts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(detail, "");
        assert_eq!(
            serde_json::from_str::<Action>(&action).unwrap(),
            Action::Notify
        );
    }

    #[test]
    fn a_v2_ledger_keeps_its_facts_and_replaces_a_period_through_the_day_key() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = ledger_at_version(dir.path(), 2);
        conn.execute_batch(
            "INSERT INTO daily_costs VALUES
               ('cur', '2026-02', '2026-02-28', 'a', 's', 'S', 'u', 'r', 'usage', 1, 1, 1, 'h', ''),
               ('cur', '2026-03', '2026-03-01', 'a', 's', 'S', 'u', 'r', 'usage', 2, 2, 1, 'h', ''),
               ('cur', '2026-03', '2026-03-02', 'a', 's', 'S', 'u', 'r', 'tax', 0.5, 0.5, 0, '', ''),
               ('cost_explorer', '2026-03', '2026-03-01', 'a', 's', 'S', 'u', '', 'usage', 4, 4, 1, '', '');",
        )
        .unwrap();
        drop(conn);
        let ledger = Ledger::open(&path).unwrap();
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(
            ledger.day_range().unwrap(),
            Some((day("2026-02-28"), day("2026-03-02")))
        );
        ledger
            .replace_periods("cur", &["2026-03".into()], &SeriesFacts::default(), &[])
            .unwrap();
        let mut stmt = ledger
            .conn
            .prepare("SELECT source, billing_period, unblended_cost FROM daily_costs ORDER BY 1, 2")
            .unwrap();
        let left: Vec<(String, String, f64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let row = |s: &str, p: &str, c: f64| (s.to_string(), p.to_string(), c);
        assert_eq!(
            left,
            [
                row("cost_explorer", "2026-03", 4.0),
                row("cur", "2026-02", 1.0)
            ]
        );
    }
}
