//! The query text: a partition's line items grouped by day, billing period and the
//! projection's keys and tags, with its amounts summed, every column named as in the table
//! so that the file readers' rules read the result.

use super::table::{Column, Table};
use crate::error::Error;
use costwatch_cur::{Projection, TagColumns, snake_case};

/// The query of the line items that `filter` (partition keys and values) selects.
pub fn query(table: &Table, p: &Projection, filter: &[(Column, String)]) -> Result<String, Error> {
    let mut groups: Vec<String> = vec![format!(
        "substr(CAST({} AS varchar), 1, 10) AS {0}",
        ident(&p.day)
    )];
    if let Some(period) = &p.billing_period {
        groups.push(format!(
            "substr(CAST({} AS varchar), 1, 7) AS {0}",
            ident(period)
        ));
    }
    groups.extend(p.keys.iter().map(|k| ident(k)));
    groups.extend(tags(table, p)?);
    let mut select = groups.clone();
    select.extend(p.names.iter().map(|n| format!("max({}) AS {0}", ident(n))));
    select.extend(p.amounts.iter().map(|a| {
        let numeric = table.column(a).is_some_and(|c| is_number(&c.kind));
        if numeric {
            format!("sum({}) AS {0}", ident(a))
        } else {
            format!("sum(CAST(nullif(trim({}), '') AS double)) AS {0}", ident(a))
        }
    }));
    let mut sql = format!(
        "SELECT {}\nFROM {}.{}",
        select.join(",\n  "),
        ident(&table.database),
        ident(&table.name)
    );
    if !filter.is_empty() {
        let clauses: Vec<String> = (filter.iter())
            .map(|(key, value)| format!("{} = {}", ident(&key.name), literal(value, &key.kind)))
            .collect();
        sql += &format!("\nWHERE {}", clauses.join(" AND "));
    }
    let ordinals: Vec<String> = (1..=groups.len()).map(|i| i.to_string()).collect();
    Ok(sql + &format!("\nGROUP BY {}", ordinals.join(", ")))
}

/// Each configured tag key's value, named `resource_tags_<key in snake case>` (where the file
/// readers look for it); a key the table has no column for is left out.
fn tags(table: &Table, p: &Projection) -> Result<Vec<String>, Error> {
    let alias = |key: &str| ident(&format!("resource_tags_{}", snake_case(key)));
    Ok(match &p.tags {
        TagColumns::None => Vec::new(),
        TagColumns::Columns(columns) => (p.tag_keys.iter())
            .zip(columns)
            .filter_map(|(key, column)| {
                column
                    .as_ref()
                    .map(|c| format!("{} AS {}", ident(c), alias(key)))
            })
            .collect(),
        TagColumns::Map(map) if !table.column(map).is_some_and(|c| c.kind.starts_with("map")) => {
            return Err(Error::input(format!(
                "Athena table {}: column {map} is not a map<string,string>, so the values of \
                 tag_keys cannot be read from it",
                table.qualified()
            )));
        }
        TagColumns::Map(map) => (p.tag_keys.iter())
            .map(|key| {
                // The map's key as configured (`user:team`) or in snake case (`user_team`).
                let mut names = vec![key.clone(), snake_case(key)];
                names.dedup();
                let lookups: Vec<String> = (names.iter())
                    .map(|n| format!("element_at({}, {})", ident(map), quote(n)))
                    .collect();
                format!("coalesce({}) AS {}", lookups.join(", "), alias(key))
            })
            .collect(),
    })
}

/// Whether a Glue type is a number.
fn is_number(kind: &str) -> bool {
    let base = kind.split('(').next().unwrap_or(kind).trim();
    matches!(
        base,
        "double"
            | "float"
            | "real"
            | "decimal"
            | "bigint"
            | "int"
            | "integer"
            | "smallint"
            | "tinyint"
    )
}

/// A partition value as a literal of its key's type.
fn literal(value: &str, kind: &str) -> String {
    if is_number(kind) && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.to_string()
    } else {
        quote(value)
    }
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, kind: &str) -> Column {
        Column {
            name: name.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn legacy_cur_query_prunes_year_and_month() {
        let names = [
            ("bill_billing_period_start_date", "timestamp"),
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_usage_account_id", "string"),
            ("line_item_line_item_type", "string"),
            ("line_item_product_code", "string"),
            ("line_item_usage_type", "string"),
            ("line_item_unblended_cost", "double"),
            ("line_item_usage_amount", "string"),
            ("product_product_name", "string"),
            ("resource_tags_user_team", "string"),
        ];
        let table = Table {
            database: "cur".into(),
            name: "my\"report".into(),
            columns: names.iter().map(|(n, k)| column(n, k)).collect(),
            partition_keys: vec![column("year", "string"), column("month", "int")],
            location: "s3://b/p/".into(),
        };
        let p = Projection::of(names.map(|(n, _)| n), &["user:team".into()]).unwrap();
        let filter = [
            (table.partition_keys[0].clone(), "2018".to_string()),
            (table.partition_keys[1].clone(), "10".to_string()),
        ];
        let sql = query(&table, &p, &filter).unwrap();
        assert_eq!(
            sql,
            "SELECT substr(CAST(\"line_item_usage_start_date\" AS varchar), 1, 10) AS \"line_item_usage_start_date\",
  substr(CAST(\"bill_billing_period_start_date\" AS varchar), 1, 7) AS \"bill_billing_period_start_date\",
  \"line_item_usage_account_id\",
  \"line_item_line_item_type\",
  \"line_item_product_code\",
  \"line_item_usage_type\",
  \"resource_tags_user_team\" AS \"resource_tags_user_team\",
  max(\"product_product_name\") AS \"product_product_name\",
  sum(\"line_item_unblended_cost\") AS \"line_item_unblended_cost\",
  sum(CAST(nullif(trim(\"line_item_usage_amount\"), '') AS double)) AS \"line_item_usage_amount\"
FROM \"cur\".\"my\"\"report\"
WHERE \"year\" = '2018' AND \"month\" = 10
GROUP BY 1, 2, 3, 4, 5, 6, 7"
        );
    }

    #[test]
    fn map_tags_are_looked_up_by_either_spelling() {
        let names = [
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_usage_account_id", "string"),
            ("line_item_line_item_type", "string"),
            ("line_item_product_code", "string"),
            ("line_item_usage_type", "string"),
            ("line_item_unblended_cost", "double"),
            ("resource_tags", "map<string,string>"),
        ];
        let mut table = Table {
            database: "cur".into(),
            name: "cur2".into(),
            columns: names.iter().map(|(n, k)| column(n, k)).collect(),
            partition_keys: Vec::new(),
            location: "s3://b/p/".into(),
        };
        let p = Projection::of(names.map(|(n, _)| n), &["user:team".into()]).unwrap();
        assert_eq!(
            tags(&table, &p).unwrap(),
            [
                "coalesce(element_at(\"resource_tags\", 'user:team'), element_at(\"resource_tags\", 'user_team')) AS \"resource_tags_user_team\""
            ]
        );
        table.columns[6].kind = "string".into();
        let err = tags(&table, &p).unwrap_err().to_string();
        assert!(err.contains("column resource_tags is not a map"), "{err}");
    }
}
