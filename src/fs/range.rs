//! Byte ranges (RFC 9110 §14): one `bytes=` range of a file, or none.

use crate::h1::fields::parse_length;

/// What a `Range` header asks of a file of known length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// First and last byte, inclusive.
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range (RFC 9110 §14.1.2). `None`: malformed or several ranges, so the Range
/// header is ignored.
pub(crate) fn parse_range(header: &str, len: u64) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| parse_length(s.as_bytes());
    if first.is_empty() {
        // Suffix: the last n bytes.
        let n = digits(last)?;
        return Some(if n == 0 || len == 0 {
            ByteRange::Unsatisfiable
        } else {
            ByteRange::Satisfiable(len - n.min(len), len - 1)
        });
    }
    let start = digits(first)?;
    let end = if last.is_empty() {
        u64::MAX
    } else {
        digits(last)?
    };
    if end < start {
        return None;
    }
    if start >= len {
        return Some(ByteRange::Unsatisfiable);
    }
    Some(ByteRange::Satisfiable(start, end.min(len - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_ranges() {
        use ByteRange::*;
        assert_eq!(parse_range("bytes=0-499", 1000), Some(Satisfiable(0, 499)));
        assert_eq!(parse_range("bytes=500-", 1000), Some(Satisfiable(500, 999)));
        assert_eq!(parse_range("bytes=-200", 1000), Some(Satisfiable(800, 999)));
        assert_eq!(parse_range("bytes=-2000", 1000), Some(Satisfiable(0, 999)));
        assert_eq!(
            parse_range("bytes=900-5000", 1000),
            Some(Satisfiable(900, 999))
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 1000), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-0", 0), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=+1-2", 1000), None);
    }
}
