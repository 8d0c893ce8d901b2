//! What every S3 reader shares: the price of a request, and an object streamed to a file.

use super::describe;
use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::Client;
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

/// Streams one object to a local file (bounded memory).
pub async fn download(client: &Client, bucket: &str, key: &str, local: &Path) -> Result<()> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!(describe(&format!("S3 GetObject s3://{bucket}/{key}"), &e)))?;
    let mut body = object.body;
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
