//! Protocol upgrades (RFC 9110 §7.8): a handler answers `101 Switching Protocols` and takes
//! over its connection.
//!
//! [`Upgrade`] is what the handler returns: the `101` and the function that gets the
//! connection. The connection writes the `101`, leaves its HTTP loop, and runs that function
//! with an [`Upgraded`]: the same transport (so every byte still leaves through `send` with
//! `MSG_NOSIGNAL` on TCP) and the bytes the client sent past its request head. The task stays
//! the connection's: it counts toward `max_connections`, and graceful shutdown tells it
//! ([`Upgraded::shutdown_started`]) and, at the deadline, cancels it.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use http_types::headers::{CONNECTION, UPGRADE};
use http_types::{Response, StatusCode};

use crate::deadline::{Deadline, Timeout};
use crate::response::IntoResponse;
use crate::shutdown::Watch;
use crate::template;
use crate::transport::Transport;

type Run = Box<dyn FnOnce(Upgraded) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// What a `101` response carries in its extensions: the function that takes the connection.
/// (In a `Mutex` only because extensions must be `Sync`; it is taken once.)
pub(crate) struct OnUpgrade(Mutex<Option<Run>>);

impl OnUpgrade {
    /// Runs the handler's function on the upgraded connection.
    pub(crate) async fn run(self, upgraded: Upgraded) {
        let run = self.0.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(run) = run {
            run(upgraded).await;
        }
    }
}

/// A handler's answer that switches its connection to another protocol: `101 Switching
/// Protocols` with `Upgrade: <protocol>` and `Connection: upgrade`, then `on_upgrade` runs
/// with the connection.
///
/// Return it only to a request that asked for `protocol` ([`Request::wants_upgrade`]); a `101`
/// to a request that did not ask to upgrade, to an HTTP/1.0 request or to one with a body is
/// never sent: the client gets `500` and the mistake is logged. To decline, return any other
/// response (`426 Upgrade Required`, `403`, ...).
///
/// [`Request::wants_upgrade`]: crate::Request::wants_upgrade
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use smolweb::{IntoResponse, Request, Response, Router, StatusCode, Upgrade};
///
/// /// Echoes every byte back, after switching to the made-up protocol `echo`.
/// async fn echo(req: Request) -> Response {
///     if !req.wants_upgrade("echo") {
///         return (StatusCode::UpgradeRequired, "this is an echo endpoint").into_response();
///     }
///     Upgrade::new("echo", |mut conn| async move {
///         let mut buf = [0u8; 4096];
///         while let Ok(n @ 1..) = conn.read(&mut buf).await {
///             if conn.write_all(&buf[..n]).await.is_err() {
///                 break;
///             }
///         }
///     })
///     .into_response()
/// }
/// let app = Router::new().get("/echo", echo);
/// # let _ = app;
/// ```
pub struct Upgrade {
    protocol: String,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// Switches to `protocol` (the `Upgrade` field of the `101`, e.g. `websocket`) and runs
    /// `on_upgrade` with the connection once the `101` has been sent.
    pub fn new<F, Fut>(protocol: impl Into<String>, on_upgrade: F) -> Self
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let run: Run = Box::new(move |upgraded| Box::pin(on_upgrade(upgraded)));
        Upgrade {
            protocol: protocol.into(),
            on_upgrade: OnUpgrade(Mutex::new(Some(run))),
        }
    }
}

impl fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl IntoResponse for Upgrade {
    /// `101 Switching Protocols`, `Upgrade: <protocol>`, `Connection: upgrade`. Add other
    /// fields (say `Sec-WebSocket-Accept`) to the response before returning it.
    fn into_response(self) -> Response {
        let mut res = template::response(StatusCode::SwitchingProtocols);
        res.insert_header(UPGRADE, self.protocol);
        res.insert_header(CONNECTION, "upgrade");
        res.ext_mut().insert(self.on_upgrade);
        res
    }
}

/// A connection after `101 Switching Protocols`, as [`Upgrade`]'s function gets it: read the
/// client's bytes and write yours with `futures_io`'s `AsyncRead` and `AsyncWrite`.
///
/// Reads give first the bytes the client sent right after its request head, then what the
/// transport receives. Writes go to the transport as they are (on TCP, `send` with
/// `MSG_NOSIGNAL`: a client that went away is an error, never a signal); a write that can
/// make no progress for [`Config::write_timeout`](crate::Config::write_timeout) (a client
/// that stopped reading) fails with `TimedOut`. `poll_flush` has nothing to do, and
/// `poll_close` ends the sending direction. Dropping it closes the connection.
pub struct Upgraded {
    io: Box<dyn Transport>,
    /// Bytes received before the switch, past the request head; `read` of them are given.
    buffered: Vec<u8>,
    read: usize,
    shutdown: Watch,
    write_timeout: Duration,
    /// How long the current write has been waiting.
    stalled: Deadline,
}

impl Upgraded {
    pub(crate) fn new(
        io: Box<dyn Transport>,
        buffered: Vec<u8>,
        shutdown: Watch,
        write_timeout: Duration,
    ) -> Self {
        Upgraded {
            io,
            buffered,
            read: 0,
            shutdown,
            write_timeout,
            stalled: Deadline::new(),
        }
    }

    /// The client's address, when served over TCP.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.io.peer_addr()
    }

    /// The shutdown signal, owned, for a protocol that wraps this connection.
    #[cfg(feature = "websocket")]
    pub(crate) fn watch(&self) -> Watch {
        self.shutdown.clone()
    }

    /// True once the server has begun a graceful shutdown.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.has_begun()
    }

    /// Completes when the server begins a graceful shutdown: say goodbye in your protocol and
    /// return before `Config::shutdown_timeout`, when the connection is dropped.
    pub async fn shutdown_started(&self) {
        self.shutdown.begun().await
    }
}

// Nothing in it is ever pinned in place (the shutdown signal is only borrowed), so
// it may move while a read or write is pending.
impl Unpin for Upgraded {}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("peer", &self.io.peer_addr())
            .field("buffered", &(self.buffered.len() - self.read))
            .finish_non_exhaustive()
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.read < this.buffered.len() {
            let n = buf.len().min(this.buffered.len() - this.read);
            buf[..n].copy_from_slice(&this.buffered[this.read..this.read + n]);
            this.read += n;
            if this.read == this.buffered.len() {
                this.buffered = Vec::new();
                this.read = 0;
            }
            return Poll::Ready(Ok(n));
        }
        this.io.poll_recv(cx, buf)
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match this.io.poll_send(cx, buf) {
            Poll::Pending => {
                let timeout = this.write_timeout;
                this.stalled.poll_timeout(cx, timeout, Timeout::Write)
            }
            done => {
                this.stalled.reset();
                done
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.io.shutdown_write())
    }
}
