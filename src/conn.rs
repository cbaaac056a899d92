//! One connection: read a head, run the handler, write the response, repeat.
//!
//! Requests on a connection are handled one after another, so pipelined requests are answered
//! in order. Every byte goes out through [`Transport::poll_send`]. An I/O error ends only this
//! connection; a client that went away is logged at debug level.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::io::BufReader;
use futures_lite::{AsyncRead, AsyncReadExt};
use http_types::headers::CONTENT_TYPE;
use http_types::{Body, Method, Response, Version};

use crate::fs::FileBody;
use crate::h1::head::{Framing, Head, HeadError};
use crate::h1::response::{self as encode, CHUNK_HEADER_LEN, LAST_CHUNK};
use crate::inbound::{self, BodyReader, BodyState, Continue, HeadEvent, Shared};
use crate::transport::{Deadline, send_all};
use crate::{Config, FutureSlot, Request, Service, Transport};

/// A response body with a known length is copied into the write buffer and sent in pieces of
/// at most this much.
const SEND_CHUNK: usize = 64 * 1024;
/// Read size for bodies of unknown length, each sent as one chunk as soon as it is read.
const STREAM_CHUNK: usize = 16 * 1024;
/// The write buffer is given back to the allocator between requests when it grew past this.
const KEEP_WRITE_BUFFER: usize = 16 * 1024;
/// Buffer between a request body and the handler reading it.
const BODY_BUFFER: usize = 8 * 1024;
/// When closing with request bytes possibly still arriving, input is read and discarded for
/// at most this long, so the response is not lost to a TCP reset.
const LINGER: Duration = Duration::from_secs(5);

pub(crate) async fn serve<T: Transport>(service: &Service, transport: T) {
    let config = service.config();
    let peer = transport.peer_addr();
    let shared = Arc::new(Shared::new(transport));
    let mut out = Vec::new();
    // Made once per connection: waiting on it registers one listener, not one per request.
    let mut stop = std::pin::pin!(service.shutdown_started());
    let mut deadline = Deadline::new();
    // Handlers' futures, in room allocated once per connection (per handler type).
    let mut slot = FutureSlot::new();
    loop {
        if service.is_shutting_down() && shared.lock().is_empty() {
            break;
        }
        let next_head = inbound::read_head(&shared, config, &mut deadline);
        // An idle connection closes as soon as shutdown begins; a request already arriving
        // is let in.
        let shutdown = async {
            if !service.is_shutting_down() {
                // Completes once, at shutdown; never polled again after that.
                stop.as_mut().await;
            }
            if shared.lock().is_empty() {
                Ok(HeadEvent::Closed)
            } else {
                std::future::pending().await
            }
        };
        let head = match futures_lite::future::or(next_head, shutdown).await {
            Ok(HeadEvent::Head(head)) => head,
            Ok(HeadEvent::Closed) => break,
            Ok(HeadEvent::Refused(e)) => {
                log::debug!("refused request from {peer:?}: {e}");
                if refuse(&shared, &mut out, e, config).await.is_ok() {
                    linger(&shared).await;
                }
                break;
            }
            Err(e) => {
                log_end(peer, &e);
                break;
            }
        };
        match exchange(service, &shared, &mut out, &mut slot, head, peer).await {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) => break,
            Ok(Next::LingerAndClose) => {
                linger(&shared).await;
                break;
            }
            Err(e) => {
                log_end(peer, &e);
                break;
            }
        }
        out.clear();
        if out.capacity() > KEEP_WRITE_BUFFER {
            out = Vec::new();
        }
        if shared.lock().is_empty() {
            // The client is reading the response and will send its next request a little
            // later: let the other connections run first. Under load the request has arrived
            // by then and is read at once; reading now would fail, and waiting now would cost
            // an `epoll_ctl` and a trip through the reactor. Idle, it costs one failing
            // `recv` before the wait.
            futures_lite::future::yield_now().await;
        }
    }
}

/// What the connection does after an exchange.
enum Next {
    KeepAlive,
    Close,
    /// Close, but unread request bytes may still be arriving.
    LingerAndClose,
}

async fn exchange<T: Transport>(
    service: &Service,
    shared: &Arc<Shared<T>>,
    out: &mut Vec<u8>,
    slot: &mut FutureSlot,
    head: Head,
    peer: Option<std::net::SocketAddr>,
) -> io::Result<Next> {
    let config = service.config();
    let Head {
        mut request,
        framing,
        keep_alive,
        expect_continue,
        asterisk: head_asterisk,
        ..
    } = head;
    let is_head = request.method() == Method::Head;
    let http10 = request.version() == Some(Version::Http1_0);
    let limit = config.max_streamed_body_bytes;
    if let (Framing::Length(n), Some(limit)) = (framing, limit) {
        if n > limit {
            let e = HeadError::new(
                http_types::StatusCode::PayloadTooLarge,
                "request body too large",
            );
            log::debug!("refused request from {peer:?}: {e}");
            refuse(shared, out, e, config).await?;
            return Ok(Next::LingerAndClose);
        }
    }
    let generation = {
        let mut st = shared.lock();
        st.begin_body(framing, expect_continue, limit);
        st.generation
    };
    if framing != Framing::None {
        let reader = BodyReader::new(shared.clone(), generation, config.body_timeout);
        let len = match framing {
            Framing::Length(n) => usize::try_from(n).ok(),
            _ => None,
        };
        let request = request.http_mut();
        let had_type = request.header(CONTENT_TYPE).is_some();
        request.set_body(Body::from_reader(
            BufReader::with_capacity(BODY_BUFFER, reader),
            len,
        ));
        if !had_type {
            // http-types invents a content type for any body it is given; a client's request
            // must show only what the client sent.
            request.remove_header(CONTENT_TYPE);
        }
    }

    let res = if head_asterisk {
        // `OPTIONS *` asks about the server in general: a plain success, no handler.
        crate::response::new_response(http_types::StatusCode::Ok)
    } else {
        service
            .respond_in(Request::new(request, peer, config.max_body_bytes), slot)
            .await
    };

    // Once shutdown has begun, every response closes its connection.
    let mut keep = keep_alive && !service.is_shutting_down();
    {
        let st = shared.lock();
        // Decided before the response, so that it says `Connection: close`: a client held
        // back by `Expect: 100-continue` that was never answered, or a malformed body.
        // (A body merely left unread is drained after the response, which may stream it.)
        if matches!(st.body, BodyState::Broken) || matches!(st.continue_, Continue::Owed(_)) {
            keep = false;
        }
    }
    // The response goes first: its body may be streaming the request body.
    write_response(shared, out, res, is_head, http10, &mut keep, config).await?;
    // Whatever of the request body is left must go before the next request.
    let body_done = matches!(shared.lock().body, BodyState::Done);
    let mut unread_input = !body_done;
    if keep && !body_done {
        let drained = inbound::drain_body(shared, config.max_drain_bytes, config.body_timeout)
            .await
            .unwrap_or(false);
        keep = drained;
        unread_input = !drained;
    }
    Ok(match (keep, unread_input) {
        (true, _) => Next::KeepAlive,
        (false, false) => Next::Close,
        (false, true) => Next::LingerAndClose,
    })
}

async fn write_response<T: Transport>(
    shared: &Shared<T>,
    out: &mut Vec<u8>,
    mut res: Response,
    is_head: bool,
    http10: bool,
    keep: &mut bool,
    config: &Config,
) -> io::Result<()> {
    let transport = &shared.transport;
    let timeout = config.write_timeout;
    let file = res.ext_mut().remove::<FileBody>();
    // The body is read through the response itself (it is an `AsyncRead`): taking it out
    // would make http-types invent a content type.
    let len = match &file {
        Some(file) => Some(file.len()),
        None => res.len().map(|n| n as u64),
    };
    let framing = match len {
        _ if !encode::status_has_body(res.status()) => encode::Framing::NoBody,
        Some(n) => encode::Framing::Length(n),
        None if !http10 => encode::Framing::Chunked,
        None => {
            *keep = false;
            encode::Framing::Close
        }
    };
    out.clear();
    encode::write_head(out, &res, framing, keep, http10);
    if is_head || framing == encode::Framing::NoBody {
        return send_all(transport, out, timeout).await;
    }
    match (file, framing) {
        (Some(file), _) => file.send(transport, out, timeout).await,
        (None, encode::Framing::Length(n)) => {
            send_sized(transport, out, &mut res, n, timeout).await
        }
        (None, framing) => {
            send_streamed(
                transport,
                out,
                &mut res,
                framing == encode::Framing::Chunked,
                timeout,
            )
            .await
        }
    }
}

/// Reads up to `max` bytes of `body` onto the end of `out`; returns how many.
async fn read_onto(
    body: &mut (impl AsyncRead + Unpin),
    out: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    let start = out.len();
    out.resize(start + max, 0);
    let result = body.read(&mut out[start..]).await;
    out.truncate(start + *result.as_ref().unwrap_or(&0));
    result
}

/// A body of known length: head and body share sends; small responses take one `send`.
async fn send_sized<T: Transport>(
    transport: &T,
    out: &mut Vec<u8>,
    body: &mut (impl AsyncRead + Unpin),
    len: u64,
    timeout: Duration,
) -> io::Result<()> {
    let mut left = len;
    while left > 0 {
        let room = SEND_CHUNK.saturating_sub(out.len()).max(4096);
        let n = read_onto(
            body,
            out,
            room.min(usize::try_from(left).unwrap_or(usize::MAX)),
        )
        .await?;
        if n == 0 {
            // The framing promised more: the only honest ending is closing the connection.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "response body shorter than its length",
            ));
        }
        left -= n as u64;
        if out.len() >= SEND_CHUNK || left == 0 {
            send_all(transport, out, timeout).await?;
            out.clear();
        }
    }
    if !out.is_empty() {
        send_all(transport, out, timeout).await?;
    }
    Ok(())
}

/// A body of unknown length: each read is sent at once, as a chunk or (HTTP/1.0) raw.
async fn send_streamed<T: Transport>(
    transport: &T,
    out: &mut Vec<u8>,
    body: &mut (impl AsyncRead + Unpin),
    chunked: bool,
    timeout: Duration,
) -> io::Result<()> {
    loop {
        let slot = out.len();
        if chunked {
            out.resize(slot + CHUNK_HEADER_LEN, 0);
        }
        let n = read_onto(body, out, STREAM_CHUNK).await?;
        if n == 0 {
            out.truncate(slot);
            if chunked {
                out.extend_from_slice(LAST_CHUNK);
            }
            send_all(transport, out, timeout).await?;
            return Ok(());
        }
        if chunked {
            encode::write_chunk_header(&mut out[slot..slot + CHUNK_HEADER_LEN], n);
            out.extend_from_slice(b"\r\n");
        }
        send_all(transport, out, timeout).await?;
        out.clear();
    }
}

/// Answers a refused head: its status, a one-line reason, `Connection: close`.
async fn refuse<T: Transport>(
    shared: &Shared<T>,
    out: &mut Vec<u8>,
    e: HeadError,
    config: &Config,
) -> io::Result<()> {
    let res = crate::response::text_response(e.status, format!("{}\n", e.reason));
    let mut keep = false;
    write_response(shared, out, res, false, false, &mut keep, config).await
}

/// Closes gracefully while the client may still be sending: ends our side (FIN after the
/// response), then reads and discards input until the client closes or [`LINGER`] passes.
/// Closing with unread input instead would make the kernel reset the connection and could
/// destroy the response still in flight.
async fn linger<T: Transport>(shared: &Shared<T>) {
    if shared.transport.shutdown_write().is_err() {
        return;
    }
    // One clock for the whole linger: input arriving does not extend it.
    let mut deadline = Deadline::new();
    let _ = std::future::poll_fn(|cx| {
        // On the stack of this poll only, so it is not part of every connection's future.
        let mut scratch = [0u8; 4096];
        loop {
            match shared.transport.poll_recv(cx, &mut scratch) {
                std::task::Poll::Ready(Ok(0)) | std::task::Poll::Ready(Err(_)) => break,
                std::task::Poll::Ready(Ok(_)) => {}
                std::task::Poll::Pending => {
                    return deadline.poll_timeout::<()>(cx, LINGER, "linger");
                }
            }
        }
        std::task::Poll::Ready(Ok(()))
    })
    .await;
}

/// A connection ending on an error: a client that went away is not news.
fn log_end(peer: Option<std::net::SocketAddr>, e: &io::Error) {
    use io::ErrorKind::*;
    match e.kind() {
        BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected | UnexpectedEof
        | TimedOut => {
            log::debug!("connection from {peer:?} ended: {e}")
        }
        _ => log::warn!("connection from {peer:?} failed: {e}"),
    }
}
