//! Restarts without a supervisor: a new process takes the running server's listening sockets
//! over a Unix-domain control socket (`SCM_RIGHTS`), as nginx does on a binary upgrade.
//!
//! | file | what it is |
//! | --- | --- |
//! | `mod.rs` | [`Handoff`] (take over or bind), [`HandoffError`], and the start of serving |
//! | `start.rs` | what a server does with its handoff when serving begins |
//! | `control.rs` | the control socket (mode 0600, renamed into place) and the running side's loop |
//! | `wire.rs` | the messages both sides exchange |
//!
//! The sockets are the same ones, not new ones on the same port: the connections waiting in
//! their queues are accepted by the successor, so a restart neither refuses nor resets any.

mod control;
pub(crate) mod start;
mod wire;

pub(crate) use start::HandoffState;

use std::fmt;
use std::io;
use std::net::{TcpListener, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use control::Control;

use crate::listener::Listener;
use crate::server::{Server, first_addr};

/// How to start: take the listening sockets of the server running at a control socket's
/// path, or bind them when none runs there; then, while serving, hand them on to the next
/// process started the same way. Made by [`Server::handoff`].
///
/// The running server stops accepting only once its successor accepts on the same sockets
/// (the connections waiting in their queues go to the successor), then drains as on
/// SIGTERM — without the [`drain_delay`](crate::Config::drain_delay), and with its health
/// check still passing, since the port goes on being served — and its `run` returns.
#[derive(Debug, Clone)]
pub struct Handoff {
    path: PathBuf,
}

impl Server {
    /// Starts with a listener handoff on the control socket `path` (Unix). See
    /// [`Handoff::bind`]: the first process binds the address, each later one started with
    /// the same `path` takes over from the one before. The control socket has mode 0600 and
    /// only a process of the same user (or root) is given the sockets; put it in a directory
    /// only that user can write (`/run/myapp/`).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("smolweb-handoff-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("handoff.sock");
    /// let server = smolweb::Server::handoff(&path).bind("127.0.0.1:0")?;
    /// // Nobody ran at `path`: this server bound the address, and listens at `path`.
    /// assert_ne!(server.local_addr().port(), 0);
    /// assert!(path.exists());
    /// drop(server); // its control socket file goes with it
    /// assert!(!path.exists());
    /// # std::fs::remove_dir(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handoff(path: impl AsRef<Path>) -> Handoff {
        Handoff {
            path: path.as_ref().to_owned(),
        }
    }
}

impl Handoff {
    /// A server on the listening sockets of the server running at the control socket (which
    /// go on accepting until this one [runs](Server::run)), or, when none runs there (no
    /// file, or a stale socket file nobody listens on, which is replaced), one bound to
    /// `addr` as [`Server::bind`] does. When serving begins, this server puts its own control
    /// socket at the path and tells the old one to stop.
    ///
    /// Errors: the old server is busy with another newcomer ([`HandoffError::Busy`]); it
    /// listens elsewhere than `addr` ([`HandoffError::Elsewhere`]; port 0 matches any); the
    /// path is a file that is not a socket ([`HandoffError::NotASocket`]); a step took
    /// longer than 30 s; or the bind's own errors. An old server that closes the connection
    /// before sending its sockets (it died) counts as none: `addr` is bound.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("smolweb-handoff-bind-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("handoff.sock");
    /// std::fs::write(&path, "not a socket")?;
    /// let err = smolweb::Server::handoff(&path).bind("127.0.0.1:0").unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// assert!(err.to_string().ends_with("exists and is not a socket"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(self, addr: impl ToSocketAddrs + fmt::Debug) -> io::Result<Server> {
        self.bind_with(addr, false)
    }

    /// [`bind`](Self::bind) for thread-per-core serving ([`Server::bind_per_core`]). Taking
    /// over from a per-core server gives one thread per socket it had, at least (each socket
    /// has its own queue, and every one must be accepted on); from a server with one socket
    /// without `SO_REUSEPORT`, the threads share it as with [`Server::bind`].
    ///
    /// ```no_run
    /// let app = smolweb::Router::new().get("/", |_| async { "hi" });
    /// smolweb::Server::handoff("/run/myapp/handoff.sock")
    ///     .bind_per_core("0.0.0.0:8080")?
    ///     .run(app)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_per_core(self, addr: impl ToSocketAddrs + fmt::Debug) -> io::Result<Server> {
        self.bind_with(addr, true)
    }

    fn bind_with(
        self,
        addr: impl ToSocketAddrs + fmt::Debug,
        per_core: bool,
    ) -> io::Result<Server> {
        let Some((listeners, predecessor)) = self.take_over()? else {
            let server = if per_core {
                Server::bind_per_core(addr)?
            } else {
                Server::bind(addr)?
            };
            let state = HandoffState::bound(self.path.clone(), Control::bind(&self.path)?);
            return Ok(server.with_handoff(state, Vec::new(), per_core));
        };
        let found = listeners[0].local_addr()?;
        if let Ok(asked) = first_addr(&addr) {
            if asked.port() != 0 && asked != found {
                let e =
                    HandoffError::Elsewhere(format!("{addr:?}").trim_matches('"').into(), found);
                return Err(io::Error::new(io::ErrorKind::AddrInUse, e));
            }
        }
        log::info!(
            "took over {} listening socket(s) on {found} from {}",
            listeners.len(),
            self.path.display()
        );
        let mut listeners = listeners
            .into_iter()
            .map(|l| Ok(Listener::Tcp(async_io::Async::new(l)?)));
        let first = listeners.next().expect("at least one listener")?;
        let rest = listeners.collect::<io::Result<Vec<_>>>()?;
        let shares_port = rustix::net::sockopt::socket_reuseport(&first).unwrap_or(false);
        let per_core = !rest.is_empty() || (per_core && shares_port);
        let state = HandoffState::taken(self.path, predecessor);
        Ok(Server::on_listener(first, found).with_handoff(state, rest, per_core))
    }

    /// The running server's sockets and the connection to it, or `None` when nobody answers
    /// at the path (a first start, a stale socket file, a server that went away mid-handoff).
    fn take_over(&self) -> io::Result<Option<(Vec<TcpListener>, UnixStream)>> {
        // A server that closes without sending has died, or has just handed over and closed
        // its control socket (the path is then its successor's): ask again, a few times,
        // before binding, so as never to bind beside a live server.
        for _ in 0..3 {
            control::check_socket_or_absent(&self.path)?;
            let conn = match UnixStream::connect(&self.path) {
                Ok(conn) => conn,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            match wire::receive(&conn, control::STEP_TIMEOUT) {
                Ok(Some(listeners)) => return Ok(Some((listeners, conn))),
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(100)),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(HandoffError::TimedOut.into());
                }
                Err(e) => return Err(e),
            }
        }
        log::warn!(
            "{}: the server went away before handing over; binding",
            self.path.display()
        );
        Ok(None)
    }
}

/// Why a [`Handoff`] could not take over, or a handoff to a successor failed. It travels in
/// an `io::Error` (of kind `AlreadyExists` for [`NotASocket`](Self::NotASocket), `AddrInUse`
/// for [`Busy`](Self::Busy) and [`Elsewhere`](Self::Elsewhere), `TimedOut`, `InvalidData`).
///
/// ```
/// use smolweb::HandoffError;
/// assert_eq!(HandoffError::Busy.to_string(), "another process is taking the listeners over");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HandoffError {
    /// The running server is handing its listeners to another newcomer.
    Busy,
    /// The running server listens on another address than the one asked for (asked, found).
    Elsewhere(String, std::net::SocketAddr),
    /// The control socket's path is a file that is not a socket (left alone).
    NotASocket(PathBuf),
    /// The control socket's path has no file name.
    NotAFile,
    /// The other side sent something that is not this protocol.
    Protocol,
    /// The other side did not answer in time (30 s per step).
    TimedOut,
    /// The newcomer went away before it took the listeners.
    Abandoned,
    /// A process of another user (this uid) asked for the listeners.
    Denied(u32),
    /// The control socket failed.
    Io(io::Error),
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffError::Busy => f.write_str("another process is taking the listeners over"),
            HandoffError::Elsewhere(asked, found) => {
                write!(
                    f,
                    "asked for {asked}, but the running server listens on {found}"
                )
            }
            HandoffError::NotASocket(path) => {
                write!(f, "{} exists and is not a socket", path.display())
            }
            HandoffError::NotAFile => f.write_str("the handoff path has no file name"),
            HandoffError::Protocol => f.write_str("not a smolweb handoff"),
            HandoffError::TimedOut => f.write_str("the other process did not answer in time"),
            HandoffError::Abandoned => f.write_str("the newcomer went away"),
            HandoffError::Denied(uid) => write!(f, "refused to uid {uid} (another user)"),
            HandoffError::Io(e) => write!(f, "control socket: {e}"),
        }
    }
}

impl std::error::Error for HandoffError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandoffError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for HandoffError {
    fn from(e: io::Error) -> Self {
        HandoffError::Io(e)
    }
}

impl From<HandoffError> for io::Error {
    fn from(e: HandoffError) -> Self {
        let kind = match &e {
            HandoffError::Busy | HandoffError::Elsewhere(..) => io::ErrorKind::AddrInUse,
            HandoffError::NotASocket(_) => io::ErrorKind::AlreadyExists,
            HandoffError::TimedOut => io::ErrorKind::TimedOut,
            HandoffError::Denied(_) => io::ErrorKind::PermissionDenied,
            HandoffError::Io(e) => e.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}
