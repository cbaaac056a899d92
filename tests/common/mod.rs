//! Helpers shared by the integration tests: a server on an ephemeral port and a tiny raw
//! HTTP/1.1 client over `std::net::TcpStream`, strict enough to notice framing mistakes.
//!
//! Every read has a 5 s timeout and every loop a bound on both time and iterations, so a
//! misbehaving server fails a test instead of hanging it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use smolweb::{Config, Router, Server};

/// Read and write timeout of every client socket.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bound on how long reading one response (or one whole exchange) may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Upper bound on the bytes any single response may have.
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// Runs `router` on a one-thread server on `127.0.0.1:0`; returns its address.
pub fn spawn(router: Router) -> SocketAddr {
    spawn_with(router, Config::default())
}

/// Like [`spawn`] with the given limits and timeouts.
///
/// The listener is bound before this returns, so connecting right away is never refused. The
/// server thread never returns; the end of the test process ends it.
pub fn spawn_with(router: Router, config: Config) -> SocketAddr {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config)
        .threads(1);
    let addr = server.local_addr();
    std::thread::Builder::new()
        .name(format!("smolweb-test-{}", addr.port()))
        .spawn(move || {
            if let Err(e) = server.run(router) {
                panic!("server on {addr} stopped: {e}");
            }
        })
        .expect("spawn server thread");
    addr
}

/// A client socket with the test timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(TIMEOUT))
        .expect("write timeout");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Writes `bytes` on a new connection, half-closes it (so a server lingering for more input
/// sees the end at once) and reads until the server closes it.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(bytes).expect("write request");
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    read_to_close(&mut stream)
}

/// Reads until EOF (or a reset, which also ends the stream), within [`DEADLINE`].
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while out.len() <= MAX_RESPONSE {
        assert!(
            started.elapsed() < DEADLINE,
            "server did not close the connection"
        );
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_reset(&e) => return out,
            Err(e) => panic!("reading until close: {e} (got {} so far)", preview(&out)),
        }
    }
    panic!("response larger than {MAX_RESPONSE} bytes");
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

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Builds a request: `extra` is zero or more complete header lines (each ending in CRLF).
/// `Host: x` is added for HTTP/1.1.
pub fn request(method: &str, target: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// One HTTP/1.1 `GET` on a fresh connection, closing it afterwards.
pub fn get(addr: SocketAddr, target: &str) -> RawResponse {
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", target, "Connection: close\r\n", b""));
    conn.read_response()
}

/// One HTTP/1.1 request of any method on a fresh connection, closing it afterwards.
pub fn call(addr: SocketAddr, method: &str, target: &str, extra: &str, body: &[u8]) -> RawResponse {
    let mut conn = Conn::connect(addr);
    let extra = format!("{extra}Connection: close\r\n");
    conn.write(&request(method, target, &extra, body));
    if method == "HEAD" {
        conn.read_response_to_head()
    } else {
        conn.read_response()
    }
}

/// A response as it came off the wire.
#[derive(Clone)]
pub struct RawResponse {
    /// `HTTP/1.1`, say.
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

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
enum Parsed {
    Done(RawResponse, usize),
    Incomplete,
}

/// Parses one response from the start of `buf`.
///
/// `to_head`: the request was `HEAD`, so there is no body whatever the headers say.
/// `eof`: the peer has closed, so a close-delimited body ends at the end of `buf`.
fn parse_response(buf: &[u8], to_head: bool, eof: bool) -> Result<Parsed, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Ok(Parsed::Incomplete);
    };
    let head = &buf[..head_end];
    let text = std::str::from_utf8(head).map_err(|_| "response head is not UTF-8".to_string())?;
    let mut lines = text[..text.len() - 4].split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
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
            // Trailer section: field lines up to an empty line.
            for _ in 0..=buf.len() {
                let Some(len) = find(&buf[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += len + 2;
                if len == 0 {
                    return Ok(Some((body, at)));
                }
            }
            return Err("endless trailer section".into());
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a whole close-delimited exchange (as [`send_raw`] returns it) into its responses.
/// Responses to `HEAD` cannot be told apart this way; use [`Conn`] for those.
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

/// One client connection: a socket and what was read from it but not yet parsed.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        Conn {
            stream: connect(addr),
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Writes all of `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Bytes received but not yet consumed by a parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Reads and parses exactly one response; bytes after it stay buffered.
    pub fn read_response(&mut self) -> RawResponse {
        self.read_one(false)
    }

    /// Like [`read_response`](Self::read_response) for a response to `HEAD`: no body.
    pub fn read_response_to_head(&mut self) -> RawResponse {
        self.read_one(true)
    }

    /// The fallible form of the readers: an error when the server closed or timed out before
    /// a whole response arrived.
    pub fn try_read_response(&mut self, to_head: bool) -> io::Result<RawResponse> {
        let started = Instant::now();
        // Each pass either parses a response or reads more bytes (or fails).
        for _ in 0..100_000 {
            match parse_response(&self.buf, to_head, self.eof) {
                Ok(Parsed::Done(res, used)) => {
                    self.buf.drain(..used);
                    return Ok(res);
                }
                Ok(Parsed::Incomplete) if self.eof => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("connection closed mid-response: {}", preview(&self.buf)),
                    ));
                }
                Ok(Parsed::Incomplete) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{e}: {}", preview(&self.buf)),
                    ));
                }
            }
            if started.elapsed() > DEADLINE || self.buf.len() > MAX_RESPONSE {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "response took too long or is too large",
                ));
            }
            self.fill()?;
        }
        Err(io::Error::other("too many reads for one response"))
    }

    fn read_one(&mut self, to_head: bool) -> RawResponse {
        self.try_read_response(to_head)
            .unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    /// One read from the socket onto the buffer; returns how many bytes arrived (0 at EOF,
    /// which a reset also counts as).
    pub fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_reset(&e) => {
                    self.eof = true;
                    return Ok(0);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until EOF; returns what was read beyond what was already buffered.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buf);
        rest.extend(read_to_close(&mut self.stream));
        self.eof = true;
        rest
    }
}

/// True if the server closed the connection (EOF or reset) within [`TIMEOUT`]; false if it
/// stayed open or sent more bytes (which are kept in the buffer).
pub fn is_closed(conn: &mut Conn) -> bool {
    if !conn.buf.is_empty() {
        return false;
    }
    if conn.eof {
        return true;
    }
    match conn.fill() {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if matches!(e.kind(), io::ErrorKind::BrokenPipe) => true,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            false
        }
        Err(e) => panic!("checking whether the connection closed: {e}"),
    }
}
