//! The chunked transfer coding (RFC 9112 §7.1), decoding side.
//!
//! [`ChunkedDecoder`] is a push decoder: it takes whatever bytes have arrived, writes body data
//! into a caller's buffer and remembers where it stopped, so a body split across reads at any
//! byte decodes the same. It never allocates. Sizes, extensions and trailers are checked
//! strictly; a bare LF, a size that overflows, or an oversized extension or trailer section is
//! an error.

use super::token::is_tchar;

/// Longest chunk extension accepted on one chunk.
///
/// **Default:** 4 KiB. **Unit:** bytes.
pub const MAX_CHUNK_EXT: usize = 4 * 1024;

/// Longest chunk-size part of a size line (digits, leading zeros and whitespace before any
/// extension).
///
/// **Default:** 64. **Unit:** bytes.
pub const MAX_CHUNK_SIZE_LINE: usize = 64;

/// Longest trailer section accepted after the last chunk.
///
/// **Default:** 8 KiB. **Unit:** bytes.
pub const MAX_TRAILERS: usize = 8 * 1024;

/// A malformed chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError(pub &'static str);

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ChunkError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size {
        value: u64,
        digits: u8,
    },
    /// Whitespace after the size, before `;` or CR.
    SizeWs {
        value: u64,
    },
    /// Inside a chunk extension.
    Ext {
        value: u64,
        len: usize,
    },
    /// Expecting the LF that ends a size line.
    SizeLf {
        value: u64,
    },
    /// Body data still to come in this chunk.
    Data(u64),
    DataCr,
    DataLf,
    /// Start of a trailer line (or of the final CRLF).
    TrailerStart,
    /// Inside a trailer field line.
    Trailer {
        colon: bool,
    },
    TrailerLf,
    EndLf,
    Done,
}

/// Decodes one chunked body.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    trailer_bytes: usize,
    /// Bytes of the current chunk-size (digits and whitespace) seen.
    size_line: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        ChunkedDecoder {
            state: State::Size {
                value: 0,
                digits: 0,
            },
            trailer_bytes: 0,
            size_line: 0,
        }
    }

    /// True once the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input` into `out`; returns `(bytes of input consumed, bytes written)`.
    ///
    /// Stops when `input` is used up, `out` is full (and a data byte is next), or the body
    /// ended. Call again with more input or more room.
    ///
    /// ```
    /// use smolweb::h1::ChunkedDecoder;
    /// let mut dec = ChunkedDecoder::new();
    /// let mut out = [0u8; 16];
    /// let (used, n) = dec.decode(b"5\r\nhello\r\n0\r\n\r\nNEXT", &mut out)?;
    /// assert_eq!((&out[..n], used), (&b"hello"[..], 15));
    /// assert!(dec.is_done());
    /// # Ok::<(), smolweb::h1::ChunkError>(())
    /// ```
    pub fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), ChunkError> {
        let (mut i, mut o) = (0, 0);
        while i < input.len() {
            if let State::Data(left) = self.state {
                if o == out.len() {
                    break;
                }
                let n = (left.min((input.len() - i) as u64) as usize).min(out.len() - o);
                out[o..o + n].copy_from_slice(&input[i..i + n]);
                (i, o) = (i + n, o + n);
                self.state = if left == n as u64 {
                    State::DataCr
                } else {
                    State::Data(left - n as u64)
                };
                continue;
            }
            if self.state == State::Done {
                break;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok((i, o))
    }

    /// Advances over one byte of framing (everything but chunk data).
    fn step(&mut self, b: u8) -> Result<(), ChunkError> {
        use State::*;
        if matches!(self.state, Size { .. } | SizeWs { .. }) {
            self.size_line += 1;
            if self.size_line > MAX_CHUNK_SIZE_LINE {
                return Err(ChunkError("chunk size line too long"));
            }
        } else {
            self.size_line = 0;
        }
        self.state = match self.state {
            Size { value, digits } => match b {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits == 16 {
                        return Err(ChunkError("chunk size too large"));
                    }
                    let d = (b as char).to_digit(16).unwrap_or(0);
                    // Leading zeros are allowed; 16 hex digits fit a u64 exactly.
                    let value = value << 4 | u64::from(d);
                    Size {
                        value,
                        digits: if value == 0 {
                            digits.max(1)
                        } else {
                            digits + 1
                        },
                    }
                }
                _ if digits == 0 => return Err(ChunkError("invalid chunk size")),
                b'\r' => SizeLf { value },
                b';' => Ext { value, len: 0 },
                b' ' | b'\t' => SizeWs { value },
                _ => return Err(ChunkError("invalid chunk size")),
            },
            SizeWs { value } => match b {
                b' ' | b'\t' => SizeWs { value },
                b';' => Ext { value, len: 0 },
                _ => return Err(ChunkError("invalid chunk size line")),
            },
            Ext { value, len } => match b {
                b'\r' => SizeLf { value },
                _ if len >= MAX_CHUNK_EXT => return Err(ChunkError("chunk extension too long")),
                b'\t' | b' '..=b'~' | 0x80..=0xff => Ext {
                    value,
                    len: len + 1,
                },
                _ => return Err(ChunkError("invalid chunk extension")),
            },
            SizeLf { value } => match b {
                b'\n' if value == 0 => TrailerStart,
                b'\n' => Data(value),
                _ => return Err(ChunkError("chunk size line not ended by CRLF")),
            },
            DataCr if b == b'\r' => DataLf,
            DataLf if b == b'\n' => Size {
                value: 0,
                digits: 0,
            },
            DataCr | DataLf => return Err(ChunkError("chunk data not followed by CRLF")),
            TrailerStart => match b {
                b'\r' => EndLf,
                b' ' | b'\t' => return Err(ChunkError("obsolete line folding in trailer")),
                _ => self.trailer_byte(b, false)?,
            },
            Trailer { colon } => match b {
                b'\r' if colon => TrailerLf,
                _ => self.trailer_byte(b, colon)?,
            },
            TrailerLf if b == b'\n' => TrailerStart,
            EndLf if b == b'\n' => Done,
            TrailerLf | EndLf => return Err(ChunkError("trailer line not ended by CRLF")),
            Data(_) | Done => unreachable!("handled by decode"),
        };
        Ok(())
    }

    fn trailer_byte(&mut self, b: u8, colon: bool) -> Result<State, ChunkError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(ChunkError("trailer section too large"));
        }
        match b {
            b':' => Ok(State::Trailer { colon: true }),
            b'\t' | b' '..=b'~' | 0x80..=0xff if colon => Ok(State::Trailer { colon }),
            // Before the colon only token characters may appear (field-name).
            _ if is_tchar(b) => Ok(State::Trailer { colon }),
            _ => Err(ChunkError("invalid trailer field")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], split: usize) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut dec = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut used = 0;
        let mut out = [0u8; 7];
        for piece in input.chunks(split.max(1)) {
            let mut at = 0;
            while at < piece.len() && !dec.is_done() {
                let (u, n) = dec.decode(&piece[at..], &mut out)?;
                body.extend_from_slice(&out[..n]);
                at += u;
                used += u;
            }
        }
        Ok((body, used, dec.is_done()))
    }

    #[test]
    fn decodes_the_same_whatever_the_split() {
        let input = b"4\r\nWiki\r\n5;ext=\"q\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nrest";
        for split in 1..input.len() {
            let (body, used, done) = decode_all(input, split).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
            assert_eq!(used, input.len() - 4);
            assert!(done);
        }
    }

    #[test]
    fn rejects_malformed_framing() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n",
            b"fffffffffffffffff\r\n",
            b"-1\r\n",
            b"0\r\n\r\r",
            b"0\r\n folded\r\n\r\n",
            b"0\r\nno-colon\r\n\r\n",
            b"3;\x01\r\nabc\r\n",
        ] {
            assert!(
                decode_all(bad, 64).is_err(),
                "accepted {:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bounds_extensions_and_trailers() {
        let mut long_ext = b"1;".to_vec();
        long_ext.extend(std::iter::repeat_n(b'a', MAX_CHUNK_EXT + 1));
        assert!(decode_all(&long_ext, 100).is_err());
        let mut long_trailer = b"0\r\nX:".to_vec();
        long_trailer.extend(std::iter::repeat_n(b'a', MAX_TRAILERS + 1));
        assert!(decode_all(&long_trailer, 100).is_err());
    }

    #[test]
    fn max_size_fits_u64() {
        let mut dec = ChunkedDecoder::new();
        let mut out = [0u8; 1];
        assert_eq!(dec.decode(b"ffffffffffffffff\r\nz", &mut out), Ok((19, 1)));
        // Leading zeros do not count towards the 16-digit bound.
        let mut dec = ChunkedDecoder::new();
        assert_eq!(
            dec.decode(b"000000000000000000001\r\nz", &mut out),
            Ok((24, 1))
        );
    }
}
