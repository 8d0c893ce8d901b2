//! `[sources.files]`.

use super::FilesSource;
use crate::aws::{ArnScope, Statement};
use crate::sources::{Shared, Source, SourceConfig, resolve};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Local CUR / FOCUS files or folders of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// Files, or folders searched recursively; relative to the config file.
    pub paths: Vec<PathBuf>,
}

impl SourceConfig for FilesConfig {
    /// Local files: no AWS access.
    fn iam(&self, _scope: &ArnScope) -> Vec<Statement> {
        Vec::new()
    }

    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(FilesSource::new(self.paths.clone()).with_tag_keys(shared.tag_keys))
    }

    fn resolve_paths(&mut self, base: &Path) {
        for path in &mut self.paths {
            resolve(base, path);
        }
    }
}
