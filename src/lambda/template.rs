//! The AWS SAM template of the function: the ledger bucket, the function (`provided.al2023`)
//! with a role holding only what the config's parts and the ledger need, and its daily
//! EventBridge Scheduler schedule. JSON, which SAM and CloudFormation read as they read YAML.

use super::{CONFIG_S3_ENV, LEDGER_ENV};
use crate::aws::{S3Location, iam};
use crate::config::Config;
use serde_json::{Value, json};

/// The ledger's key in the bucket.
pub const LEDGER_KEY: &str = "costwatch.db";
/// The config's key in the bucket.
pub const CONFIG_KEY: &str = "costwatch.toml";
/// The schedule when none is given: 06:00 UTC, when AWS has settled the previous day.
pub const DEFAULT_SCHEDULE: &str = "cron(0 6 * * ? *)";

/// The template for `config`, its code in `code_uri` (a folder holding `bootstrap`).
pub fn sam(config: &Config, code_uri: &str) -> Value {
    let ledger = S3Location {
        bucket: "${LedgerBucket}".into(),
        key: LEDGER_KEY.into(),
    };
    let config_object = S3Location {
        bucket: "${LedgerBucket}".into(),
        key: CONFIG_KEY.into(),
    };
    let mut statements = config.iam(&config.arn_scope("${AWS::AccountId}", "${AWS::Region}"));
    statements.extend(super::iam(&ledger, Some(&config_object)));
    let mut policy = iam::policy(statements);
    substitute(&mut policy);

    let mut parameters = json!({
        "ScheduleExpression": {
            "Type": "String",
            "Default": DEFAULT_SCHEDULE,
            "Description": "When the daily run starts (UTC): after AWS has settled the previous day"
        }
    });
    let mut variables = json!({
        LEDGER_ENV: {"Fn::Sub": ledger.to_string()},
        CONFIG_S3_ENV: {"Fn::Sub": config_object.to_string()},
        "COSTWATCH_CACHE_DIR": "/tmp/costwatch-plugins"
    });
    for secret in config.secrets() {
        let name = parameter_name(&secret);
        parameters[&name] = json!({
            "Type": "String",
            "NoEcho": true,
            "Description": format!("The value of {secret} (a secret the config names)")
        });
        variables[&secret] = json!({"Ref": name});
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "costwatch: the daily AWS cost watchdog, on Lambda with its ledger in S3",
        "Parameters": parameters,
        "Resources": {
            "LedgerBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LifecycleConfiguration": {"Rules": [{
                        "Id": "OldLedgers", "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30}
                    }]},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": true, "BlockPublicPolicy": true,
                        "IgnorePublicAcls": true, "RestrictPublicBuckets": true
                    },
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]}
                }
            },
            "Function": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Description": "costwatch daily run",
                    "CodeUri": code_uri,
                    "Handler": "bootstrap",
                    "Runtime": "provided.al2023",
                    "Architectures": ["x86_64"],
                    "MemorySize": 1024,
                    "Timeout": 900,
                    "EphemeralStorage": {"Size": 2048},
                    "Environment": {"Variables": variables},
                    "Policies": [policy],
                    "Events": {
                        "Daily": {
                            "Type": "ScheduleV2",
                            "Properties": {
                                "ScheduleExpression": {"Ref": "ScheduleExpression"},
                                "ScheduleExpressionTimezone": "UTC",
                                "Input": "{}",
                                "RetryPolicy": {"MaximumRetryAttempts": 2}
                            }
                        }
                    }
                }
            },
            "FunctionLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/aws/lambda/${Function}"},
                    "RetentionInDays": 90
                }
            }
        },
        "Outputs": {
            "LedgerBucketName": {"Value": {"Ref": "LedgerBucket"}},
            "ConfigObject": {"Value": {"Fn::Sub": config_object.to_string()}},
            "FunctionName": {"Value": {"Ref": "Function"}}
        }
    })
}

/// `SMTP_PASSWORD` as a template parameter name: `SmtpPassword`.
pub fn parameter_name(var: &str) -> String {
    (var.split('_'))
        .map(|w| {
            let w = w.to_ascii_lowercase();
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every string holding a `${...}` reference, as `{"Fn::Sub": string}`.
fn substitute(value: &mut Value) {
    match value {
        Value::String(s) if s.contains("${") => *value = json!({"Fn::Sub": s.clone()}),
        Value::Array(items) => items.iter_mut().for_each(substitute),
        Value::Object(map) => map.values_mut().for_each(substitute),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_substitutions_and_secrets_parameters() {
        let mut v = json!({"a": ["arn:aws:s3:::${LedgerBucket}/x", "*"]});
        substitute(&mut v);
        assert_eq!(
            v,
            json!({"a": [{"Fn::Sub": "arn:aws:s3:::${LedgerBucket}/x"}, "*"]})
        );
        assert_eq!(parameter_name("SMTP_PASSWORD"), "SmtpPassword");
    }
}
