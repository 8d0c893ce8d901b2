//! AWS billing files read into daily cost facts: legacy Cost and Usage Reports (CSV, gzip
//! CSV, Athena Parquet), CUR 2.0 Data Exports (Parquet) and FinOps FOCUS 1.x (CSV, Parquet).
//!
//! Column names are matched after normalising to snake case, so `lineItem/UnblendedCost`
//! (legacy CSV), `line_item_unblended_cost` (Athena / CUR 2.0) and `BilledCost` (FOCUS,
//! as `billed_cost`) are all recognised. A file is read by two threads with bounded
//! memory, and every error names the file, and a bad row its row and column ([`Error`]).
//!
//! Rows an engine already grouped (Amazon Athena, by a [`Projection`] of a table's columns)
//! are read by [`RowReader`] with the same rules.
//!
//! Modules, each importing only those listed before it: `facts` (the output), `error`,
//! `cells` (a row's fields), `groups` (hash tables), `tags`, `charges`, `layout` (columns
//! of a header), `projection` (a table's columns by role), `agg` (daily groups),
//! `accumulate` (rows into groups), `rows` (rows of text), `gzip`, `csv_split`,
//! `csv_reader`, `parquet_file`, `parquet_pages`, `parquet_reader`.

pub mod facts;

mod accumulate;
mod agg;
mod cells;
mod charges;
mod csv_reader;
mod csv_split;
mod error;
mod groups;
mod gzip;
mod layout;
mod parquet_file;
mod parquet_pages;
mod parquet_reader;
mod projection;
mod rows;
mod tags;

pub use csv_reader::read_csv;
pub use error::{Error, Result};
pub use facts::SeriesFacts;
pub use layout::Family;
pub use parquet_reader::read_parquet;
pub use projection::{Projection, TagColumns};
pub use rows::RowReader;
pub use tags::sorted_tag_keys;

use std::io::Read;
use std::path::Path;

/// How billing files are read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Tag keys (e.g. `user:team`) whose values are kept in `FactKey::tags`.
    pub tag_keys: Vec<String>,
    /// Worker threads (Parquet row groups; CSV always uses one inflate and one parse thread).
    pub threads: usize,
}

impl ReadOptions {
    /// Options keeping the values of `tag_keys`, read by two threads.
    pub fn new(tag_keys: &[String]) -> Self {
        Self {
            tag_keys: sorted_tag_keys(tag_keys),
            threads: 2,
        }
    }
}

/// Reads one billing file (Parquet, or CSV optionally gzip-compressed) into daily facts.
/// The format is told by the file's first bytes, not its name.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<SeriesFacts> {
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(error::File(path.to_path_buf()).io("cannot open"))?;
    if n == 4 && &magic == b"PAR1" {
        read_parquet(path, options)
    } else {
        read_csv(path, options)
    }
}

/// Normalises a column name to snake case: `lineItem/UsageStartDate` → `line_item_usage_start_date`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut prev_lower = false;
    for c in name.trim().chars() {
        if c == '/' || c == ':' || c == ' ' || c == '-' || c == '.' {
            out.push('_');
            prev_lower = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn normalises_all_naming_styles() {
        assert_eq!(
            snake_case("lineItem/UsageStartDate"),
            "line_item_usage_start_date"
        );
        assert_eq!(
            snake_case("bill/BillingPeriodStartDate"),
            "bill_billing_period_start_date"
        );
        assert_eq!(
            snake_case("line_item_unblended_cost"),
            "line_item_unblended_cost"
        );
        assert_eq!(snake_case("BilledCost"), "billed_cost");
        assert_eq!(snake_case("x_UsageType"), "x_usage_type");
        assert_eq!(
            snake_case("resourceTags/user:team"),
            "resource_tags_user_team"
        );
    }
}
