//! What the `budget` rule watches of a `[[budgets]]` entry: its amount, period and the facts
//! its filters select in the ledger, and where AWS's first FORECASTED notification fires.

use super::spec::{Budget, CostBasis, FilterKey, Limit, NotificationKind};
use crate::model::{BudgetWatch, ChargeCategory, SpendFilter};

impl Budget {
    /// The budget as the `budget` rule projects it, or why it cannot: an auto-adjusting
    /// amount, or a filter the ledger does not keep (usage type groups, cost categories, tags
    /// not in `[sources] tag_keys`, ...).
    pub fn watch(&self, tag_keys: &[String]) -> Result<BudgetWatch, String> {
        let limit = match &self.limit {
            Limit::Fixed { amount, .. } => amount.value(),
            Limit::AutoAdjust(_) => {
                return Err("its amount is set by AWS (auto_adjust)".into());
            }
        };
        let mut spend = SpendFilter {
            categories: self.categories(),
            amortized: self.cost == CostBasis::Amortized,
            ..SpendFilter::default()
        };
        for (key, values) in &self.filters {
            let values: Vec<String> = values.iter().cloned().collect();
            match key {
                FilterKey::Service => spend.services = values,
                FilterKey::LinkedAccount => spend.accounts = values,
                FilterKey::UsageType => spend.usage_types = values,
                FilterKey::Region => spend.regions = values,
                FilterKey::Tag => {
                    for pair in values {
                        let (tag, value) = pair.split_once('$').unwrap_or((&pair, ""));
                        if !tag_keys.iter().any(|k| k == tag) {
                            return Err(format!(
                                "the ledger keeps no values of tag {tag:?} (add it to [sources] tag_keys)"
                            ));
                        }
                        spend.tags.push((tag.to_string(), value.to_string()));
                    }
                }
                other => {
                    return Err(format!("the ledger does not keep {}", other.aws_name()));
                }
            }
        }
        let first_forecast_alert = (self.notifications.iter())
            .filter(|n| n.kind == NotificationKind::Forecasted)
            .map(|n| n.threshold.dollars(limit))
            .min_by(f64::total_cmp);
        Ok(BudgetWatch {
            name: self.name.clone(),
            limit,
            period: self.period,
            spend,
            first_forecast_alert,
            whole_account: self.filters.is_empty(),
        })
    }

    /// The ledger's charge categories the budget's cost types count (usage and other always).
    fn categories(&self) -> Vec<ChargeCategory> {
        let i = &self.include;
        let counted = [
            (ChargeCategory::Usage, true),
            (ChargeCategory::Other, true),
            (ChargeCategory::Tax, i.tax),
            (ChargeCategory::Credit, i.credit),
            (ChargeCategory::Refund, i.refund),
            (ChargeCategory::Discount, i.discount),
            (
                ChargeCategory::Fee,
                i.support || i.subscription || i.other_subscription || i.upfront,
            ),
            (ChargeCategory::Reservation, i.recurring || i.upfront),
            (ChargeCategory::SavingsPlan, i.recurring || i.upfront),
        ];
        (counted.into_iter())
            .filter(|(_, on)| *on)
            .map(|(c, _)| c)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn watches_what_the_ledger_keeps() {
        let text = r#"
[[budgets]]
name = "web"
amount = 1000
include = { tax = false }
filters = { service = ["AmazonCloudWatch"], tag = ["user:team$web"] }
[[budgets.notifications]]
type = "forecasted"
percent = 80
subscribers = ["email:a@example.com"]
[[budgets.notifications]]
type = "forecasted"
amount = 950
subscribers = ["email:a@example.com"]
"#;
        let budget = &crate::budgets::spec::parse_budgets(text).unwrap()[0];
        let watch = budget.watch(&["user:team".into()]).unwrap();
        assert_eq!(watch.first_forecast_alert, Some(800.0));
        assert_eq!(
            watch.spend.tags,
            [("user:team".to_string(), "web".to_string())]
        );
        assert!(!watch.whole_account);
        assert!(
            !watch
                .spend
                .categories
                .contains(&crate::model::ChargeCategory::Tax)
        );
        let err = budget.watch(&[]).unwrap_err();
        assert!(err.contains("tag_keys"), "{err}");
    }
}
