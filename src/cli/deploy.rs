//! `costwatch deploy lambda --print`: the commands and the AWS SAM template that deploy the
//! daily job as a Lambda function with its ledger in S3, for the current config.

use super::load_config;
use crate::config::Config;
use crate::error::{EXIT_OK, Error};
use crate::lambda::template::{self, CONFIG_KEY};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Where to deploy.
    #[arg(value_enum)]
    pub target: Target,
    /// Print the build and deploy commands with the template (costwatch deploys nothing itself).
    #[arg(long)]
    pub print: bool,
    /// Print the template alone (JSON).
    #[arg(long)]
    pub template: bool,
    /// Config file (default: ./costwatch.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The CloudFormation stack's name.
    #[arg(long, default_value = "costwatch")]
    pub stack_name: String,
}

/// A deployment target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// An AWS Lambda function (provided.al2023) run by EventBridge Scheduler.
    Lambda,
}

/// Where the script puts the function's files (CodeUri is relative to the template).
const OUT: &str = "target/lambda";

pub fn execute(args: &DeployArgs) -> Result<i32> {
    if !args.print && !args.template {
        return Err(Error::config(
            "costwatch deploys nothing itself: pass --print for the commands and template, \
             or --template for the template alone",
        )
        .into());
    }
    let path = (args.config.clone()).unwrap_or_else(|| PathBuf::from("costwatch.toml"));
    let config = load_config(Some(&path))?;
    let template = serde_json::to_string_pretty(&template::sam(&config, "costwatch/"))?;
    if args.template {
        println!("{template}");
        return Ok(EXIT_OK);
    }
    for warning in warnings(&config) {
        eprintln!("warning: {warning}");
    }
    print!(
        "{}",
        script(
            &config,
            &std::path::absolute(&path)?,
            &template,
            &args.stack_name
        )
    );
    Ok(EXIT_OK)
}

/// What in the config cannot work on Lambda.
fn warnings(config: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if config.sources.files.is_some() {
        out.push("[sources.files] reads local files, which a Lambda function does not have");
    }
    if config.alerts.smtp.is_none() {
        out.push("without [alerts.smtp], digests become .eml files in the function's /tmp, which nobody reads");
    }
    out
}

/// The build, package and deploy commands, the template in between.
fn script(config: &Config, config_path: &std::path::Path, template: &str, stack: &str) -> String {
    let plugins = if config.rules.iter().any(|r| r.plugin.is_some()) {
        format!(
            "# The config's plugins, beside bootstrap (found by name in /var/task/plugins):\n\
             scripts/build-plugins.sh {OUT}/costwatch/plugins\n"
        )
    } else {
        String::new()
    };
    let overrides: Vec<String> = (config.secrets().iter())
        .map(|var| format!("{}=\"${var}\"", template::parameter_name(var)))
        .collect();
    let overrides = if overrides.is_empty() {
        String::new()
    } else {
        format!(
            " \\\n  --parameter-overrides {}  # from your environment",
            overrides.join(" ")
        )
    };
    let output = |key: &str| {
        format!(
            "$(aws cloudformation describe-stacks --stack-name {stack} \
             --query \"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue\" --output text)"
        )
    };
    format!(
        "#!/usr/bin/env bash\n\
         # costwatch as an AWS Lambda function (provided.al2023, x86_64), run daily by EventBridge\n\
         # Scheduler, its ledger in a versioned S3 bucket. Run in the costwatch source folder, with\n\
         # Rust, the AWS SAM CLI, the AWS CLI and credentials allowed to create the stack.\n\
         set -euo pipefail\n\
         \n\
         # 1. The function: `bootstrap`, a static build. With cargo-lambda instead:\n\
         #      cargo lambda build --release --features lambda --bin costwatch-lambda\n\
         #      and copy target/lambda/costwatch-lambda/bootstrap to {OUT}/costwatch/.\n\
         # Without it (apt-get install musl-tools; rustup target add x86_64-unknown-linux-musl):\n\
         cargo build --release --locked --features lambda --bin costwatch-lambda --target x86_64-unknown-linux-musl\n\
         mkdir -p {OUT}/costwatch\n\
         cp target/x86_64-unknown-linux-musl/release/costwatch-lambda {OUT}/costwatch/bootstrap\n\
         {plugins}\
         # The zip, for the console or `aws lambda update-function-code` (SAM zips the folder itself):\n\
         (cd {OUT}/costwatch && zip -qr ../costwatch.zip .)\n\
         \n\
         # 2. The AWS SAM template: the ledger bucket, the function, its role (least privilege:\n\
         #    `costwatch iam-policy` with the ledger) and its daily schedule (06:00 UTC).\n\
         cat > {OUT}/template.json <<'TEMPLATE'\n\
         {template}\n\
         TEMPLATE\n\
         \n\
         # 3. Deploy, store the config where the function reads it, and run it once.\n\
         sam deploy --template-file {OUT}/template.json --stack-name {stack} \\\n\
         \x20 --capabilities CAPABILITY_IAM --resolve-s3{overrides}\n\
         aws s3 cp {config} \"s3://{bucket}/{CONFIG_KEY}\"\n\
         aws lambda invoke --function-name \"{function}\" --payload '{{}}' \\\n\
         \x20 --cli-binary-format raw-in-base64-out --cli-read-timeout 900 /dev/stdout\n",
        config = config_path.display(),
        bucket = output("LedgerBucketName"),
        function = output("FunctionName"),
    )
}
