//! Local CUR / FOCUS files: a file or folders of them, read incrementally.

mod config;
mod source;

pub use config::FilesConfig;
pub use source::{FilesSource, SOURCE};

/// `[sources.files]` in the file `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("template.toml");
