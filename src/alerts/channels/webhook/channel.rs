//! Posting a digest to the webhook.

use super::{WebhookConfig, blocks};
use crate::alerts::channels::{Channel, Outgoing};
use anyhow::{Context, Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The webhook channel.
pub struct Webhook(pub WebhookConfig);

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send(&self, outgoing: &Outgoing, runtime: &tokio::runtime::Runtime) -> Result<String> {
        let Some(digest) = outgoing.digest else {
            bail!("a digest queued by an older costwatch goes by e-mail only");
        };
        let url = std::env::var(&self.0.url_env).map_err(|_| {
            anyhow!(
                "the environment variable {} (alerts.webhook.url_env) is not set",
                self.0.url_env
            )
        })?;
        let body = serde_json::to_vec(&blocks::message(digest))?;
        let deadline = Duration::from_secs(self.0.timeout_secs);
        runtime
            .block_on(async { tokio::time::timeout(deadline, post(&url, body)).await })
            .map_err(|_| anyhow!("the webhook did not answer within {}s", self.0.timeout_secs))??;
        // The URL is a secret: only its host is told.
        let host = url
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.host().map(String::from));
        Ok(format!("webhook {}", host.unwrap_or_default()))
    }
}

/// POSTs JSON; an answer other than 2xx is an error quoting the start of its body.
async fn post(url: &str, body: Vec<u8>) -> Result<()> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("loading the system's certificates")?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .context("the webhook URL is not a valid URL")?;
    let response = client
        .request(request)
        .await
        .map_err(|e| anyhow!("posting to the webhook: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let answer = response.into_body().collect().await.map(|b| b.to_bytes());
        let text = answer.map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned());
        bail!(
            "the webhook answered {status}: {}",
            text.unwrap_or_default()
        );
    }
    Ok(())
}
