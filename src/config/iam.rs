//! What a deployment needs to know of the configuration: the IAM statements of everything it
//! turns on, and the secrets it reads from the environment.

use super::Config;
use crate::aws::{ArnScope, Statement};

impl Config {
    /// What the configured parts call AWS for, part by part: each source's statements, the
    /// alert channels' (an SNS topic), the budgets' when the config manages budgets, then
    /// `[aws]` (a role to assume). A new part that calls AWS adds its statements here.
    pub fn iam(&self, scope: &ArnScope) -> Vec<Statement> {
        let mut out = Vec::new();
        for source in self.sources.configured() {
            out.extend(source.iam(scope));
        }
        out.extend(self.alerts.iam());
        if !self.budgets.is_empty() || self.budgets_from_findings.apply {
            out.extend(crate::budgets::iam(scope));
        }
        out.extend(self.aws.iam());
        out
    }

    /// The environment variables the config reads secrets from (a deployment passes them on).
    pub fn secrets(&self) -> Vec<String> {
        self.alerts.secrets()
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

    #[test]
    fn an_sns_channel_and_managed_budgets_add_theirs() {
        let topic = "arn:aws:sns:eu-west-1:123456789012:finops";
        let config = Config::parse(&format!(
            "[alerts.sns]\ntopic_arn = \"{topic}\"\n\
             [alerts.webhook]\nurl_env = \"SLACK_URL\"\n\
             [[budgets]]\nname = \"all\"\namount = 100\n"
        ))
        .unwrap();
        let statements = config.iam(&config.arn_scope("123456789012", "*"));
        let sids: Vec<&str> = statements.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["AlertsTopic", "BudgetsRead", "BudgetsWrite"]);
        assert_eq!(statements[0].action, ["sns:Publish"]);
        assert_eq!(statements[0].resource, [topic]);
        assert_eq!(
            statements[1].resource,
            ["arn:aws:budgets::123456789012:budget/*"]
        );
        assert_eq!(config.secrets(), ["SLACK_URL"]);
        let without = Config::parse("[sources.cost_explorer]\n").unwrap();
        let none = without.iam(&without.arn_scope("*", "*"));
        assert!(none.iter().all(|s| !s.sid.starts_with("Budgets")));
    }
}
