//! Which of a table's columns the daily facts are made of, by name: what an engine that
//! groups the line items before costwatch reads them (Amazon Athena) must group by and sum.
//!
//! The charge category and amortized cost of a line item follow from its line-item type
//! (FOCUS: charge category, commitment status and type) and are linear in its amounts, so
//! rows grouped by the [`Projection::keys`] with their [`Projection::amounts`] summed, read
//! back by [`crate::RowReader`] or [`crate::read_csv`] under the same column names, give
//! the facts the file readers give for the line items themselves.

use crate::layout::{Family, Layout};
use crate::tags::{TagSource, sorted_tag_keys};

/// The columns of a table the facts need, by their names in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// Legacy CUR and CUR 2.0, or FOCUS.
    pub family: Family,
    /// The usage day: a date, a timestamp or text starting with `YYYY-MM-DD`.
    pub day: String,
    /// The billing period's start (the same forms), if the table has one; else the month of
    /// the usage day is the billing period.
    pub billing_period: Option<String>,
    /// Text columns the facts are grouped by: account, line-item type (FOCUS: charge
    /// category, commitment status and type), product code, usage type, region.
    pub keys: Vec<String>,
    /// Descriptive text (product name, pricing unit): any value of a group will do.
    pub names: Vec<String>,
    /// Number columns whose sums make the facts: unblended cost, usage amount, and the
    /// columns amortized cost is computed from.
    pub amounts: Vec<String>,
    /// The configured tag keys, sorted: the order of [`TagColumns::Columns`].
    pub tag_keys: Vec<String>,
    /// Where the tag keys' values are.
    pub tags: TagColumns,
}

/// Where the values of the configured tag keys are in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagColumns {
    /// No tag keys configured.
    None,
    /// One column per key (legacy CUR `resource_tags_user_team`), `None` where there is none.
    Columns(Vec<Option<String>>),
    /// A map column (CUR 2.0 `resource_tags`, FOCUS `tags`).
    Map(String),
}

impl Projection {
    /// The projection of a table with these columns; the error names the missing ones.
    pub fn of<'a>(
        columns: impl IntoIterator<Item = &'a str>,
        tag_keys: &[String],
    ) -> Result<Self, String> {
        let tag_keys = sorted_tag_keys(tag_keys);
        let layout = Layout::from_header(columns, &tag_keys)?;
        let name = |i: usize| layout.header[i].clone();
        let l = &layout;
        let mut keys: Vec<String> = Vec::new();
        for i in [l.account, l.category, l.service_code, l.usage_type]
            .map(Some)
            .into_iter()
            .chain([l.region, l.commitment_status, l.commitment_type])
            .flatten()
        {
            if !keys.contains(&name(i)) {
                keys.push(name(i));
            }
        }
        let names = [layout.service_name, layout.usage_unit]
            .into_iter()
            .flatten()
            .map(name)
            .filter(|n| !keys.contains(n))
            .collect();
        let mut amounts: Vec<String> = Vec::new();
        for i in [Some(layout.unblended), layout.usage_amount]
            .into_iter()
            .chain(layout.amortization_columns())
            .flatten()
        {
            if !amounts.contains(&name(i)) {
                amounts.push(name(i));
            }
        }
        let tags = match &layout.tags {
            TagSource::None => TagColumns::None,
            TagSource::Columns(cols) => {
                TagColumns::Columns(cols.iter().map(|c| c.map(name)).collect())
            }
            TagSource::Map(c) => TagColumns::Map(name(*c)),
        };
        Ok(Projection {
            family: layout.family,
            day: name(layout.day),
            billing_period: layout.billing_period.map(name),
            keys,
            names,
            amounts,
            tag_keys,
            tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_cur_columns() {
        let columns = [
            "identity_line_item_id",
            "bill_billing_period_start_date",
            "line_item_usage_start_date",
            "line_item_usage_account_id",
            "line_item_line_item_type",
            "line_item_product_code",
            "line_item_usage_type",
            "line_item_unblended_cost",
            "line_item_usage_amount",
            "product_product_name",
            "product_region",
            "pricing_unit",
            "reservation_effective_cost",
            "resource_tags_user_team",
        ];
        let p = Projection::of(columns, &["user:team".into(), "user:env".into()]).unwrap();
        assert_eq!(p.family, Family::Cur);
        assert_eq!(p.day, "line_item_usage_start_date");
        assert_eq!(
            p.billing_period.as_deref(),
            Some("bill_billing_period_start_date")
        );
        assert_eq!(
            p.keys,
            [
                "line_item_usage_account_id",
                "line_item_line_item_type",
                "line_item_product_code",
                "line_item_usage_type",
                "product_region"
            ]
        );
        assert_eq!(p.names, ["product_product_name", "pricing_unit"]);
        assert_eq!(
            p.amounts,
            [
                "line_item_unblended_cost",
                "line_item_usage_amount",
                "reservation_effective_cost"
            ]
        );
        assert_eq!(p.tag_keys, ["user:env", "user:team"]);
        assert_eq!(
            p.tags,
            TagColumns::Columns(vec![None, Some("resource_tags_user_team".into())])
        );
    }

    #[test]
    fn focus_without_a_service_code_groups_by_service_name_once() {
        let columns = [
            "billedcost",
            "chargecategory",
            "chargeperiodstart",
            "subaccountid",
            "servicename",
            "chargedescription",
            "effectivecost",
            "tags",
        ];
        let p = Projection::of(columns, &["user:team".into()]).unwrap();
        assert_eq!(p.family, Family::Focus);
        assert_eq!(
            p.keys,
            [
                "subaccountid",
                "chargecategory",
                "servicename",
                "chargedescription"
            ]
        );
        assert!(p.names.is_empty());
        assert_eq!(p.amounts, ["billedcost", "effectivecost"]);
        assert_eq!(p.tags, TagColumns::Map("tags".into()));
    }

    #[test]
    fn missing_columns_are_named() {
        let err = Projection::of(["line_item_unblended_cost"], &[]).unwrap_err();
        assert!(err.contains("line_item_usage_account_id"), "{err}");
    }
}
