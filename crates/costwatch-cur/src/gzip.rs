//! Gzip inflated on one thread and checked on another.
//!
//! A CUR part is one gzip stream and inflating it is the slowest step of a CSV ingest, on a
//! core of its own. [`Members`] only inflates (member after member, as `gzip -d` does) and
//! records each member's trailer; [`Checksum`] computes the CRC-32 of the inflated bytes
//! where they are parsed, on the other core, and compares it with the trailers.

use flate2::bufread::DeflateDecoder;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

/// The end of one member in the inflated stream and what its trailer says of it.
#[derive(Debug, Clone, Copy)]
pub struct MemberEnd {
    /// Offset of the member's end in the inflated stream.
    pub at: u64,
    pub crc: u32,
    /// Length modulo 2^32, as gzip records it.
    pub size: u32,
}

/// The members of a gzip stream, inflated one after another without checksums.
pub struct Members<R: BufRead> {
    decoder: Option<DeflateDecoder<R>>,
    inflated: u64,
    ends: Vec<MemberEnd>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Skips a member header (RFC 1952, section 2.3).
fn skip_header(r: &mut impl BufRead) -> io::Result<()> {
    let mut fixed = [0u8; 10];
    r.read_exact(&mut fixed)?;
    if fixed[..3] != [0x1f, 0x8b, 8] {
        return Err(invalid("not a gzip member header"));
    }
    let flags = fixed[3];
    if flags & 0x04 != 0 {
        let mut len = [0u8; 2];
        r.read_exact(&mut len)?;
        io::copy(
            &mut r.take(u64::from(u16::from_le_bytes(len))),
            &mut io::sink(),
        )?;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let mut text = Vec::new();
            r.read_until(0, &mut text)?;
            if text.last() != Some(&0) {
                return Err(invalid("truncated gzip header"));
            }
        }
    }
    if flags & 0x02 != 0 {
        r.read_exact(&mut [0u8; 2])?;
    }
    Ok(())
}

impl<R: BufRead> Members<R> {
    /// Reads the first member's header.
    pub fn new(mut input: R) -> io::Result<Self> {
        skip_header(&mut input)?;
        Ok(Self {
            decoder: Some(DeflateDecoder::new(input)),
            inflated: 0,
            ends: Vec::new(),
        })
    }

    /// The member ends reached since the last call.
    pub fn take_ends(&mut self) -> Vec<MemberEnd> {
        std::mem::take(&mut self.ends)
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(decoder) = &mut self.decoder {
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.inflated += n as u64;
                return Ok(n);
            }
            let mut input = self.decoder.take().expect("a member").into_inner();
            let mut trailer = [0u8; 8];
            input.read_exact(&mut trailer)?;
            let word = |i: usize| u32::from_le_bytes(trailer[i..i + 4].try_into().expect("4"));
            self.ends.push(MemberEnd {
                at: self.inflated,
                crc: word(0),
                size: word(4),
            });
            if !input.fill_buf()?.is_empty() {
                skip_header(&mut input)?;
                self.decoder = Some(DeflateDecoder::new(input));
            }
        }
        Ok(0)
    }
}

/// The CRC-32 of inflated bytes, checked against member trailers as the bytes go by.
#[derive(Default)]
pub struct Checksum {
    hasher: crc32fast::Hasher,
    /// Bytes seen, and where the current member began.
    seen: u64,
    member_start: u64,
    pending: VecDeque<MemberEnd>,
}

impl Checksum {
    /// Member ends to check (in order, as [`Members::take_ends`] gives them).
    pub fn expect(&mut self, ends: Vec<MemberEnd>) {
        self.pending.extend(ends);
    }

    /// Adds the next inflated bytes; an error when a member they complete does not match.
    pub fn update(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while let Some(end) = self.pending.front().copied() {
            let left = end.at.saturating_sub(self.seen);
            if left > bytes.len() as u64 {
                break;
            }
            let (head, rest) = bytes.split_at(left as usize);
            self.hasher.update(head);
            self.seen += left;
            let crc = std::mem::take(&mut self.hasher).finalize();
            let size = (self.seen - self.member_start) as u32;
            if (crc, size) != (end.crc, end.size) {
                return Err("gzip checksum mismatch: the file is corrupt".into());
            }
            self.member_start = self.seen;
            self.pending.pop_front();
            bytes = rest;
        }
        self.hasher.update(bytes);
        self.seen += bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Inflates in small reads and checks in other small pieces, as the two threads do.
    fn round_trip(file: &[u8]) -> Result<Vec<u8>, String> {
        let mut members =
            Members::new(io::BufReader::with_capacity(7, file)).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            let n = members.read(&mut buf).map_err(|e| e.to_string())?;
            out.extend_from_slice(&buf[..n]);
            if n == 0 {
                break;
            }
        }
        let mut check = Checksum::default();
        check.expect(members.take_ends());
        for piece in out.chunks(3) {
            check.update(piece)?;
        }
        // The reader's last chunk, which may be empty (members that inflate to nothing).
        check.update(&[])?;
        if !check.pending.is_empty() {
            return Err("member ends not reached".into());
        }
        Ok(out)
    }

    #[test]
    fn members_inflate_in_order_and_check() {
        let mut file = gzip(b"first member\nline two\n");
        file.extend(gzip(b"second\n"));
        assert_eq!(
            round_trip(&file).unwrap(),
            b"first member\nline two\nsecond\n"
        );
    }

    #[test]
    fn a_flipped_byte_or_a_cut_is_an_error() {
        let mut file = gzip(b"first member\nline two\n");
        let at = file.len() - 6; // inside the CRC of the trailer
        file[at] ^= 1;
        assert!(round_trip(&file).unwrap_err().contains("checksum"));
        let file = gzip(b"first member\nline two\n");
        assert!(round_trip(&file[..file.len() - 3]).is_err());
        assert!(round_trip(&file[..file.len() / 2]).is_err());
        assert!(round_trip(b"plain text, not gzip").is_err());
    }

    /// The property: any stream of members (empty ones, members of many sizes, several
    /// compression levels, read in pieces of odd sizes) inflates to what
    /// `flate2::read::MultiGzDecoder` gives, and its checksums hold.
    #[test]
    fn inflates_as_multi_gz_decoder_does() {
        let mut seed = 11u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for case in 0..300 {
            let mut file = Vec::new();
            for _ in 0..1 + next(5) {
                let len = [0, 1, 100, 5000, 70_000][next(5) as usize];
                let data: Vec<u8> = (0..len).map(|i| b"ab,\n\"x"[(i + case) % 6]).collect();
                let level = Compression::new(next(10) as u32);
                let mut e = GzEncoder::new(Vec::new(), level);
                e.write_all(&data).unwrap();
                file.extend(e.finish().unwrap());
            }
            let mut want = Vec::new();
            flate2::read::MultiGzDecoder::new(&file[..])
                .read_to_end(&mut want)
                .unwrap();
            assert_eq!(round_trip(&file).unwrap(), want, "case {case}");
        }
    }
}
