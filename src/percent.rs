//! Percent-decoding (RFC 3986 §2.1), done once, strictly.

use std::borrow::Cow;

/// Decodes `%XX` escapes. `None` if an escape is malformed (`%`, `%4`, `%zz`). Text without
/// `%` is returned as it is, not copied.
pub(crate) fn decode(s: &str) -> Option<Cow<'_, [u8]>> {
    let bytes = s.as_bytes();
    if !bytes.contains(&b'%') {
        return Some(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(Cow::Owned(out))
}

/// Decodes to UTF-8 text; `None` if malformed or not UTF-8.
pub(crate) fn decode_utf8(s: &str) -> Option<String> {
    String::from_utf8(decode(s)?.into_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_strictly() {
        assert_eq!(decode_utf8("a%20b%2Fc"), Some("a b/c".into()));
        assert_eq!(decode_utf8("%252e"), Some("%2e".into()));
        assert_eq!(decode("plain"), Some(Cow::Borrowed(&b"plain"[..])));
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode_utf8("%ff"), None);
    }
}
