//! The server's side of the opening handshake (RFC 6455 §4.2): [`WebSocketUpgrade`].

use std::future::Future;

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use http_types::{Method, Response, StatusCode};

use super::config::WebSocketConfig;
use super::socket::WebSocket;
use crate::request::Request;
use crate::response::{IntoResponse, text_response};
use crate::upgrade::Upgrade;

/// A request's WebSocket handshake, checked and ready to accept.
///
/// [`websocket`](super::websocket) makes one for every request of its route; make one
/// yourself to look at the request first (a cookie, the chosen subprotocol) and decline with
/// a response of your own:
///
/// ```
/// use smolweb::websocket::{WebSocketConfig, WebSocketUpgrade};
/// use smolweb::{Request, Response, StatusCode, IntoResponse};
///
/// async fn chat(req: Request) -> Response {
///     let upgrade = match WebSocketUpgrade::new(&req, &WebSocketConfig::default()) {
///         Ok(upgrade) => upgrade,
///         Err(refusal) => return refusal, // 400, 403 or 426, with the reason
///     };
///     if req.header("cookie").is_none() {
///         return (StatusCode::Unauthorized, "log in first").into_response();
///     }
///     upgrade.on_upgrade(|mut ws| async move {
///         while let Some(Ok(msg)) = ws.recv().await {
///             if ws.send(msg).await.is_err() {
///                 break;
///             }
///         }
///     })
/// }
/// # let _ = chat;
/// ```
#[derive(Debug)]
pub struct WebSocketUpgrade {
    accept: String,
    protocol: Option<String>,
    config: WebSocketConfig,
}

impl WebSocketUpgrade {
    /// Checks `req`'s handshake against `config`. `Err` is the response to send instead:
    /// `426 Upgrade Required` to a request that does not ask for a WebSocket (or asks for a
    /// version other than 13, with `Sec-WebSocket-Version: 13`), `400 Bad Request` for a
    /// malformed handshake (no or a bad `Sec-WebSocket-Key`, no version, not `GET`), `403
    /// Forbidden` for an `Origin` that `config.origins` does not allow.
    #[allow(clippy::result_large_err)] // the refusal is a response to return, once
    pub fn new(req: &Request, config: &WebSocketConfig) -> Result<Self, Response> {
        if !req.wants_upgrade("websocket") {
            let mut res = text_response(
                StatusCode::UpgradeRequired,
                "this is a WebSocket endpoint\n",
            );
            res.insert_header("upgrade", "websocket");
            res.insert_header("sec-websocket-version", "13");
            return Err(res);
        }
        let bad = |why: &str| text_response(StatusCode::BadRequest, format!("{why}\n"));
        if req.method() != Method::Get {
            return Err(bad("a WebSocket handshake is a GET"));
        }
        match req.header("sec-websocket-version").map(str::trim) {
            Some("13") => {}
            Some(_) => {
                let mut res = text_response(
                    StatusCode::UpgradeRequired,
                    "unsupported WebSocket version\n",
                );
                res.insert_header("sec-websocket-version", "13");
                return Err(res);
            }
            None => return Err(bad("no Sec-WebSocket-Version")),
        }
        let key = req.header("sec-websocket-key").map(str::trim);
        let Some(key) = key.filter(|k| is_key(k)) else {
            return Err(bad("no valid Sec-WebSocket-Key"));
        };
        if !config
            .origins
            .allow(req.header("origin"), req.header("host"))
        {
            return Err(text_response(
                StatusCode::Forbidden,
                "this origin may not open a WebSocket here\n",
            ));
        }
        let offered = req.header("sec-websocket-protocol").unwrap_or_default();
        let protocol = config
            .protocols
            .iter()
            .find(|ours| offered.split(',').any(|p| p.trim() == ours.as_str()))
            .cloned();
        Ok(WebSocketUpgrade {
            accept: derive_accept_key(key.as_bytes()),
            protocol,
            config: config.clone(),
        })
    }

    /// The subprotocol chosen, if any (see [`WebSocketConfig::protocols`]).
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Accepts: the `101` to return from the handler; `on_upgrade` runs with the socket once
    /// it is sent.
    pub fn on_upgrade<F, Fut>(self, on_upgrade: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let WebSocketUpgrade {
            accept,
            protocol,
            config,
        } = self;
        let chosen = protocol.clone();
        let mut res = Upgrade::new("websocket", move |upgraded| async move {
            on_upgrade(WebSocket::new(upgraded, &config, chosen).await).await
        })
        .into_response();
        res.insert_header("sec-websocket-accept", accept);
        if let Some(protocol) = protocol {
            res.insert_header("sec-websocket-protocol", protocol);
        }
        res
    }
}

/// A `Sec-WebSocket-Key`: the base64 of 16 bytes (24 characters, the last two `==`).
fn is_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b.ends_with(b"==")
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_the_rfc_example() {
        assert!(is_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZQ=!"));
        assert!(!is_key("dGhlIHNhbXBsZSBub25j*Q=="));
        // RFC 6455 §1.3.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
