//! Which columns of a billing file hold what, resolved from its header.

use crate::charges::{Amortized, cur_category, focus_category};
use crate::facts::ChargeCategory;
use crate::snake_case;
use crate::tags::TagSource;

/// The two file families costwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Legacy CUR (and its Athena / snake_case form).
    Cur,
    /// FinOps FOCUS 1.x.
    Focus,
}

/// Column positions of one file, resolved from its header.
#[derive(Debug)]
pub struct Layout {
    pub family: Family,
    /// Column names as written in the file, for error messages.
    pub(crate) header: Vec<String>,
    pub(crate) day: usize,
    pub(crate) account: usize,
    pub(crate) category: usize,
    pub(crate) service_code: usize,
    pub(crate) usage_type: usize,
    pub(crate) unblended: usize,
    pub(crate) billing_period: Option<usize>,
    pub(crate) service_name: Option<usize>,
    pub(crate) region: Option<usize>,
    pub(crate) usage_amount: Option<usize>,
    pub(crate) usage_unit: Option<usize>,
    /// Extra columns used for amortized cost (legacy CUR) or commitment status (FOCUS).
    pub(crate) amortized: Option<usize>,
    pub(crate) sp_effective: Option<usize>,
    pub(crate) ri_effective: Option<usize>,
    pub(crate) ri_unused_upfront: Option<usize>,
    pub(crate) ri_unused_recurring: Option<usize>,
    pub(crate) sp_commitment: Option<usize>,
    pub(crate) sp_used: Option<usize>,
    pub(crate) commitment_status: Option<usize>,
    pub(crate) commitment_type: Option<usize>,
    /// Where the configured tag keys' values are.
    pub tags: TagSource,
}

impl Layout {
    /// Resolves the layout from header names; the error names the missing columns.
    /// `tag_keys` are the configured tag keys, sorted.
    pub fn from_header<'a>(
        header: impl IntoIterator<Item = &'a str>,
        tag_keys: &[String],
    ) -> Result<Self, String> {
        let header: Vec<String> = header.into_iter().map(String::from).collect();
        let names: Vec<String> = header.iter().map(|h| snake_case(h)).collect();
        // Without underscores, for names lower-cased by a catalog (Glue: `billedcost`).
        let squashed: Vec<String> = names.iter().map(|n| n.replace('_', "")).collect();
        let find = |candidates: &[&str]| {
            (candidates.iter())
                .find_map(|c| names.iter().position(|n| n == c))
                .or_else(|| {
                    (candidates.iter())
                        .find_map(|c| squashed.iter().position(|n| *n == c.replace('_', "")))
                })
        };
        let family = if find(&["billed_cost"]).is_some() && find(&["charge_category"]).is_some() {
            Family::Focus
        } else if find(&["line_item_unblended_cost"]).is_some() {
            Family::Cur
        } else {
            return Err(
                "not a CUR or FOCUS file: no lineItem/UnblendedCost or BilledCost column".into(),
            );
        };
        let mut missing = Vec::new();
        let mut need = |label: &str, candidates: &[&str]| {
            find(candidates).unwrap_or_else(|| {
                missing.push(format!("{label} ({})", candidates.join(" or ")));
                0
            })
        };
        let layout = match family {
            Family::Cur => Layout {
                family,
                header: Vec::new(),
                day: need("lineItem/UsageStartDate", &["line_item_usage_start_date"]),
                account: need("lineItem/UsageAccountId", &["line_item_usage_account_id"]),
                category: need("lineItem/LineItemType", &["line_item_line_item_type"]),
                service_code: need("lineItem/ProductCode", &["line_item_product_code"]),
                usage_type: need("lineItem/UsageType", &["line_item_usage_type"]),
                unblended: need("lineItem/UnblendedCost", &["line_item_unblended_cost"]),
                billing_period: find(&["bill_billing_period_start_date"]),
                service_name: find(&["product_product_name"]),
                region: find(&["product_region", "product_region_code"]),
                usage_amount: find(&["line_item_usage_amount"]),
                usage_unit: find(&["pricing_unit"]),
                amortized: None,
                sp_effective: find(&["savings_plan_savings_plan_effective_cost"]),
                ri_effective: find(&["reservation_effective_cost"]),
                ri_unused_upfront: find(&[
                    "reservation_unused_amortized_upfront_fee_for_billing_period",
                ]),
                ri_unused_recurring: find(&["reservation_unused_recurring_fee"]),
                sp_commitment: find(&["savings_plan_total_commitment_to_date"]),
                sp_used: find(&["savings_plan_used_commitment"]),
                commitment_status: None,
                commitment_type: None,
                tags: TagSource::None,
            },
            Family::Focus => Layout {
                family,
                header: Vec::new(),
                day: need("ChargePeriodStart", &["charge_period_start"]),
                account: need("SubAccountId", &["sub_account_id"]),
                category: need("ChargeCategory", &["charge_category"]),
                service_code: need("ServiceName", &["x_service_code", "service_name"]),
                usage_type: need(
                    "ChargeDescription",
                    &["x_usage_type", "charge_description", "sku_id"],
                ),
                unblended: need("BilledCost", &["billed_cost"]),
                billing_period: find(&["billing_period_start"]),
                service_name: find(&["service_name"]),
                region: find(&["region_id"]),
                usage_amount: find(&["consumed_quantity"]),
                usage_unit: find(&["consumed_unit"]),
                amortized: find(&["effective_cost"]),
                sp_effective: None,
                ri_effective: None,
                ri_unused_upfront: None,
                ri_unused_recurring: None,
                sp_commitment: None,
                sp_used: None,
                commitment_status: find(&["commitment_discount_status"]),
                commitment_type: find(&["commitment_discount_type"]),
                tags: TagSource::None,
            },
        };
        if !missing.is_empty() {
            return Err(format!(
                "missing required column(s): {}",
                missing.join(", ")
            ));
        }
        let tags = if tag_keys.is_empty() {
            TagSource::None
        } else {
            let flat: Vec<Option<usize>> = tag_keys
                .iter()
                .map(|k| find(&[format!("resource_tags_{}", snake_case(k)).as_str()]))
                .collect();
            match find(&["resource_tags", "tags"]) {
                Some(map) if flat.iter().all(Option::is_none) => TagSource::Map(map),
                _ => TagSource::Columns(flat),
            }
        };
        Ok(Layout {
            header,
            tags,
            ..layout
        })
    }

    /// The columns amortized cost may read: only rows of some line-item types read them.
    pub fn amortization_columns(&self) -> [Option<usize>; 7] {
        [
            self.amortized,
            self.sp_effective,
            self.ri_effective,
            self.ri_unused_upfront,
            self.ri_unused_recurring,
            self.sp_commitment,
            self.sp_used,
        ]
    }

    /// Columns whose values the reader must provide (for projection), tag columns excluded.
    pub fn needed_columns(&self) -> Vec<usize> {
        let mut cols = vec![
            self.day,
            self.account,
            self.category,
            self.service_code,
            self.usage_type,
            self.unblended,
        ];
        cols.extend(
            [
                self.billing_period,
                self.service_name,
                self.region,
                self.usage_amount,
                self.usage_unit,
                self.commitment_status,
                self.commitment_type,
            ]
            .into_iter()
            .chain(self.amortization_columns())
            .flatten(),
        );
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// The charge category of a row and how its amortized cost is computed, from its
    /// line-item type (FOCUS: charge category, commitment status and type).
    pub(crate) fn charge(
        &self,
        line_type: &[u8],
        status: &[u8],
        kind: &[u8],
    ) -> (ChargeCategory, Amortized) {
        match self.family {
            Family::Cur => {
                let amortized = match line_type {
                    b"SavingsPlanCoveredUsage" => self.sp_effective.map(Amortized::Column),
                    b"DiscountedUsage" => self.ri_effective.map(Amortized::Column),
                    b"SavingsPlanRecurringFee" => self
                        .sp_commitment
                        .zip(self.sp_used)
                        .map(|(commitment, used)| Amortized::Difference(commitment, used)),
                    b"RIFee"
                        if self.ri_unused_upfront.is_some()
                            || self.ri_unused_recurring.is_some() =>
                    {
                        Some(Amortized::Sum(
                            self.ri_unused_upfront,
                            self.ri_unused_recurring,
                        ))
                    }
                    b"SavingsPlanNegation" | b"SavingsPlanUpfrontFee" => Some(Amortized::Zero),
                    _ => None,
                };
                (
                    cur_category(line_type),
                    amortized.unwrap_or(Amortized::Unblended),
                )
            }
            Family::Focus => (
                focus_category(line_type, status, kind),
                self.amortized
                    .map_or(Amortized::Unblended, Amortized::Column),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_column_is_named() {
        let err = Layout::from_header(["lineItem/UnblendedCost", "lineItem/UsageAccountId"], &[])
            .unwrap_err();
        assert!(err.contains("lineItem/UsageStartDate"), "{err}");
        assert!(err.contains("line_item_usage_start_date"), "{err}");
    }

    #[test]
    fn names_a_catalog_lower_cased_are_found() {
        let layout = Layout::from_header(
            [
                "billedcost",
                "chargecategory",
                "chargeperiodstart",
                "subaccountid",
                "x_servicecode",
                "servicename",
                "x_usagetype",
                "effectivecost",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(layout.family, Family::Focus);
        assert_eq!((layout.service_code, layout.service_name), (4, Some(5)));
        assert_eq!(layout.amortized, Some(7));
    }

    #[test]
    fn fees_and_credits_are_not_usage() {
        assert_eq!(cur_category(b"RIFee"), ChargeCategory::Reservation);
        assert_eq!(cur_category(b"Credit"), ChargeCategory::Credit);
        assert_eq!(
            cur_category(b"SavingsPlanCoveredUsage"),
            ChargeCategory::Usage
        );
        assert_eq!(
            focus_category(b"Usage", b"Unused", b"Savings Plan"),
            ChargeCategory::SavingsPlan
        );
        assert_eq!(focus_category(b"Purchase", b"", b""), ChargeCategory::Fee);
    }
}
