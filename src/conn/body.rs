//! A request body's progress: `Content-Length` or chunked decoding, `100 Continue`, and the
//! streamed-body limit. `reader.rs` reads through it for the handler, and drains it.

use std::io;
use std::task::{Context, Poll};

use super::buffer::{INITIAL_BUFFER, ReadBuffer};
use crate::h1::ChunkedDecoder;
use crate::h1::fields::RequestFraming;
use crate::transport::Transport;

/// The interim response sent when a handler starts reading an `Expect: 100-continue` body.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Where the current request's body stands.
#[derive(Debug, Default)]
pub(crate) enum BodyState {
    /// Fully read (or there was none).
    #[default]
    Done,
    /// `Content-Length` bytes still to read.
    Length(u64),
    /// A chunked body being decoded.
    Chunked(ChunkedDecoder),
    /// Malformed or cut short: the connection cannot be reused.
    Broken,
}

/// Whether `100 Continue` is owed to the client.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    #[default]
    NotExpected,
    /// Owed; this many bytes of it are already sent.
    Owed(usize),
    Sent,
}

/// The current request's body: its framing state and what was read of it.
#[derive(Debug, Default)]
pub(crate) struct BodyProgress {
    pub(crate) state: BodyState,
    pub(crate) continue_: Continue,
    /// Which request the body belongs to.
    pub(crate) generation: u64,
    /// Body bytes decoded so far, and the most allowed (`Config::max_streamed_body_bytes`).
    decoded: u64,
    limit: Option<u64>,
    /// Bytes of input the body took so far, framing included (what draining counts).
    pub(crate) wire: u64,
}

/// Where [`BodyProgress::poll_read_unlimited`] put the bytes one `recv` gave.
enum Received {
    /// Body bytes, straight into the caller's buffer (a `Content-Length` body).
    Body(usize),
    /// Input bytes, into the read buffer, to be decoded next (a chunked body).
    Buffered(usize),
}

impl BodyProgress {
    /// Starts the body of a request just parsed.
    pub(crate) fn begin(
        &mut self,
        framing: RequestFraming,
        expect_continue: bool,
        limit: Option<u64>,
    ) {
        self.generation += 1;
        self.decoded = 0;
        self.wire = 0;
        self.limit = limit;
        self.state = match framing {
            RequestFraming::None => BodyState::Done,
            RequestFraming::Length(n) => BodyState::Length(n),
            RequestFraming::Chunked => BodyState::Chunked(ChunkedDecoder::new()),
        };
        let has_body = !matches!(self.state, BodyState::Done);
        self.continue_ = if expect_continue && has_body {
            Continue::Owed(0)
        } else {
            Continue::NotExpected
        };
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, BodyState::Done)
    }

    /// Decodes body bytes already buffered into `out`. `None`: nothing buffered to decode.
    fn decode_buffered(
        &mut self,
        input: &mut ReadBuffer,
        out: &mut [u8],
    ) -> Option<io::Result<usize>> {
        if input.is_empty() {
            return None;
        }
        let bytes = input.bytes();
        match &mut self.state {
            BodyState::Done | BodyState::Broken => Some(Ok(0)),
            BodyState::Length(left) => {
                let n = (*left).min(bytes.len() as u64).min(out.len() as u64) as usize;
                out[..n].copy_from_slice(&bytes[..n]);
                input.consume(n);
                self.wire += n as u64;
                *left -= n as u64;
                if *left == 0 {
                    self.state = BodyState::Done;
                }
                Some(Ok(n))
            }
            BodyState::Chunked(dec) => match dec.decode(bytes, out) {
                Ok((used, n)) => {
                    input.consume(used);
                    self.wire += used as u64;
                    if dec.is_done() {
                        self.state = BodyState::Done;
                    }
                    // Only framing bytes were consumed: ask for more input.
                    if n == 0 && !self.is_done() {
                        return None;
                    }
                    Some(Ok(n))
                }
                Err(e) => {
                    self.state = BodyState::Broken;
                    Some(Err(io::Error::new(io::ErrorKind::InvalidData, e)))
                }
            },
        }
    }

    /// Reads body bytes into `out`, receiving from `transport` when `input` runs dry.
    /// `Ok(0)` means the body is complete. Enforces the streamed body limit.
    pub(crate) fn poll_read<T: Transport>(
        &mut self,
        cx: &mut Context<'_>,
        input: &mut ReadBuffer,
        transport: &T,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = std::task::ready!(self.poll_read_unlimited(cx, input, transport, out))?;
        self.decoded += n as u64;
        if self.limit.is_some_and(|limit| self.decoded > limit) {
            self.state = BodyState::Broken;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "request body too large",
            )));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_read_unlimited<T: Transport>(
        &mut self,
        cx: &mut Context<'_>,
        input: &mut ReadBuffer,
        transport: &T,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match self.state {
                BodyState::Done => return Poll::Ready(Ok(0)),
                BodyState::Broken => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "request body is malformed or incomplete",
                    )));
                }
                _ => {}
            }
            if let Some(result) = self.decode_buffered(input, out) {
                return Poll::Ready(result);
            }
            // Large Content-Length bodies skip the connection buffer entirely.
            let received = if let BodyState::Length(left) = self.state {
                let want = left.min(out.len() as u64) as usize;
                std::task::ready!(transport.poll_recv(cx, &mut out[..want])).map(|n| {
                    self.wire += n as u64;
                    self.state = if n as u64 == left {
                        BodyState::Done
                    } else {
                        BodyState::Length(left - n as u64)
                    };
                    Received::Body(n)
                })
            } else {
                input.make_room(INITIAL_BUFFER);
                std::task::ready!(transport.poll_recv(cx, input.spare())).map(|n| {
                    input.filled(n);
                    Received::Buffered(n)
                })
            };
            match received {
                Ok(Received::Body(0) | Received::Buffered(0)) => {
                    self.state = BodyState::Broken;
                    return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                }
                Ok(Received::Buffered(_)) => {}
                Ok(Received::Body(n)) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.state = BodyState::Broken;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Sends whatever is left of an owed `100 Continue`.
    pub(crate) fn poll_continue<T: Transport>(
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
