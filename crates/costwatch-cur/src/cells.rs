//! A row's fields as the readers hand them over, and the day numbers of their dates.

use chrono::{Datelike, NaiveDate};

/// A row field that could not be read; the reader adds file and row.
#[derive(Debug)]
pub struct FieldError {
    pub column: String,
    pub value: String,
    pub expected: &'static str,
}

impl FieldError {
    /// `"x" is not a number`.
    pub fn reason(&self) -> String {
        format!("{:?} is not {}", self.value, self.expected)
    }
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
    pub(crate) fn number(&self, r: usize) -> f64 {
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

pub(crate) fn digits(b: &[u8]) -> Option<u32> {
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
    pub(crate) fn text(&mut self, v: &[u8]) -> Option<(i32, u32)> {
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
    pub(crate) fn days(&mut self, day: i32) -> (i32, u32) {
        let slot = &mut self.periods[day.rem_euclid(64) as usize];
        if slot.0 != day {
            let date = epoch() + chrono::TimeDelta::days(i64::from(day));
            *slot = (day, date.year() as u32 * 100 + date.month());
        }
        (day, slot.1)
    }

    #[inline]
    pub(crate) fn cell(&mut self, c: Cell) -> Option<(i32, u32)> {
        match c {
            Cell::Str(v) | Cell::Id(_, v) => self.text(v),
            Cell::Day(d) => Some(self.days(d)),
            Cell::Null | Cell::Num(_) => None,
        }
    }
}

/// The cell of a text field: null when empty, `NULL` or `\N` (Hive), else its text.
#[inline]
pub(crate) fn text_cell(v: &[u8]) -> Cell<'_> {
    match v {
        b"" | b"NULL" | b"\\N" => Cell::Null,
        v => Cell::Str(v),
    }
}

pub(crate) fn show(c: Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Str(v) | Cell::Id(_, v) => String::from_utf8_lossy(v).into_owned(),
        Cell::Num(x) => x.to_string(),
        Cell::Day(d) => format!("day {d}"),
    }
}

#[inline]
pub(crate) fn str_of<'a>(c: Cell<'a>) -> &'a [u8] {
    match c {
        Cell::Str(v) | Cell::Id(_, v) => v,
        _ => b"",
    }
}
