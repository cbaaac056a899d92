//! The only place that writes to sockets.
//!
//! Every byte smolweb puts on a TCP connection goes through [`TcpTransport::poll_send`], which
//! calls `send(2)` with `MSG_NOSIGNAL` on the nonblocking socket. A peer that has gone away
//! (FIN or RST) turns into an `EPIPE`/`ECONNRESET` error for that one connection, never a
//! `SIGPIPE` for the process, whatever the process' SIGPIPE disposition is. On Apple and BSD
//! targets, which have no `MSG_NOSIGNAL`, `SO_NOSIGPIPE` is set on the socket at accept.
//!
//! What is deliberately *not* here: `write`/`write_vectored` (std's `write_vectored` on a
//! socket is `writev`, which raises SIGPIPE). `sendfile` (no flags argument at all) is here
//! only with the `sendfile` feature, and is called only on a thread whose SIGPIPE is blocked
//! (see the crate docs on that feature).

use std::io;
use std::net::{SocketAddr, TcpStream};
#[cfg(all(feature = "sendfile", target_os = "linux"))]
use std::sync::atomic::Ordering;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::task::{Context, Poll};

use async_io::Async;
use rustix::net::{RecvFlags, SendFlags};

use crate::{Transport, server};

/// A TCP connection as a [`Transport`]: reads with `recv`, writes with `send(MSG_NOSIGNAL)`.
#[derive(Debug)]
pub struct TcpTransport {
    stream: Async<TcpStream>,
    peer: Option<SocketAddr>,
    /// [`server::tasks_run`] at the last `recv`, and how many times in a row a `recv` found
    /// nothing and yielded (see [`MISS_YIELDS`]). Atomics only to be `Sync`: one task uses them.
    last_recv: AtomicU64,
    misses: AtomicU8,
}

/// A `recv` that finds nothing while other connections are being served yields to them up to
/// this many times, trying again after each, before waiting on the reactor.
///
/// Under load a keep-alive client's next request usually arrives while the other connections
/// have their turn; waiting on the reactor instead costs an `epoll_ctl` and puts the
/// connection at the back of the queue once more when the request does arrive, and the
/// latency of those requests made the 99th percentile (measured at 64 connections: 960 µs
/// waiting at once, 694 µs yielding up to 4 times, same throughput). A server with nothing
/// else to run waits at once. (A task polled on another thread than last time compares two
/// threads' counts: at worst it yields a few times for nothing.)
const MISS_YIELDS: u8 = 4;

#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: SendFlags = SendFlags::NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: SendFlags = SendFlags::empty();

impl TcpTransport {
    /// Prepares an accepted stream: `TCP_NODELAY`, and `SO_NOSIGPIPE` where the platform has
    /// no `MSG_NOSIGNAL`. The stream is already nonblocking (it came from `Async`).
    pub(crate) fn new(stream: Async<TcpStream>, peer: Option<SocketAddr>) -> io::Result<Self> {
        stream.get_ref().set_nodelay(true)?;
        #[cfg(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "dragonfly"
        ))]
        rustix::net::sockopt::set_socket_nosigpipe(&stream, true)?;
        Ok(TcpTransport {
            stream,
            peer,
            last_recv: AtomicU64::new(0),
            misses: AtomicU8::new(0),
        })
    }

    /// `send(2)` with `flags` (which always hold `MSG_NOSIGNAL` where it exists), waiting
    /// for the reactor while the socket is full.
    fn poll_send_with(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        flags: SendFlags,
    ) -> Poll<io::Result<usize>> {
        loop {
            match rustix::net::send(&self.stream, buf, flags) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(e) => return Poll::Ready(Err(e.into())),
            }
            // Not writable yet: wait for the reactor, then try again.
            std::task::ready!(self.stream.poll_writable(cx))?;
        }
    }
}

/// Sends the response head in `out`, then `*len` bytes of `file` from `*offset` with
/// `sendfile(2)`, without copying them, where this is allowed: the `sendfile` feature, a TCP
/// transport, and a thread that holds SIGPIPE blocked (see `zero_copy.rs`; checked before
/// every call, in the same poll as the call). The head goes with `MSG_MORE`, so it shares
/// segments with the file (what `TCP_CORK` does for nginx).
///
/// Returns `false` if it did not send everything: `*offset` and `*len` then say what is left,
/// and `out` holds the head still to send (or is empty if it went); the caller copies the rest.
#[cfg(all(feature = "sendfile", target_os = "linux"))]
pub(crate) async fn send_file<T: Transport>(
    transport: &T,
    out: &mut Vec<u8>,
    file: &std::fs::File,
    offset: &mut u64,
    len: &mut u64,
    timeout: std::time::Duration,
) -> io::Result<bool> {
    /// At most this much per call, so one response cannot hold the thread for long.
    const MAX_PER_CALL: usize = 1 << 20;
    let Some(tcp) = (transport as &dyn std::any::Any).downcast_ref::<TcpTransport>() else {
        return Ok(false);
    };
    if !crate::zero_copy::allowed_here() {
        return Ok(false);
    }
    let more = SEND_FLAGS | SendFlags::MORE;
    crate::transport::send_all_with(out, timeout, |cx, head| tcp.poll_send_with(cx, head, more))
        .await?;
    out.clear();
    let mut deadline = crate::transport::Deadline::new();
    std::future::poll_fn(|cx| {
        while *len > 0 {
            // Checked before every call: the task may have moved to another thread.
            if !crate::zero_copy::allowed_here() {
                return Poll::Ready(Ok(false));
            }
            let count = usize::try_from(*len)
                .unwrap_or(usize::MAX)
                .min(MAX_PER_CALL);
            match rustix::fs::sendfile(&tcp.stream, file, Some(&mut *offset), count) {
                Ok(0) => return Poll::Ready(Err(crate::fs::shrank())),
                Ok(n) => {
                    crate::zero_copy::BYTES.fetch_add(n as u64, Ordering::Relaxed);
                    *len -= n as u64;
                    deadline.reset();
                    continue;
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(e) => return Poll::Ready(Err(e.into())),
            }
            match tcp.stream.poll_writable(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return deadline.poll_timeout(cx, timeout, "write made no progress");
                }
            }
        }
        Poll::Ready(Ok(true))
    })
    .await
}

/// Without the `sendfile` feature (or off Linux): never; files are copied.
#[cfg(not(all(feature = "sendfile", target_os = "linux")))]
pub(crate) async fn send_file<T: Transport>(
    _transport: &T,
    _out: &mut Vec<u8>,
    _file: &std::fs::File,
    _offset: &mut u64,
    _len: &mut u64,
    _timeout: std::time::Duration,
) -> io::Result<bool> {
    Ok(false)
}

impl Transport for TcpTransport {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // Reading never raises SIGPIPE. Between keep-alive requests the connection yields to
        // the other tasks before reading (see `conn.rs`), so under load this `recv` usually
        // finds the next request and no wait on the reactor (with its `epoll_ctl`) is needed.
        let now = server::tasks_run();
        let others_ran = now.wrapping_sub(self.last_recv.swap(now, Relaxed)) > 1;
        loop {
            match rustix::net::recv(&self.stream, &mut *buf, RecvFlags::empty()) {
                Ok((n, _)) => {
                    self.misses.store(0, Relaxed);
                    return Poll::Ready(Ok(n));
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {
                    let misses = self.misses.load(Relaxed);
                    if others_ran && misses < MISS_YIELDS {
                        self.misses.store(misses + 1, Relaxed);
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
            std::task::ready!(self.stream.poll_readable(cx))?;
        }
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_send_with(cx, buf, SEND_FLAGS)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.stream.get_ref().shutdown(std::net::Shutdown::Write)
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
}

/// Listen backlog: connections the kernel queues before `accept` (capped by `somaxconn`).
pub(crate) const BACKLOG: i32 = 4096;

/// A nonblocking listening socket: `SO_REUSEADDR`, optionally `SO_REUSEPORT` (several
/// listeners on one port, the kernel spreading connections), and a deep backlog.
pub(crate) fn listen(
    addr: SocketAddr,
    reuse_port: bool,
) -> io::Result<Async<std::net::TcpListener>> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    if reuse_port {
        #[cfg(unix)]
        rustix::net::sockopt::set_socket_reuseport(&fd, true)?;
    }
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, BACKLOG)?;
    Async::new(std::net::TcpListener::from(fd))
}

/// Writes `buf` to a nonblocking socket the way smolweb does, outside any connection.
///
/// This is the same `send(MSG_NOSIGNAL)` path the server uses, exposed so the SIGPIPE
/// guarantee can be demonstrated on a bare socket (see `tests/sigpipe.rs`).
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let client = TcpStream::connect(listener.local_addr()?)?;
/// let (server, _) = listener.accept()?;
/// let n = smol::block_on(smolweb::socket::send(&async_io::Async::new(server)?, b"hi"))?;
/// assert_eq!(n, 2);
/// # drop(client);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn send(stream: &Async<TcpStream>, buf: &[u8]) -> io::Result<usize> {
    stream
        .write_with(|s| rustix::net::send(s, buf, SEND_FLAGS).map_err(io::Error::from))
        .await
}
