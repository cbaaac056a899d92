//! The forwarding headers as text: `Forwarded` (RFC 7239) into [`Hop`]s, and the nodes of
//! `X-Forwarded-For`. What to believe of them is [`TrustedProxies`](super::TrustedProxies)'
//! business; this file only reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4};

/// Who a proxy says connected to it (`for=` of `Forwarded`, an entry of `X-Forwarded-For`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// An address (its port, if one was given, dropped).
    Ip(IpAddr),
    /// `unknown`, or no `for=` in the element.
    Unknown,
    /// An obfuscated identifier (`_hidden`, RFC 7239 §6.3).
    Obfuscated,
    /// Something that is none of these.
    Invalid,
}

/// One element of `Forwarded`: what one proxy recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) node: Node,
    pub(crate) proto: Option<String>,
    pub(crate) host: Option<String>,
}

/// A `Forwarded` field that does not follow the grammar (an open quote, a pair without
/// `=`, a parameter twice in one element): none of it can be believed, since where one
/// element ends and the next begins is no longer known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The elements of every `Forwarded` field, in order (a proxy appends on the right).
pub(crate) fn parse_forwarded<'a>(
    fields: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Hop>, Malformed> {
    let mut hops = Vec::new();
    for field in fields {
        for element in split_outside_quotes(field, b',')? {
            if element.trim().is_empty() {
                continue; // the list rule allows empty elements
            }
            hops.push(parse_element(element)?);
        }
    }
    Ok(hops)
}

/// One element: `for=..;proto=..;host=..` (`by=` and extensions are read past).
fn parse_element(element: &str) -> Result<Hop, Malformed> {
    let mut hop = Hop {
        node: Node::Unknown,
        proto: None,
        host: None,
    };
    let mut seen = [false; 3];
    for pair in split_outside_quotes(element, b';')? {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').ok_or(Malformed)?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(Malformed);
        }
        let value = unquote(value)?;
        let slot = ["for", "proto", "host"]
            .iter()
            .position(|known| name.eq_ignore_ascii_case(known));
        // Each parameter at most once per element (RFC 7239 §4).
        if let Some(i) = slot {
            if std::mem::replace(&mut seen[i], true) {
                return Err(Malformed);
            }
        }
        match slot {
            Some(0) => hop.node = forwarded_node(&value),
            Some(1) => hop.proto = Some(value),
            Some(2) => hop.host = Some(value),
            _ => {}
        }
    }
    Ok(hop)
}

/// `text` cut at every `sep` that is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: u8) -> Result<Vec<&str>, Malformed> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in text.bytes().enumerate() {
        match (quoted, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => quoted = !quoted,
            (false, _, b) if b == sep => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(Malformed);
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// A parameter's value: a token, or a quoted string with its escapes undone.
fn unquote(value: &str) -> Result<String, Malformed> {
    let Some(inner) = value.strip_prefix('"') else {
        // A token. `[`, `]` and `:` are not token characters, but proxies that leave an
        // address unquoted are common and the meaning is plain, so they are let through.
        let plain = |b: u8| is_tchar(b) || matches!(b, b'[' | b']' | b':');
        if value.is_empty() || !value.bytes().all(plain) {
            return Err(Malformed);
        }
        return Ok(value.to_owned());
    };
    let inner = inner.strip_suffix('"').ok_or(Malformed)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or(Malformed)?),
            '"' => return Err(Malformed),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A `for=` value: `192.0.2.60`, `192.0.2.60:8080`, `[2001:db8::1]`, `[2001:db8::1]:4711`,
/// `unknown`, `_hidden` (ports may be obfuscated too: `[::1]:_port`).
fn forwarded_node(value: &str) -> Node {
    if value.eq_ignore_ascii_case("unknown") {
        return Node::Unknown;
    }
    if let Some(obfuscated) = value.strip_prefix('_') {
        return if is_obfuscated(obfuscated) {
            Node::Obfuscated
        } else {
            Node::Invalid
        };
    }
    if value.starts_with('[') {
        return bracketed(value);
    }
    let (host, port) = match value.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    match (host.parse::<Ipv4Addr>(), port.is_none_or(is_port)) {
        (Ok(v4), true) => Node::Ip(IpAddr::V4(v4)),
        _ => Node::Invalid,
    }
}

/// An `X-Forwarded-For` entry: an address, IPv6 bare or bracketed, either with a port or
/// not, or `unknown`.
pub(crate) fn x_forwarded_node(entry: &str) -> Node {
    let entry = entry.trim();
    if entry.eq_ignore_ascii_case("unknown") {
        return Node::Unknown;
    }
    if entry.starts_with('[') {
        return bracketed(entry);
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Node::Ip(ip);
    }
    match entry.parse::<SocketAddrV4>() {
        Ok(addr) => Node::Ip(IpAddr::V4(*addr.ip())),
        Err(_) => Node::Invalid,
    }
}

/// `[v6]` or `[v6]:port`.
fn bracketed(value: &str) -> Node {
    let Some((v6, rest)) = value[1..].split_once(']') else {
        return Node::Invalid;
    };
    let port_ok = rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port);
    match (v6.parse::<Ipv6Addr>(), port_ok) {
        (Ok(v6), true) => Node::Ip(IpAddr::V6(v6)),
        _ => Node::Invalid,
    }
}

/// A port, or an obfuscated one (`_abc`).
fn is_port(port: &str) -> bool {
    match port.strip_prefix('_') {
        Some(obfuscated) => is_obfuscated(obfuscated),
        None => !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()),
    }
}

fn is_obfuscated(rest: &str) -> bool {
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A token character (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The non-empty entries of comma-separated list fields, trimmed, in order.
pub(crate) fn list<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    fields
        .into_iter()
        .flat_map(|field| field.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Node {
        Node::Ip(s.parse().unwrap())
    }

    fn nodes(field: &str) -> Result<Vec<Node>, Malformed> {
        Ok(parse_forwarded([field])?
            .into_iter()
            .map(|h| h.node)
            .collect())
    }

    #[test]
    fn the_examples_of_rfc_7239() {
        let cases: [(&str, Vec<Node>); 7] = [
            (r#"for="_gazonk""#, vec![Node::Obfuscated]),
            (
                r#"For="[2001:db8:cafe::17]:4711""#,
                vec![ip("2001:db8:cafe::17")],
            ),
            (
                "for=192.0.2.60;proto=http;by=203.0.113.43",
                vec![ip("192.0.2.60")],
            ),
            (
                "for=192.0.2.43, for=198.51.100.17",
                vec![ip("192.0.2.43"), ip("198.51.100.17")],
            ),
            (
                r#"for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown"#,
                vec![ip("192.0.2.43"), ip("2001:db8:cafe::17"), Node::Unknown],
            ),
            (r#"for="192.0.2.43:_hidden""#, vec![ip("192.0.2.43")]),
            ("for=unknown;proto=https", vec![Node::Unknown]),
        ];
        for (field, want) in cases {
            assert_eq!(nodes(field), Ok(want), "{field}");
        }
    }

    #[test]
    fn proto_host_and_quoting() {
        let hops = parse_forwarded([
            r#"for=198.51.100.1;proto=https;host="example.com:8443""#,
            r#"host=a.example ; for="[::1]";proto="h\"t,tp;x""#,
        ])
        .unwrap();
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].proto.as_deref(), Some("https"));
        assert_eq!(hops[0].host.as_deref(), Some("example.com:8443"));
        assert_eq!(hops[1].node, ip("::1"));
        assert_eq!(hops[1].host.as_deref(), Some("a.example"));
        // A comma and a semicolon inside quotes split nothing.
        assert_eq!(hops[1].proto.as_deref(), Some("h\"t,tp;x"));
        // No `for=`: the node is unknown; empty elements and pairs are allowed.
        let hops = parse_forwarded(["proto=https;;, ,"]).unwrap();
        assert_eq!(hops.len(), 1);
        assert_eq!(hops[0].node, Node::Unknown);
        // Parameter names in any case; extensions are ignored.
        assert_eq!(nodes("FOR=10.0.0.1;ext=1"), Ok(vec![ip("10.0.0.1")]));
    }

    #[test]
    fn malformed_fields_are_refused_whole() {
        for field in [
            r#"for="192.0.2.1"#,
            r#"for=192.0.2.1, for="[::1]"#,
            "for",
            "for=1.2.3.4;for=5.6.7.8",
            "=1.2.3.4",
            "for=",
            "for=a b",
            r#"for="a"b"#,
            r#"for="a\"#,
            "fo r=1.2.3.4",
            "for=1.2.3.4;proto=https;proto=http",
        ] {
            assert_eq!(parse_forwarded([field]), Err(Malformed), "{field}");
        }
    }

    #[test]
    fn nodes_that_are_not_addresses() {
        for value in [
            "[2001:db8::1",
            "[2001:db8::1]x",
            "[2001:db8::1]:",
            "[2001:db8::1]:123456",
            "[192.0.2.1]",
            "2001:db8::1",
            "192.0.2.1:x",
            "192.0.2.256",
            "example.com",
            "_",
            "_bad/char",
            "[::1]:_",
        ] {
            assert_eq!(forwarded_node(value), Node::Invalid, "{value}");
        }
        assert_eq!(forwarded_node("UNKNOWN"), Node::Unknown);
        assert_eq!(forwarded_node("_a.b-c_1"), Node::Obfuscated);
        assert_eq!(forwarded_node("[::1]:_p0rt"), ip("::1"));
        assert_eq!(forwarded_node("10.1.2.3:65535"), ip("10.1.2.3"));
    }

    #[test]
    fn x_forwarded_for_entries() {
        let cases = [
            ("203.0.113.7", ip("203.0.113.7")),
            (" 203.0.113.7 ", ip("203.0.113.7")),
            ("203.0.113.7:5000", ip("203.0.113.7")),
            ("2001:db8::7", ip("2001:db8::7")),
            ("[2001:db8::7]", ip("2001:db8::7")),
            ("[2001:db8::7]:443", ip("2001:db8::7")),
            ("unknown", Node::Unknown),
            ("", Node::Invalid),
            ("evil.example", Node::Invalid),
            ("1.2.3.4:99999", Node::Invalid),
            ("[1.2.3.4]", Node::Invalid),
            ("1.2.3.4.5", Node::Invalid),
        ];
        for (entry, want) in cases {
            assert_eq!(x_forwarded_node(entry), want, "{entry:?}");
        }
    }

    #[test]
    fn lists_over_several_fields() {
        assert_eq!(list(["a, b", " ,c,, "]), ["a", "b", "c"]);
        assert!(list([""]).is_empty());
    }
}
