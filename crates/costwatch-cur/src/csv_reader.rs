//! Streaming reader for billing CSV files (plain or gzip), including Hive text exports
//! (0x01-delimited, `\N` for null).
//!
//! Two threads: one reads and inflates the file into large chunks cut at line ends, the
//! other checks the gzip checksum, splits records (memchr over the bytes, no per-field
//! allocation) and groups them by raw key bytes. Memory stays bounded by a few chunks
//! whatever the file size.

use crate::ReadOptions;
use crate::agg::Aggregator;
use crate::cells::{Cell, DayCache, text_cell};
use crate::csv_split::{Next, Splitter};
use crate::error::{self, Result};
use crate::facts::SeriesFacts;
use crate::gzip::{Checksum, MemberEnd, Members};
use crate::layout::Layout;
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
    let mut splitter = Splitter::new();
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
                text_cell(&src[s..e])
            };
            let tags = st.layout.row_tags(field, &st.tag_keys, &mut st.agg);
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
