//! Text columns of a Parquet row group read straight from their pages as interned ids.
//!
//! The general column reader hands out every value of a dictionary-encoded column as its own
//! reference-counted slice; billing files repeat a few thousand strings millions of times,
//! so here each dictionary entry is interned once per row group and a row is the index
//! decoded from the page. Plain-encoded pages (a writer's fallback when the dictionary
//! grows too large) are read too; any other encoding goes through the general reader.

use super::agg::Interner;
use super::layout::Cell;
use bytes::Bytes;
use parquet::basic::Encoding;
use parquet::column::page::{Page, PageReader};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ColumnChunkMetaData;

/// Whether every page of the column chunk uses an encoding [`TextColumn`] reads.
pub fn readable(chunk: &ColumnChunkMetaData) -> bool {
    chunk.encodings().all(|e| {
        matches!(
            e,
            Encoding::PLAIN | Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY | Encoding::RLE
        )
    })
}

/// Where a page's values come from.
enum Values {
    /// Indices into the dictionary.
    Dictionary(Hybrid),
    /// Length-prefixed byte strings, at a byte offset of the page.
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

/// A flat, optional or required byte-array column of one row group.
pub struct TextColumn {
    pages: Box<dyn PageReader>,
    max_def: u32,
    /// Interned id and bytes of each dictionary entry, then of this batch's plain values.
    entries: Vec<(u32, Bytes)>,
    dictionary_len: usize,
    page: Option<DataPage>,
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

/// The first `n` length-prefixed values of a plain-encoded byte-array buffer, interned.
fn plain_values(
    buf: &Bytes,
    at: &mut usize,
    n: usize,
    strings: &mut Interner,
    out: &mut Vec<(u32, Bytes)>,
) -> Result<()> {
    for _ in 0..n {
        let len = buf
            .get(*at..*at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or_else(|| error("byte array value truncated"))?;
        let start = *at + 4;
        let value = buf
            .get(start..start + len)
            .ok_or_else(|| error("byte array value truncated"))?;
        out.push((strings.intern(value), buf.slice(start..start + len)));
        *at = start + len;
    }
    Ok(())
}

impl TextColumn {
    pub fn new(pages: Box<dyn PageReader>, max_def: i16) -> Self {
        Self {
            pages,
            max_def: max_def as u32,
            entries: Vec::new(),
            dictionary_len: 0,
            page: None,
            rows: Vec::new(),
            levels: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Decodes the next `rows` rows; returns the number read (fewer at the chunk's end).
    pub fn read(&mut self, rows: usize, strings: &mut Interner) -> Result<usize> {
        self.rows.clear();
        self.entries.truncate(self.dictionary_len);
        while self.rows.len() < rows {
            if self.page.as_ref().is_none_or(|p| p.rows == 0) && !self.next_page(strings)? {
                break;
            }
            let page = self.page.as_mut().expect("a page was read");
            let n = page.rows.min(rows - self.rows.len());
            let start = self.rows.len();
            self.rows.resize(start + n, u32::MAX);
            let out = &mut self.rows[start..];
            let present = match &mut page.levels {
                None => n,
                Some(levels) => {
                    self.levels.resize(n, 0);
                    if levels.fill(&mut self.levels) < n {
                        return Err(error("definition levels truncated"));
                    }
                    self.levels.iter().filter(|&&d| d == self.max_def).count()
                }
            };
            let first = self.entries.len();
            let values = &mut self.values;
            values.clear();
            match &mut page.values {
                Values::Dictionary(indices) => {
                    values.resize(present, 0);
                    if indices.fill(values) < present {
                        return Err(error("dictionary indices truncated"));
                    }
                    if values.iter().any(|&i| i as usize >= self.dictionary_len) {
                        return Err(error("dictionary index out of range"));
                    }
                }
                Values::Plain { buf, at } => {
                    plain_values(buf, at, present, strings, &mut self.entries)?;
                    values.extend(first as u32..self.entries.len() as u32);
                }
            }
            if page.levels.is_none() {
                out.copy_from_slice(values);
            } else {
                let mut next = values.iter();
                for (slot, &d) in out.iter_mut().zip(&self.levels) {
                    if d == self.max_def {
                        *slot = *next.next().expect("one value per present row");
                    }
                }
            }
            page.rows -= n;
        }
        Ok(self.rows.len())
    }

    /// The cell of row `row` of the batch read last.
    #[inline]
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self.rows[row] {
            u32::MAX => Cell::Null,
            i => {
                let (id, bytes) = &self.entries[i as usize];
                Cell::Id(*id, bytes)
            }
        }
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
                    self.entries.clear();
                    plain_values(
                        &buf,
                        &mut 0,
                        num_values as usize,
                        strings,
                        &mut self.entries,
                    )?;
                    self.dictionary_len = self.entries.len();
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
                for slot in &mut out[done..done + n] {
                    *slot = self.unpack();
                }
                self.packed -= n;
                done += n;
            } else if !self.next_run() {
                break;
            }
        }
        done
    }

    fn unpack(&mut self) -> u32 {
        let byte = self.bit / 8;
        let word = match self.buf.get(byte..byte + 8) {
            Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
            None => {
                let mut word = [0u8; 8];
                let tail = &self.buf[byte..];
                word[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(word)
            }
        };
        let v = (word >> (self.bit % 8)) & ((1u64 << self.width) - 1);
        self.bit += usize::from(self.width);
        v as u32
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
}
