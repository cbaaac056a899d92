//! A blocking HTTP/1.1 keep-alive client that allocates nothing per request.
//!
//! The request bytes and the read buffer are allocated once, in [`Client::connect`]; a
//! [`Client::get`] then only calls `write`/`read` on a std `TcpStream` (plain syscalls, no
//! allocation) and scans the buffer in place. That is what lets `alloc-count` attribute the
//! allocations of a request loop to the server (and it checks this against a non-allocating
//! raw server rather than trusting it).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// Size of the one read buffer; a response head must fit in it.
pub const BUF: usize = 64 * 1024;

/// One keep-alive connection sending the same `GET` again and again.
pub struct Client {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Box<[u8]>,
}

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Status code and `content-length` of a response head, without allocating.
fn parse_head(head: &[u8]) -> io::Result<(u16, u64)> {
    if head.len() < 12 || !head.starts_with(b"HTTP/1.") {
        return Err(bad("not an HTTP/1.x response"));
    }
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status"))?;
    let mut len = None;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = std::str::from_utf8(value).map_err(|_| bad("bad content-length"))?;
            len = Some(v.trim().parse().map_err(|_| bad("bad content-length"))?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(bad("chunked responses are not supported by this client"));
        }
    }
    Ok((status, len.ok_or_else(|| bad("no content-length"))?))
}

impl Client {
    /// Connects (with TCP_NODELAY) and prepares `GET path`.
    pub fn connect(addr: SocketAddr, path: &str) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
        Ok(Client {
            stream,
            request,
            buf: vec![0u8; BUF].into_boxed_slice(),
        })
    }

    /// Sends the request and reads the whole response; returns its status and body length.
    pub fn get(&mut self) -> io::Result<(u16, u64)> {
        self.stream.write_all(&self.request)?;
        let mut filled = 0;
        let head_end = loop {
            if filled == self.buf.len() {
                return Err(bad("response head too large"));
            }
            let n = self.stream.read(&mut self.buf[filled..])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            // Rescan only from where a terminator could start.
            let from = filled.saturating_sub(3);
            filled += n;
            if let Some(end) = find_head_end(&self.buf[from..filled]) {
                break from + end;
            }
        };
        let (status, len) = parse_head(&self.buf[..head_end])?;
        let mut have = (filled - head_end) as u64;
        while have < len {
            let want = (len - have).min(self.buf.len() as u64) as usize;
            let n = self.stream.read(&mut self.buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body cut short",
                ));
            }
            have += n as u64;
        }
        if have > len {
            return Err(bad("more bytes than content-length"));
        }
        Ok((status, len))
    }
}
