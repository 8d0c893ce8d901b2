//! Which columns of a billing file hold what, and how one row becomes a daily fact.

use super::snake_case;
use crate::ledger::{ChargeCategory, FactKey, FactValue};
use chrono::NaiveDate;

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
    header: Vec<String>,
    day: usize,
    account: usize,
    category: usize,
    service_code: usize,
    usage_type: usize,
    unblended: usize,
    billing_period: Option<usize>,
    service_name: Option<usize>,
    region: Option<usize>,
    usage_amount: Option<usize>,
    usage_unit: Option<usize>,
    /// Extra columns used for amortized cost (legacy CUR) or commitment status (FOCUS).
    amortized: Option<usize>,
    sp_effective: Option<usize>,
    ri_effective: Option<usize>,
    ri_unused_upfront: Option<usize>,
    ri_unused_recurring: Option<usize>,
    sp_commitment: Option<usize>,
    sp_used: Option<usize>,
    commitment_status: Option<usize>,
    commitment_type: Option<usize>,
}

/// A row field that could not be read; the reader adds file, row and line.
#[derive(Debug)]
pub struct FieldError {
    pub column: String,
    pub value: String,
    pub expected: &'static str,
}

impl Layout {
    /// Resolves the layout from header names; the error names the missing columns.
    pub fn from_header<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let header: Vec<String> = header.into_iter().map(String::from).collect();
        let names: Vec<String> = header.iter().map(|h| snake_case(h)).collect();
        let find = |candidates: &[&str]| {
            candidates
                .iter()
                .find_map(|c| names.iter().position(|n| n == c))
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
        let mut need = |label: &'static str, candidates: &[&str]| {
            find(candidates).unwrap_or_else(|| {
                missing.push(label);
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
            },
        };
        if !missing.is_empty() {
            return Err(format!(
                "missing required column(s): {}",
                missing.join(", ")
            ));
        }
        Ok(Layout { header, ..layout })
    }

    /// Turns one row into a fact key and value.
    pub fn fact<'r>(
        &self,
        row: &impl Fn(usize) -> &'r str,
    ) -> Result<(FactKey, FactValue), FieldError> {
        let opt = |i: Option<usize>| i.map(row).unwrap_or("");
        let day = parse_day(row(self.day)).ok_or_else(|| FieldError {
            column: self.header[self.day].clone(),
            value: row(self.day).to_string(),
            expected: "a date",
        })?;
        let billing_period = match self.billing_period.map(row).filter(|v| v.len() >= 7) {
            Some(v) => v[..7].to_string(),
            None => day.format("%Y-%m").to_string(),
        };
        let number = |i: Option<usize>| -> Result<f64, FieldError> {
            let Some(i) = i else { return Ok(0.0) };
            let v = row(i).trim();
            if v.is_empty() {
                return Ok(0.0);
            }
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| FieldError {
                    column: self.header[i].clone(),
                    value: v.to_string(),
                    expected: "a number",
                })
        };
        let line_type = row(self.category);
        let unblended = number(Some(self.unblended))?;
        let (category, amortized) = match self.family {
            Family::Cur => {
                let category = cur_category(line_type);
                let amortized = match line_type {
                    "SavingsPlanCoveredUsage" if self.sp_effective.is_some() => {
                        number(self.sp_effective)?
                    }
                    "DiscountedUsage" if self.ri_effective.is_some() => number(self.ri_effective)?,
                    "SavingsPlanRecurringFee"
                        if self.sp_commitment.is_some() && self.sp_used.is_some() =>
                    {
                        number(self.sp_commitment)? - number(self.sp_used)?
                    }
                    "RIFee"
                        if self.ri_unused_upfront.is_some()
                            || self.ri_unused_recurring.is_some() =>
                    {
                        number(self.ri_unused_upfront)? + number(self.ri_unused_recurring)?
                    }
                    "SavingsPlanNegation" | "SavingsPlanUpfrontFee" => 0.0,
                    _ => unblended,
                };
                (category, amortized)
            }
            Family::Focus => {
                let category = focus_category(
                    line_type,
                    opt(self.commitment_status),
                    opt(self.commitment_type),
                );
                let amortized = if self.amortized.is_some() {
                    number(self.amortized)?
                } else {
                    unblended
                };
                (category, amortized)
            }
        };
        let service_code = row(self.service_code).to_string();
        let service_name = match opt(self.service_name) {
            "" => service_code.clone(),
            name => name.to_string(),
        };
        let key = FactKey {
            billing_period,
            day,
            account: row(self.account).to_string(),
            service_code,
            usage_type: row(self.usage_type).to_string(),
            region: opt(self.region).to_string(),
            category,
            tags: String::new(),
        };
        let value = FactValue {
            service_name,
            unblended,
            amortized,
            usage_amount: number(self.usage_amount)?,
            usage_unit: opt(self.usage_unit).to_string(),
        };
        Ok((key, value))
    }
}

/// Parses the date part of `2026-01-01T00:00:00Z`, `2026-01-01 00:00:00` or `2026-01-01`.
fn parse_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.get(..10)?, "%Y-%m-%d").ok()
}

/// Charge category of a legacy CUR `lineItem/LineItemType`.
fn cur_category(line_item_type: &str) -> ChargeCategory {
    match line_item_type {
        "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage" => ChargeCategory::Usage,
        "Fee" => ChargeCategory::Fee,
        "Tax" => ChargeCategory::Tax,
        "Credit" => ChargeCategory::Credit,
        "Refund" => ChargeCategory::Refund,
        "BundledDiscount" | "EdpDiscount" | "PrivateRateDiscount" | "DistributorDiscount" => {
            ChargeCategory::Discount
        }
        "SavingsPlanNegation" | "SavingsPlanRecurringFee" | "SavingsPlanUpfrontFee" => {
            ChargeCategory::SavingsPlan
        }
        "RIFee" => ChargeCategory::Reservation,
        _ => ChargeCategory::Other,
    }
}

/// Charge category of a FOCUS `ChargeCategory`; unused commitments are not usage.
fn focus_category(
    charge_category: &str,
    commitment_status: &str,
    commitment_type: &str,
) -> ChargeCategory {
    let commitment = || {
        if commitment_type.eq_ignore_ascii_case("reservation") {
            ChargeCategory::Reservation
        } else {
            ChargeCategory::SavingsPlan
        }
    };
    match charge_category {
        "Usage" if commitment_status.eq_ignore_ascii_case("unused") => commitment(),
        "Usage" => ChargeCategory::Usage,
        "Purchase" if !commitment_type.is_empty() => commitment(),
        "Purchase" => ChargeCategory::Fee,
        "Tax" => ChargeCategory::Tax,
        "Credit" => ChargeCategory::Credit,
        "Adjustment" => ChargeCategory::Refund,
        _ => ChargeCategory::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_column_is_named() {
        let err =
            Layout::from_header(["lineItem/UnblendedCost", "lineItem/UsageAccountId"]).unwrap_err();
        assert!(err.contains("lineItem/UsageStartDate"), "{err}");
    }

    #[test]
    fn fees_and_credits_are_not_usage() {
        assert_eq!(cur_category("RIFee"), ChargeCategory::Reservation);
        assert_eq!(cur_category("Credit"), ChargeCategory::Credit);
        assert_eq!(
            cur_category("SavingsPlanCoveredUsage"),
            ChargeCategory::Usage
        );
        assert_eq!(
            focus_category("Usage", "Unused", "Savings Plan"),
            ChargeCategory::SavingsPlan
        );
        assert_eq!(focus_category("Purchase", "", ""), ChargeCategory::Fee);
    }
}
