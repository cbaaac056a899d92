//! Cookie values: percent-encoded when set, decoded when read, and the `Cookie` header read
//! into its pairs.

use crate::h1::token::is_tchar;
use crate::percent;

/// Bytes kept as they are in a cookie value; every other byte is percent-encoded.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'/'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b']'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        )
}

/// A cookie's name must be a token (RFC 6265 §4.1.1).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_tchar)
}

/// `value` percent-encoded for a cookie.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if plain(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The cookies of a `Cookie` header value, decoded, in order: `(name, value)`.
pub(crate) fn parse(header: &str) -> impl Iterator<Item = (&str, String)> {
    header.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if !valid_name(name) {
            return None;
        }
        Some((name, percent::decode_utf8(value)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_whatever_they_hold() {
        for value in ["plain", "a b;c=d", "Zoë 🦀", "%41", "\"quoted\"", ""] {
            let set = format!("n={}", encode(value));
            let sent = set.split(';').next().unwrap();
            let back: Vec<_> = parse(sent).collect();
            assert_eq!(back, vec![("n", value.to_string())], "{set}");
        }
    }

    #[test]
    fn a_cookie_header_with_several_and_some_garbage() {
        let got: Vec<_> = parse(r#"a=1; b="two"; bad name=x; c=%zz; d=caf%C3%A9; =e; f"#).collect();
        assert_eq!(
            got,
            vec![("a", "1".into()), ("b", "two".into()), ("d", "café".into())]
        );
    }
}
