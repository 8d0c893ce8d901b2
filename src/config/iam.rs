//! What a deployment needs to know of the configuration: the IAM statements of everything it
//! turns on, and the secrets it reads from the environment.

use super::Config;
use crate::aws::{ArnScope, Statement};

impl Config {
    /// What the configured parts call AWS for, part by part: each source's statements, then
    /// `[aws]` (a role to assume). A new part that calls AWS (budgets, an SNS channel) adds
    /// its statements here.
    pub fn iam(&self, scope: &ArnScope) -> Vec<Statement> {
        let mut out = Vec::new();
        for source in self.sources.configured() {
            out.extend(source.iam(scope));
        }
        out.extend(self.aws.iam());
        out
    }

    /// The environment variables the config reads secrets from (a deployment passes them on).
    pub fn secrets(&self) -> Vec<String> {
        (self.alerts.smtp.iter())
            .filter_map(|smtp| smtp.password_env.clone())
            .collect()
    }

    /// The scope of ARNs the config does not pin: `account` (`*` or a CloudFormation
    /// reference) and `[aws] region`, else `default_region`.
    pub fn arn_scope(&self, account: &str, default_region: &str) -> ArnScope {
        ArnScope {
            account: account.to_string(),
            region: self
                .aws
                .region
                .clone()
                .unwrap_or_else(|| default_region.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_sources_say_what_they_need() {
        let config = Config::parse(
            "[sources.cost_explorer]\nforecast = false\n\
             [sources.cur_s3]\nbucket = \"billing\"\nprefix = \"/cur/\"\nreport = \"daily\"\n",
        )
        .unwrap();
        let statements = config.iam(&config.arn_scope("*", "*"));
        let actions: Vec<&str> = (statements.iter())
            .flat_map(|s| s.action.iter().map(String::as_str))
            .collect();
        assert_eq!(
            actions,
            ["s3:ListBucket", "s3:GetObject", "ce:GetCostAndUsage"]
        );
        assert_eq!(statements[1].resource, ["arn:aws:s3:::billing/cur/daily/*"]);
    }
}
