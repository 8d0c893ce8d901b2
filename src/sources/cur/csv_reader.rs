//! Streaming reader for billing CSV files (plain or gzip), including Hive text exports
//! (0x01-delimited, `\N` for null).

use super::layout::Layout;
use crate::error::Error;
use crate::ledger::Facts;
use anyhow::Result;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads a legacy CUR or FOCUS CSV file into daily facts. Errors name the file, row, line and column.
pub fn read_csv(path: &Path) -> Result<Facts> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| Error::input(format!("{shown}: cannot open: {e}")))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let gzip = input
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let mut input: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(input),
        ))
    } else {
        Box::new(input)
    };
    let hive_text = first_line_has(&mut input, 0x01)
        .map_err(|e| Error::input(format!("{shown}: cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if hive_text { 0x01 } else { b',' })
        .quoting(!hive_text)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| Error::input(format!("{shown}: cannot read the header: {e}")))?;
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(Error::input(format!("{shown}: empty file, no header row")).into());
    }
    let layout =
        Layout::from_header(header.iter()).map_err(|e| Error::input(format!("{shown}: {e}")))?;
    let header_len = header.len();
    let mut facts = Facts::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(Error::input(describe_csv_error(
                    &shown.to_string(),
                    row,
                    header_len,
                    &e,
                ))
                .into());
            }
        }
        let field = |i: usize| match record.get(i) {
            Some("NULL") | Some("\\N") | None => "",
            Some(v) => v,
        };
        let (key, value) = layout.fact(&field).map_err(|e| {
            let line = record.position().map_or(0, |p| p.line());
            Error::input(format!(
                "{shown}: row {row} (line {line}), column {}: {:?} is not {}",
                e.column, e.value, e.expected
            ))
        })?;
        facts.entry(key).or_default().add(&value);
    }
    Ok(facts)
}

/// Whether the first line contains `byte`, without consuming input.
fn first_line_has(input: &mut Box<dyn BufRead>, byte: u8) -> std::io::Result<bool> {
    let buf = input.fill_buf()?;
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    Ok(buf[..line_end].contains(&byte))
}

fn describe_csv_error(file: &str, row: usize, header_len: usize, e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } => {
            format!(
                "{file}: row {row}: {len} fields, but the header has {header_len}: malformed header or row"
            )
        }
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "{file}: row {row}: invalid UTF-8 in field {}",
            err.field() + 1
        ),
        csv::ErrorKind::Io(io) => {
            format!("{file}: row {row}: cannot read (truncated or corrupt file?): {io}")
        }
        _ => format!("{file}: row {row}: {e}"),
    }
}
