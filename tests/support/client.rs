//! The strict raw HTTP/1.1 client: sockets with the test timeouts, [`Conn`] (one connection
//! and what was read from it), request builders, one-call exchanges ([`get`], [`call`],
//! [`send_raw`]), and reading until the server ends a connection ([`read_until_end`]).
//!
//! Every read has a timeout ([`TIMEOUT`] unless a caller picks another) and every loop a
//! bound on both time and iterations.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::response::{Parsed, RawResponse, parse_response, preview};
use super::wait::{DEADLINE, TIMEOUT};

/// Upper bound on the bytes any single response may have.
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A client socket with the test timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    connect_with(addr, TIMEOUT)
}

/// A client socket whose connect, reads and writes each time out after `timeout`.
pub fn connect_with(addr: SocketAddr, timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, timeout).expect("connect");
    with_timeouts(stream, timeout)
}

/// `stream` with read and write timeouts of `timeout`, and `TCP_NODELAY`.
fn with_timeouts(stream: TcpStream, timeout: Duration) -> TcpStream {
    stream
        .set_read_timeout(Some(timeout))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(timeout))
        .expect("write timeout");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// A client socket whose receive buffer is `bytes`, set before connecting so the window
/// advertised in the handshake is small too: the server cannot push much into kernel
/// buffers ahead of the reader, and its sends stall soon when nobody reads. No timeouts are
/// set (wrap it in [`Conn::from_stream`] for those).
#[cfg(unix)]
pub fn connect_small_rcvbuf(addr: SocketAddr, bytes: usize) -> TcpStream {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .expect("socket");
    sockopt::set_socket_recv_buffer_size(&fd, bytes).expect("setsockopt(SO_RCVBUF)");
    rustix::net::connect(&fd, &addr).expect("connect");
    TcpStream::from(fd)
}

/// Writes `bytes` on a new connection, half-closes it (so a server lingering for more input
/// sees the end at once) and reads until the server closes it.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(bytes).expect("write request");
    stream.shutdown(Shutdown::Write).expect("half-close");
    read_to_close(&mut stream)
}

/// Reads until EOF (or a reset, which also ends the stream), within [`DEADLINE`] and
/// `MAX_RESPONSE` bytes; panics if the server keeps the connection open longer.
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    match read_until_end(stream, MAX_RESPONSE, DEADLINE) {
        (out, ReadEnd::Eof | ReadEnd::Reset) => out,
        (out, ReadEnd::Timeout) => panic!(
            "server did not close the connection (within {DEADLINE:?} and {MAX_RESPONSE} \
             bytes, or before a read timed out); got {} so far",
            preview(&out)
        ),
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// How a read on a client socket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The server closed (FIN): read returned 0.
    Eof,
    /// The server reset the connection.
    Reset,
    /// Nothing arrived within the socket's read timeout (or `limit` passed, or `max_bytes`
    /// were exceeded).
    Timeout,
}

/// Reads until EOF, a reset, or the socket's read timeout; returns the bytes and how it ended.
/// At most `max_bytes` are kept and at most `limit` spent.
pub fn read_until_end(
    stream: &mut TcpStream,
    max_bytes: usize,
    limit: Duration,
) -> (Vec<u8>, ReadEnd) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while started.elapsed() < limit && out.len() <= max_bytes {
        match stream.read(&mut buf) {
            Ok(0) => return (out, ReadEnd::Eof),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_reset(&e) => return (out, ReadEnd::Reset),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return (out, ReadEnd::Timeout);
            }
            Err(e) => panic!("read failed: {e} (got {} so far)", preview(&out)),
        }
    }
    (out, ReadEnd::Timeout)
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

/// One client connection: a socket and what was read from it but not yet parsed.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Conn {
    /// A connection with the test timeouts ([`connect`]).
    pub fn connect(addr: SocketAddr) -> Conn {
        Conn::new(connect(addr))
    }

    /// A connection whose connect, reads and writes each time out after `timeout`.
    pub fn connect_with(addr: SocketAddr, timeout: Duration) -> Conn {
        Conn::new(connect_with(addr, timeout))
    }

    /// A connection over `stream` (connected already, say by [`connect_small_rcvbuf`]),
    /// given the test timeouts and `TCP_NODELAY`.
    pub fn from_stream(stream: TcpStream) -> Conn {
        Conn::new(with_timeouts(stream, TIMEOUT))
    }

    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Writes all of `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Writes all of `bytes`, tolerating a server that already answered and closed.
    pub fn write_tolerant(&mut self, bytes: &[u8]) {
        match self.stream.write_all(bytes) {
            Ok(()) => {}
            Err(e) if is_reset(&e) || e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => panic!("writing: {e}"),
        }
    }

    /// Bytes received but not yet consumed by a parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes received but not yet consumed by a parsed response (a test reading a
    /// body itself starts from these).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Sends `method target` with `extra` header lines and no body (see [`request`]), and
    /// reads its response: without a body for `HEAD`.
    pub fn request(&mut self, method: &str, target: &str, extra: &str) -> RawResponse {
        self.write(&request(method, target, extra, b""));
        if method == "HEAD" {
            self.read_response_to_head()
        } else {
            self.read_response()
        }
    }

    /// `GET target` with `extra` header lines on this connection, and its response.
    pub fn get(&mut self, target: &str, extra: &str) -> RawResponse {
        self.request("GET", target, extra)
    }

    /// Reads and parses exactly one response; bytes after it stay buffered.
    pub fn read_response(&mut self) -> RawResponse {
        self.read_one(false)
    }

    /// Like [`read_response`](Self::read_response) for a response to `HEAD`: no body.
    ///
    /// (It reads the head of any response so, leaving its body buffered.)
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

/// One `GET` asking to close, on a fresh connection: `None` if anything fails (connect,
/// write, read), for tests that count failures instead of stopping at the first.
pub fn try_get(addr: SocketAddr, target: &str) -> Option<RawResponse> {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).ok()?;
    stream.set_read_timeout(Some(TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(TIMEOUT)).ok()?;
    let mut conn = Conn::from_stream(stream);
    conn.stream
        .write_all(&request("GET", target, "Connection: close\r\n", b""))
        .ok()?;
    conn.try_read_response(false).ok()
}
