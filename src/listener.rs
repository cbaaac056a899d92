//! [`Listener`]: what a server accepts connections on — a TCP socket, or a Unix-domain socket
//! bound to a path (its stale file handled) — and what an accept gives.

use std::io;
use std::net::TcpListener;
#[cfg(unix)]
use std::os::unix::net::UnixListener;
#[cfg(unix)]
use std::path::{Path, PathBuf};

use async_io::Async;

use crate::socket::TcpTransport;
#[cfg(unix)]
use crate::socket::UnixTransport;

/// A listening socket.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(Async<TcpListener>),
    /// The path (of a socket this process bound) is removed when the server stops.
    #[cfg(unix)]
    Unix(Async<UnixListener>, Option<PathBuf>),
}

/// An accepted connection, ready to serve.
pub(crate) enum Accepted {
    Tcp(TcpTransport),
    #[cfg(unix)]
    Unix(UnixTransport),
}

impl Listener {
    /// Waits for the next connection. `Ok(None)`: one was accepted but could not be set up
    /// (it is dropped; the server goes on).
    pub(crate) async fn accept(&self) -> io::Result<Option<Accepted>> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok(match TcpTransport::new(stream, Some(peer)) {
                    Ok(transport) => Some(Accepted::Tcp(transport)),
                    Err(e) => {
                        log::debug!("could not set up connection from {peer}: {e}");
                        None
                    }
                })
            }
            #[cfg(unix)]
            Listener::Unix(listener, _) => {
                let (stream, _) = listener.accept().await?;
                Ok(UnixTransport::unix(stream).ok().map(Accepted::Unix))
            }
        }
    }

    /// Completes when a connection waits to be accepted.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            Listener::Tcp(listener) => listener.readable().await,
            #[cfg(unix)]
            Listener::Unix(listener, _) => listener.readable().await,
        }
    }

    /// Closes the listener; a Unix socket's file is removed.
    pub(crate) fn close(self) {
        #[cfg(unix)]
        if let Listener::Unix(listener, Some(path)) = self {
            drop(listener);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl std::os::fd::AsFd for Listener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Listener::Tcp(listener) => listener.as_fd(),
            #[cfg(unix)]
            Listener::Unix(listener, _) => listener.as_fd(),
        }
    }
}

/// Binds a Unix-domain socket at `path`. A socket file left by a server that is gone (nothing
/// accepts on it) is replaced; a socket something still listens on is `AddrInUse`; any other
/// file there is `AlreadyExists` and left alone.
#[cfg(unix)]
pub(crate) fn bind_unix(path: &Path) -> io::Result<Listener> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("a server is listening on {} already", path.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path)?;
            }
            Err(e) => return Err(e),
        }
    }
    let listener = UnixListener::bind(path)?;
    Ok(Listener::Unix(Async::new(listener)?, Some(path.to_owned())))
}
