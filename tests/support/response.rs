//! Responses as they come off the wire ([`RawResponse`]) and the strict parser that reads
//! them: exact status lines, one framing per message, chunked bodies decoded; plus
//! [`parse_all`] for a whole close-delimited exchange and byte-search helpers.

use std::fmt;

/// A response as it came off the wire.
#[derive(Clone)]
pub struct RawResponse {
    /// `HTTP/1.1` (the only version smolweb writes, and the only one the parser accepts).
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// In order of appearance; names lowercased, values as sent.
    pub headers: Vec<(String, String)>,
    /// The body after transfer decoding.
    pub body: Vec<u8>,
    /// The exact bytes of the status line and header section, blank line included.
    pub head: Vec<u8>,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("headers", &self.headers)
            .field("body", &format_args!("{}", preview(&self.body)))
            .finish()
    }
}

impl RawResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The `content-length` value as a number (panics if it is not one); `None` without one.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .map(|v| v.parse().expect("numeric content-length"))
    }

    /// The body as UTF-8 (panics if it is not).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is not UTF-8")
    }

    /// True when a `connection` header lists `token`.
    pub fn connection_has(&self, token: &str) -> bool {
        self.header_all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// Outcome of trying to parse one response from a buffer.
pub(super) enum Parsed {
    Done(RawResponse, usize),
    Incomplete,
}

/// Parses one response from the start of `buf`.
///
/// `to_head`: the request was `HEAD`, so there is no body whatever the headers say.
/// `eof`: the peer has closed, so a close-delimited body ends at the end of `buf`.
pub(super) fn parse_response(buf: &[u8], to_head: bool, eof: bool) -> Result<Parsed, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Ok(Parsed::Incomplete);
    };
    let head = &buf[..head_end];
    let text = std::str::from_utf8(head).map_err(|_| "response head is not UTF-8".to_string())?;
    let mut lines = text[..text.len() - 4].split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    // smolweb answers every request, HTTP/1.0 ones included, with HTTP/1.1.
    if version != "HTTP/1.1" {
        return Err(format!("bad status line {status_line:?}"));
    }
    let code = parts.next().unwrap_or_default();
    if code.len() != 3 {
        return Err(format!("bad status code in {status_line:?}"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| format!("bad status code in {status_line:?}"))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    for line in lines {
        if line.contains('\n') || line.contains('\r') {
            return Err(format!("bare CR or LF in header line {line:?}"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line without a colon: {line:?}"))?;
        if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
            return Err(format!("bad header name in {line:?}"));
        }
        headers.push((
            name.to_ascii_lowercase(),
            value.trim_matches(|c| c == ' ' || c == '\t').to_string(),
        ));
    }
    let mut res = RawResponse {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
        head: head.to_vec(),
    };
    let rest = &buf[head_end..];
    let no_body = to_head || status < 200 || status == 204 || status == 304;
    let chunked = res
        .header("transfer-encoding")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
    if res.header_all("content-length").len() > 1 {
        return Err("more than one content-length".into());
    }
    if chunked && res.has_header("content-length") {
        return Err("both content-length and transfer-encoding".into());
    }
    if no_body {
        return Ok(Parsed::Done(res, head_end));
    }
    if chunked {
        return Ok(match decode_chunked(rest)? {
            Some((body, used)) => {
                res.body = body;
                Parsed::Done(res, head_end + used)
            }
            None => Parsed::Incomplete,
        });
    }
    if let Some(len) = res.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad content-length {len:?}"))?;
        if rest.len() < len {
            return Ok(Parsed::Incomplete);
        }
        res.body = rest[..len].to_vec();
        return Ok(Parsed::Done(res, head_end + len));
    }
    // Neither: the body runs to the end of the connection.
    if !eof {
        return Ok(Parsed::Incomplete);
    }
    res.body = rest.to_vec();
    Ok(Parsed::Done(res, buf.len()))
}

/// Decodes a chunked body at the start of `buf`: `(body, bytes used)`, or `None` if more
/// bytes are needed.
///
/// The last chunk must be followed by the final CRLF at once: smolweb never sends trailer
/// fields, so a trailer section is a framing mistake here.
fn decode_chunked(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    // At most one iteration per byte of input.
    for _ in 0..=buf.len() {
        let Some(line_len) = find(&buf[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[at..at + line_len])
            .map_err(|_| "chunk size line is not UTF-8".to_string())?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        at += line_len + 2;
        if size == 0 {
            // No trailer section: just the final CRLF.
            return match find(&buf[at..], b"\r\n") {
                None => Ok(None),
                Some(0) => Ok(Some((body, at + 2))),
                Some(_) => Err("trailer fields after the last chunk (none expected)".into()),
            };
        }
        if buf.len() < at.saturating_add(size).saturating_add(2) {
            return Ok(None);
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size;
        if &buf[at..at + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".into());
        }
        at += 2;
    }
    Err("chunked body did not end".into())
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// True if `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// Splits a whole close-delimited exchange (as [`send_raw`](super::send_raw) returns it)
/// into its responses. Responses to `HEAD` cannot be told apart this way; use
/// [`Conn`](super::Conn) for those.
pub fn parse_all(bytes: &[u8]) -> Vec<RawResponse> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() && out.len() < 1000 {
        match parse_response(&bytes[at..], false, true) {
            Ok(Parsed::Done(res, used)) => {
                out.push(res);
                at += used;
            }
            Ok(Parsed::Incomplete) => panic!("truncated response: {}", preview(&bytes[at..])),
            Err(e) => panic!("{e}: {}", preview(&bytes[at..])),
        }
    }
    out
}

/// The start of `bytes` as text, for failure messages.
pub fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX {
        format!("{text:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}
