//! What kind of charge a line item is, and how its amortized cost follows from its columns.

use crate::facts::ChargeCategory;
use crate::groups::FxBuild;
use std::collections::HashMap;

/// How a row's amortized cost follows from its columns (header positions).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Amortized {
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
    pub(crate) fn value<E>(
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
    pub(crate) fn get(
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

/// Charge category of a legacy CUR `lineItem/LineItemType`.
pub(crate) fn cur_category(line_item_type: &[u8]) -> ChargeCategory {
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
pub(crate) fn focus_category(
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
