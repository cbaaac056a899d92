//! Tokens (RFC 9110 §5.6.2): the characters of methods, field names, chunk-extension and
//! cookie names.

/// A byte of a token (`tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}
