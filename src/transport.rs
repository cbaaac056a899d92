//! The byte pipe a connection runs over.
//!
//! A connection reads request bytes with [`Transport::poll_recv`] and writes every response
//! byte with [`Transport::poll_send`]. For TCP the only implementation of the write side is
//! in [`crate::socket`], which sends with `MSG_NOSIGNAL`; [`crate::memory`] implements the
//! same trait in memory, so whole requests can run through a [`Router`](crate::Router) with no
//! port. A transport layered on another (TLS over TCP) writes through the one beneath it, so
//! its bytes still leave through the socket module.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A bidirectional byte stream that a connection is served over.
///
/// Both methods take `&self`: a request body being read by a handler and the connection
/// answering `100 Continue` share one transport.
///
/// # Example
///
/// ```
/// use smolweb::memory;
/// use smolweb::Transport;
///
/// let (client, server) = memory::pair();
/// // `server` can be passed to `Service::serve_connection`.
/// assert!(server.peer_addr().is_none());
/// # drop(client);
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Reads bytes into `buf`; `Ok(0)` means the peer finished sending.
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes some bytes of `buf`, returning how many were taken.
    ///
    /// Implementations must never raise a signal when the peer has gone away: they return an
    /// error (`BrokenPipe`, `ConnectionReset`, ...) instead.
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Ends the sending direction (TCP: `shutdown(SHUT_WR)`): the peer reads end of stream
    /// after what was sent, while this side can still read.
    fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }

    /// Ends both directions at once (TCP: `shutdown(SHUT_RDWR)`), possibly from another
    /// thread while a task waits in [`poll_recv`](Self::poll_recv): that wait then ends with
    /// end of stream. A [`Server`](crate::Server) uses it to close idle connections, oldest
    /// first, to make room for new ones at
    /// [`max_connections`](crate::Config::max_connections).
    ///
    /// **Default:** `Unsupported`; an idle connection on such a transport is never closed
    /// early.
    fn shutdown(&self) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The address of the peer, if the transport has one.
    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// Who is at the other end of a Unix-domain socket (its process, user and group), if
    /// the transport knows.
    ///
    /// **Default:** `None`.
    fn peer_credentials(&self) -> Option<PeerCredentials> {
        None
    }

    /// What TLS negotiated, if this transport is TLS: its requests then have `https` URLs.
    ///
    /// **Default:** `None` (plain text).
    fn tls(&self) -> Option<Arc<TlsInfo>> {
        None
    }
}

/// What a TLS connection negotiated, as its requests see it
/// ([`Request::tls`](crate::Request::tls)).
///
/// ```
/// let info = smolweb::TlsInfo {
///     alpn: Some(b"http/1.1".to_vec()),
///     server_name: Some("example.com".into()),
///     version: Some("TLSv1_3".into()),
///     peer_certificates: Vec::new(),
/// };
/// assert_eq!(info.alpn.as_deref(), Some(&b"http/1.1"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The application protocol agreed with ALPN (`http/1.1`), if the client offered any.
    pub alpn: Option<Vec<u8>>,
    /// The server name the client asked for (SNI), if it sent one.
    pub server_name: Option<String>,
    /// The protocol version, e.g. `TLSv1_3`.
    pub version: Option<String>,
    /// The certificate chain the client presented (DER, its own certificate first), when the
    /// server asks for client certificates (mTLS); empty otherwise.
    pub peer_certificates: Vec<Vec<u8>>,
}

/// The process at the other end of a Unix-domain socket (`SO_PEERCRED`), as its requests
/// see it ([`Request::peer_credentials`](crate::Request::peer_credentials)).
///
/// ```
/// let me = smolweb::PeerCredentials { pid: std::process::id(), uid: 1000, gid: 1000 };
/// assert!(me.pid > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCredentials {
    /// Its process id.
    pub pid: u32,
    /// Its user id.
    pub uid: u32,
    /// Its group id.
    pub gid: u32,
}

/// Where a connection's requests come from: the peer, and TLS if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Remote {
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) tls: Option<Arc<TlsInfo>>,
    pub(crate) credentials: Option<PeerCredentials>,
}

impl Remote {
    pub(crate) fn of<T: Transport>(transport: &T) -> Self {
        Remote {
            peer: transport.peer_addr(),
            tls: transport.tls(),
            credentials: transport.peer_credentials(),
        }
    }
}
