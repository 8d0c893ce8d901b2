//! What every S3 reader shares: the price of a request, a prefix listed, and an object
//! read or streamed to a file.

use super::describe;
use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use std::io::Write;
use std::path::Path;

/// What an S3 request costs: GET $0.0004 per 1,000, LIST $0.005 per 1,000.
pub fn s3_request_price(operation: &str) -> f64 {
    if operation == "ListObjectsV2" {
        0.000005
    } else {
        0.0000004
    }
}

/// Every object under `prefix`, page after page.
pub async fn list_objects(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<aws_sdk_s3::types::Object>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| {
                anyhow!(describe(
                    &format!("S3 ListObjectsV2 s3://{bucket}/{prefix}"),
                    &e
                ))
            })?;
        let next = (page.next_continuation_token())
            .filter(|_| page.is_truncated().unwrap_or(false))
            .map(str::to_string);
        out.extend(page.contents.unwrap_or_default());
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// One object, its body still to be read; an error names the object.
pub async fn get_object(client: &Client, bucket: &str, key: &str) -> Result<GetObjectOutput> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!(describe(&format!("S3 GetObject s3://{bucket}/{key}"), &e)))
}

/// Streams one object to a local file (bounded memory).
pub async fn download(client: &Client, bucket: &str, key: &str, local: &Path) -> Result<()> {
    let mut body = get_object(client, bucket, key).await?.body;
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(local).with_context(|| format!("creating {}", local.display()))?,
    );
    while let Some(bytes) = body
        .try_next()
        .await
        .with_context(|| format!("downloading s3://{bucket}/{key}"))?
    {
        file.write_all(&bytes)?;
    }
    file.flush()?;
    Ok(())
}

/// Bucket and key prefix (ending in `/`, or empty) of an `s3://` location.
pub fn split_location(location: &str) -> (&str, String) {
    let rest = location.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    (
        bucket,
        if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
    )
}

/// An object's place: `s3://BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    /// Parses `s3://BUCKET/KEY`; `what` names the setting in the error.
    pub fn parse(url: &str, what: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("s3://").unwrap_or("");
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                Ok(Self {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
            }
            _ => Err(format!(
                "{what} must be an object's s3://BUCKET/KEY URL, not {url:?}"
            )),
        }
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}
