//! [`WebSocketConfig`]: the limits and checks of a WebSocket endpoint.

use std::time::Duration;

use async_tungstenite::tungstenite::protocol::WebSocketConfig as Protocol;

/// Default of [`WebSocketConfig::max_message_bytes`] and `max_frame_bytes`.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// Limits and checks of a WebSocket endpoint. Build one from `WebSocketConfig::default()`
/// and change what you need:
///
/// ```
/// use std::time::Duration;
/// use smolweb::websocket::{Origins, WebSocketConfig};
///
/// let config = WebSocketConfig {
///     max_message_bytes: 64 * 1024,
///     idle_timeout: Duration::from_secs(20),
///     origins: Origins::Only(vec!["https://chat.example".into()]),
///     ..WebSocketConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketConfig {
    /// Largest message accepted, all its fragments together; a larger one closes the socket
    /// with code 1009 (message too big) and `recv` returns the error.
    ///
    /// **Default:** 2 MiB ([`MAX_MESSAGE_BYTES`]). **Unit:** bytes.
    pub max_message_bytes: usize,
    /// Largest frame accepted, checked on its header before its payload is read (a frame
    /// announced larger is refused at once, whatever follows).
    ///
    /// **Default:** 2 MiB ([`MAX_MESSAGE_BYTES`]). **Unit:** bytes.
    pub max_frame_bytes: usize,
    /// Silence from the client after which a ping is sent; if as much silence again follows,
    /// the connection is dropped (`recv` returns `None`).
    ///
    /// **Default:** 60 s. **Unit:** time.
    pub idle_timeout: Duration,
    /// How long a closing handshake may take: after smolweb sends a close frame (at shutdown,
    /// for a message too big, or on [`WebSocket::close`](super::WebSocket::close)), the
    /// client's close frame is awaited this long, then the connection is dropped.
    ///
    /// **Default:** 5 s. **Unit:** time.
    pub close_timeout: Duration,
    /// Which pages may open the socket, by their `Origin` (against Cross-Site WebSocket
    /// Hijacking: a browser sends the user's cookies with any page's WebSocket handshake).
    /// A handshake from another origin is refused with `403`.
    ///
    /// **Default:** [`Origins::SameHost`].
    pub origins: Origins,
    /// Subprotocols this endpoint speaks, in order of preference: the first one the client
    /// offers in `Sec-WebSocket-Protocol` is chosen (see
    /// [`WebSocket::protocol`](super::WebSocket::protocol)); with none in common, none is.
    ///
    /// **Default:** none.
    pub protocols: Vec<String>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_frame_bytes: MAX_MESSAGE_BYTES,
            idle_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(5),
            origins: Origins::SameHost,
            protocols: Vec::new(),
        }
    }
}

impl WebSocketConfig {
    /// The frame layer's configuration: the size limits, and small buffers (an idle socket
    /// keeps 4 KiB for reading, not the 128 KiB tungstenite defaults to).
    pub(crate) fn protocol(&self) -> Protocol {
        Protocol::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(4 * 1024)
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_frame_bytes))
    }
}

/// Which `Origin`s may open a WebSocket (see [`WebSocketConfig::origins`]). A handshake
/// without `Origin` is always let in: browsers send one with every WebSocket handshake, so
/// its absence means a client that is not a browser, which no page can drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Any page.
    Any,
    /// Pages served from the host the client connected to: the `Origin`'s host and port
    /// equal the request's `Host`.
    SameHost,
    /// These origins only, compared without regard to case, e.g. `https://chat.example`.
    Only(Vec<String>),
}

impl Origins {
    /// True if a handshake with this `origin` and `host` may go on.
    pub(crate) fn allow(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin.map(str::trim) else {
            return true;
        };
        match self {
            Origins::Any => true,
            Origins::SameHost => {
                let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
                host.is_some_and(|host| authority.eq_ignore_ascii_case(host.trim()))
            }
            Origins::Only(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let same = Origins::SameHost;
        assert!(same.allow(None, Some("a.example")));
        assert!(same.allow(Some("https://a.example:8080"), Some("A.example:8080")));
        assert!(!same.allow(Some("https://evil.example"), Some("a.example")));
        assert!(!same.allow(Some("null"), Some("a.example")));
        let only = Origins::Only(vec!["https://chat.example".into()]);
        assert!(only.allow(Some("HTTPS://chat.example"), None));
        assert!(!only.allow(Some("https://chat.example.evil"), None));
        assert!(Origins::Any.allow(Some("null"), None));
    }
}
