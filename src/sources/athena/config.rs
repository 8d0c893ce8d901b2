//! `[sources.athena]`.

use super::AthenaSource;
use crate::aws::{ArnScope, Statement, iam, split_location};
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
    /// The table's S3 location (`s3://bucket/prefix/`), as a check (a run stops if the table
    /// lies elsewhere) and for `costwatch iam-policy` (S3 reads there only).
    #[serde(default, deserialize_with = "s3_url")]
    pub location: Option<String>,
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
            "expected an s3://bucket/prefix/ URL, not {url:?}"
        ))),
    }
}

impl SourceConfig for AthenaConfig {
    /// The queries and the catalog (in the work group and the database only), the table's
    /// objects (listed by costwatch, read by Athena as the caller) and the results location
    /// (written by Athena as the caller, a large result read by costwatch). Without
    /// `location` or `output_location`, their S3 access cannot be narrowed to a bucket.
    fn iam(&self, scope: &ArnScope) -> Vec<Statement> {
        let region = self.region.as_deref();
        let mut athena = vec![
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "athena:StartQueryExecution",
            "athena:StopQueryExecution",
        ];
        let mut glue = vec!["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"];
        // A named table is read, else the database's tables are listed to find it.
        match self.table {
            Some(_) => athena.push("athena:GetTableMetadata"),
            None => {
                athena.push("athena:ListTableMetadata");
                glue.push("glue:GetTables");
            }
        }
        let table = self.table.as_deref().unwrap_or("*");
        let mut out = vec![
            Statement::allow(
                "CurAthena",
                &athena,
                [
                    scope.arn("athena", region, &format!("workgroup/{}", self.workgroup)),
                    scope.arn("athena", region, "datacatalog/AwsDataCatalog"),
                ],
            ),
            Statement::allow(
                "CurGlue",
                &glue,
                [
                    scope.arn("glue", region, "catalog"),
                    scope.arn("glue", region, &format!("database/{}", self.database)),
                    scope.arn("glue", region, &format!("table/{}/{table}", self.database)),
                ],
            ),
        ];
        let (bucket, prefix) = split_location(self.location.as_deref().unwrap_or("s3://*"));
        out.extend(iam::s3_read_prefix("CurTable", bucket, &prefix));
        let (bucket, prefix) = split_location(self.output_location.as_deref().unwrap_or("s3://*"));
        out.push(Statement::allow(
            "AthenaResultsBucket",
            &["s3:GetBucketLocation", "s3:ListBucket"],
            [iam::s3_bucket(bucket)],
        ));
        out.push(Statement::allow(
            "AthenaResults",
            &["s3:GetObject", "s3:PutObject"],
            [iam::s3_object(bucket, &format!("{prefix}*"))],
        ));
        out
    }

    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(AthenaSource::new(
            self.clone(),
            shared.aws.clone(),
            shared.tag_keys,
        ))
    }
}
