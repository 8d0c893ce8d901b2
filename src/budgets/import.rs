//! `[[budgets]]` entries written from budgets the account already holds, so that a team
//! adopts costwatch without recreating anything: the entries read back into the same budgets
//! (amounts in canonical form), so a plan right after shows no change.

use super::amount::Amount;
use super::spec::{AutoAdjust, Budget, CostBasis, Includes, Limit, Threshold};

/// Whether `name` matches `pattern`, where `*` stands for any characters and `?` for one.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic wildcard matching with one backtrack point.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// The `[[budgets]]` entry of a budget.
pub fn entry(b: &Budget) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let list = |values: &mut dyn Iterator<Item = &String>| {
        let quoted: Vec<String> = values.map(|v| q(v)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut out = format!("[[budgets]]\nname = {}\n", q(&b.name));
    match &b.limit {
        Limit::Fixed { amount, currency } => {
            out += &format!("amount = {amount}\ncurrency = {}\n", q(currency));
        }
        Limit::AutoAdjust(AutoAdjust::Forecast) => {
            out += "auto_adjust = { from = \"forecast\" }\n";
        }
        Limit::AutoAdjust(AutoAdjust::History { periods }) => {
            out += &format!("auto_adjust = {{ from = \"history\", periods = {periods} }}\n");
        }
    }
    out += &format!("period = {}\n", q(b.period.as_str()));
    if b.cost != CostBasis::default() {
        out += &format!("cost = {}\n", q(b.cost.as_str()));
    }
    let defaults = Includes::default().fields();
    let changed: Vec<String> = (b.include.fields().into_iter().zip(defaults))
        .filter(|((_, on), (_, default))| on != default)
        .map(|((name, on), _)| format!("{name} = {on}"))
        .collect();
    if !changed.is_empty() {
        out += &format!("include = {{ {} }}\n", changed.join(", "));
    }
    if !b.filters.is_empty() {
        let filters: Vec<String> = (b.filters.iter())
            .map(|(key, values)| format!("{} = {}", key.config_name(), list(&mut values.iter())))
            .collect();
        out += &format!("filters = {{ {} }}\n", filters.join(", "));
    }
    for n in &b.notifications {
        let number = |x: f64| Amount::from_f64(x).map_or_else(|_| x.to_string(), |a| a.to_string());
        let threshold = match n.threshold {
            Threshold::Percent(p) => format!("percent = {}", number(p)),
            Threshold::Amount(a) => format!("amount = {}", number(a)),
        };
        let subscribers: Vec<String> = n.subscribers.iter().map(|s| s.to_string()).collect();
        out += &format!(
            "\n[[budgets.notifications]]\ntype = {}\n{threshold}\nsubscribers = {}\n",
            q(n.kind.as_str()),
            list(&mut subscribers.iter())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::spec::parse_budgets;

    #[test]
    fn wildcards() {
        assert!(matches("*", "anything"));
        assert!(matches("team-*", "team-web"));
        assert!(!matches("team-*", "costwatch-web"));
        assert!(matches("*-web-?", "team-web-1"));
        assert!(matches("exact", "exact") && !matches("exact", "exactly"));
    }

    #[test]
    fn an_entry_reads_back_into_the_same_budget() {
        let text = r#"
[[budgets]]
name = "Team \"web\" monthly"
amount = "2.51E+7"
period = "annually"
cost = "blended"
include = { credit = false, support = false }
filters = { service = ["Amazon Elastic Compute Cloud - Compute"], tag = ["user:team$web"] }

[[budgets.notifications]]
type = "actual"
amount = 12.5
subscribers = ["sns:arn:aws:sns:us-east-1:111122223333:t", "email:a@example.com"]
"#;
        let original = parse_budgets(text).unwrap();
        let written = entry(&original[0]);
        let again = parse_budgets(&written).unwrap();
        assert_eq!(again, original, "{written}");
        assert!(written.contains("amount = 25100000\n"), "{written}");
    }
}
