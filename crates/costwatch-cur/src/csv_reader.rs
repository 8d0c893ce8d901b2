//! Streaming reader for billing CSV files (plain or gzip), including Hive text exports
//! (0x01-delimited, `\N` for null).
//!
//! Two threads: one reads and inflates the file into large chunks cut at line ends, the
//! other checks the gzip checksum, splits records (memchr over the bytes, no per-field
//! allocation) and groups them by raw key bytes. Memory stays bounded by a few chunks
//! whatever the file size.

use crate::ReadOptions;
use crate::agg::Aggregator;
use crate::cells::{Cell, DayCache};
use crate::error::{self, Result};
use crate::facts::SeriesFacts;
use crate::gzip::{Checksum, MemberEnd, Members};
use crate::layout::Layout;
use crate::tags::{TagSource, json_tags};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

/// Bytes handed from the inflate thread to the parser at a time.
const CHUNK: usize = 4 << 20;

struct Chunk {
    data: Box<[u8]>,
    len: usize,
    eof: bool,
    /// Gzip members that ended in the bytes inflated so far (checked by the parse side).
    ends: Vec<MemberEnd>,
}

/// The bytes of a billing file: as stored, or inflated.
enum Input {
    Plain(BufReader<File>),
    Gzip(Members<BufReader<File>>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
        }
    }
}

impl Input {
    fn take_ends(&mut self) -> Vec<MemberEnd> {
        match self {
            Self::Plain(_) => Vec::new(),
            Self::Gzip(r) => r.take_ends(),
        }
    }
}

/// What a file without a header row is told.
const NO_HEADER: &str = "empty file, no header row";

/// Reads a legacy CUR or FOCUS CSV file into daily facts. Errors name the file, row and column.
pub fn read_csv(path: &Path, options: &ReadOptions) -> Result<SeriesFacts> {
    let named = error::File(path.to_path_buf());
    let file = File::open(path).map_err(named.io("cannot open"))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let gzip = input
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let input = if gzip {
        Input::Gzip(Members::new(input).map_err(named.io("not a readable gzip file"))?)
    } else {
        Input::Plain(input)
    };
    let (tx, rx) = sync_channel::<std::io::Result<Chunk>>(2);
    let (back_tx, back_rx) = channel::<Box<[u8]>>();
    std::thread::scope(|s| {
        s.spawn(move || inflate(input, tx, back_rx));
        // On error `parse` drops the receiver, which stops the inflate thread.
        parse(&named, rx, back_tx, options)
    })
}

/// The inflate side: fills chunks, cut after the last newline, and sends them.
fn inflate(mut input: Input, tx: SyncSender<std::io::Result<Chunk>>, back: Receiver<Box<[u8]>>) {
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let size = CHUNK.max(carry.len() * 2);
        let mut data = match back.try_recv() {
            Ok(d) if d.len() >= size => d,
            _ => vec![0u8; size].into_boxed_slice(),
        };
        let mut len = carry.len();
        data[..len].copy_from_slice(&carry);
        carry.clear();
        let mut eof = false;
        while len < data.len() {
            match input.read(&mut data[len..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        let cut = if eof {
            len
        } else {
            memchr::memrchr(b'\n', &data[..len]).map_or(len, |p| p + 1)
        };
        carry.extend_from_slice(&data[cut..len]);
        if tx
            .send(Ok(Chunk {
                data,
                len: cut,
                eof,
                ends: input.take_ends(),
            }))
            .is_err()
            || eof
        {
            return;
        }
    }
}

/// Splits records; field ranges point into the input or, for records with quotes, into
/// an unescaped copy.
struct Splitter {
    delim: u8,
    quoting: bool,
    ranges: Vec<(usize, usize)>,
    scratch: Vec<u8>,
}

enum Next {
    /// A record ending at `end` (exclusive); its fields are in `scratch` when `copied`.
    Record { end: usize, copied: bool },
    /// The rest of the input is a partial record.
    Incomplete,
}

impl Splitter {
    fn next(&mut self, data: &[u8], pos: usize, eof: bool) -> Result<Next, &'static str> {
        let rest = &data[pos..];
        let line_len = match memchr::memchr(b'\n', rest) {
            Some(i) => i,
            None if eof => rest.len(),
            None => return Ok(Next::Incomplete),
        };
        let mut line = &rest[..line_len];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if !split_line(line, self.delim, self.quoting, pos, &mut self.ranges) {
            // A quoted newline, an escaped quote or a stray quote: unescape byte by byte.
            return self.quoted(data, pos, eof);
        }
        Ok(Next::Record {
            end: (pos + line_len + 1).min(data.len()),
            copied: false,
        })
    }

    /// The slow path for a record with quotes: unescape into `scratch`.
    fn quoted(&mut self, data: &[u8], pos: usize, eof: bool) -> Result<Next, &'static str> {
        self.scratch.clear();
        self.ranges.clear();
        let mut field_start = 0;
        let mut in_quotes = false;
        let mut i = pos;
        while i < data.len() {
            let b = data[i];
            if in_quotes {
                if b == b'"' {
                    match data.get(i + 1) {
                        Some(b'"') => {
                            self.scratch.push(b'"');
                            i += 2;
                            continue;
                        }
                        None if !eof => return Ok(Next::Incomplete),
                        _ => in_quotes = false,
                    }
                } else {
                    self.scratch.push(b);
                }
            } else if b == b'"' {
                in_quotes = true;
            } else if b == self.delim {
                self.ranges.push((field_start, self.scratch.len()));
                field_start = self.scratch.len();
            } else if b == b'\n' {
                if self.scratch.last() == Some(&b'\r') && self.scratch.len() > field_start {
                    self.scratch.pop();
                }
                self.ranges.push((field_start, self.scratch.len()));
                return Ok(Next::Record {
                    end: i + 1,
                    copied: true,
                });
            } else {
                self.scratch.push(b);
            }
            i += 1;
        }
        if !eof {
            return Ok(Next::Incomplete);
        }
        if in_quotes {
            return Err("unterminated quoted field (truncated file?)");
        }
        self.ranges.push((field_start, self.scratch.len()));
        Ok(Next::Record {
            end: data.len(),
            copied: true,
        })
    }
}

/// Bit masks of the delimiter and the quote in 16 bytes (bit `i` for byte `i`).
#[inline]
fn masks(block: &[u8; 16], delim: u8) -> (u32, u32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of x86_64; the load is unaligned and reads exactly 16 bytes.
        unsafe {
            let b = _mm_loadu_si128(block.as_ptr() as *const __m128i);
            let d = _mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8(delim as i8))) as u32;
            let q = _mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8(b'"' as i8))) as u32;
            (d, q)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut d, mut q) = (0, 0);
        for (i, &c) in block.iter().enumerate() {
            d |= u32::from(c == delim) << i;
            q |= u32::from(c == b'"') << i;
        }
        (d, q)
    }
}

/// Field ranges of one line (no line end), offset by `base`, 16 bytes at a time.
///
/// With `quoting`, a field wholly in quotes (`"a, b"`) is given without them; `false` means
/// the line needs the unescaping path (`""` inside quotes, a quote within a field, or a
/// quoted field running past the line end).
#[inline]
fn split_line(
    line: &[u8],
    delim: u8,
    quoting: bool,
    base: usize,
    ranges: &mut Vec<(usize, usize)>,
) -> bool {
    ranges.clear();
    let mut start = 0;
    let mut in_quotes = false;
    // Quotes seen in the current field.
    let mut quotes = 0u32;
    let mut at = 0;
    while at < line.len() {
        let (mut d, mut q) = match line.get(at..at + 16) {
            Some(block) => masks(block.try_into().expect("16 bytes"), delim),
            None => {
                // Padding with b'\n' matches neither the delimiter nor the quote.
                let mut block = [b'\n'; 16];
                block[..line.len() - at].copy_from_slice(&line[at..]);
                masks(&block, delim)
            }
        };
        if !quoting {
            q = 0;
        }
        if q == 0 && !in_quotes {
            // The common case: delimiters only.
            while d != 0 {
                let c = at + d.trailing_zeros() as usize;
                if !push_field(line, start, c, quotes, base, ranges) {
                    return false;
                }
                start = c + 1;
                quotes = 0;
                d &= d - 1;
            }
        } else {
            let mut both = d | q;
            while both != 0 {
                let bit = both & both.wrapping_neg();
                let c = at + bit.trailing_zeros() as usize;
                if q & bit != 0 {
                    in_quotes = !in_quotes;
                    quotes += 1;
                } else if !in_quotes {
                    if !push_field(line, start, c, quotes, base, ranges) {
                        return false;
                    }
                    start = c + 1;
                    quotes = 0;
                }
                both &= both - 1;
            }
        }
        at += 16;
    }
    !in_quotes && push_field(line, start, line.len(), quotes, base, ranges)
}

/// Adds the field `line[start..end]`; `false` if its quotes need unescaping.
#[inline]
fn push_field(
    line: &[u8],
    start: usize,
    end: usize,
    quotes: u32,
    base: usize,
    ranges: &mut Vec<(usize, usize)>,
) -> bool {
    match quotes {
        0 => ranges.push((base + start, base + end)),
        2 if end - start >= 2 && line[start] == b'"' && line[end - 1] == b'"' => {
            ranges.push((base + start + 1, base + end - 1))
        }
        _ => return false,
    }
    true
}

/// What the parser knows once the header is read.
struct State {
    layout: Layout,
    columns: usize,
    agg: Aggregator,
    days: DayCache,
    /// For a JSON tag column: the configured keys.
    tag_keys: Vec<String>,
}

fn parse(
    named: &error::File,
    rx: Receiver<std::io::Result<Chunk>>,
    back: Sender<Box<[u8]>>,
    options: &ReadOptions,
) -> Result<SeriesFacts> {
    let mut splitter = Splitter {
        delim: b',',
        quoting: true,
        ranges: Vec::with_capacity(256),
        scratch: Vec::new(),
    };
    let mut state: Option<State> = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut row = 0usize;
    let mut checksum = Checksum::default();
    loop {
        let mut chunk = match rx.recv() {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) => {
                let what = format!("row {}: cannot read (truncated or corrupt file?)", row + 1);
                return Err(named.io(what)(e));
            }
            Err(_) => break, // the inflate thread finished
        };
        checksum.expect(std::mem::take(&mut chunk.ends));
        checksum
            .update(&chunk.data[..chunk.len])
            .map_err(|e| named.format(e))?;
        let eof = chunk.eof;
        let from_pending = !pending.is_empty();
        if from_pending {
            pending.extend_from_slice(&chunk.data[..chunk.len]);
        }
        let data: &[u8] = if from_pending {
            &pending
        } else {
            &chunk.data[..chunk.len]
        };
        let mut pos = 0;
        if state.is_none() {
            if data.starts_with(b"\xef\xbb\xbf") {
                pos = 3;
            }
            let first_line_end =
                memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |p| pos + p);
            if data[pos..first_line_end].contains(&0x01) {
                splitter.delim = 0x01;
                splitter.quoting = false;
            }
            let header_end = match splitter.next(data, pos, eof) {
                Ok(Next::Record { end, copied }) => {
                    let src = if copied { &splitter.scratch[..] } else { data };
                    let names: Vec<String> = splitter
                        .ranges
                        .iter()
                        .map(|&(s, e)| String::from_utf8_lossy(&src[s..e]).trim().to_string())
                        .collect();
                    if names.iter().all(String::is_empty) {
                        return Err(named.format(NO_HEADER));
                    }
                    let layout =
                        Layout::from_header(names.iter().map(String::as_str), &options.tag_keys)
                            .map_err(|e| named.format(e))?;
                    state = Some(State {
                        layout,
                        columns: names.len(),
                        agg: Aggregator::new(options.tag_keys.clone()),
                        days: DayCache::default(),
                        tag_keys: options.tag_keys.clone(),
                    });
                    end
                }
                Ok(Next::Incomplete) if !eof => {
                    if !from_pending {
                        pending.extend_from_slice(&chunk.data[..chunk.len]);
                    }
                    let _ = back.send(chunk.data);
                    continue;
                }
                Ok(Next::Incomplete) | Err(_) => {
                    return Err(named.format(NO_HEADER));
                }
            };
            pos = header_end;
        }
        let st = state.as_mut().expect("header read");
        loop {
            if pos >= data.len() {
                break;
            }
            let (end, copied) = match splitter.next(data, pos, eof) {
                Ok(Next::Record { end, copied }) => (end, copied),
                Ok(Next::Incomplete) => break,
                Err(e) => return Err(named.row(row as u64 + 1, None, e)),
            };
            let src: &[u8] = if copied { &splitter.scratch } else { data };
            pos = end;
            let ranges = &splitter.ranges;
            if ranges.len() == 1 && ranges[0].0 == ranges[0].1 {
                continue; // an empty line
            }
            row += 1;
            if ranges.len() != st.columns {
                let reason = format!(
                    "{} fields, but the header has {}: malformed header or row",
                    ranges.len(),
                    st.columns
                );
                return Err(named.row(row as u64, None, reason));
            }
            let field = |i: usize| -> Cell {
                let (s, e) = ranges[i];
                match &src[s..e] {
                    b"" | b"NULL" | b"\\N" => Cell::Null,
                    v => Cell::Str(v),
                }
            };
            let raw = |i: usize| -> &[u8] {
                match field(i) {
                    Cell::Str(v) => v,
                    _ => b"",
                }
            };
            let tags = match &st.layout.tags {
                TagSource::None => 0,
                TagSource::Columns(cols) => {
                    let mut tags: [&[u8]; 16] = [b""; 16];
                    for (slot, col) in tags.iter_mut().zip(cols) {
                        *slot = col.map_or(b"" as &[u8], raw);
                    }
                    st.agg.tag_set(&tags[..cols.len().min(16)])
                }
                TagSource::Map(col) => {
                    let values = json_tags(raw(*col), &st.tag_keys);
                    let tags: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
                    st.agg.tag_set(&tags)
                }
            };
            let result = st.layout.accumulate(field, tags, &mut st.days, &mut st.agg);
            result.map_err(|e| named.row(row as u64, Some(&e.column), e.reason()))?;
        }
        if from_pending {
            pending.drain(..pos);
        } else {
            pending.extend_from_slice(&chunk.data[pos..chunk.len]);
        }
        let _ = back.send(chunk.data);
        if eof {
            break;
        }
    }
    match state {
        Some(st) => Ok(st.agg.finish()),
        None => Err(named.format(NO_HEADER)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &[u8]) -> Vec<Vec<String>> {
        let mut s = Splitter {
            delim: b',',
            quoting: true,
            ranges: Vec::new(),
            scratch: Vec::new(),
        };
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < text.len() {
            match s.next(text, pos, true).unwrap() {
                Next::Record { end, copied } => {
                    let src = if copied { &s.scratch[..] } else { text };
                    out.push(
                        s.ranges
                            .iter()
                            .map(|&(a, b)| String::from_utf8_lossy(&src[a..b]).into_owned())
                            .collect(),
                    );
                    pos = end;
                }
                Next::Incomplete => unreachable!(),
            }
        }
        out
    }

    #[test]
    fn splits_plain_quoted_and_crlf_records() {
        let rows = split(
            b"a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\n,,\n\"a long quoted, field\",\"\",r\r\nx\"y\"z,2\n",
        );
        assert_eq!(rows[0], ["a", "b", "c"]);
        assert_eq!(rows[1], ["1", "x, \"y\"\nz", "3"]);
        assert_eq!(rows[2], ["", "", ""]);
        assert_eq!(rows[3], ["a long quoted, field", "", "r"]);
        assert_eq!(rows[4], ["xyz", "2"]);
    }

    #[test]
    fn simd_split_matches_a_plain_split() {
        let mut ranges = Vec::new();
        for len in 0..80 {
            let line: Vec<u8> = (0..len)
                .map(|i| {
                    if (i * 7 + len) % 5 == 0 {
                        b','
                    } else {
                        b'a' + (i % 26) as u8
                    }
                })
                .collect();
            assert!(split_line(&line, b',', true, 3, &mut ranges));
            let want: Vec<(usize, usize)> = {
                let mut out = Vec::new();
                let mut start = 0;
                for (i, &b) in line.iter().enumerate() {
                    if b == b',' {
                        out.push((3 + start, 3 + i));
                        start = i + 1;
                    }
                }
                out.push((3 + start, 3 + line.len()));
                out
            };
            assert_eq!(ranges, want, "len {len}");
        }
    }

    #[test]
    fn a_quoted_record_cut_by_a_chunk_is_incomplete() {
        let mut s = Splitter {
            delim: b',',
            quoting: true,
            ranges: Vec::new(),
            scratch: Vec::new(),
        };
        assert!(matches!(
            s.next(b"1,\"a\nb", 0, false).unwrap(),
            Next::Incomplete
        ));
        assert!(s.next(b"1,\"a\nb", 0, true).is_err());
    }
}
