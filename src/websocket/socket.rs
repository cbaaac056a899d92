//! [`WebSocket`]: one open socket, as a handler holds it.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use async_tungstenite::tungstenite::{Error, Message};
use futures_lite::StreamExt;
use futures_lite::future;

use super::config::WebSocketConfig;
use crate::deadline::Deadline;
use crate::upgrade::Upgraded;

/// An open WebSocket: [`recv`](Self::recv) the client's messages, [`send`](Self::send)
/// yours, [`close`](Self::close) when done.
///
/// Frames go through the upgraded connection's transport, so on TCP every byte leaves through
/// `send(2)` with `MSG_NOSIGNAL`: a client that goes away makes `send` or `recv` fail for
/// this socket, never raises a signal. Pings are answered for you. While a handler waits in
/// `recv`, three things happen without it:
///
/// * after [`idle_timeout`](WebSocketConfig::idle_timeout) of silence a ping goes out, and
///   after as much silence again the connection is dropped (`recv` returns `None`);
/// * a message over [`max_message_bytes`](WebSocketConfig::max_message_bytes) closes the
///   socket with code 1009 (`recv` returns that error, then `None`);
/// * when the server begins a graceful shutdown, the socket is closed with code 1001 (going
///   away) and `recv` returns `None` once the client answered (or
///   [`close_timeout`](WebSocketConfig::close_timeout) passed).
pub struct WebSocket {
    stream: WebSocketStream<Upgraded>,
    /// Completes when graceful shutdown begins; kept (so its listener is registered once) and
    /// polled until it has completed.
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    shutdown_seen: bool,
    /// The quiet period's clock: reset by every frame, armed once per period, not per frame.
    quiet: Deadline,
    peer: Option<SocketAddr>,
    protocol: Option<String>,
    idle_timeout: Duration,
    close_timeout: Duration,
    /// A ping went out after silence, and nothing came since.
    pinged: bool,
    /// A close frame went out: what comes now is the client's answer, then the end.
    closing: bool,
    /// The socket is over: `recv` returns `None`.
    ended: bool,
}

/// What one wait in `recv` ended with.
enum Event {
    Frame(Option<Result<Message, Error>>),
    Quiet,
    Shutdown,
}

impl WebSocket {
    pub(crate) async fn new(
        upgraded: Upgraded,
        config: &WebSocketConfig,
        protocol: Option<String>,
    ) -> WebSocket {
        let shutdown = Box::pin(upgraded.watch().begun_owned());
        let peer = upgraded.peer_addr();
        let stream =
            WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(config.protocol())).await;
        WebSocket {
            stream,
            shutdown,
            shutdown_seen: false,
            quiet: Deadline::new(),
            peer,
            protocol,
            idle_timeout: config.idle_timeout,
            close_timeout: config.close_timeout,
            pinged: false,
            closing: false,
            ended: false,
        }
    }

    /// The client's next message (text, binary, ping, pong, or its close frame), an error
    /// that ends the socket, or `None` once it is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        while !self.ended {
            let event = self.wait().await;
            match event {
                Event::Frame(None) => self.ended = true,
                Event::Frame(Some(Ok(msg))) => {
                    self.pinged = false;
                    self.quiet.reset();
                    if !self.closing {
                        return Some(Ok(msg));
                    }
                }
                Event::Frame(Some(Err(Error::Capacity(e)))) => {
                    self.start_close(CloseCode::Size, "message too big").await;
                    return Some(Err(Error::Capacity(e)));
                }
                Event::Frame(Some(Err(e))) => {
                    self.ended = true;
                    return Some(Err(e));
                }
                Event::Quiet if self.closing || self.pinged => self.ended = true,
                Event::Quiet => {
                    self.pinged = true;
                    self.quiet.reset();
                    if self
                        .stream
                        .send(Message::Ping(Default::default()))
                        .await
                        .is_err()
                    {
                        self.ended = true;
                    }
                }
                Event::Shutdown => {
                    self.shutdown_seen = true;
                    self.start_close(CloseCode::Away, "server shutting down")
                        .await;
                }
            }
        }
        None
    }

    /// The next frame, silence, or shutdown: whichever comes first.
    async fn wait(&mut self) -> Event {
        let WebSocket {
            stream,
            shutdown,
            shutdown_seen,
            quiet,
            closing,
            idle_timeout,
            close_timeout,
            ..
        } = self;
        let period = if *closing {
            *close_timeout
        } else {
            *idle_timeout
        };
        let frame = async { Event::Frame(stream.next().await) };
        let timer = async {
            std::future::poll_fn(|cx| quiet.poll_expired(cx, period)).await;
            Event::Quiet
        };
        let stop = async {
            if *closing || *shutdown_seen {
                future::pending::<()>().await;
            }
            shutdown.as_mut().await;
            Event::Shutdown
        };
        future::or(frame, future::or(timer, stop)).await
    }

    /// Sends a close frame; `recv` then waits for the client's (at most `close_timeout`).
    async fn start_close(&mut self, code: CloseCode, reason: &str) {
        self.closing = true;
        self.quiet.reset();
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if self.stream.close(Some(frame)).await.is_err() {
            self.ended = true;
        }
    }

    /// Sends `msg`. An error means the socket is over (the client went away or closed it).
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.stream.send(msg).await
    }

    /// Closes with `code` and `reason` and waits for the client's close frame, at most
    /// [`close_timeout`](WebSocketConfig::close_timeout).
    pub async fn close(mut self, code: CloseCode, reason: &str) {
        self.start_close(code, reason).await;
        while self.recv().await.is_some() {}
    }

    /// The subprotocol chosen at the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The client's address, when served over TCP.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("peer", &self.peer)
            .field("protocol", &self.protocol)
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}
