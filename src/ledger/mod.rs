//! The ledger: one SQLite file holding daily cost facts, findings, alerts, runs and the outbox.

mod api_state;
mod facts;
mod findings;
mod outbox;
mod runs;

pub use api_state::Forecast;
pub use facts::{ChargeCategory, FactKey, FactValue, Facts, FileStamp, ScopeCost, SeriesCosts};
pub use findings::{AlertRecord, OpenFinding};
pub use outbox::OutboxMessage;
pub use runs::SourceReport;

use anyhow::{Context, Result};
use rusqlite::Connection;
use std::path::Path;

/// Schema migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[include_str!("schema_v1.sql"), include_str!("schema_v2.sql")];

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
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
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
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self.conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Runs `f` in a transaction that is committed when `commit` is true and rolled back otherwise
    /// (backtests and dry runs see their own writes, then leave no trace).
    pub fn in_transaction<T>(
        &self,
        commit: bool,
        f: impl FnOnce(&Ledger) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(self)?;
        if commit {
            tx.commit()?;
        }
        Ok(out)
    }
}
