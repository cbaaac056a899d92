//! [`SocketIo`]: a [`TcpTransport`] as the `AsyncRead + AsyncWrite` byte stream rustls needs.
//!
//! Reads are `recv` and writes are `send(MSG_NOSIGNAL)` through the transport, so TLS records
//! leave through the socket module like every other byte. It remembers the first byte it
//! received, and stops at once at a letter there: plain HTTP, not a TLS record.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};

use crate::socket::TcpTransport;
use crate::transport::Transport;

/// The TCP connection under a TLS session.
#[derive(Debug)]
pub(crate) struct SocketIo {
    pub(crate) tcp: TcpTransport,
    /// The first byte the peer sent, once it came.
    pub(crate) first: Option<u8>,
}

impl SocketIo {
    pub(crate) fn new(tcp: TcpTransport) -> Self {
        SocketIo { tcp, first: None }
    }
}

impl AsyncRead for SocketIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = std::task::ready!(this.tcp.poll_recv(cx, buf))?;
        if this.first.is_none() && n > 0 {
            this.first = Some(buf[0]);
            // A TLS record begins with its type (22 for a handshake); a letter begins a
            // request line. Kept from rustls, which would answer it with an alert.
            if buf[0].is_ascii_alphabetic() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "plain HTTP on the TLS port",
                )));
            }
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for SocketIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.tcp.poll_send(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // `send` leaves nothing buffered on this side.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.tcp.shutdown_write())
    }
}
