//! What AWS Budgets accepts, checked before any call: names, addresses, filter values and
//! the quotas of the API reference.

/// Notifications a budget may have.
pub const MAX_NOTIFICATIONS: usize = 10;
/// E-mail subscribers a notification may have.
pub const MAX_EMAIL_SUBSCRIBERS: usize = 10;
/// SNS subscribers a notification may have.
pub const MAX_SNS_SUBSCRIBERS: usize = 1;
/// The largest PERCENTAGE threshold.
pub const MAX_PERCENT: f64 = 1_000_000.0;
/// The largest ABSOLUTE_VALUE threshold (the API's bound on any threshold).
pub const MAX_ABSOLUTE: f64 = 15e12;

/// A budget name: 1 to 100 characters, without `:` or `\`, the `/action/` substring or a
/// script tag.
pub fn budget_name(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    let problem = if name.trim().is_empty() {
        "is empty"
    } else if name.chars().count() > 100 {
        "is longer than 100 characters"
    } else if name.contains([':', '\\']) {
        "contains `:` or `\\`, which AWS does not allow in a budget name"
    } else if name.contains("/action/") {
        "contains `/action/`, which AWS does not allow in a budget name"
    } else if lower.contains("<script>") {
        "contains a script tag"
    } else if name.contains(['\n', '\r', '\t']) {
        "contains a line break or tab"
    } else {
        return Ok(());
    };
    Err(format!("budget name {name:?} {problem}"))
}

/// An e-mail address as AWS takes it: `local@domain.tld`, no spaces.
pub fn email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let plain = |s: &str| !s.is_empty() && !s.contains(|c: char| c == '@' || c.is_whitespace());
    plain(local)
        && plain(domain)
        && domain
            .split_once('.')
            .is_some_and(|(host, tld)| !host.is_empty() && !tld.is_empty() && !tld.ends_with('.'))
}

/// An SNS topic ARN: `arn:aws:sns:REGION:ACCOUNT:TOPIC` (any partition).
pub fn sns_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    let [arn_, partition, sns, region, account, topic] = parts[..] else {
        return false;
    };
    arn_ == "arn"
        && partition.starts_with("aws")
        && sns == "sns"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account_id(account)
        && (1..=256).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A 12-digit AWS account id.
pub fn account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// A region code (`us-east-1`) or `global`.
pub fn region(code: &str) -> bool {
    code == "global"
        || (code.contains('-')
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
}

/// A `KEY$VALUE` pair (tags `user:team$web`, cost categories `Team$Platform`); the value may
/// be empty (untagged).
pub fn key_value(pair: &str) -> bool {
    pair.split_once('$').is_some_and(|(key, _)| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_addresses_and_arns() {
        assert!(budget_name("costwatch-web monthly").is_ok());
        assert!(budget_name("a:b").is_err());
        assert!(budget_name("x/action/y").is_err());
        assert!(budget_name(&"n".repeat(101)).is_err());
        assert!(email("finops@example.com"));
        assert!(!email("finops@example"));
        assert!(!email("fin ops@example.com"));
        assert!(!email("finops.example.com"));
        assert!(sns_topic_arn(
            "arn:aws:sns:us-east-1:111122223333:budget-alerts"
        ));
        assert!(!sns_topic_arn("arn:aws:sns:us-east-1:1111:budget-alerts"));
        assert!(!sns_topic_arn("arn:aws:sqs:us-east-1:111122223333:q"));
        assert!(key_value("user:team$web") && key_value("user:team$"));
        assert!(!key_value("user:team=web") && !key_value("$web"));
    }
}
