//! `[sources.cur_s3]`.

use super::CurS3Source;
use crate::aws::{ArnScope, Statement, iam};
use crate::sources::{Shared, Source, SourceConfig};
use serde::Deserialize;

/// CUR / Data Exports / FOCUS files delivered to S3.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurS3Config {
    /// The bucket the export delivers to.
    pub bucket: String,
    /// Report path prefix as configured in the export.
    #[serde(default)]
    pub prefix: String,
    /// Report (legacy CUR) or export (Data Exports) name.
    pub report: String,
    /// The bucket's region, if not `[aws] region`.
    pub region: Option<String>,
    /// Endpoint override for this service only.
    pub endpoint_url: Option<String>,
}

impl CurS3Config {
    /// `<prefix>/<report>/`, without a leading slash: where the report's objects are.
    pub fn base(&self) -> String {
        let prefix = self.prefix.trim_matches('/');
        let report = self.report.trim_matches('/');
        if prefix.is_empty() {
            format!("{report}/")
        } else {
            format!("{prefix}/{report}/")
        }
    }
}

impl SourceConfig for CurS3Config {
    /// Listing and reading the report's objects only.
    fn iam(&self, _scope: &ArnScope) -> Vec<Statement> {
        iam::s3_read_prefix("CurBucket", &self.bucket, &self.base())
    }

    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(CurS3Source::new(
            self.clone(),
            shared.aws.clone(),
            shared.tag_keys,
        ))
    }
}
