//! `[sources.athena]`.

use super::AthenaSource;
use crate::sources::{Shared, Source, SourceConfig};
use serde::{Deserialize, Deserializer};

/// The CUR as an Athena table, aggregated by Athena.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AthenaConfig {
    /// The Glue database holding the table.
    pub database: String,
    /// The table; without it, the one CUR or FOCUS table of the database.
    pub table: Option<String>,
    /// The work group the queries run in.
    #[serde(default = "primary")]
    pub workgroup: String,
    /// Where Athena writes query results (`s3://bucket/prefix/`); the work group's if absent.
    #[serde(default, deserialize_with = "s3_url")]
    pub output_location: Option<String>,
    /// Cost guard: a query that could take the bytes scanned in one run past this is not
    /// started (its partition's size is the estimate).
    #[serde(default = "default_max_bytes")]
    pub max_bytes_scanned_per_run: u64,
    /// The table's columns; told by them when absent.
    pub format: Option<Format>,
    /// Seconds a query may take before it is stopped.
    #[serde(default = "default_timeout")]
    pub query_timeout_secs: u64,
    /// The table's region, if not `[aws] region`.
    pub region: Option<String>,
    /// Endpoint override for this source's Athena and S3 clients.
    pub endpoint_url: Option<String>,
}

/// The columns of a CUR table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Legacy CUR as the CUR Athena integration writes it (`line_item_*`, flat
    /// `resource_tags_user_*`).
    Cur,
    /// CUR 2.0 from Data Exports (`line_item_*`, `resource_tags` and `product` maps).
    Cur2,
    /// FOCUS 1.x from Data Exports (`BilledCost`, `ChargeCategory`, ...).
    Focus,
}

impl Format {
    /// How the run summary names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Cur => "legacy CUR",
            Self::Cur2 => "CUR 2.0",
            Self::Focus => "FOCUS",
        }
    }
}

fn primary() -> String {
    "primary".into()
}

fn default_max_bytes() -> u64 {
    100_000_000_000
}

fn default_timeout() -> u64 {
    600
}

/// An `s3://bucket/prefix` URL.
fn s3_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(d)?;
    match url.strip_prefix("s3://") {
        Some(rest) if !rest.trim_matches('/').is_empty() => Ok(Some(url)),
        _ => Err(serde::de::Error::custom(format!(
            "output_location must be an s3://bucket/prefix/ URL, not {url:?}"
        ))),
    }
}

impl SourceConfig for AthenaConfig {
    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(AthenaSource::new(
            self.clone(),
            shared.aws.clone(),
            shared.tag_keys,
        ))
    }
}
