//! The table from Athena's catalog (GetTableMetadata, or ListTableMetadata to find it): its
//! columns and their types, its partition keys, where its objects are, and its format.

use super::Format;
use crate::aws::describe;
use crate::error::Error;
use anyhow::{Result, anyhow};
use aws_sdk_athena::Client;
use aws_sdk_athena::types::TableMetadata;
use costwatch_cur::{Family, Projection};

/// The Glue Data Catalog, the one Athena's CUR integration uses.
const CATALOG: &str = "AwsDataCatalog";

/// A column's name and Glue type (`string`, `double`, `map<string,string>`, ...).
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: String,
}

/// A table as the catalog describes it.
#[derive(Debug, Clone)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    /// `s3://bucket/prefix/`, where its objects are.
    pub location: String,
}

impl Table {
    fn of(database: &str, meta: &TableMetadata) -> Result<Self> {
        let columns = |cs: &[aws_sdk_athena::types::Column]| -> Vec<Column> {
            cs.iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    kind: c.r#type().unwrap_or("string").to_ascii_lowercase(),
                })
                .collect()
        };
        let name = meta.name().to_string();
        let location = (meta.parameters())
            .and_then(|p| p.get("location"))
            .filter(|l| l.starts_with("s3://"))
            .ok_or_else(|| {
                Error::input(format!(
                    "Athena table {database}.{name} has no s3:// location"
                ))
            })?;
        Ok(Table {
            database: database.to_string(),
            columns: columns(meta.columns()),
            partition_keys: columns(meta.partition_keys()),
            location: location.clone(),
            name,
        })
    }

    /// `database.table`, as messages name it.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }

    /// The column (or partition key) of this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        (self.columns.iter())
            .chain(&self.partition_keys)
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// What the facts need of its columns, keeping `tag_keys`' values; the error names the
    /// table and the columns it lacks.
    pub fn projection(&self, tag_keys: &[String]) -> Result<Projection> {
        Projection::of(self.columns.iter().map(|c| c.name.as_str()), tag_keys)
            .map_err(|e| Error::input(format!("Athena table {}: {e}", self.qualified())).into())
    }

    /// Its format, told by its columns: FOCUS, CUR 2.0 (product and tags as maps) or legacy
    /// CUR. With `expected` (the configured one), a table of another format is an error.
    pub fn format(&self, projection: &Projection, expected: Option<Format>) -> Result<Format> {
        let map = |name: &str| self.column(name).is_some_and(|c| c.kind.starts_with("map"));
        let found = match projection.family {
            Family::Focus => Format::Focus,
            Family::Cur if map("resource_tags") || map("product") => Format::Cur2,
            Family::Cur => Format::Cur,
        };
        match expected {
            Some(format) if format != found => Err(Error::config(format!(
                "[sources.athena] format = {:?}, but table {} has {} columns",
                format.describe(),
                self.qualified(),
                found.describe()
            ))
            .into()),
            _ => Ok(found),
        }
    }
}

impl Table {
    /// Fails, naming both, when the table does not lie at the configured `location`.
    pub fn check_location(&self, location: Option<&str>) -> Result<()> {
        let norm = |l: &str| l.trim_end_matches('/').to_string();
        match location {
            Some(want) if norm(want) != norm(&self.location) => Err(Error::config(format!(
                "[sources.athena] location = {want:?}, but table {} lies at {}",
                self.qualified(),
                self.location
            ))
            .into()),
            _ => Ok(()),
        }
    }
}

/// The table `name` of `database`, or without a name the one CUR or FOCUS table there.
pub async fn load(client: &Client, database: &str, name: Option<&str>) -> Result<Table> {
    if let Some(name) = name {
        let meta = client
            .get_table_metadata()
            .catalog_name(CATALOG)
            .database_name(database)
            .table_name(name)
            .send()
            .await
            .map_err(|e| anyhow!(describe("Athena GetTableMetadata", &e)))?;
        let meta = meta
            .table_metadata()
            .ok_or_else(|| anyhow!("Athena GetTableMetadata: no table {database}.{name}"))?;
        return Table::of(database, meta);
    }
    let mut found = Vec::new();
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_table_metadata()
            .catalog_name(CATALOG)
            .database_name(database)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| anyhow!(describe("Athena ListTableMetadata", &e)))?;
        for meta in page.table_metadata_list() {
            names.push(meta.name().to_string());
            if let Ok(table) = Table::of(database, meta)
                && table.projection(&[]).is_ok()
            {
                found.push(table);
            }
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::config(format!(
            "no CUR or FOCUS table in Athena database {database} (tables: {}); set [sources.athena] table",
            if names.is_empty() { "none".into() } else { names.join(", ") }
        ))
        .into()),
        _ => Err(Error::config(format!(
            "several CUR or FOCUS tables in Athena database {database} ({}); set [sources.athena] table",
            found.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}
