//! Error kinds that map to distinct process exit codes.

use std::fmt;

/// Exit code of a run that finished cleanly.
pub const EXIT_OK: i32 = 0;
/// Exit code when a run (or one of its stages) failed.
pub const EXIT_FAILED: i32 = 1;
// Exit code 2 is clap's, for bad command-line usage.
/// Exit code for an invalid or unreadable configuration.
pub const EXIT_CONFIG: i32 = 3;
/// Exit code when another costwatch process holds the ledger lock.
pub const EXIT_LOCKED: i32 = 4;
/// Exit code for unreadable or malformed billing input (CUR/FOCUS files).
pub const EXIT_INPUT: i32 = 5;

/// What went wrong, at the level a caller (and the exit code) cares about.
#[derive(Debug)]
pub enum Kind {
    Config,
    Locked,
    Input,
}

/// An error with a kind that decides the exit code; the message is for people.
#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Config,
            message: message.into(),
        }
    }
    pub fn locked(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Locked,
            message: message.into(),
        }
    }
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The exit code for an error chain: the first typed [`Error`] found decides it.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    match err.chain().find_map(|e| e.downcast_ref::<Error>()) {
        Some(Error {
            kind: Kind::Config, ..
        }) => EXIT_CONFIG,
        Some(Error {
            kind: Kind::Locked, ..
        }) => EXIT_LOCKED,
        Some(Error {
            kind: Kind::Input, ..
        }) => EXIT_INPUT,
        None => EXIT_FAILED,
    }
}
