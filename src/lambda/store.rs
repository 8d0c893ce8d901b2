//! The ledger kept as one S3 object between invocations: downloaded with its ETag, uploaded
//! only if nobody else uploaded since (`If-Match` on that ETag, or `If-None-Match: *` when
//! there was none yet), so overlapping invocations never overwrite each other.

use crate::aws::{AwsConfig, Meter, S3Location, describe, s3_request_price};
use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The ledger object and the client that reads and writes it.
pub struct Store {
    client: Client,
    pub location: S3Location,
}

/// How a conditional upload ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    /// Stored; the object's new ETag.
    Won(String),
    /// Someone else stored a newer ledger first (412 Precondition Failed, or 409 while a
    /// concurrent conditional write was in flight); nothing was written.
    Lost,
}

impl Store {
    /// A client for `location` with the function's own credentials (or `aws`'s overrides),
    /// its requests counted by `meter`.
    pub async fn connect(
        aws: &AwsConfig,
        location: S3Location,
        meter: &Arc<Meter>,
    ) -> Result<Self> {
        let sdk = crate::aws::sdk_config(aws, None, None).await?;
        let client = Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(aws.endpoint_url.is_some())
                .interceptor(meter.interceptor(s3_request_price))
                .build(),
        );
        Ok(Self { client, location })
    }

    /// Reads any object as text (the configuration).
    pub async fn read_text(&self, object: &S3Location) -> Result<String> {
        let out = (self.client.get_object())
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| anyhow!(describe(&format!("S3 GetObject {object}"), &e)))?;
        let bytes = out
            .body
            .collect()
            .await
            .with_context(|| format!("reading {object}"))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| anyhow!("{object} is not UTF-8 text"))
    }

    /// Downloads the ledger to `local` (replacing whatever is there) and returns its ETag, or
    /// `None` (and no file) when there is no ledger yet.
    pub async fn download(&self, local: &Path) -> Result<Option<String>> {
        remove_local(local)?;
        let S3Location { bucket, key } = &self.location;
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => bail!(describe(&format!("S3 GetObject {}", self.location), &e)),
        };
        let etag = out
            .e_tag()
            .ok_or_else(|| anyhow!("S3 GetObject {}: no ETag in the answer", self.location))?
            .to_string();
        let mut body = out.body;
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(local)
                .with_context(|| format!("creating {}", local.display()))?,
        );
        while let Some(bytes) = body
            .try_next()
            .await
            .with_context(|| format!("downloading {}", self.location))?
        {
            file.write_all(&bytes)?;
        }
        file.flush()?;
        Ok(Some(etag))
    }

    /// Uploads `local` if the object is still the one downloaded (`etag`), or still absent.
    pub async fn upload(&self, local: &Path, etag: Option<&str>) -> Result<Upload> {
        let body = ByteStream::from_path(local)
            .await
            .with_context(|| format!("reading {}", local.display()))?;
        let put = (self.client.put_object())
            .bucket(&self.location.bucket)
            .key(&self.location.key)
            .body(body);
        let put = match etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => Ok(Upload::Won(out.e_tag().unwrap_or_default().to_string())),
            Err(e)
                if matches!(
                    e.raw_response().map(|r| r.status().as_u16()),
                    Some(409 | 412)
                ) =>
            {
                Ok(Upload::Lost)
            }
            Err(e) => bail!(describe(&format!("S3 PutObject {}", self.location), &e)),
        }
    }
}

/// Removes a local ledger copy and its rollback journal, if there.
pub fn remove_local(local: &Path) -> Result<()> {
    let mut journal = local.as_os_str().to_owned();
    journal.push("-journal");
    let journal = std::path::PathBuf::from(journal);
    for path in [local, journal.as_path()] {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}
