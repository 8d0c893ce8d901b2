//! Error kinds that map to distinct process exit codes.

/// Exit code of a run that finished cleanly.
pub const EXIT_OK: i32 = 0;
/// Exit code when a run (or one of its stages) failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code for bad command-line usage (clap's), and an apply refused without `--yes`.
pub const EXIT_USAGE: i32 = 2;
/// Exit code for an invalid or unreadable configuration.
pub const EXIT_CONFIG: i32 = 3;
/// Exit code when another costwatch process holds the ledger lock.
pub const EXIT_LOCKED: i32 = 4;
/// Exit code for unreadable or malformed billing input (CUR/FOCUS files).
pub const EXIT_INPUT: i32 = 5;
/// Exit code of `costwatch budgets plan` (or a declined apply) when changes are pending.
pub const EXIT_PENDING: i32 = 6;

/// What went wrong, at the level a caller (and the exit code) cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Config,
    Locked,
    Input,
}

/// An error with a kind that decides the exit code; the message is for people, and the
/// cause (an I/O error, say) is kept as its source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A bad or unreadable configuration.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    /// The ledger is held by another process.
    pub fn locked(message: impl Into<String>) -> Self {
        Self::new(Kind::Locked, message)
    }

    /// Unreadable billing data.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
    }

    /// The same error, caused by `source`.
    pub fn because(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

/// The exit code for an error chain: the first typed error found decides it.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for e in err.chain() {
        if let Some(e) = e.downcast_ref::<Error>() {
            return match e.kind {
                Kind::Config => EXIT_CONFIG,
                Kind::Locked => EXIT_LOCKED,
                Kind::Input => EXIT_INPUT,
            };
        }
        if e.is::<costwatch_cur::Error>() {
            return EXIT_INPUT;
        }
    }
    EXIT_FAILED
}
