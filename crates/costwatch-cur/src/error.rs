//! What can go wrong reading a billing file: every error names the file, and a bad row its
//! row (counted from 1, the header not counted) and column.

use std::fmt;
use std::path::PathBuf;

/// The result of reading a billing file.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A billing file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be opened or read (or its compressed stream is broken).
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `cannot open`.
        what: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not one costwatch reads, or is damaged as a whole (header, schema,
    /// checksum, a column that ends early).
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// One row that cannot be read.
    #[error("{}: row {row}{}: {reason}", path.display(), At(column.as_deref()))]
    Row {
        /// The file.
        path: PathBuf,
        /// The row, counted from 1 without the header.
        row: u64,
        /// The column, when one field is at fault.
        column: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// A Parquet file the parquet crate cannot read.
    #[error("{}: {what}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What was being read.
        what: String,
        #[source]
        /// The parquet crate's error.
        source: parquet::errors::ParquetError,
    },
}

impl Error {
    /// The same error, naming the file `name` instead (e.g. the `s3://` object a local copy
    /// was downloaded from).
    pub fn at(mut self, name: impl Into<PathBuf>) -> Self {
        match &mut self {
            Self::Io { path, .. }
            | Self::Format { path, .. }
            | Self::Row { path, .. }
            | Self::Parquet { path, .. } => *path = name.into(),
        }
        self
    }
}

/// `, column C`, or nothing.
struct At<'a>(Option<&'a str>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(column) => write!(f, ", column {column}"),
            None => Ok(()),
        }
    }
}

/// Constructors bound to one file, so a reader names it once.
#[derive(Debug, Clone)]
pub(crate) struct File(pub PathBuf);

impl File {
    pub fn io<W: Into<String>>(&self, what: W) -> impl FnOnce(std::io::Error) -> Error + use<W> {
        let (path, what) = (self.0.clone(), what.into());
        move |source| Error::Io { path, what, source }
    }

    pub fn format(&self, reason: impl Into<String>) -> Error {
        Error::Format {
            path: self.0.clone(),
            reason: reason.into(),
        }
    }

    pub fn row(&self, row: u64, column: Option<&str>, reason: impl Into<String>) -> Error {
        Error::Row {
            path: self.0.clone(),
            row,
            column: column.map(String::from),
            reason: reason.into(),
        }
    }

    pub fn parquet<W: Into<String>>(
        &self,
        what: W,
    ) -> impl FnOnce(parquet::errors::ParquetError) -> Error + use<W> {
        let (path, what) = (self.0.clone(), what.into());
        move |source| Error::Parquet { path, what, source }
    }
}
