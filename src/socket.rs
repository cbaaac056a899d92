//! The only place that writes to sockets.
//!
//! Every byte smolweb puts on a TCP connection goes through [`TcpTransport::poll_send`], which
//! calls `send(2)` with `MSG_NOSIGNAL` on the nonblocking socket. A peer that has gone away
//! (FIN or RST) turns into an `EPIPE`/`ECONNRESET` error for that one connection, never a
//! `SIGPIPE` for the process, whatever the process' SIGPIPE disposition is. On Apple and BSD
//! targets, which have no `MSG_NOSIGNAL`, `SO_NOSIGPIPE` is set on the socket at accept.
//!
//! What is deliberately *not* here: `write`/`write_vectored` (std's `write_vectored` on a
//! socket is `writev`, which raises SIGPIPE). `sendfile`, which takes no flags, is here only
//! with the `sendfile` feature, as one call made only on a thread whose SIGPIPE is blocked
//! (`zero_copy.rs` explains why that is enough). Anything layered on a TCP connection (TLS,
//! an upgraded protocol) writes through [`TcpTransport`], so through this module.
//!
//! The module knows nothing of requests, files or servers: it receives, sends, makes the
//! listening socket, and asks the runtime whether a `recv` that found nothing should yield
//! (`runtime.rs`).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(all(feature = "sendfile", target_os = "linux"))]
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use async_io::Async;
use rustix::net::{RecvFlags, SendFlags};

use crate::runtime::MissedRecv;
use crate::transport::{PeerCredentials, Transport};

/// A stream socket as a [`Transport`]: reads with `recv`, writes with `send(MSG_NOSIGNAL)`.
/// [`TcpTransport`] and [`UnixTransport`] are its two kinds.
#[derive(Debug)]
pub struct SocketTransport<S> {
    stream: Async<S>,
    peer: Option<SocketAddr>,
    credentials: Option<PeerCredentials>,
    missed: MissedRecv,
}

/// A TCP connection as a [`Transport`].
pub type TcpTransport = SocketTransport<TcpStream>;

/// A Unix-domain stream connection as a [`Transport`], with the peer's credentials.
#[cfg(unix)]
pub type UnixTransport = SocketTransport<UnixStream>;

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
            credentials: None,
            missed: MissedRecv::default(),
        })
    }
}

#[cfg(unix)]
impl UnixTransport {
    /// Prepares an accepted Unix-domain stream, reading its peer's credentials (Linux).
    pub(crate) fn unix(stream: Async<UnixStream>) -> io::Result<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let credentials = rustix::net::sockopt::socket_peercred(&stream)
            .ok()
            .map(|cred| PeerCredentials {
                pid: cred.pid.as_raw_nonzero().get() as u32,
                uid: cred.uid.as_raw(),
                gid: cred.gid.as_raw(),
            });
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let credentials = None;
        Ok(SocketTransport {
            stream,
            peer: None,
            credentials,
            missed: MissedRecv::default(),
        })
    }
}

impl<S: AsFd> SocketTransport<S> {
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

/// What one `sendfile` call did.
#[cfg(all(feature = "sendfile", target_os = "linux"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFile {
    /// This many bytes of the file went out (`0`: the file ended before `count`).
    Sent(usize),
    /// This thread does not hold SIGPIPE blocked: `sendfile` was not called, and the caller
    /// copies the file instead.
    NotHere,
}

#[cfg(all(feature = "sendfile", target_os = "linux"))]
impl TcpTransport {
    /// Sends `buf` with `MSG_MORE` as well as `MSG_NOSIGNAL`: the kernel holds it back to
    /// share segments with what follows (a response head before its file; what `TCP_CORK`
    /// does for nginx).
    pub(crate) fn poll_send_more(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_send_with(cx, buf, SEND_FLAGS | SendFlags::MORE)
    }

    /// One `sendfile(2)` of at most `count` bytes of `file` from `*offset` (advanced by what
    /// was sent), waiting for the reactor while the socket is full: the only `sendfile` in
    /// smolweb.
    ///
    /// It is called only where SIGPIPE cannot kill the process: the thread must hold SIGPIPE
    /// blocked (`zero_copy.rs`), checked in the same poll as the call, since a task may move
    /// between threads between two polls. Elsewhere it answers [`SendFile::NotHere`].
    pub(crate) fn poll_send_file(
        &self,
        cx: &mut Context<'_>,
        file: &std::fs::File,
        offset: &mut u64,
        count: usize,
    ) -> Poll<io::Result<SendFile>> {
        loop {
            if !crate::zero_copy::allowed_here() {
                return Poll::Ready(Ok(SendFile::NotHere));
            }
            match rustix::fs::sendfile(&self.stream, file, Some(&mut *offset), count) {
                Ok(n) => {
                    crate::zero_copy::BYTES.fetch_add(n as u64, Relaxed);
                    return Poll::Ready(Ok(SendFile::Sent(n)));
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(e) => return Poll::Ready(Err(e.into())),
            }
            std::task::ready!(self.stream.poll_writable(cx))?;
        }
    }
}

impl<S: AsFd + Send + Sync + 'static> Transport for SocketTransport<S> {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // Reading never raises SIGPIPE. Between keep-alive requests the connection yields to
        // the other tasks before reading (`conn/mod.rs`), so under load this `recv` usually
        // finds the next request and no wait on the reactor (with its `epoll_ctl`) is needed.
        let others_ran = self.missed.others_ran();
        loop {
            match rustix::net::recv(&self.stream, &mut *buf, RecvFlags::empty()) {
                Ok((n, _)) => {
                    self.missed.found();
                    return Poll::Ready(Ok(n));
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {
                    if self.missed.should_yield(others_ran) {
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
        Ok(rustix::net::shutdown(
            &self.stream,
            rustix::net::Shutdown::Write,
        )?)
    }

    fn shutdown(&self) -> io::Result<()> {
        Ok(rustix::net::shutdown(
            &self.stream,
            rustix::net::Shutdown::Both,
        )?)
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    fn peer_credentials(&self) -> Option<PeerCredentials> {
        self.credentials
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
