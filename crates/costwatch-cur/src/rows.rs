//! Rows of text handed over one at a time, read into daily facts by the rules of the file
//! readers: the result of a query that grouped the line items by a [`crate::Projection`]
//! (Athena's GetQueryResults), its columns named as in the table.

use crate::ReadOptions;
use crate::agg::Aggregator;
use crate::cells::{DayCache, text_cell};
use crate::facts::SeriesFacts;
use crate::layout::Layout;

/// Daily facts being read from rows of text.
pub struct RowReader {
    layout: Layout,
    columns: usize,
    agg: Aggregator,
    days: DayCache,
    tag_keys: Vec<String>,
    row: u64,
}

impl RowReader {
    /// A reader of rows with these column names; the error names missing columns.
    pub fn new<'a>(
        header: impl IntoIterator<Item = &'a str>,
        options: &ReadOptions,
    ) -> Result<Self, String> {
        let header: Vec<&str> = header.into_iter().collect();
        Ok(Self {
            layout: Layout::from_header(header.iter().copied(), &options.tag_keys)?,
            columns: header.len(),
            agg: Aggregator::new(options.tag_keys.clone()),
            days: DayCache::default(),
            tag_keys: options.tag_keys.clone(),
            row: 0,
        })
    }

    /// Adds one row, a field per column (`None` for null). The error names the row
    /// (counted from 1) and the column.
    pub fn add(&mut self, fields: &[Option<&str>]) -> Result<(), String> {
        self.row += 1;
        if fields.len() != self.columns {
            return Err(format!(
                "row {}: {} fields, but the header has {}",
                self.row,
                fields.len(),
                self.columns
            ));
        }
        let field = |i: usize| text_cell(fields[i].unwrap_or("").as_bytes());
        let tags = self.layout.row_tags(field, &self.tag_keys, &mut self.agg);
        (self.layout)
            .accumulate(field, tags, &mut self.days, &mut self.agg)
            .map_err(|e| format!("row {}, column {}: {}", self.row, e.column, e.reason()))
    }

    /// The daily facts of the rows added.
    pub fn finish(self) -> SeriesFacts {
        self.agg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ChargeCategory;

    #[test]
    fn grouped_rows_become_facts_by_the_readers_rules() {
        let header = [
            "line_item_usage_start_date",
            "line_item_usage_account_id",
            "line_item_line_item_type",
            "line_item_product_code",
            "line_item_usage_type",
            "resource_tags_user_team",
            "line_item_unblended_cost",
            "reservation_effective_cost",
        ];
        let mut rows = RowReader::new(header, &ReadOptions::new(&["user:team".into()])).unwrap();
        let row = |kind, team, cost, effective| {
            [
                Some("2026-03-01 00:00:00.000"),
                Some("111"),
                Some(kind),
                Some("AmazonEC2"),
                Some("BoxUsage"),
                team,
                Some(cost),
                effective,
            ]
        };
        rows.add(&row("Usage", Some("red"), "2.0", None)).unwrap();
        rows.add(&row("DiscountedUsage", Some("red"), "0.0", Some("1.5")))
            .unwrap();
        rows.add(&row("Tax", None, "0.5", None)).unwrap();
        let err = rows.add(&row("Usage", None, "x", None)).unwrap_err();
        assert_eq!(
            err,
            "row 4, column line_item_unblended_cost: \"x\" is not a number"
        );
        let facts = rows.finish();
        assert_eq!((facts.series.len(), facts.len()), (2, 2));
        let usage = facts
            .series
            .iter()
            .position(|s| s.key.category == ChargeCategory::Usage)
            .unwrap();
        assert_eq!(&*facts.series[usage].key.tags, "user:team=red");
        assert_eq!(&*facts.series[usage].key.billing_period, "2026-03");
        let amount = facts
            .amounts
            .iter()
            .find(|a| a.series as usize == usage)
            .unwrap();
        assert_eq!((amount.unblended, amount.amortized), (2.0, 3.5));
    }
}
