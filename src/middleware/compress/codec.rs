//! One compressor, whichever the coding: bytes in, compressed bytes out, flushed on demand.
//! Each codec writes into a `Vec` that the caller drains, so nothing here does I/O.

use std::io::{self, Write};

use crate::coding::Coding;

/// How hard each codec works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Levels {
    pub(crate) gzip: u32,
    pub(crate) brotli: u32,
    pub(crate) zstd: i32,
}

/// The window of a compressor for a body of unknown length, as a power of two: 256 KiB keeps
/// a long-lived stream (server-sent events) from holding megabytes.
const STREAM_WINDOW_LOG: u32 = 18;
/// The smallest window brotli allows, for tiny bodies.
const MIN_WINDOW_LOG: u32 = 10;
/// The largest window used for bodies of known length.
const MAX_WINDOW_LOG: u32 = 22;
/// Brotli's input buffer.
const BROTLI_BUFFER: usize = 4096;

/// A compressor writing into its own `Vec`.
pub(crate) enum Codec {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Codec::Gzip(_) => "Codec::Gzip",
            Codec::Brotli(_) => "Codec::Brotli",
            Codec::Zstd(_) => "Codec::Zstd",
        })
    }
}

impl Codec {
    /// A compressor for `coding`; `len` is the body's length when known, which sizes the
    /// window (no larger than the body) and lets zstd record the size.
    pub(crate) fn new(coding: Coding, levels: Levels, len: Option<u64>) -> io::Result<Self> {
        let window = match len {
            Some(len) => {
                (u64::BITS - len.max(1).leading_zeros()).clamp(MIN_WINDOW_LOG, MAX_WINDOW_LOG)
            }
            None => STREAM_WINDOW_LOG,
        };
        Ok(match coding {
            Coding::Gzip => Codec::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(levels.gzip.min(9)),
            )),
            Coding::Brotli => Codec::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                BROTLI_BUFFER,
                levels.brotli.min(11),
                window,
            ))),
            Coding::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), levels.zstd)?;
                encoder.window_log(window)?;
                if len.is_some() {
                    encoder.set_pledged_src_size(len)?;
                }
                Codec::Zstd(encoder)
            }
        })
    }

    /// Compresses `bytes`; some output may stay inside until [`flush`](Self::flush).
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Codec::Gzip(w) => w.write_all(bytes),
            Codec::Brotli(w) => w.write_all(bytes),
            Codec::Zstd(w) => w.write_all(bytes),
        }
    }

    /// Makes everything written so far decodable by the client (a sync flush), so that a
    /// streamed body's chunk reaches it whole.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Codec::Gzip(w) => w.flush(),
            Codec::Brotli(w) => w.flush(),
            Codec::Zstd(w) => w.flush(),
        }
    }

    /// Moves the compressed bytes made so far onto the end of `out`.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<u8>) {
        let made = match self {
            Codec::Gzip(w) => w.get_mut(),
            Codec::Brotli(w) => w.get_mut(),
            Codec::Zstd(w) => w.get_mut(),
        };
        if out.is_empty() {
            std::mem::swap(out, made);
        } else {
            out.append(made);
        }
    }

    /// Ends the stream (the trailer: gzip's CRC and length, brotli's last block, zstd's
    /// epilogue) onto the end of `out`.
    pub(crate) fn finish_into(mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.drain_into(out);
        let rest = match self {
            Codec::Gzip(w) => w.finish()?,
            Codec::Brotli(w) => w.into_inner(),
            Codec::Zstd(w) => w.finish()?,
        };
        out.extend_from_slice(&rest);
        Ok(())
    }

    /// `bytes` compressed whole.
    pub(crate) fn compress_all(
        coding: Coding,
        levels: Levels,
        bytes: &[u8],
    ) -> io::Result<Vec<u8>> {
        let mut codec = Codec::new(coding, levels, Some(bytes.len() as u64))?;
        codec.write(bytes)?;
        let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
        codec.finish_into(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    const LEVELS: Levels = Levels {
        gzip: 6,
        brotli: 4,
        zstd: 3,
    };

    fn decode(coding: Coding, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Gzip => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
            Coding::Brotli => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
            Coding::Zstd => zstd::stream::read::Decoder::new(bytes)
                .unwrap()
                .read_to_end(&mut out),
        }
        .unwrap();
        out
    }

    #[test]
    fn whole_bodies_round_trip_and_shrink() {
        let text = "the quick brown fox jumps over the lazy dog. ".repeat(2000);
        for coding in [Coding::Gzip, Coding::Brotli, Coding::Zstd] {
            let packed = Codec::compress_all(coding, LEVELS, text.as_bytes()).unwrap();
            assert!(
                packed.len() < text.len() / 20,
                "{coding:?}: {}",
                packed.len()
            );
            assert_eq!(decode(coding, &packed), text.as_bytes());
            let empty = Codec::compress_all(coding, LEVELS, b"").unwrap();
            assert_eq!(decode(coding, &empty), b"");
        }
    }

    #[test]
    fn a_flush_makes_what_was_written_decodable() {
        for coding in [Coding::Gzip, Coding::Brotli, Coding::Zstd] {
            let mut codec = Codec::new(coding, LEVELS, None).unwrap();
            codec.write(b"data: first\n\n").unwrap();
            codec.flush().unwrap();
            let mut out = Vec::new();
            codec.drain_into(&mut out);
            // A streaming decoder given only this much yields the first event already.
            let seen = partial_decode(coding, &out);
            assert_eq!(seen, b"data: first\n\n", "{coding:?}");
            codec.write(b"data: second\n\n").unwrap();
            codec.finish_into(&mut out).unwrap();
            assert_eq!(decode(coding, &out), b"data: first\n\ndata: second\n\n");
        }
    }

    /// What a streaming decoder gives from the start of a stream, stopping where input ends.
    fn partial_decode(coding: Coding, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0; 1024];
        let n = match coding {
            Coding::Gzip => {
                let mut d = flate2::Decompress::new(false);
                // Skip gzip's 10-byte header: the rest is raw deflate.
                d.decompress(&bytes[10..], &mut out, flate2::FlushDecompress::Sync)
                    .unwrap();
                d.total_out() as usize
            }
            Coding::Brotli => {
                let mut d = brotli::Decompressor::new(bytes, 4096);
                d.read(&mut out).unwrap()
            }
            Coding::Zstd => {
                let mut d = zstd::stream::read::Decoder::new(bytes).unwrap();
                d.read(&mut out).unwrap()
            }
        };
        out.truncate(n);
        out
    }
}
