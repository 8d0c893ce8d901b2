//! IAM policy statements: each component says what it calls AWS for, and a policy is their
//! union (`costwatch iam-policy`, the Lambda function's role).

use serde::Serialize;
use serde_json::{Value, json};

/// One `Allow` statement of an IAM policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: &'static str,
    pub action: Vec<String>,
    pub resource: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Statement {
    /// Allows `actions` (e.g. `s3:GetObject`) on `resources` (ARNs).
    pub fn allow<R: Into<String>>(
        sid: &str,
        actions: &[&str],
        resources: impl IntoIterator<Item = R>,
    ) -> Self {
        Self {
            sid: sid.to_string(),
            effect: "Allow",
            action: actions.iter().map(|a| a.to_string()).collect(),
            resource: resources.into_iter().map(Into::into).collect(),
            condition: None,
        }
    }

    /// The same statement, only when `condition` holds.
    pub fn when(mut self, condition: Value) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// Where ARNs point when the config does not say: the account (`*` when unknown, or a
/// CloudFormation `${AWS::AccountId}`) and the region of regional APIs.
#[derive(Debug, Clone)]
pub struct ArnScope {
    pub account: String,
    pub region: String,
}

impl ArnScope {
    /// `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`, in `region` if given, else the scope's.
    pub fn arn(&self, service: &str, region: Option<&str>, resource: &str) -> String {
        let region = region.unwrap_or(&self.region);
        format!("arn:aws:{service}:{region}:{}:{resource}", self.account)
    }
}

/// `arn:aws:s3:::BUCKET`.
pub fn s3_bucket(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::BUCKET/KEY` (`KEY` may end in `*`).
pub fn s3_object(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// Read access to the objects under `prefix` (a key prefix, empty for the whole bucket):
/// `s3:ListBucket` limited to that prefix and `s3:GetObject` on its objects.
pub fn s3_read_prefix(sid: &str, bucket: &str, prefix: &str) -> Vec<Statement> {
    let list = Statement::allow(sid, &["s3:ListBucket"], [s3_bucket(bucket)]);
    let list = if prefix.is_empty() {
        list
    } else {
        list.when(json!({"StringLike": {"s3:prefix": [format!("{prefix}*")]}}))
    };
    vec![
        list,
        Statement::allow(
            &format!("{sid}Objects"),
            &["s3:GetObject"],
            [s3_object(bucket, &format!("{prefix}*"))],
        ),
    ]
}

/// The policy document of `statements`: statements with the same `Sid` are merged when their
/// conditions agree (else numbered), actions and resources sorted and without repeats.
pub fn policy(statements: Vec<Statement>) -> Value {
    let mut merged: Vec<Statement> = Vec::new();
    for s in statements {
        match merged
            .iter_mut()
            .find(|m| m.sid == s.sid && m.condition == s.condition)
        {
            Some(m) => {
                m.action.extend(s.action);
                m.resource.extend(s.resource);
            }
            None => {
                let numbered = |sid: &str| {
                    sid.strip_prefix(s.sid.as_str())
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                };
                let taken = merged.iter().filter(|m| numbered(&m.sid)).count();
                let mut s = s;
                if taken > 0 {
                    s.sid = format!("{}{}", s.sid, taken + 1);
                }
                merged.push(s);
            }
        }
    }
    for s in &mut merged {
        s.action.sort();
        s.action.dedup();
        s.resource.sort();
        s.resource.dedup();
    }
    json!({"Version": "2012-10-17", "Statement": merged})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_sid_merges_and_a_different_condition_is_numbered() {
        let doc = policy(vec![
            Statement::allow("Ce", &["ce:GetCostForecast"], ["*"]),
            Statement::allow("Ce", &["ce:GetCostAndUsage", "ce:GetCostForecast"], ["*"]),
            Statement::allow("ReadBucket", &["s3:ListBucket"], [s3_bucket("c")]),
            Statement::allow("Read", &["s3:ListBucket"], [s3_bucket("a")]),
            Statement::allow("Read", &["s3:ListBucket"], [s3_bucket("b")])
                .when(json!({"StringLike": {"s3:prefix": ["x/*"]}})),
        ]);
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 4);
        assert_eq!(
            statements[0]["Action"],
            json!(["ce:GetCostAndUsage", "ce:GetCostForecast"])
        );
        assert_eq!(statements[2]["Sid"], "Read");
        assert_eq!(statements[3]["Sid"], "Read2");
        assert!(statements[1].get("Condition").is_none());
    }

    #[test]
    fn a_prefix_limits_the_listing_and_the_objects() {
        let read = s3_read_prefix("Cur", "bucket", "cur/report/");
        assert_eq!(
            read[0].condition,
            Some(json!({"StringLike": {"s3:prefix": ["cur/report/*"]}}))
        );
        assert_eq!(read[1].resource, ["arn:aws:s3:::bucket/cur/report/*"]);
        assert_eq!(s3_read_prefix("All", "b", "")[0].condition, None);
    }
}
