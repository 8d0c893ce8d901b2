//! `costwatch iam-policy`: the least-privilege IAM policy for what the config uses.

use super::load_config;
use crate::aws::{S3Location, iam};
use crate::error::{EXIT_OK, Error};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Config file (default: ./costwatch.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// For the Lambda function: its ledger object (its reads and writes are added).
    #[arg(long, value_name = "s3://BUCKET/KEY")]
    pub lambda_ledger: Option<String>,
    /// For the Lambda function: its config object (its read is added).
    #[arg(long, value_name = "s3://BUCKET/KEY", requires = "lambda_ledger")]
    pub lambda_config: Option<String>,
    /// The account id in ARNs of regional resources (Athena, Glue); any by default.
    #[arg(long, default_value = "*")]
    pub account: String,
}

pub fn execute(args: &IamPolicyArgs) -> Result<i32> {
    let config = load_config(args.config.as_deref())?;
    let mut statements = config.iam(&config.arn_scope(&args.account, "*"));
    let object = |url: &Option<String>, what| {
        (url.as_deref())
            .map(|u| S3Location::parse(u, what).map_err(Error::config))
            .transpose()
    };
    if let Some(ledger) = object(&args.lambda_ledger, "--lambda-ledger")? {
        let config_object = object(&args.lambda_config, "--lambda-config")?;
        statements.extend(crate::lambda::iam(&ledger, config_object.as_ref()));
    }
    if let Some(athena) = &config.sources.athena {
        for (key, set) in [
            ("location", athena.location.is_some()),
            ("output_location", athena.output_location.is_some()),
        ] {
            if !set {
                eprintln!(
                    "note: [sources.athena] {key} is not set, so its S3 access is granted on every \
                     bucket; set it to narrow the policy"
                );
            }
        }
    }
    if statements.is_empty() {
        eprintln!("note: the config uses no AWS API; the policy allows nothing");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&iam::policy(statements))?
    );
    Ok(EXIT_OK)
}
