//! AWS access shared by every AWS client: the SDK configuration (the standard credential
//! chain with optional profile, role and endpoint overrides; standard retries with backoff),
//! the meter that counts every request a source makes, errors told briefly, and what S3
//! readers share; IAM statements, by which each component says what it calls AWS for.

mod errors;
pub mod iam;
mod meter;
mod s3;

pub use errors::describe;
pub use iam::{ArnScope, Statement};
pub use meter::Meter;
pub use s3::{S3Location, download, get_object, list_objects, s3_request_price, split_location};

use anyhow::{Context, Result, anyhow};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use serde::Deserialize;
use std::time::Duration;

/// The `[aws]` table: AWS access shared by every AWS client.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Named profile (else `AWS_PROFILE`, else the default chain).
    pub profile: Option<String>,
    /// Region for regional APIs (Cost Explorer and billing metrics always use us-east-1).
    pub region: Option<String>,
    /// Role to assume before calling AWS.
    pub role_arn: Option<String>,
    /// Endpoint override for every service (also `AWS_ENDPOINT_URL`), e.g. an emulator.
    pub endpoint_url: Option<String>,
    /// Maximum attempts per request, with the SDK's standard backoff (1 = no retries).
    pub max_attempts: Option<u32>,
}

/// How long resolving credentials may take before the run reports that none were found.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the SDK configuration for one service. `region` pins the region (Cost Explorer and
/// billing metrics live in us-east-1); `endpoint` overrides the config's endpoint for this
/// service. Fails fast, with instructions, when no credentials can be found.
pub async fn sdk_config(
    aws: &AwsConfig,
    region: Option<&str>,
    endpoint: Option<&str>,
) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard().with_max_attempts(aws.max_attempts.unwrap_or(3).max(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region.or(aws.region.as_deref()) {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = endpoint.or(aws.endpoint_url.as_deref()) {
        loader = loader.endpoint_url(url);
    }
    let mut config = loader.load().await;
    if config.region().is_none() {
        config = config
            .into_builder()
            .region(Region::new("us-east-1"))
            .build();
    }
    if let Some(role) = &aws.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("costwatch")
            .configure(&config)
            .build()
            .await;
        config = config
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }
    check_credentials(&config).await?;
    Ok(config)
}

/// Resolves credentials once, so a machine without any gets a clear message instead of a
/// failure per request (or a wait on the instance metadata service).
async fn check_credentials(config: &SdkConfig) -> Result<()> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| anyhow!(NO_CREDENTIALS))?;
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(anyhow!("{e}")).context(NO_CREDENTIALS),
        Err(_) => Err(anyhow!(
            "no credentials within {}s (was the instance metadata service tried?)",
            CREDENTIALS_TIMEOUT.as_secs()
        ))
        .context(NO_CREDENTIALS),
    }
}

impl AwsConfig {
    /// With `role_arn`, the caller may assume that role (the role itself needs the rest).
    pub fn iam(&self) -> Vec<Statement> {
        (self.role_arn.iter())
            .map(|role| Statement::allow("AssumeRole", &["sts:AssumeRole"], [role.as_str()]))
            .collect()
    }
}

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE (or [aws] profile) to a configured profile, \
     export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, log in with `aws sso login`, or run on an instance / \
     function with a role";
