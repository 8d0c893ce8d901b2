//! Columns of a Parquet row group read straight from their pages.
//!
//! The general column reader hands out every value of a dictionary-encoded column on its
//! own (a string as its own reference-counted slice); billing files repeat a few thousand
//! strings, amounts and hours millions of times. Here each dictionary entry is converted
//! once per row group (a string interned, a timestamp turned into its day) and a row is
//! the index decoded from the page. Plain-encoded pages (a writer's fallback when the
//! dictionary grows too large) are read too; any other encoding or type goes through the
//! general reader.
//!
//! Long: one column's pages are one state machine (page headers, levels, dictionary,
//! plain values, skipping), hot enough that its parts share state instead of passing it.

use crate::agg::Interner;
use crate::cells::{Cell, NULL_DAY, Typed};
use bytes::Bytes;
use parquet::basic::{Encoding, Type as Physical};
use parquet::column::page::{Page, PageReader};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ColumnChunkMetaData;

/// How a stored integer becomes a [`Cell`].
#[derive(Debug, Clone, Copy)]
pub enum Conv {
    Plain,
    /// Timestamp, in units of which a day has `per_day`: read as its day (UTC).
    Timestamp {
        per_day: i64,
    },
    Date,
    Decimal(i32),
}

/// The cell of a stored 64-bit integer.
pub fn int64_cell(v: i64, conv: Conv) -> Cell<'static> {
    match conv {
        Conv::Timestamp { per_day } => Cell::Day(v.div_euclid(per_day) as i32),
        Conv::Decimal(scale) => Cell::Num(v as f64 / 10f64.powi(scale)),
        Conv::Plain | Conv::Date => Cell::Num(v as f64),
    }
}

/// The cell of a stored 32-bit integer.
pub fn int32_cell(v: i32, conv: Conv) -> Cell<'static> {
    match conv {
        Conv::Date => Cell::Day(v),
        Conv::Decimal(scale) => Cell::Num(f64::from(v) / 10f64.powi(scale)),
        Conv::Plain | Conv::Timestamp { .. } => Cell::Num(f64::from(v)),
    }
}

/// The physical type of a column [`PageColumn`] reads, with its conversion.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Int32(Conv),
    Int64(Conv),
    Float,
    Double,
}

impl Kind {
    /// The kind of a column chunk, if [`PageColumn`] reads it: a type it decodes and only
    /// dictionary and plain pages.
    pub fn of(chunk: &ColumnChunkMetaData, conv: Conv) -> Option<Self> {
        let plain_or_dictionary = chunk.encodings().all(|e| {
            matches!(
                e,
                Encoding::PLAIN
                    | Encoding::PLAIN_DICTIONARY
                    | Encoding::RLE_DICTIONARY
                    | Encoding::RLE
            )
        });
        if !plain_or_dictionary {
            return None;
        }
        match chunk.column_type() {
            Physical::BYTE_ARRAY => Some(Self::Text),
            Physical::INT32 => Some(Self::Int32(conv)),
            Physical::INT64 => Some(Self::Int64(conv)),
            Physical::FLOAT => Some(Self::Float),
            Physical::DOUBLE => Some(Self::Double),
            _ => None,
        }
    }
}

/// Where a page's values come from.
enum Values {
    /// Indices into the dictionary.
    Dictionary(Hybrid),
    /// Plain-encoded values, at a byte offset of the page.
    Plain { buf: Bytes, at: usize },
}

/// The data page being read.
struct DataPage {
    /// Definition levels (absent for a required column).
    levels: Option<Hybrid>,
    values: Values,
    /// Rows left in the page.
    rows: usize,
}

/// Converted values of a column: text (interned ids with their bytes), numbers or days.
enum Converted {
    Text { ids: Vec<u32>, bytes: Vec<Bytes> },
    Numbers(Vec<f64>),
    Days(Vec<i32>),
}

impl Converted {
    fn len(&self) -> usize {
        match self {
            Self::Text { ids, .. } => ids.len(),
            Self::Numbers(v) => v.len(),
            Self::Days(v) => v.len(),
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Self::Text { ids, bytes } => {
                ids.truncate(n);
                bytes.truncate(n);
            }
            Self::Numbers(v) => v.truncate(n),
            Self::Days(v) => v.truncate(n),
        }
    }

    /// Appends a number or a day.
    fn push(&mut self, cell: Cell<'static>) -> Result<()> {
        match (self, cell) {
            (Self::Numbers(v), Cell::Num(x)) => v.push(x),
            (Self::Days(v), Cell::Day(d)) => v.push(d),
            _ => return Err(error("a value of another type than its column")),
        }
        Ok(())
    }
}

/// The converted values a column's rows point to: each dictionary entry, then this batch's
/// plain values.
struct Entries {
    kind: Kind,
    values: Converted,
    dictionary_len: usize,
}

/// Per-row output of [`PageColumn::gather`].
enum Gathered {
    Ids(Vec<u32>),
    Numbers(Vec<f64>),
    Days(Vec<i32>),
}

/// A flat, optional or required column of one row group.
pub struct PageColumn {
    pages: Box<dyn PageReader>,
    max_def: u32,
    entries: Entries,
    page: Option<DataPage>,
    gathered: Gathered,
    /// Whether `gathered` holds the batch read last.
    is_gathered: bool,
    /// Per row of the batch: an index into `entries`, or `u32::MAX` for null.
    rows: Vec<u32>,
    levels: Vec<u32>,
    values: Vec<u32>,
}

fn error(what: &str) -> ParquetError {
    ParquetError::General(what.to_string())
}

/// Bits needed for values up to `max`.
fn bit_width(max: u32) -> u8 {
    (32 - max.leading_zeros()) as u8
}

/// The next `N` bytes of `buf` from `at`.
fn take<const N: usize>(buf: &Bytes, at: &mut usize) -> Result<[u8; N]> {
    let bytes = buf
        .get(*at..*at + N)
        .ok_or_else(|| error("plain value truncated"))?;
    *at += N;
    Ok(bytes.try_into().expect("N bytes"))
}

/// The next `n` values of `N` bytes of `buf` from `at`.
fn fixed<'b, const N: usize>(
    buf: &'b Bytes,
    at: &mut usize,
    n: usize,
) -> Result<impl Iterator<Item = [u8; N]> + 'b> {
    let bytes = buf
        .get(*at..*at + N * n)
        .ok_or_else(|| error("plain value truncated"))?;
    *at += N * n;
    Ok(bytes
        .chunks_exact(N)
        .map(|b| b.try_into().expect("N bytes")))
}

impl Entries {
    fn new(kind: Kind) -> Self {
        let values = match kind {
            Kind::Text => Converted::Text {
                ids: Vec::new(),
                bytes: Vec::new(),
            },
            Kind::Int32(Conv::Date) | Kind::Int64(Conv::Timestamp { .. }) => {
                Converted::Days(Vec::new())
            }
            Kind::Int32(_) | Kind::Int64(_) | Kind::Float | Kind::Double => {
                Converted::Numbers(Vec::new())
            }
        };
        Self {
            kind,
            values,
            dictionary_len: 0,
        }
    }

    /// Appends the next `n` plain-encoded values of `buf`, converted (text interned).
    fn push_plain(
        &mut self,
        buf: &Bytes,
        at: &mut usize,
        n: usize,
        strings: &mut Interner,
    ) -> Result<()> {
        match (self.kind, &mut self.values) {
            (Kind::Text, Converted::Text { ids, bytes }) => {
                for _ in 0..n {
                    let len = u32::from_le_bytes(take(buf, at)?) as usize;
                    let value = buf
                        .get(*at..*at + len)
                        .ok_or_else(|| error("byte array value truncated"))?;
                    ids.push(strings.intern(value));
                    bytes.push(buf.slice(*at..*at + len));
                    *at += len;
                }
            }
            (Kind::Double, Converted::Numbers(v)) => {
                v.extend(fixed::<8>(buf, at, n)?.map(f64::from_le_bytes));
            }
            (Kind::Float, Converted::Numbers(v)) => {
                v.extend(fixed::<4>(buf, at, n)?.map(|b| f64::from(f32::from_le_bytes(b))));
            }
            (Kind::Int32(conv), values) => {
                for b in fixed::<4>(buf, at, n)? {
                    values.push(int32_cell(i32::from_le_bytes(b), conv))?;
                }
            }
            (Kind::Int64(conv), values) => {
                for b in fixed::<8>(buf, at, n)? {
                    values.push(int64_cell(i64::from_le_bytes(b), conv))?;
                }
            }
            _ => unreachable!("entries are converted as their kind says"),
        }
        Ok(())
    }

    /// Replaces the dictionary with the `n` values of a dictionary page.
    fn set_dictionary(&mut self, buf: &Bytes, n: usize, strings: &mut Interner) -> Result<()> {
        self.values.truncate(0);
        self.push_plain(buf, &mut 0, n, strings)?;
        self.dictionary_len = self.values.len();
        Ok(())
    }

    /// Drops the plain values of the previous batch.
    fn start_batch(&mut self) {
        self.values.truncate(self.dictionary_len);
    }

    /// Decodes a page's next `out.len()` values as indices into the entries (plain values
    /// are appended).
    fn decode(
        &mut self,
        values: &mut Values,
        out: &mut [u32],
        strings: &mut Interner,
    ) -> Result<()> {
        match values {
            Values::Dictionary(indices) => {
                if indices.fill(out) < out.len() {
                    return Err(error("dictionary indices truncated"));
                }
                if out.iter().any(|&i| i as usize >= self.dictionary_len) {
                    return Err(error("dictionary index out of range"));
                }
            }
            Values::Plain { buf, at } => {
                let first = self.values.len() as u32;
                self.push_plain(buf, at, out.len(), strings)?;
                for (slot, i) in out.iter_mut().zip(first..) {
                    *slot = i;
                }
            }
        }
        Ok(())
    }

    #[inline]
    fn cell(&self, i: u32) -> Cell<'_> {
        let i = i as usize;
        match &self.values {
            Converted::Text { ids, bytes } => Cell::Id(ids[i], &bytes[i]),
            Converted::Numbers(v) => Cell::Num(v[i]),
            Converted::Days(v) => Cell::Day(v[i]),
        }
    }

    /// The converted value of each row (`u32::MAX` for null) into `out`.
    fn gather(&self, rows: &[u32], out: &mut Gathered) {
        fn each<T: Copy>(values: &[T], null: T, rows: &[u32], out: &mut Vec<T>) {
            out.clear();
            out.extend(
                rows.iter()
                    .map(|&i| values.get(i as usize).copied().unwrap_or(null)),
            );
        }
        match (&self.values, out) {
            (Converted::Text { ids, .. }, Gathered::Ids(out)) => each(ids, 0, rows, out),
            (Converted::Numbers(v), Gathered::Numbers(out)) => each(v, 0.0, rows, out),
            (Converted::Days(v), Gathered::Days(out)) => each(v, NULL_DAY, rows, out),
            _ => unreachable!("gathered like the entries"),
        }
    }
}

impl PageColumn {
    pub fn new(pages: Box<dyn PageReader>, kind: Kind, max_def: i16) -> Self {
        let entries = Entries::new(kind);
        Self {
            pages,
            max_def: max_def as u32,
            gathered: match entries.values {
                Converted::Text { .. } => Gathered::Ids(Vec::new()),
                Converted::Numbers(_) => Gathered::Numbers(Vec::new()),
                Converted::Days(_) => Gathered::Days(Vec::new()),
            },
            entries,
            is_gathered: false,
            page: None,
            rows: Vec::new(),
            levels: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Decodes the next `rows` rows; returns the number read (fewer at the chunk's end).
    ///
    /// The batch buffers keep their length from batch to batch, so they are not cleared
    /// each time: every slot of a batch is written.
    pub fn read(&mut self, rows: usize, strings: &mut Interner) -> Result<usize> {
        self.entries.start_batch();
        self.is_gathered = false;
        self.rows.resize(rows, u32::MAX);
        let mut filled = 0;
        while filled < rows {
            if self.page.as_ref().is_none_or(|p| p.rows == 0) && !self.next_page(strings)? {
                break;
            }
            let page = self.page.as_mut().expect("a page was read");
            let n = page.rows.min(rows - filled);
            let out = &mut self.rows[filled..filled + n];
            let present = match &mut page.levels {
                None => n,
                Some(levels) => match levels.take_repeated(n) {
                    // One run of levels for the whole stretch: no nulls, or only nulls.
                    Some(level) if level == self.max_def => n,
                    Some(_) => 0,
                    None => {
                        if self.levels.len() < n {
                            self.levels.resize(n, 0);
                        }
                        if levels.fill(&mut self.levels[..n]) < n {
                            return Err(error("definition levels truncated"));
                        }
                        let max = self.max_def;
                        self.levels[..n].iter().filter(|&&d| d == max).count()
                    }
                },
            };
            if present == n {
                // Every row has a value: indices straight into the rows.
                self.entries.decode(&mut page.values, out, strings)?;
            } else if present == 0 {
                out.fill(u32::MAX);
            } else {
                if self.values.len() < present {
                    self.values.resize(present, 0);
                }
                let values = &mut self.values[..present];
                self.entries.decode(&mut page.values, values, strings)?;
                // Without a branch per row: nulls fall at random.
                let mut next = 0;
                for (slot, &d) in out.iter_mut().zip(&self.levels[..n]) {
                    let present = d == self.max_def;
                    let value = values.get(next).copied().unwrap_or(u32::MAX);
                    *slot = if present { value } else { u32::MAX };
                    next += usize::from(present);
                }
            }
            page.rows -= n;
            filled += n;
        }
        self.rows.truncate(filled);
        Ok(filled)
    }

    /// Skips the next `rows` rows; returns the number skipped (fewer at the chunk's end).
    /// Whole data pages are passed over without being decompressed (a dictionary page on
    /// the way is read); the rest of a page is decoded and dropped.
    pub fn skip(&mut self, rows: usize, strings: &mut Interner) -> Result<usize> {
        let mut left = rows;
        if self.page.as_ref().is_none_or(|p| p.rows == 0) {
            while let Some(next) = self.pages.peek_next_page()? {
                if next.is_dict {
                    if let Some(Page::DictionaryPage {
                        buf, num_values, ..
                    }) = self.pages.get_next_page()?
                    {
                        self.entries
                            .set_dictionary(&buf, num_values as usize, strings)?;
                    }
                    continue;
                }
                // A flat column has one level per row.
                match next.num_rows.or(next.num_levels) {
                    Some(n) if n <= left => {
                        self.pages.skip_next_page()?;
                        left -= n;
                    }
                    _ => break,
                }
            }
        }
        while left > 0 {
            let n = self.read(left.min(4096), strings)?;
            if n == 0 {
                break;
            }
            left -= n;
        }
        Ok(rows - left)
    }

    /// The cell of row `row` of the batch read last.
    #[inline]
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self.rows[row] {
            u32::MAX => Cell::Null,
            i => self.entries.cell(i),
        }
    }

    /// Converts every row of the batch read last, for [`PageColumn::typed`].
    pub fn gather(&mut self) {
        self.entries.gather(&self.rows, &mut self.gathered);
        self.is_gathered = true;
    }

    /// The batch read last: converted per row if [`PageColumn::gather`] was called, else
    /// (numbers only) indexed by row.
    pub fn typed(&self) -> Option<Typed<'_>> {
        if !self.is_gathered {
            return match &self.entries.values {
                Converted::Numbers(values) => Some(Typed::IndexedNumbers {
                    rows: &self.rows,
                    values,
                }),
                _ => None,
            };
        }
        Some(match &self.gathered {
            Gathered::Ids(v) => Typed::Ids(v),
            Gathered::Numbers(v) => Typed::Numbers(v),
            Gathered::Days(v) => Typed::Days(v),
        })
    }

    /// Reads pages up to the next data page; false at the end of the chunk.
    fn next_page(&mut self, strings: &mut Interner) -> Result<bool> {
        loop {
            let Some(page) = self.pages.get_next_page()? else {
                return Ok(false);
            };
            match page {
                Page::DictionaryPage {
                    buf, num_values, ..
                } => {
                    self.entries
                        .set_dictionary(&buf, num_values as usize, strings)?;
                }
                Page::DataPage {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding,
                    ..
                } => {
                    let mut at = 0;
                    let levels = if self.max_def > 0 {
                        if def_level_encoding != Encoding::RLE {
                            return Err(error("definition levels not RLE-encoded"));
                        }
                        let len = buf
                            .get(..4)
                            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                            .filter(|&len| 4 + len <= buf.len())
                            .ok_or_else(|| error("definition levels truncated"))?;
                        at = 4 + len;
                        Some(Hybrid::new(buf.slice(4..at), bit_width(self.max_def)))
                    } else {
                        None
                    };
                    self.start_page(buf, at, levels, encoding, num_values)?;
                    return Ok(true);
                }
                Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding,
                    def_levels_byte_len,
                    rep_levels_byte_len,
                    ..
                } => {
                    let at = (def_levels_byte_len + rep_levels_byte_len) as usize;
                    if rep_levels_byte_len != 0 || at > buf.len() {
                        return Err(error("unexpected repetition levels"));
                    }
                    let levels = (self.max_def > 0)
                        .then(|| Hybrid::new(buf.slice(..at), bit_width(self.max_def)));
                    self.start_page(buf, at, levels, encoding, num_values)?;
                    return Ok(true);
                }
            }
        }
    }

    fn start_page(
        &mut self,
        buf: Bytes,
        at: usize,
        levels: Option<Hybrid>,
        encoding: Encoding,
        rows: u32,
    ) -> Result<()> {
        let values = match encoding {
            Encoding::PLAIN => Values::Plain { buf, at },
            Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY => {
                let width = *buf
                    .get(at)
                    .ok_or_else(|| error("dictionary indices truncated"))?;
                if width > 32 {
                    return Err(error("dictionary index width above 32 bits"));
                }
                Values::Dictionary(Hybrid::new(buf.slice(at + 1..), width))
            }
            other => return Err(error(&format!("unsupported encoding {other}"))),
        };
        self.page = Some(DataPage {
            levels,
            values,
            rows: rows as usize,
        });
        Ok(())
    }
}

/// Parquet's RLE / bit-packed hybrid encoding of small integers.
struct Hybrid {
    buf: Bytes,
    at: usize,
    width: u8,
    /// Values left in the current run of one repeated value.
    repeat: usize,
    value: u32,
    /// Values left in the current bit-packed run, and the bit position of the next.
    packed: usize,
    bit: usize,
}

impl Hybrid {
    fn new(buf: Bytes, width: u8) -> Self {
        Self {
            buf,
            at: 0,
            width,
            repeat: 0,
            value: 0,
            packed: 0,
            bit: 0,
        }
    }

    /// If the next `n` values are one repeated value (in the run under way, or in the next
    /// when none is), takes them and returns the value; else takes nothing.
    fn take_repeated(&mut self, n: usize) -> Option<u32> {
        if self.repeat == 0 && self.packed == 0 && !self.next_run() {
            return None;
        }
        if self.repeat < n {
            return None;
        }
        self.repeat -= n;
        Some(self.value)
    }

    /// Fills `out` with the next values; returns how many were available.
    fn fill(&mut self, out: &mut [u32]) -> usize {
        let mut done = 0;
        while done < out.len() {
            if self.repeat > 0 {
                let n = self.repeat.min(out.len() - done);
                out[done..done + n].fill(self.value);
                self.repeat -= n;
                done += n;
            } else if self.packed > 0 {
                let n = self.packed.min(out.len() - done);
                self.unpack(&mut out[done..done + n]);
                self.packed -= n;
                done += n;
            } else if !self.next_run() {
                break;
            }
        }
        done
    }

    /// Fills `out` from the current bit-packed run.
    fn unpack(&mut self, out: &mut [u32]) {
        let buf: &[u8] = &self.buf;
        let width = usize::from(self.width);
        let mask = (1u64 << self.width) - 1;
        let mut bit = self.bit;
        for slot in out {
            let byte = bit / 8;
            let word = match buf.get(byte..byte + 8) {
                Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
                None => {
                    let mut word = [0u8; 8];
                    let tail = &buf[byte..];
                    word[..tail.len()].copy_from_slice(tail);
                    u64::from_le_bytes(word)
                }
            };
            *slot = ((word >> (bit % 8)) & mask) as u32;
            bit += width;
        }
        self.bit = bit;
    }

    /// Reads the next run's header; false at the end of the data.
    fn next_run(&mut self) -> bool {
        let mut header = 0usize;
        let mut shift = 0;
        loop {
            let Some(&b) = self.buf.get(self.at) else {
                return false;
            };
            self.at += 1;
            header |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
            if shift > 56 {
                return false;
            }
        }
        if header & 1 == 1 {
            // Groups of eight values, `width` bytes each.
            let groups = header >> 1;
            let bytes = groups * usize::from(self.width);
            if self.at + bytes > self.buf.len() || groups == 0 {
                // A truncated last run still holds whole values; take what is there.
                let whole = (self.buf.len() - self.at) * 8 / usize::from(self.width.max(1));
                self.packed = whole.min(groups * 8);
            } else {
                self.packed = groups * 8;
            }
            self.bit = self.at * 8;
            self.at += bytes.min(self.buf.len() - self.at);
            self.packed > 0 || self.width == 0
        } else {
            let bytes = usize::from(self.width).div_ceil(8);
            let Some(raw) = self.buf.get(self.at..self.at + bytes) else {
                return false;
            };
            let mut word = [0u8; 4];
            word[..bytes].copy_from_slice(raw);
            self.value = u32::from_le_bytes(word);
            self.at += bytes;
            self.repeat = header >> 1;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rle_and_bit_packed_runs() {
        // A run of five 3s, then one bit-packed group of eight 3-bit values 0..8.
        let mut buf = vec![5 << 1, 3];
        buf.push(1 << 1 | 1);
        let packed: u32 = (0..8).fold(0, |acc, v| acc | (v << (3 * v)));
        buf.extend_from_slice(&packed.to_le_bytes()[..3]);
        let mut decoder = Hybrid::new(Bytes::from(buf), 3);
        let mut out = [0u32; 14];
        assert_eq!(decoder.fill(&mut out), 13);
        assert_eq!(&out[..13], &[3, 3, 3, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn takes_a_repeated_stretch_only_within_one_run() {
        // A run of five 1s, then a bit-packed group of eight 1-bit values 1, 0, 1, 0, ….
        let buf = vec![5 << 1, 1, 1 << 1 | 1, 0b0101_0101];
        let mut decoder = Hybrid::new(Bytes::from(buf), 1);
        assert_eq!(decoder.take_repeated(3), Some(1));
        assert_eq!(decoder.take_repeated(3), None, "two of the run are left");
        let mut out = [0u32; 3];
        assert_eq!(decoder.fill(&mut out), 3);
        assert_eq!(out, [1, 1, 1]);
        assert_eq!(
            decoder.take_repeated(1),
            None,
            "bit-packed values are not a run"
        );
        assert_eq!(decoder.fill(&mut out), 3);
        assert_eq!(out, [0, 1, 0]);
    }
}
