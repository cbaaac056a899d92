//! HTTPS: TLS on [rustls](https://docs.rs/rustls) 0.23, through futures-rustls, with the
//! `ring` provider and TLS 1.2 and 1.3 (feature `tls`, off by default).
//!
//! ```no_run
//! use smolweb::{Router, Server, tls::TlsConfig};
//!
//! let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//! let app = Router::new().get("/", |_| async { "Hello, World!" });
//! Server::bind("0.0.0.0:8443")?.tls(tls).run(app)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The TLS session runs over the same TCP transport as plain HTTP, so every record leaves
//! through [`socket`](crate::socket)'s `send(MSG_NOSIGNAL)`: a client that vanishes mid-record
//! is an error for its connection, never a `SIGPIPE`. Files are copied through TLS in chunks
//! (no kernel TLS, so no `sendfile`). A closing connection sends `close_notify` before its
//! FIN. The handshake must end within [`header_timeout`](crate::Config::header_timeout) of the
//! accept; then the first request head has its own `header_timeout`. Plain HTTP sent to the
//! TLS port is answered `400` and closed at once. Requests know they came over TLS:
//! [`Request::url`](crate::Request::url) is `https` and [`Request::tls`](crate::Request::tls)
//! gives the ALPN protocol, the SNI name and the version.
//!
//! | file | what it is |
//! | --- | --- |
//! | `config.rs` | [`TlsConfig`]: certificates from PEM files or a rustls config; reload |
//! | `io.rs` | the TCP transport as the byte stream rustls reads and writes |
//! | `stream.rs` | the handshake, and a TLS session as a [`Transport`](crate::Transport) |

mod config;
mod io;
mod stream;

pub use config::{TlsConfig, TlsError};
/// The rustls this feature is built on, to build a [`rustls::ServerConfig`] of your own (SNI
/// with several certificates, client certificates) for [`TlsConfig::from_rustls`].
pub use futures_rustls::rustls;
pub(crate) use stream::accept;
