//! The read side of a connection: one reused buffer, request heads, and request bodies.
//!
//! The buffer and the transport are shared (behind an `Arc`) between the connection task and
//! the [`BodyReader`] a handler holds, because a body is streamed to the handler rather than
//! read up front. The lock is only ever held inside one `poll`, never across an `.await`.
//! Each request gets a new *generation*: a body reader that outlives its request (moved into
//! a spawned task, say) reads end-of-stream instead of the next request's bytes.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::AsyncRead;

use crate::h1::ChunkedDecoder;
use crate::h1::head::{self, Framing, Head, HeadError, HeadLimits};
use crate::transport::Deadline;
use crate::{Config, Transport};

/// The interim response sent when a handler starts reading an `Expect: 100-continue` body.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// First size of a connection's read buffer; it doubles up to `Config::max_head_bytes`.
const INITIAL_BUFFER: usize = 4 * 1024;

/// State shared by a connection and the body reader of its current request.
pub(crate) struct Shared<T> {
    pub transport: T,
    pub read: Mutex<ReadState>,
}

impl<T> Shared<T> {
    pub fn new(transport: T) -> Self {
        Shared {
            transport,
            read: Mutex::new(ReadState::default()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ReadState> {
        self.read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where the current request's body stands.
#[derive(Debug)]
pub(crate) enum BodyState {
    /// Fully read (or there was none).
    Done,
    /// `Content-Length` bytes still to read.
    Length(u64),
    /// A chunked body being decoded.
    Chunked(ChunkedDecoder),
    /// Malformed or cut short: the connection cannot be reused.
    Broken,
}

/// Whether `100 Continue` is owed to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    NotExpected,
    /// Owed; this many bytes of it are already sent.
    Owed(usize),
    Sent,
}

/// The connection's read buffer and the framing state of the current body.
pub(crate) struct ReadState {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// How far `buf[start..end]` was searched for the end of a head.
    scanned: usize,
    pub body: BodyState,
    pub continue_: Continue,
    pub generation: u64,
    /// Body bytes decoded so far, and the most allowed (`Config::max_streamed_body_bytes`).
    body_bytes: u64,
    /// Bytes of input the body took so far, framing included (what draining counts).
    pub body_wire_bytes: u64,
    body_limit: Option<u64>,
    /// What the last head left for the next.
    heads: head::HeadCache,
}

impl Default for ReadState {
    fn default() -> Self {
        ReadState {
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            body: BodyState::Done,
            continue_: Continue::NotExpected,
            generation: 0,
            body_bytes: 0,
            body_wire_bytes: 0,
            body_limit: None,
            heads: head::HeadCache::default(),
        }
    }
}

impl ReadState {
    /// True when no byte of a next request is buffered.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Starts the body of a request just parsed.
    pub fn begin_body(&mut self, framing: Framing, expect_continue: bool, limit: Option<u64>) {
        self.generation += 1;
        self.body_bytes = 0;
        self.body_wire_bytes = 0;
        self.body_limit = limit;
        self.body = match framing {
            Framing::None => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::Chunked(ChunkedDecoder::new()),
        };
        let has_body = !matches!(self.body, BodyState::Done);
        self.continue_ = if expect_continue && has_body {
            Continue::Owed(0)
        } else {
            Continue::NotExpected
        };
    }

    /// Makes room after `end`: moves unread bytes to the front, grows up to `max`.
    fn make_room(&mut self, max: usize) -> bool {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start.min(self.scanned);
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).clamp(INITIAL_BUFFER, max.max(INITIAL_BUFFER));
            if grown <= self.buf.len() {
                return false;
            }
            self.buf.resize(grown, 0);
        }
        true
    }

    /// Puts bytes received elsewhere (on the stack) into the empty buffer.
    fn keep(&mut self, bytes: &[u8]) {
        debug_assert!(self.is_empty());
        if bytes.is_empty() {
            return;
        }
        if self.buf.len() < bytes.len() {
            self.buf = vec![0; bytes.len().max(INITIAL_BUFFER)];
        }
        self.buf[..bytes.len()].copy_from_slice(bytes);
        (self.start, self.end, self.scanned) = (0, bytes.len(), 0);
    }

    /// Releases the buffer once it holds nothing: a connection waiting for its next request
    /// holds no read buffer (the next read allocates one), so a thousand idle keep-alive
    /// connections cost a thousand small tasks, not a thousand buffers.
    fn release_if_empty(&mut self) {
        if self.is_empty() && !self.buf.is_empty() {
            self.buf = Vec::new();
            (self.start, self.end, self.scanned) = (0, 0, 0);
        }
    }

    /// True once `buf[start..end]` holds a blank line, i.e. a whole head may be there.
    /// Remembers how far it looked, so a head dribbled byte by byte is scanned once.
    fn head_may_be_complete(&mut self) -> bool {
        let from = self
            .scanned
            .max(self.start)
            .saturating_sub(3)
            .max(self.start);
        self.scanned = self.end;
        has_blank_line(&self.buf[from..self.end])
    }

    /// Decodes body bytes already buffered into `out`. `None`: nothing buffered to decode.
    fn decode_buffered(&mut self, out: &mut [u8]) -> Option<io::Result<usize>> {
        if self.is_empty() {
            return None;
        }
        let input = &self.buf[self.start..self.end];
        match &mut self.body {
            BodyState::Done | BodyState::Broken => Some(Ok(0)),
            BodyState::Length(left) => {
                let n = (*left).min(input.len() as u64).min(out.len() as u64) as usize;
                out[..n].copy_from_slice(&input[..n]);
                self.start += n;
                self.body_wire_bytes += n as u64;
                *left -= n as u64;
                if *left == 0 {
                    self.body = BodyState::Done;
                }
                Some(Ok(n))
            }
            BodyState::Chunked(dec) => match dec.decode(input, out) {
                Ok((used, n)) => {
                    self.start += used;
                    self.body_wire_bytes += used as u64;
                    if dec.is_done() {
                        self.body = BodyState::Done;
                    }
                    // Only framing bytes were consumed: ask for more input.
                    if n == 0 && !matches!(self.body, BodyState::Done) {
                        return None;
                    }
                    Some(Ok(n))
                }
                Err(e) => {
                    self.body = BodyState::Broken;
                    Some(Err(io::Error::new(io::ErrorKind::InvalidData, e)))
                }
            },
        }
    }

    /// Reads body bytes into `out`, receiving from `transport` when the buffer runs dry.
    /// `Ok(0)` means the body is complete. Enforces the streamed body limit.
    pub fn poll_body<T: Transport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &T,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = std::task::ready!(self.poll_body_unlimited(cx, transport, out))?;
        self.body_bytes += n as u64;
        if self.body_limit.is_some_and(|limit| self.body_bytes > limit) {
            self.body = BodyState::Broken;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "request body too large",
            )));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_body_unlimited<T: Transport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &T,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match self.body {
                BodyState::Done => return Poll::Ready(Ok(0)),
                BodyState::Broken => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "request body is malformed or incomplete",
                    )));
                }
                _ => {}
            }
            if let Some(result) = self.decode_buffered(out) {
                return Poll::Ready(result);
            }
            // Large Content-Length bodies skip the connection buffer entirely.
            let received = if let BodyState::Length(left) = self.body {
                let want = left.min(out.len() as u64) as usize;
                std::task::ready!(transport.poll_recv(cx, &mut out[..want])).map(|n| {
                    self.body_wire_bytes += n as u64;
                    self.body = if n as u64 == left {
                        BodyState::Done
                    } else {
                        BodyState::Length(left - n as u64)
                    };
                    (n, n)
                })
            } else {
                self.make_room(INITIAL_BUFFER);
                let end = self.end;
                std::task::ready!(transport.poll_recv(cx, &mut self.buf[end..])).map(|n| {
                    self.end += n;
                    (n, 0)
                })
            };
            match received {
                Ok((0, _)) => {
                    self.body = BodyState::Broken;
                    return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                }
                Ok((_, 0)) => {}
                Ok((_, n)) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.body = BodyState::Broken;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Sends whatever is left of an owed `100 Continue`.
    fn poll_continue<T: Transport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &T,
    ) -> Poll<io::Result<()>> {
        while let Continue::Owed(sent) = self.continue_ {
            if sent == CONTINUE.len() {
                self.continue_ = Continue::Sent;
                break;
            }
            let n = std::task::ready!(transport.poll_send(cx, &CONTINUE[sent..]))?;
            self.continue_ = Continue::Owed(sent + n);
        }
        Poll::Ready(Ok(()))
    }
}

thread_local! {
    /// One receive buffer per thread for connections that have nothing buffered (see
    /// [`recv_on_scratch`]). Zeroed once, when the thread first needs it.
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; INITIAL_BUFFER].into_boxed_slice());
}

/// Receives at most `cap` bytes for a connection with nothing buffered, onto the thread's
/// scratch buffer rather than a buffer of the connection's own.
///
/// The connection's buffer is needed only for what follows a complete head (a body, a
/// pipelined request) or for a head arriving in pieces: so a connection waiting between
/// requests holds no buffer, and most heads are parsed where they landed, never copied.
/// A head found complete is put in `event` (or its refusal); other bytes are kept in the
/// connection's buffer.
fn recv_on_scratch<T: Transport>(
    st: &mut ReadState,
    transport: &T,
    cx: &mut Context<'_>,
    cap: usize,
    limits: HeadLimits,
    event: &mut Option<HeadEvent>,
) -> Poll<io::Result<usize>> {
    SCRATCH.with(|scratch| {
        // Only ever borrowed within this call, which cannot re-enter itself.
        let mut fallback;
        let mut borrowed = scratch.try_borrow_mut();
        let buf: &mut [u8] = match &mut borrowed {
            Ok(buf) => &mut buf[..cap],
            Err(_) => {
                fallback = vec![0; cap];
                &mut fallback
            }
        };
        let n = std::task::ready!(transport.poll_recv(cx, buf))?;
        let bytes = &buf[..n];
        if n == 0 || !has_blank_line(bytes) {
            st.keep(bytes);
            return Poll::Ready(Ok(n));
        }
        match head::parse(bytes, limits, &mut st.heads) {
            Ok(Some(h)) => {
                st.keep(&bytes[h.len..]);
                *event = Some(HeadEvent::Head(h));
            }
            Ok(None) => st.keep(bytes),
            Err(e) => *event = Some(HeadEvent::Refused(e)),
        }
        Poll::Ready(Ok(n))
    })
}

/// True if `bytes` hold the blank line that ends a head (`\n\n` or `\n\r\n`).
fn has_blank_line(bytes: &[u8]) -> bool {
    // Usually the head ends exactly where the bytes do.
    if bytes.ends_with(b"\r\n\r\n") {
        return true;
    }
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == b'\n') {
        let lf = from + at;
        match bytes.get(lf + 1..) {
            Some([b'\n', ..] | [b'\r', b'\n', ..]) => return true,
            _ => from = lf + 1,
        }
    }
    false
}

/// What waiting for a request head ended with.
// Boxing the head would cost an allocation per request to save a move of ~400 bytes.
#[allow(clippy::large_enum_variant)]
pub(crate) enum HeadEvent {
    Head(Head),
    /// The peer closed (or went quiet past the keep-alive timeout) between requests.
    Closed,
    /// A head that must be refused; answer with it and close.
    Refused(HeadError),
}

/// Waits for the next request head, within the keep-alive and header timeouts.
pub(crate) async fn read_head<T: Transport>(
    shared: &Shared<T>,
    config: &Config,
    deadline: &mut Deadline,
) -> io::Result<HeadEvent> {
    let limits = HeadLimits {
        max_headers: config.max_headers,
        max_target: config.max_target_bytes,
    };
    let mut idle = shared.lock().is_empty();
    // A new wait: the clock starts at its first `Pending`, so a request already buffered
    // costs no clock read.
    deadline.reset();
    std::future::poll_fn(|cx| {
        let mut st = shared.lock();
        loop {
            if !st.is_empty() && st.head_may_be_complete() {
                let ReadState {
                    buf,
                    start,
                    end,
                    heads,
                    ..
                } = &mut *st;
                match head::parse(&buf[*start..*end], limits, heads) {
                    Ok(Some(h)) => {
                        st.start += h.len;
                        st.scanned = st.start;
                        return Poll::Ready(Ok(HeadEvent::Head(h)));
                    }
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Ok(HeadEvent::Refused(e))),
                }
            }
            let on_scratch = st.is_empty();
            let mut event = None;
            let received = if on_scratch {
                st.release_if_empty();
                let cap = INITIAL_BUFFER.min(config.max_head_bytes.max(1));
                recv_on_scratch(&mut st, &shared.transport, cx, cap, limits, &mut event)
            } else {
                if st.end - st.start >= config.max_head_bytes
                    || !st.make_room(config.max_head_bytes)
                {
                    let e = head::too_large(&st.buf[st.start..st.end]);
                    return Poll::Ready(Ok(HeadEvent::Refused(e)));
                }
                let end = st.end;
                shared.transport.poll_recv(cx, &mut st.buf[end..])
            };
            match received {
                Poll::Ready(Ok(0)) if idle => return Poll::Ready(Ok(HeadEvent::Closed)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                Poll::Ready(Ok(_)) if on_scratch => {
                    if idle {
                        idle = false;
                        deadline.reset();
                    }
                    if let Some(event) = event {
                        return Poll::Ready(Ok(event));
                    }
                }
                Poll::Ready(Ok(n)) => {
                    st.end += n;
                    if idle {
                        // The first byte of a request: from now on the header timeout runs.
                        idle = false;
                        deadline.reset();
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let timeout = if idle {
                        config.keep_alive_timeout
                    } else {
                        config.header_timeout
                    };
                    return match deadline.poll_expired(cx, timeout) {
                        Poll::Pending => Poll::Pending,
                        // Idle past the keep-alive timeout is an ordinary end of connection.
                        Poll::Ready(()) if idle => Poll::Ready(Ok(HeadEvent::Closed)),
                        Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "request head timeout",
                        ))),
                    };
                }
            }
        }
    })
    .await
}

/// Reads and discards the rest of the current body, up to `limit` bytes.
/// `Ok(true)`: the body is done and the connection can carry another request.
pub(crate) async fn drain_body<T: Transport>(
    shared: &Shared<T>,
    limit: u64,
    timeout: Duration,
) -> io::Result<bool> {
    let mut deadline = Deadline::new();
    let start = shared.lock().body_wire_bytes;
    std::future::poll_fn(|cx| {
        let mut st = shared.lock();
        let mut scratch = [0u8; 2048];
        loop {
            // Counted on the wire, framing included: chunk extensions and trailers are not a
            // way to make the server read without bound.
            if st.body_wire_bytes - start > limit {
                return Poll::Ready(Ok(false));
            }
            match st.poll_body(cx, &shared.transport, &mut scratch) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(true)),
                Poll::Ready(Ok(_)) => deadline.reset(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return deadline.poll_timeout(cx, timeout, "request body idle timeout");
                }
            }
        }
    })
    .await
}

/// A request body as the handler sees it: streams bytes from the connection on demand.
pub(crate) struct BodyReader<T> {
    shared: Arc<Shared<T>>,
    generation: u64,
    timeout: Duration,
    deadline: Deadline,
}

impl<T> BodyReader<T> {
    pub fn new(shared: Arc<Shared<T>>, generation: u64, timeout: Duration) -> Self {
        BodyReader {
            shared,
            generation,
            timeout,
            deadline: Deadline::new(),
        }
    }
}

impl<T: Transport> AsyncRead for BodyReader<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let mut st = this.shared.lock();
        if st.generation != this.generation {
            return Poll::Ready(Ok(0));
        }
        let result = match st.poll_continue(cx, &this.shared.transport) {
            Poll::Ready(Ok(())) => st.poll_body(cx, &this.shared.transport, out),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        };
        match result {
            Poll::Pending => {
                let timed_out =
                    this.deadline
                        .poll_timeout(cx, this.timeout, "request body idle timeout");
                if timed_out.is_ready() {
                    // The rest of the body may never come: the connection cannot be reused.
                    st.body = BodyState::Broken;
                }
                timed_out
            }
            ready => {
                this.deadline.reset();
                ready
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_blank_line;

    #[test]
    fn finds_the_end_of_a_head() {
        for yes in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"a\n\nb",
            b"\r\n\r\n",
            b"x\n\r\nbody",
        ] {
            assert!(has_blank_line(yes), "{yes:?}");
        }
        for no in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"",
            b"\n",
            b"a\r\nb\r\n",
            b"\n\r",
            b"\r\n\r",
        ] {
            assert!(!has_blank_line(no), "{no:?}");
        }
    }
}
