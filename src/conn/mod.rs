//! One connection: read a head, hand the request to the application, write the response,
//! repeat.
//!
//! Requests on a connection are handled one after another, so pipelined requests are answered
//! in order. Every byte goes out through [`Transport::poll_send`]. An I/O error ends only this
//! connection; a client that went away is logged at debug level. The application is reached
//! through [`Respond`] only: nothing here names a router, a handler or a service.
//!
//! | file | what it is |
//! | --- | --- |
//! | `mod.rs` | the keep-alive loop, one exchange, closing |
//! | `shared.rs` | what the connection shares with a request's body reader |
//! | `buffer.rs` | the read buffer |
//! | `read.rs` | waiting for a request head |
//! | `idle.rs` | idle connections, and closing the oldest at the connection limit |
//! | `body.rs` | a request body's decoding, `100 Continue`, its limit |
//! | `reader.rs` | the body as the handler reads it; draining the rest |
//! | `switch.rs` | a `101`: vetted, then the connection handed over |
//! | `write.rs` | response heads and bodies |
//! | `send.rs` | writing a buffer through the transport, under the write timeout |
//! | `file.rs` | file bodies: copied, or `sendfile` |

mod body;
mod buffer;
mod file;
pub(crate) mod idle;
mod read;
mod reader;
mod send;
mod shared;
mod switch;
mod write;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_lite::io::BufReader;
use http_types::headers::CONTENT_TYPE;
use http_types::{Body, Method, Response, StatusCode, Version};

use self::body::{BodyState, Continue};
use self::idle::IdleList;
use self::read::{HeadEvent, read_head};
use self::reader::BodyReader;
pub(crate) use self::shared::Shared;
use self::write::{Reply, refuse, write_response};
use crate::config::Config;
use crate::deadline::{Deadline, Timeout};
use crate::h1::HeadError;
use crate::h1::encode::Persistence;
use crate::h1::fields::RequestFraming;
use crate::h1::head::RequestHead;
use crate::h1::message::Message;
use crate::metrics::Metrics;
use crate::pool::{BufferPool, Pooled};
use crate::shutdown::Watch;
use crate::transport::{Remote, Transport};
use crate::upgrade::OnUpgrade;

/// A write buffer that grew past this is given back to the allocator, not kept.
const KEEP_WRITE_BUFFER: usize = 16 * 1024;
/// Write buffers kept per thread for the next exchanges.
const KEEP_WRITE_BUFFERS: usize = 64;
/// Buffer between a request body and the handler reading it.
const BODY_BUFFER: usize = 8 * 1024;
/// When closing with request bytes possibly still arriving, input is read and discarded for
/// at most this long, so the response is not lost to a TCP reset.
const LINGER: Duration = Duration::from_secs(5);

thread_local! {
    /// The write buffers of exchanges that ended, for the next ones on this thread.
    static WRITE_BUFFERS: BufferPool =
        const { BufferPool::new(KEEP_WRITE_BUFFERS, KEEP_WRITE_BUFFER) };
}

/// The application as a connection sees it: something that answers a request.
///
/// A connection owns a clone of it, so that an exchange owns everything it uses and can run
/// in a room from its thread's pool (see [`crate::pool`]).
pub(crate) trait Respond: Clone + Send + Sync + 'static {
    /// What an exchange uses to answer its request without allocating each time (the room
    /// of its handlers' futures). Made empty per exchange: it must take its rooms from (and
    /// give them back to) a pool of its own.
    type Room: Default + Send;

    /// The counters the connection adds to.
    fn metrics(&self) -> &Metrics;

    /// The limits and timeouts.
    fn config(&self) -> &Config;

    /// Whether the application is shutting down.
    fn shutdown(&self) -> &Watch;

    /// Answers `message`, which came from `remote` (its body, if any, streams from the
    /// connection as it is read).
    fn respond(
        &self,
        message: Message,
        remote: &Remote,
        room: &mut Self::Room,
    ) -> impl Future<Output = Response> + Send;
}

/// What the connection does after an exchange.
enum After {
    KeepAlive,
    Close,
    /// Close, but unread request bytes may still be arriving.
    LingerAndClose,
    /// Leave HTTP: the connection belongs to another protocol now.
    Upgrade(OnUpgrade),
}

/// Serves HTTP/1.1 on `transport` until the peer closes, an error ends the connection, a
/// request or response asks to close, or `shutdown` begins while the connection is idle.
///
/// Listed in `idle_list`, the connection may be closed from there while it is idle (see
/// [`idle`]), and its task must be woken when shutdown begins: it then looks at the flag
/// instead of keeping a listener of its own.
///
/// Between requests the connection keeps only what its next request needs to begin: the
/// transport and its input (in [`Shared`]), its timer, its base URL. An exchange takes its
/// rooms (the exchange's own future, the write buffer, the handler's future) from its
/// thread's pools, and gives them back when it ends.
///
/// The connection comes as its [`Shared`] (made with [`Shared::of`]) rather than its
/// transport: a future keeps its arguments for its whole life, so a transport passed down
/// through a few `async fn`s would be kept in each, dead, by every connection.
pub(crate) async fn serve<A: Respond, T: Transport>(
    app: &A,
    shared: Arc<Shared<T>>,
    idle_list: Option<&IdleList>,
) {
    let (config, shutdown, metrics) = (app.config(), app.shutdown(), app.metrics());
    let _listed = idle_list.map(|list| {
        let conn: std::sync::Weak<Shared<T>> = Arc::downgrade(&shared);
        list.list(conn)
    });
    // The wait for shutdown. A listed connection (the server's accept loop) has its task
    // woken when shutdown begins (`accept.rs` races the task with the watch), so a look at
    // the flag is enough and it keeps no listener of its own, which an idle connection would
    // pay for. Any other (`Service::serve_connection`) waits in a slot of the watch's list,
    // taken once per connection, not once per request.
    // (Boxed: a listed connection's future has no room for it.)
    let mut stop = idle_list.is_none().then(|| Box::new(shutdown.begun()));
    let mut deadline = Deadline::new();
    let secure = shared.transport.tls().is_some();
    let mut first = true;
    loop {
        // A keep-alive connection idle between requests closes as soon as shutdown begins
        // (its client opens a new connection to another server); a request already arriving
        // is let in. A connection accepted before shutdown began is not idle: its client sent
        // (or is sending) its first request, which is served (within the header timeout), so
        // a restart on a shared socket loses none.
        if shutdown.has_begun() && !first && shared.lock().buffer.is_empty() {
            break;
        }
        let next_head = read_head(&shared, config, &mut deadline, secure, first);
        let stopped = async {
            if first {
                return std::future::pending().await;
            }
            if !shutdown.has_begun() {
                // Completes once, at shutdown; never polled again after that.
                match stop.as_mut() {
                    Some(stop) => stop.as_mut().await,
                    None => {
                        std::future::poll_fn(|_| match shutdown.has_begun() {
                            true => std::task::Poll::Ready(()),
                            false => std::task::Poll::Pending,
                        })
                        .await
                    }
                }
            }
            if shared.lock().buffer.is_empty() {
                Ok(HeadEvent::Closed)
            } else {
                std::future::pending().await
            }
        };
        let head = match futures_lite::future::or(next_head, stopped).await {
            Ok(HeadEvent::Head(head)) => head,
            Ok(HeadEvent::Closed) => break,
            Ok(HeadEvent::Refused(e)) => {
                log::debug!(
                    "refused request from {:?}: {e}",
                    shared.transport.peer_addr()
                );
                // Boxed: the connection's one refusal is not worth its room in every
                // connection's future.
                Box::pin(async {
                    let mut out = Vec::new();
                    let transport = &shared.transport;
                    if refuse(transport, &mut out, e, config.write_timeout, metrics)
                        .await
                        .is_ok()
                    {
                        linger(transport).await;
                    }
                })
                .await;
                break;
            }
            Err(e) => {
                log_end(shared.transport.peer_addr(), &e, metrics);
                break;
            }
        };
        let exchange = Exchange {
            app: app.clone(),
            shared: shared.clone(),
        };
        match Pooled::new(move || exchange.run(head)).await {
            Ok(After::KeepAlive) => {}
            Ok(After::Close) => break,
            Ok(After::LingerAndClose) => {
                Box::pin(linger(&shared.transport)).await;
                break;
            }
            Ok(After::Upgrade(on_upgrade)) => {
                let upgraded = switch::hand_over(&shared, shutdown, config.write_timeout);
                let _open = metrics.upgraded();
                Box::pin(on_upgrade.run(upgraded)).await;
                break;
            }
            Err(e) => {
                log_end(shared.transport.peer_addr(), &e, metrics);
                break;
            }
        }
        first = false;
        if crate::runtime::YIELD_AFTER_RESPONSE && shared.lock().buffer.is_empty() {
            // The client is reading the response and will send its next request a little
            // later: let the other connections run first. Under load the request has arrived
            // by then and is read at once; reading now would fail, and waiting now would cost
            // an `epoll_ctl` and a trip through the reactor. Idle, it costs one failing
            // `recv` before the wait.
            futures_lite::future::yield_now().await;
        }
    }
}

/// References to a connection's [`Shared`] while an exchange runs and no body reader is
/// left: the connection's and the exchange's.
const EXCHANGE_REFS: usize = 2;

/// One request and its response, and what they leave the connection to do. It owns what it
/// uses, so that its future (large: it holds the handler's and the response's) can live in a
/// pooled room rather than in every connection's future.
struct Exchange<A, T> {
    app: A,
    shared: Arc<Shared<T>>,
}

impl<A: Respond, T: Transport> Exchange<A, T> {
    /// A function returning an `async move` block, not an `async fn`, so that its future
    /// keeps `self` and `head` once, not as given and again as moved into the body.
    #[allow(clippy::manual_async_fn)] // the point: see above
    fn run(self, head: RequestHead) -> impl Future<Output = io::Result<After>> {
        async move {
            let mut out = WriteBuffer(WRITE_BUFFERS.try_with(BufferPool::take).unwrap_or_default());
            let out = &mut out.0;
            let mut room = A::Room::default();
            let room = &mut room;
            let config = self.app.config();
            let shared = &self.shared;
            let metrics = self.app.metrics();
            let RequestHead {
                mut message,
                framing,
                keep_alive,
                expect_continue,
                upgrade,
                asterisk,
                ..
            } = head;
            let head_only = message.method() == Method::Head;
            let http10 = message.version() == Some(Version::Http1_0);
            let limit = config.max_streamed_body_bytes;
            if let (RequestFraming::Length(n), Some(limit)) = (framing, limit) {
                if n > limit {
                    let e = HeadError::new(StatusCode::PayloadTooLarge, "request body too large");
                    log::debug!(
                        "refused request from {:?}: {e}",
                        shared.transport.peer_addr()
                    );
                    // Boxed: rare, and its future would otherwise widen every exchange's.
                    Box::pin(refuse(
                        &shared.transport,
                        out,
                        e,
                        config.write_timeout,
                        metrics,
                    ))
                    .await?;
                    return Ok(After::LingerAndClose);
                }
            }
            let generation = {
                let mut input = shared.lock();
                input.body.begin(framing, expect_continue, limit);
                input.body.generation
            };
            if framing != RequestFraming::None {
                let reader = BodyReader::new(
                    shared.clone(),
                    generation,
                    config.body_timeout,
                    metrics.clone(),
                );
                let len = match framing {
                    RequestFraming::Length(n) => usize::try_from(n).ok(),
                    _ => None,
                };
                let request = message.http_mut();
                let had_type = request.header(CONTENT_TYPE).is_some();
                request.set_body(Body::from_reader(
                    BufReader::with_capacity(BODY_BUFFER, reader),
                    len,
                ));
                if !had_type {
                    // http-types invents a content type for any body it is given; a client's
                    // request must show only what the client sent.
                    request.remove_header(CONTENT_TYPE);
                }
            }

            let mut res = if asterisk {
                // `OPTIONS *` asks about the server in general: a plain success, no handler.
                crate::template::response(StatusCode::Ok)
            } else {
                // Made per request from the transport (a copy): not kept by an idle connection.
                let remote = Remote::of(&shared.transport);
                self.app.respond(message, &remote, room).await
            };
            let on_upgrade = switch::vet(&mut res, upgrade);
            metrics.response(res.status());

            // Once shutdown has begun, every response closes its connection. Decided before the
            // response, so that it says `Connection: close`: a client held back by
            // `Expect: 100-continue` that was never answered, a malformed body, or more of a
            // declared body left unread than draining may read. (A body merely left unread is
            // drained after the response, which may stream it.)
            let keep_alive = keep_alive && !self.app.shutdown().has_begun() && {
                // Undrainable: more of the declared body is left than draining may read, and
                // nothing can read it any more (no body reader outlived the handler: the
                // connection and its exchange hold the only references to what it shares with one).
                let unread_for_good = Arc::strong_count(shared) == EXCHANGE_REFS;
                let input = shared.lock();
                let undrainable = unread_for_good
                    && matches!(
                        input.body.state,
                        BodyState::Length(left) if left > config.max_drain_bytes
                    );
                !matches!(input.body.state, BodyState::Broken)
                    && !matches!(input.body.continue_, Continue::Owed(_))
                    && !undrainable
            };
            let after = match (&on_upgrade, keep_alive) {
                (Some(_), _) => Persistence::Upgrade,
                (None, true) => Persistence::KeepAlive,
                (None, false) => Persistence::Close,
            };
            let reply = Reply {
                head_only,
                http10,
                after,
                timeout: config.write_timeout,
                metrics,
            };
            // The response goes first: its body may be streaming the request body.
            let after = write_response(&shared.transport, out, res, reply).await?;
            if let Some(on_upgrade) = on_upgrade {
                // A request that may switch has no body: nothing of it is left to read.
                return Ok(After::Upgrade(on_upgrade));
            }
            let mut keep = after == Persistence::KeepAlive;
            // Whatever of the request body is left must go before the next request.
            let body_done = shared.lock().body.is_done();
            let mut unread_input = !body_done;
            if keep && !body_done {
                let drained = reader::drain(shared, config.max_drain_bytes, config.body_timeout)
                    .await
                    .unwrap_or(false);
                keep = drained;
                unread_input = !drained;
            }
            Ok(match (keep, unread_input) {
                (true, _) => After::KeepAlive,
                (false, false) => After::Close,
                (false, true) => After::LingerAndClose,
            })
        }
    }
}

/// An exchange's write buffer, given back to its thread's pool when the exchange ends.
struct WriteBuffer(Vec<u8>);

impl Drop for WriteBuffer {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        let _ = WRITE_BUFFERS.try_with(|pool| pool.give_back(buf));
    }
}

/// Closes gracefully while the client may still be sending: ends our side (FIN after the
/// response), then reads and discards input until the client closes or [`LINGER`] passes.
/// Closing with unread input instead would make the kernel reset the connection and could
/// destroy the response still in flight.
async fn linger<T: Transport>(transport: &T) {
    if transport.shutdown_write().is_err() {
        return;
    }
    // One clock for the whole linger: input arriving does not extend it.
    let mut deadline = Deadline::new();
    let _ = std::future::poll_fn(|cx| {
        // On the stack of this poll only, so it is not part of every connection's future.
        let mut scratch = [0u8; 4096];
        loop {
            match transport.poll_recv(cx, &mut scratch) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => break,
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => {
                    return deadline.poll_timeout::<()>(cx, LINGER, Timeout::Linger);
                }
            }
        }
        Poll::Ready(Ok(()))
    })
    .await;
}

/// A connection ending on an error: a client that went away is not news.
fn log_end(peer: Option<SocketAddr>, e: &io::Error, metrics: &Metrics) {
    metrics.ended(e);
    use io::ErrorKind::*;
    match e.kind() {
        BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected | UnexpectedEof
        | TimedOut => {
            log::debug!("connection from {peer:?} ended: {e}")
        }
        _ => log::warn!("connection from {peer:?} failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::TcpTransport;

    /// Most of what an idle connection costs is its task, that is this future: what it holds
    /// while it waits for a request (the exchange, which is larger, runs in a pooled room).
    #[test]
    fn an_idle_connection_future_is_small() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, _) = listener.accept().unwrap();
        let transport = TcpTransport::new(async_io::Async::new(stream).unwrap(), None).unwrap();
        let service = crate::Service::new(crate::Router::new());
        let list = IdleList::default();
        let serve = serve(&service, Shared::of(transport), Some(&list));
        let size = std::mem::size_of_val(&serve);
        println!("an idle connection's future: {size} bytes");
        assert!(size <= MAX_IDLE_FUTURE, "{size} bytes");
    }

    /// The bound on [`serve`]'s future (a connection's whole task adds its wrapper and header).
    const MAX_IDLE_FUTURE: usize = 512;
}
