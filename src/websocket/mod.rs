//! WebSocket (RFC 6455) endpoints, on [protocol upgrades](crate::Upgrade) (cargo feature
//! `websocket`, off by default).
//!
//! [`websocket`](crate::websocket()) makes a handler from an async closure that gets each
//! [`WebSocket`]:
//!
//! ```
//! use smolweb::Router;
//!
//! let app = Router::new().get(
//!     "/echo",
//!     smolweb::websocket(|mut ws| async move {
//!         while let Some(Ok(msg)) = ws.recv().await {
//!             if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     }),
//! );
//! # let _ = app;
//! ```
//!
//! The handshake is checked by [`WebSocketUpgrade`] (version 13, the key, the `Origin`
//! against Cross-Site WebSocket Hijacking, the subprotocol); frames are
//! [async-tungstenite](https://docs.rs/async-tungstenite)'s, over the upgraded connection, so
//! every byte still leaves through the socket module's `send(MSG_NOSIGNAL)`. The limits are in
//! [`WebSocketConfig`]. The book's *WebSocket* chapter has the whole picture.

mod config;
mod handshake;
mod socket;

use std::future::Future;
use std::sync::Arc;

use http_types::Response;

use crate::handler::{BoxFuture, Handler};
use crate::request::Request;
use crate::slot::FutureSlot;

pub use async_tungstenite::tungstenite::protocol::CloseFrame;
pub use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
pub use async_tungstenite::tungstenite::{Error, Message};
pub use config::{MAX_MESSAGE_BYTES, Origins, WebSocketConfig};
pub use handshake::WebSocketUpgrade;
pub use socket::WebSocket;

/// A handler that accepts the WebSocket handshakes of its route and runs `on_socket` with
/// each socket; other requests get the handshake's refusal (`426`, `400`, `403`: see
/// [`WebSocketUpgrade::new`]). The limits are [`WebSocketConfig::default`]'s unless
/// [`config`](WebSocketHandler::config) says otherwise.
///
/// ```
/// use smolweb::websocket::{Message, WebSocketConfig};
///
/// let config = WebSocketConfig { max_message_bytes: 4096, ..WebSocketConfig::default() };
/// let handler = smolweb::websocket(|mut ws| async move {
///     let _ = ws.send(Message::text("hello")).await;
/// })
/// .config(config);
/// let app = smolweb::Router::new().get("/ws", handler);
/// # let _ = app;
/// ```
pub fn websocket<F, Fut>(on_socket: F) -> WebSocketHandler<F>
where
    F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    WebSocketHandler {
        on_socket: Arc::new(on_socket),
        config: WebSocketConfig::default(),
    }
}

/// The handler [`websocket`](crate::websocket()) makes.
pub struct WebSocketHandler<F> {
    on_socket: Arc<F>,
    config: WebSocketConfig,
}

impl<F> WebSocketHandler<F> {
    /// Sets the limits and checks.
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }
}

impl<F> std::fmt::Debug for WebSocketHandler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketHandler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<F, Fut> WebSocketHandler<F>
where
    F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn answer(&self, req: &Request) -> Response {
        match WebSocketUpgrade::new(req, &self.config) {
            Ok(upgrade) => {
                let on_socket = self.on_socket.clone();
                upgrade.on_upgrade(move |ws| (*on_socket)(ws))
            }
            Err(refusal) => refusal,
        }
    }
}

impl<F, Fut> Handler for WebSocketHandler<F>
where
    F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        Box::pin(std::future::ready(self.answer(&req)))
    }

    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        slot.put(std::future::ready(self.answer(&req)));
    }
}
