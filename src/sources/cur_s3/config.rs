//! `[sources.cur_s3]`.

use super::CurS3Source;
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

impl SourceConfig for CurS3Config {
    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(CurS3Source::new(
            self.clone(),
            shared.aws.clone(),
            shared.tag_keys,
        ))
    }
}
