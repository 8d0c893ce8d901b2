//! Which columns of a billing file hold what, and how one row becomes a daily fact.

use super::agg::{Aggregator, RowKey, RowValue};
use super::snake_case;
use crate::ledger::ChargeCategory;
use chrono::{Datelike, NaiveDate};

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
    /// Where the configured tag keys' values are.
    pub tags: TagSource,
}

/// A row field that could not be read; the reader adds file and row.
#[derive(Debug)]
pub struct FieldError {
    pub column: String,
    pub value: String,
    pub expected: &'static str,
}

/// One field of a row as a reader has it: text (CSV, Parquet strings) or typed (Parquet).
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    Str(&'a [u8]),
    /// Text the reader has already interned in the aggregator ([`Aggregator::strings`]).
    Id(u32, &'a [u8]),
    Num(f64),
    /// Days since the Unix epoch.
    Day(i32),
}

/// Where the values of the configured tag keys are.
#[derive(Debug, Clone)]
pub enum TagSource {
    /// No tag keys configured.
    None,
    /// One column per configured key (legacy CUR `resourceTags/user:team`, Athena
    /// `resource_tags_user_team`); `None` where the file has no such column.
    Columns(Vec<Option<usize>>),
    /// A map column: CUR 2.0 `resource_tags`, FOCUS `Tags` (JSON text in CSV).
    Map(usize),
}

/// Whether a map key (`user_team`, `user:team`) is the configured key `user:team`.
pub fn tag_key_matches(map_key: &str, configured: &str) -> bool {
    map_key == configured || snake_case(map_key) == snake_case(configured)
}

/// A cache of the dates seen: most rows of a file share a handful of days.
pub struct DayCache {
    last: [u8; 10],
    day: i32,
    period: u32,
    /// `(day, period)` of numeric days, by day modulo the table size.
    periods: [(i32, u32); 64],
}

impl Default for DayCache {
    fn default() -> Self {
        Self {
            last: [0; 10],
            day: 0,
            period: 0,
            periods: [(i32::MIN, 0); 64],
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

impl DayCache {
    /// Day (days since epoch) and its `yyyymm` of `2026-01-01T00:00:00Z`, `2026-01-01 …`, `2026-01-01`.
    #[inline]
    fn text(&mut self, v: &[u8]) -> Option<(i32, u32)> {
        let head = v.get(..10)?;
        if head == self.last && self.period != 0 {
            return Some((self.day, self.period));
        }
        if head[4] != b'-' || head[7] != b'-' {
            return None;
        }
        let (y, m, d) = (
            digits(&head[..4])?,
            digits(&head[5..7])?,
            digits(&head[8..10])?,
        );
        let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
        self.last.copy_from_slice(head);
        self.day = (date - epoch()).num_days() as i32;
        self.period = y * 100 + m;
        Some((self.day, self.period))
    }

    #[inline]
    fn days(&mut self, day: i32) -> (i32, u32) {
        let slot = &mut self.periods[day.rem_euclid(64) as usize];
        if slot.0 != day {
            let date = epoch() + chrono::TimeDelta::days(i64::from(day));
            *slot = (day, date.year() as u32 * 100 + date.month());
        }
        (day, slot.1)
    }

    #[inline]
    fn cell(&mut self, c: Cell) -> Option<(i32, u32)> {
        match c {
            Cell::Str(v) | Cell::Id(_, v) => self.text(v),
            Cell::Day(d) => Some(self.days(d)),
            Cell::Null | Cell::Num(_) => None,
        }
    }
}

fn show(c: Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Str(v) | Cell::Id(_, v) => String::from_utf8_lossy(v).into_owned(),
        Cell::Num(x) => x.to_string(),
        Cell::Day(d) => format!("day {d}"),
    }
}

#[inline]
fn str_of<'a>(c: Cell<'a>) -> &'a [u8] {
    match c {
        Cell::Str(v) | Cell::Id(_, v) => v,
        _ => b"",
    }
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
                self.amortized,
                self.sp_effective,
                self.ri_effective,
                self.ri_unused_upfront,
                self.ri_unused_recurring,
                self.sp_commitment,
                self.sp_used,
                self.commitment_status,
                self.commitment_type,
            ]
            .into_iter()
            .flatten(),
        );
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// Adds one row to `agg`; `tags` holds the values of the configured tag keys.
    #[inline]
    pub fn accumulate<'r>(
        &self,
        row: impl Fn(usize) -> Cell<'r>,
        tags: &[&[u8]],
        days: &mut DayCache,
        agg: &mut Aggregator,
    ) -> Result<(), FieldError> {
        let opt = |i: Option<usize>| i.map_or(Cell::Null, &row);
        let err = |i: usize, expected| FieldError {
            column: self.header[i].clone(),
            value: show(row(i)),
            expected,
        };
        let (day, day_period) = days
            .cell(row(self.day))
            .ok_or_else(|| err(self.day, "a date"))?;
        let period = match self.billing_period.map(&row) {
            Some(Cell::Str(v) | Cell::Id(_, v)) if v.len() >= 7 && v[4] == b'-' => {
                match (digits(&v[..4]), digits(&v[5..7])) {
                    (Some(y), Some(m)) => y * 100 + m,
                    _ => return Err(err(self.billing_period.expect("some"), "a date")),
                }
            }
            Some(Cell::Day(d)) => days.days(d).1,
            _ => day_period,
        };
        let number = |i: Option<usize>| -> Result<f64, FieldError> {
            let Some(i) = i else { return Ok(0.0) };
            match row(i) {
                Cell::Num(x) if x.is_finite() => Ok(x),
                Cell::Null => Ok(0.0),
                Cell::Str(v) | Cell::Id(_, v) => {
                    let v = v.trim_ascii();
                    if v.is_empty() {
                        return Ok(0.0);
                    }
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(i, "a number"))
                }
                _ => Err(err(i, "a number")),
            }
        };
        let line_type = str_of(row(self.category));
        let unblended = number(Some(self.unblended))?;
        let (category, amortized) = match self.family {
            Family::Cur => {
                let category = cur_category(line_type);
                let amortized = match line_type {
                    b"SavingsPlanCoveredUsage" if self.sp_effective.is_some() => {
                        number(self.sp_effective)?
                    }
                    b"DiscountedUsage" if self.ri_effective.is_some() => number(self.ri_effective)?,
                    b"SavingsPlanRecurringFee"
                        if self.sp_commitment.is_some() && self.sp_used.is_some() =>
                    {
                        number(self.sp_commitment)? - number(self.sp_used)?
                    }
                    b"RIFee"
                        if self.ri_unused_upfront.is_some()
                            || self.ri_unused_recurring.is_some() =>
                    {
                        number(self.ri_unused_upfront)? + number(self.ri_unused_recurring)?
                    }
                    b"SavingsPlanNegation" | b"SavingsPlanUpfrontFee" => 0.0,
                    _ => unblended,
                };
                (category, amortized)
            }
            Family::Focus => {
                let category = focus_category(
                    line_type,
                    str_of(opt(self.commitment_status)),
                    str_of(opt(self.commitment_type)),
                );
                let amortized = if self.amortized.is_some() {
                    number(self.amortized)?
                } else {
                    unblended
                };
                (category, amortized)
            }
        };
        let key = RowKey {
            period,
            day,
            category,
            account: row(self.account),
            service_code: row(self.service_code),
            usage_type: row(self.usage_type),
            region: opt(self.region),
        };
        let value = RowValue {
            unblended,
            amortized,
            usage_amount: number(self.usage_amount)?,
            service_name: opt(self.service_name),
            usage_unit: opt(self.usage_unit),
        };
        agg.add(&key, tags, &value);
        Ok(())
    }
}

/// Charge category of a legacy CUR `lineItem/LineItemType`.
fn cur_category(line_item_type: &[u8]) -> ChargeCategory {
    match line_item_type {
        b"Usage" | b"DiscountedUsage" | b"SavingsPlanCoveredUsage" => ChargeCategory::Usage,
        b"Fee" => ChargeCategory::Fee,
        b"Tax" => ChargeCategory::Tax,
        b"Credit" => ChargeCategory::Credit,
        b"Refund" => ChargeCategory::Refund,
        b"BundledDiscount" | b"EdpDiscount" | b"PrivateRateDiscount" | b"DistributorDiscount" => {
            ChargeCategory::Discount
        }
        b"SavingsPlanNegation" | b"SavingsPlanRecurringFee" | b"SavingsPlanUpfrontFee" => {
            ChargeCategory::SavingsPlan
        }
        b"RIFee" => ChargeCategory::Reservation,
        _ => ChargeCategory::Other,
    }
}

/// Charge category of a FOCUS `ChargeCategory`; unused commitments are not usage.
fn focus_category(
    charge_category: &[u8],
    commitment_status: &[u8],
    commitment_type: &[u8],
) -> ChargeCategory {
    let commitment = || {
        if commitment_type.eq_ignore_ascii_case(b"reservation") {
            ChargeCategory::Reservation
        } else {
            ChargeCategory::SavingsPlan
        }
    };
    match charge_category {
        b"Usage" if commitment_status.eq_ignore_ascii_case(b"unused") => commitment(),
        b"Usage" => ChargeCategory::Usage,
        b"Purchase" if !commitment_type.is_empty() => commitment(),
        b"Purchase" => ChargeCategory::Fee,
        b"Tax" => ChargeCategory::Tax,
        b"Credit" => ChargeCategory::Credit,
        b"Adjustment" => ChargeCategory::Refund,
        _ => ChargeCategory::Other,
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
