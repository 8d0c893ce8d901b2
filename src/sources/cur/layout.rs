//! Which columns of a billing file hold what, and how one row becomes a daily fact.

use super::agg::{Aggregator, FxBuild, Row};
use super::snake_case;
use crate::ledger::ChargeCategory;
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

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

/// A batch of one column as one converted value per row (the Parquet reader's fast path).
pub enum Typed<'a> {
    /// Interned ids, 0 for null.
    Ids(&'a [u32]),
    /// Numbers, 0 for null.
    Numbers(&'a [f64]),
    /// Numbers not converted per row, for a column only some rows read: each row's index
    /// into `values`, `u32::MAX` for null.
    IndexedNumbers { rows: &'a [u32], values: &'a [f64] },
    /// Days since the Unix epoch, [`NULL_DAY`] for null.
    Days(&'a [i32]),
}

impl Typed<'_> {
    /// The number of row `r` of a column of numbers (0 for null).
    #[inline]
    fn number(&self, r: usize) -> f64 {
        match *self {
            Typed::Numbers(v) => v[r],
            Typed::IndexedNumbers { rows, values } => match rows[r] {
                u32::MAX => 0.0,
                i => values[i as usize],
            },
            Typed::Ids(_) | Typed::Days(_) => unreachable!("a column of numbers"),
        }
    }
}

/// The day of a null row in [`Typed::Days`].
pub const NULL_DAY: i32 = i32::MIN;

/// A batch of rows as typed columns.
pub trait Columns {
    /// Rows in the batch.
    fn rows(&self) -> usize;
    /// The batch's column at a header position, if it is available typed.
    fn typed(&self, column: usize) -> Option<Typed<'_>>;
}

/// How a row's amortized cost follows from its columns (header positions).
#[derive(Debug, Clone, Copy)]
enum Amortized {
    Unblended,
    Zero,
    Column(usize),
    /// Unused savings-plan commitment: the first column minus the second.
    Difference(usize, usize),
    /// Unused reservation fees: the sum of the columns present.
    Sum(Option<usize>, Option<usize>),
}

impl Amortized {
    /// The amortized cost of a row, given its unblended cost and its numbers by column.
    #[inline]
    fn value<E>(
        self,
        unblended: f64,
        mut number: impl FnMut(usize) -> Result<f64, E>,
    ) -> Result<f64, E> {
        Ok(match self {
            Self::Unblended => unblended,
            Self::Zero => 0.0,
            Self::Column(c) => number(c)?,
            Self::Difference(a, b) => number(a)? - number(b)?,
            Self::Sum(a, b) => {
                let a = a.map_or(Ok(0.0), &mut number)?;
                a + b.map_or(Ok(0.0), number)?
            }
        })
    }
}

/// The charge category and amortized-cost rule of each distinct line-item type (FOCUS:
/// charge category, commitment status and type) seen, by interned ids.
#[derive(Default)]
pub struct Charges {
    /// By line-item type alone (no status or type: every legacy CUR row).
    by_type: Vec<Option<(ChargeCategory, Amortized)>>,
    by_ids: HashMap<(u32, u32, u32), (ChargeCategory, Amortized), FxBuild>,
}

impl Charges {
    /// The charge of `ids` (line-item type, status, type), computed once.
    #[inline]
    fn get(
        &mut self,
        ids: (u32, u32, u32),
        charge: impl FnOnce() -> (ChargeCategory, Amortized),
    ) -> (ChargeCategory, Amortized) {
        if ids.1 == 0 && ids.2 == 0 {
            let i = ids.0 as usize;
            if i >= self.by_type.len() {
                self.by_type.resize(i + 1, None);
            }
            *self.by_type[i].get_or_insert_with(charge)
        } else {
            *self.by_ids.entry(ids).or_insert_with(charge)
        }
    }
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

/// 1970-01-01, day 0 of the day numbers.
pub fn epoch() -> NaiveDate {
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
    fn charge(&self, line_type: &[u8], status: &[u8], kind: &[u8]) -> (ChargeCategory, Amortized) {
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

    /// Adds one row to `agg`; `tags` is its tag set ([`Aggregator::tag_set`]).
    #[inline]
    pub fn accumulate<'r>(
        &self,
        row: impl Fn(usize) -> Cell<'r>,
        tags: u32,
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
        let number = |i: usize| -> Result<f64, FieldError> {
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
        let (category, amortized) = self.charge(
            str_of(row(self.category)),
            str_of(opt(self.commitment_status)),
            str_of(opt(self.commitment_type)),
        );
        let unblended = number(self.unblended)?;
        let amortized = amortized.value(unblended, number)?;
        let usage_amount = self.usage_amount.map_or(Ok(0.0), number)?;
        let row = Row {
            period,
            day,
            category,
            account: agg.id(row(self.account)),
            service_code: agg.id(row(self.service_code)),
            usage_type: agg.id(row(self.usage_type)),
            region: agg.id(opt(self.region)),
            tags,
            service_name: agg.id(opt(self.service_name)),
            usage_unit: agg.id(opt(self.usage_unit)),
            unblended,
            amortized,
            usage_amount,
        };
        agg.add(&row);
        Ok(())
    }

    /// Adds a batch of rows given as typed columns, `tags` holding each row's tag set
    /// ([`Aggregator::tag_set`]; empty without tag keys).
    ///
    /// Returns false, having added nothing, if a column the facts need is not typed as
    /// they need it (text, number, day): then the rows are to be added one by one. A row
    /// this path does not take (a null day, a number that is not finite) goes to
    /// `one_row`, which adds it or reports its error as [`Layout::accumulate`] does.
    pub fn accumulate_batch(
        &self,
        batch: &impl Columns,
        tags: &[u32],
        days: &mut DayCache,
        charges: &mut Charges,
        agg: &mut Aggregator,
        mut one_row: impl FnMut(usize, &mut DayCache, &mut Aggregator) -> Result<(), FieldError>,
    ) -> Result<bool, FieldError> {
        let ids = |c: usize| match batch.typed(c) {
            Some(Typed::Ids(v)) => Some(v),
            _ => None,
        };
        let numbers = |c: usize| match batch.typed(c) {
            Some(Typed::Numbers(v)) => Some(v),
            _ => None,
        };
        let day_of = |c: usize| match batch.typed(c) {
            Some(Typed::Days(v)) => Some(v),
            _ => None,
        };
        /// An optional column: absent (`Some(None)`), typed (`Some(Some(..))`) or not
        /// typed as needed (`None`).
        fn optional<T>(c: Option<usize>, typed: impl Fn(usize) -> Option<T>) -> Option<Option<T>> {
            match c {
                None => Some(None),
                Some(c) => typed(c).map(Some),
            }
        }
        let (
            Some(day),
            Some(period),
            Some(account),
            Some(service_code),
            Some(usage_type),
            Some(region),
            Some(service_name),
            Some(usage_unit),
            Some(line_type),
            Some(status),
            Some(kind),
            Some(unblended),
            Some(usage_amount),
        ) = (
            day_of(self.day),
            optional(self.billing_period, day_of),
            ids(self.account),
            ids(self.service_code),
            ids(self.usage_type),
            optional(self.region, ids),
            optional(self.service_name, ids),
            optional(self.usage_unit, ids),
            ids(self.category),
            optional(self.commitment_status, ids),
            optional(self.commitment_type, ids),
            numbers(self.unblended),
            optional(self.usage_amount, numbers),
        )
        else {
            return Ok(false);
        };
        // The amounts amortized cost may read, by header position.
        let mut amounts: Vec<Option<Typed>> = (0..self.header.len()).map(|_| None).collect();
        for c in self.amortization_columns().into_iter().flatten() {
            match batch.typed(c) {
                Some(t @ (Typed::Numbers(_) | Typed::IndexedNumbers { .. })) => {
                    amounts[c] = Some(t)
                }
                _ => return Ok(false),
            }
        }
        let at = |column: Option<&[u32]>, r: usize| column.map_or(0, |v| v[r]);
        for r in 0..batch.rows() {
            if day[r] == NULL_DAY {
                one_row(r, days, agg)?;
                continue;
            }
            let (day, day_period) = days.days(day[r]);
            let period = match period.map(|p| p[r]) {
                Some(p) if p != NULL_DAY => days.days(p).1,
                _ => day_period,
            };
            let ids = (line_type[r], at(status, r), at(kind, r));
            let (category, rule) = charges.get(ids, || {
                let text = |id: u32| agg.strings.get(id);
                self.charge(text(ids.0), text(ids.1), text(ids.2))
            });
            let unblended = unblended[r];
            let Ok(amortized) = rule.value(unblended, |c| {
                let amount = amounts[c].as_ref().expect("amounts of the rules");
                Ok::<_, std::convert::Infallible>(amount.number(r))
            });
            let usage_amount = usage_amount.map_or(0.0, |v| v[r]);
            if !(unblended.is_finite() && amortized.is_finite() && usage_amount.is_finite()) {
                one_row(r, days, agg)?;
                continue;
            }
            agg.add(&Row {
                period,
                day,
                category,
                account: account[r],
                service_code: service_code[r],
                usage_type: usage_type[r],
                region: at(region, r),
                tags: tags.get(r).copied().unwrap_or(0),
                service_name: at(service_name, r),
                usage_unit: at(usage_unit, r),
                unblended,
                amortized,
                usage_amount,
            });
        }
        Ok(true)
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
