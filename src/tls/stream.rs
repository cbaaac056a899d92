//! The TLS handshake, and a TLS session as a [`Transport`]: [`TlsTransport`].
//!
//! What must stay true: `poll_send` answers `Ready(Ok(n))` only once the records holding
//! those `n` bytes have left through the TCP transport (so a response that was sent is on the
//! wire, as over plain TCP), and a session ends with `close_notify` before the FIN, however
//! the connection ends.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_io::Timer;
use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::TlsAcceptor;
use futures_rustls::rustls::ServerConfig;
use futures_rustls::server::TlsStream;

use super::io::SocketIo;
use crate::socket::TcpTransport;
use crate::transport::{TlsInfo, Transport};

/// What a client that spoke plain HTTP to the TLS port is told before the close (nginx
/// answers it with a 400 too).
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\
content-length: 33\r\nconnection: close\r\n\r\nthis port speaks HTTPS, not HTTP\n";

/// Why a handshake did not make a session.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// Not done within the timeout (a client that sent nothing, or stalled).
    TimedOut,
    /// Plain HTTP came instead (answered with a 400).
    PlainHttp,
    /// The client's TLS was refused, or the connection failed.
    Failed(io::Error),
}

impl std::fmt::Display for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handshake::TimedOut => f.write_str("TLS handshake timed out"),
            Handshake::PlainHttp => f.write_str("plain HTTP sent to the TLS port"),
            Handshake::Failed(e) => write!(f, "TLS handshake failed: {e}"),
        }
    }
}

/// Runs the server side of a handshake on `tcp` with `config`, for at most `timeout`.
pub(crate) async fn accept(
    tcp: TcpTransport,
    config: Arc<ServerConfig>,
    timeout: Duration,
) -> Result<TlsTransport, Handshake> {
    let peer = tcp.peer_addr();
    let handshake = TlsAcceptor::from(config)
        .accept(SocketIo::new(tcp))
        .into_fallible();
    let timer = async {
        Timer::after(timeout).await;
        Err(Handshake::TimedOut)
    };
    let done = async { Ok(handshake.await) };
    match futures_lite::future::or(done, timer).await? {
        Ok(stream) => Ok(TlsTransport::new(stream, peer)),
        Err((e, io)) => {
            if io.first.is_some_and(|b| b.is_ascii_alphabetic()) {
                // Best effort, through the socket module; then the drop closes.
                let send = async {
                    let mut rest = PLAIN_HTTP_ANSWER;
                    while !rest.is_empty() {
                        match std::future::poll_fn(|cx| io.tcp.poll_send(cx, rest)).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => rest = &rest[n..],
                        }
                    }
                };
                let give_up = async {
                    Timer::after(timeout).await;
                };
                futures_lite::future::or(send, give_up).await;
                let _ = io.tcp.shutdown_write();
                return Err(Handshake::PlainHttp);
            }
            Err(Handshake::Failed(e))
        }
    }
}

/// A TLS session over TCP, as the connection reads and writes it.
pub(crate) struct TlsTransport {
    inner: Mutex<Session>,
    peer: Option<SocketAddr>,
    info: Arc<TlsInfo>,
}

struct Session {
    stream: TlsStream<SocketIo>,
    /// Plaintext bytes the last `poll_send` gave rustls whose records are not all sent yet;
    /// answered once they are.
    accepted: usize,
    /// `close_notify` was queued.
    closing: bool,
}

impl TlsTransport {
    fn new(stream: TlsStream<SocketIo>, peer: Option<SocketAddr>) -> Self {
        let session = stream.get_ref().1;
        let info = TlsInfo {
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
            server_name: session.server_name().map(str::to_owned),
            version: session.protocol_version().map(|v| format!("{v:?}")),
            peer_certificates: session
                .peer_certificates()
                .map(|chain| chain.iter().map(|cert| cert.to_vec()).collect())
                .unwrap_or_default(),
        };
        TlsTransport {
            inner: Mutex::new(Session {
                stream,
                accepted: 0,
                closing: false,
            }),
            peer,
            info: Arc::new(info),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Session> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Session {
    /// Queues `close_notify` and sends what it can of it now, without waiting.
    fn close_notify(&mut self) {
        if !self.closing {
            self.closing = true;
            self.stream.get_mut().1.send_close_notify();
        }
        let mut cx = Context::from_waker(Waker::noop());
        let _ = Pin::new(&mut self.stream).poll_flush(&mut cx);
    }
}

impl Transport for TlsTransport {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut session = self.lock();
        Pin::new(&mut session.stream).poll_read(cx, buf)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut session = self.lock();
        if session.accepted == 0 {
            let n = std::task::ready!(Pin::new(&mut session.stream).poll_write(cx, buf))?;
            session.accepted = n;
        }
        // The records for them must be out before they count as sent.
        std::task::ready!(Pin::new(&mut session.stream).poll_flush(cx))?;
        Poll::Ready(Ok(std::mem::take(&mut session.accepted)))
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.lock().close_notify();
        self.lock().stream.get_ref().0.tcp.shutdown_write()
    }

    fn shutdown(&self) -> io::Result<()> {
        self.lock().stream.get_ref().0.tcp.shutdown()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    fn tls(&self) -> Option<Arc<TlsInfo>> {
        Some(self.info.clone())
    }
}

impl Drop for TlsTransport {
    fn drop(&mut self) {
        // However the connection ends: `close_notify`, then the FIN of the socket's close.
        self.lock().close_notify();
    }
}
