//! Splitting CSV records into fields without allocating per field: 16 bytes at a time,
//! the delimiter and quote found by bit masks; a record with escaped quotes is unescaped
//! into a scratch copy. Checked against the `csv` crate on generated input (tests).

/// Splits records; field ranges point into the input or, for records with quotes, into
/// an unescaped copy.
pub(crate) struct Splitter {
    /// The field delimiter: `,`, or 0x01 in Hive text exports.
    pub delim: u8,
    /// Whether quotes are special (not in Hive text exports).
    pub quoting: bool,
    /// The fields of the last record, as ranges of the input or of `scratch`.
    pub ranges: Vec<(usize, usize)>,
    /// The last record unescaped, when it needed to be.
    pub scratch: Vec<u8>,
}

/// What [`Splitter::next`] found.
pub(crate) enum Next {
    /// A record ending at `end` (exclusive); its fields are in `scratch` when `copied`.
    Record { end: usize, copied: bool },
    /// The rest of the input is a partial record.
    Incomplete,
}

impl Splitter {
    /// A splitter of comma-separated records with quoting.
    pub fn new() -> Self {
        Self {
            delim: b',',
            quoting: true,
            ranges: Vec::with_capacity(256),
            scratch: Vec::new(),
        }
    }

    /// The record starting at `pos` of `data` (`eof`: no more data follows).
    pub(crate) fn next(
        &mut self,
        data: &[u8],
        pos: usize,
        eof: bool,
    ) -> Result<Next, &'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &[u8]) -> Vec<Vec<String>> {
        let mut s = Splitter::new();
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
        let mut s = Splitter::new();
        assert!(matches!(
            s.next(b"1,\"a\nb", 0, false).unwrap(),
            Next::Incomplete
        ));
        assert!(s.next(b"1,\"a\nb", 0, true).is_err());
    }

    /// A seeded generator of CSV text as RFC 4180 writes it: plain fields, and quoted
    /// ones holding delimiters, doubled quotes and line ends; empty fields; LF or CRLF.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }

        fn field(&mut self) -> Vec<u8> {
            let len = self.next(12);
            match self.next(4) {
                0 => Vec::new(),
                1 => {
                    let mut f = vec![b'"'];
                    for _ in 0..len {
                        match self.next(8) {
                            0 => f.extend_from_slice(b"\"\""),
                            1 => f.push(b','),
                            2 => f.extend_from_slice(b"\r\n"),
                            3 => f.push(b'\n'),
                            _ => f.push(b'a' + self.next(26) as u8),
                        }
                    }
                    f.push(b'"');
                    f
                }
                _ => (0..len).map(|_| b'a' + self.next(26) as u8).collect(),
            }
        }

        fn text(&mut self, records: usize) -> Vec<u8> {
            let fields = 1 + self.next(6) as usize;
            let crlf = self.next(2) == 0;
            let mut text = Vec::new();
            for _ in 0..records {
                for i in 0..fields {
                    if i > 0 {
                        text.push(b',');
                    }
                    match self.field() {
                        // A record of one empty field is an empty line, which CSV readers
                        // skip (so does costwatch's).
                        f if f.is_empty() && fields == 1 => text.push(b'x'),
                        f => text.extend(f),
                    }
                }
                text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            text
        }
    }

    /// The property: on any such text, the splitter gives the fields the `csv` crate gives.
    #[test]
    fn splits_as_the_csv_crate_does() {
        let mut g = Gen(7);
        for case in 0..2000 {
            let text = g.text(1 + case % 9);
            let want: Vec<Vec<String>> = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&text[..])
                .records()
                .map(|r| r.unwrap().iter().map(String::from).collect())
                .collect();
            assert_eq!(
                split(&text),
                want,
                "case {case}: {:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}
