//! One costwatch process per ledger at a time: an advisory lock on `<ledger>.lock`.

use crate::error::Error;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Held for as long as the value lives; released when dropped (or when the process dies).
pub struct LedgerLock {
    _file: File,
}

impl LedgerLock {
    /// Takes the lock or fails at once with a message naming the holder.
    pub fn acquire(ledger: &Path) -> Result<Self, Error> {
        let path = lock_path(ledger);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                Error::config(format!("cannot open lock file {}", path.display())).because(e)
            })?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = write!(file, "{}", std::process::id());
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                Err(Error::locked(format!(
                    "another costwatch process (pid {}) is using the ledger {}; try again when it has finished",
                    holder.trim(),
                    ledger.display()
                )))
            }
            Err(TryLockError::Error(e)) => Err(Error::config(format!(
                "cannot lock {}: {e}",
                path.display()
            ))),
        }
    }
}

/// The lock file beside a ledger.
pub fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}
