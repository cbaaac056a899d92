//! Waiting for the next request head, within the keep-alive and header timeouts and the size
//! limit.
//!
//! A connection with nothing buffered receives onto a per-thread scratch buffer, parses a
//! complete head where it landed, and keeps in its own buffer only what follows the head (a
//! body, a pipelined request) or a head that arrived in pieces.

use std::io;
use std::task::Poll;

use super::buffer::{INITIAL_BUFFER, ReadBuffer, has_blank_line};
use super::shared::Shared;
use crate::config::Config;
use crate::deadline::{Deadline, Timeout};
use crate::h1::HeadError;
use crate::h1::error::too_large;
use crate::h1::head::{self, HeadLimits, RequestHead};
use crate::h1::url::with_thread_cache;
use crate::transport::Transport;

thread_local! {
    /// One receive buffer per thread for connections that have nothing buffered (see
    /// [`recv_on_scratch`]). Zeroed once, when the thread first needs it.
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; INITIAL_BUFFER].into_boxed_slice());
}

/// What waiting for a request head ended with.
// Boxing the head would cost an allocation per request to save a move of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
pub(crate) enum HeadEvent {
    Head(RequestHead),
    /// The peer closed (or went quiet past the keep-alive timeout) between requests.
    Closed,
    /// A head that must be refused; answer with it and close.
    Refused(HeadError),
}

/// Receives at most `cap` bytes for a connection with nothing buffered, onto the thread's
/// scratch buffer rather than a buffer of the connection's own.
///
/// A head found complete is put in `event` (or its refusal); other bytes are kept in the
/// connection's buffer.
fn recv_on_scratch<T: Transport>(
    input: &mut ReadBuffer,
    transport: &T,
    cx: &mut std::task::Context<'_>,
    cap: usize,
    limits: HeadLimits,
    secure: bool,
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
            // The first bytes of a head, incomplete: kept, and checked as the buffer's.
            input.keep(bytes);
            return Poll::Ready(Ok(n));
        }
        match with_thread_cache(secure, |heads| head::parse(bytes, limits, heads)) {
            Ok(Some(h)) => {
                input.keep(&bytes[h.len..]);
                *event = Some(HeadEvent::Head(h));
            }
            Ok(None) => input.keep(bytes),
            Err(e) => *event = Some(HeadEvent::Refused(e)),
        }
        Poll::Ready(Ok(n))
    })
}

/// Waits for the next request head, within the keep-alive and header timeouts. URLs are
/// `https` when `secure` (the thread's cache of base URLs for that scheme is used).
///
/// The first request of a connection (`first`) must be whole within `header_timeout` of the
/// wait's start, that is of the accept: a connection that never sends a byte is closed then,
/// not kept for the keep-alive timeout. A later request has `keep_alive_timeout` for its
/// first byte and `header_timeout` from that byte.
pub(crate) async fn read_head<T: Transport>(
    shared: &Shared<T>,
    config: &Config,
    deadline: &mut Deadline,
    secure: bool,
    first: bool,
) -> io::Result<HeadEvent> {
    let limits = HeadLimits {
        max_headers: config.max_headers,
        max_target: config.max_target_bytes,
    };
    let mut idle = shared.lock().buffer.is_empty();
    // Set once the idle wait has stamped the connection as idle (its server may then close
    // it to make room).
    let mut listed_idle = false;
    // A new wait: the clock starts at its first `Pending`, so a request already buffered
    // costs no clock read.
    deadline.reset();
    std::future::poll_fn(|cx| {
        let mut guard = shared.lock();
        let input = &mut guard.buffer;
        loop {
            // What has arrived of a head is checked as it arrives: input that can no longer
            // begin a valid head (a TLS record, an SSH banner, an HTTP/0.9 line, binary, a
            // bad byte in a field) is refused now, not at the header timeout.
            let complete = match input.check_head() {
                Ok(complete) => complete,
                Err(e) => return Poll::Ready(Ok(HeadEvent::Refused(e))),
            };
            if complete {
                match with_thread_cache(secure, |heads| head::parse(input.bytes(), limits, heads)) {
                    Ok(Some(h)) => {
                        input.take_head(h.len);
                        return Poll::Ready(Ok(HeadEvent::Head(h)));
                    }
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Ok(HeadEvent::Refused(e))),
                }
            }
            let on_scratch = input.is_empty();
            let mut event = None;
            let received = if on_scratch {
                input.release_if_empty();
                let cap = INITIAL_BUFFER.min(config.max_head_bytes.max(1));
                let transport = &shared.transport;
                recv_on_scratch(input, transport, cx, cap, limits, secure, &mut event)
            } else {
                if input.len() >= config.max_head_bytes || !input.make_room(config.max_head_bytes) {
                    return Poll::Ready(Ok(HeadEvent::Refused(too_large(input.bytes()))));
                }
                shared.transport.poll_recv(cx, input.spare())
            };
            match received {
                Poll::Ready(Ok(0)) if idle => return Poll::Ready(Ok(HeadEvent::Closed)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                Poll::Ready(Ok(_)) if on_scratch => {
                    if idle {
                        idle = false;
                        if listed_idle && !shared.idle.mark_busy() {
                            return Poll::Ready(Ok(HeadEvent::Closed));
                        }
                        if !first {
                            deadline.reset();
                        }
                    }
                    if let Some(event) = event {
                        return Poll::Ready(Ok(event));
                    }
                }
                Poll::Ready(Ok(n)) => {
                    input.filled(n);
                    if idle {
                        // The first byte of a request: from now on the header timeout runs
                        // (for the first request it has run since the accept).
                        idle = false;
                        if listed_idle && !shared.idle.mark_busy() {
                            return Poll::Ready(Ok(HeadEvent::Closed));
                        }
                        if !first {
                            deadline.reset();
                        }
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let timeout = if idle && !first {
                        config.keep_alive_timeout
                    } else {
                        config.header_timeout
                    };
                    let expired = deadline.poll_expired(cx, timeout);
                    if idle && !listed_idle {
                        if let Some(since) = deadline.began(timeout) {
                            shared.idle.mark_idle(since);
                            listed_idle = true;
                        }
                    }
                    return match expired {
                        Poll::Pending => Poll::Pending,
                        // Silent past the timeout before a request began: an ordinary end of
                        // connection, closed without an answer (as nginx does).
                        Poll::Ready(()) if idle => Poll::Ready(Ok(HeadEvent::Closed)),
                        Poll::Ready(()) => Poll::Ready(Err(Timeout::Header.error())),
                    };
                }
            }
        }
    })
    .await
}
