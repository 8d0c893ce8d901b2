//! A Parquet file read by position (`pread`), shared by the reader threads.
//!
//! The parquet crate reads a `File` by cloning its descriptor, seeking and closing the
//! clone, twice per page (for the header, then for the data): eight system calls a page,
//! 55,000 on the benchmark file. Positioned reads need neither a clone nor a seek, so one
//! open file serves every thread, with two reads a page.

use bytes::Bytes;
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// An open Parquet file, read at positions.
pub struct ParquetFile {
    file: Arc<File>,
    len: u64,
}

impl ParquetFile {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file: Arc::new(file),
            len,
        })
    }
}

impl Length for ParquetFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for ParquetFile {
    type T = BufReader<ReadAt>;

    fn get_read(&self, start: u64) -> Result<Self::T> {
        Ok(BufReader::new(ReadAt {
            file: Arc::clone(&self.file),
            at: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let mut buffer = vec![0; length];
        self.file.read_exact_at(&mut buffer, start).map_err(|e| {
            ParquetError::EOF(format!("reading {length} bytes at offset {start}: {e}"))
        })?;
        Ok(buffer.into())
    }
}

/// Reads a file onwards from a position, without moving the file's own offset.
pub struct ReadAt {
    file: Arc<File>,
    at: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}
