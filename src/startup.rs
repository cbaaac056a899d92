//! Errors found before anything is served, worded for the person who started the server: one
//! line naming what was given and what is wrong with it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why [`Server::bind`](crate::Server::bind) (or `bind_per_core`) could not listen: the
/// address as it was given, and the cause, in one line such as
/// `cannot listen on 127.0.0.1:80: address already in use`.
///
/// It travels inside the `io::Error` that `bind` returns, whose kind is the cause's
/// (`AddrInUse`, `PermissionDenied`, `InvalidInput`, ...); the system's own error is its
/// [`source`](std::error::Error::source).
///
/// ```
/// use std::net::TcpListener;
/// use smolweb::{BindError, Server};
///
/// let taken = TcpListener::bind("127.0.0.1:0")?;
/// let addr = taken.local_addr()?;
/// let err = Server::bind(addr).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
/// assert_eq!(err.to_string(), format!("cannot listen on {addr}: address already in use"));
/// let bind = err.get_ref().and_then(|e| e.downcast_ref::<BindError>()).unwrap();
/// assert_eq!(bind.addr(), addr.to_string());
///
/// let err = Server::bind("127.0.0.1:notaport").unwrap_err();
/// assert_eq!(err.to_string(), "cannot listen on 127.0.0.1:notaport: invalid port");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BindError {
    addr: String,
    cause: String,
    source: io::Error,
}

/// Where binding failed: turning the address into socket addresses, or listening on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindStep {
    Resolve,
    Listen { port: u16 },
}

impl BindError {
    /// The `io::Error` for `source`, a failure of `step` for the address written `addr`
    /// (its `Debug` form: a string's quotes are taken off).
    pub(crate) fn io(addr: &dyn fmt::Debug, step: BindStep, source: io::Error) -> io::Error {
        let addr = format!("{addr:?}");
        let addr = match addr.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
            Some(text) => text.to_string(),
            None => addr,
        };
        let cause = cause(step, &source);
        io::Error::new(
            source.kind(),
            BindError {
                addr,
                cause,
                source,
            },
        )
    }

    /// The address as it was given to `bind`.
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

/// The cause, in words for a person.
fn cause(step: BindStep, e: &io::Error) -> String {
    let text = e.to_string();
    match (step, e.kind()) {
        (BindStep::Resolve, io::ErrorKind::InvalidInput) => match text.as_str() {
            "invalid port value" => "invalid port".into(),
            "invalid socket address" => "not an address of the form HOST:PORT".into(),
            _ => "no such host".into(),
        },
        (BindStep::Resolve, _) => {
            let detail = text
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&text);
            if detail.contains("not known") || detail.contains("No address associated") {
                "no such host".into()
            } else {
                format!("cannot look the host up ({detail})")
            }
        }
        (BindStep::Listen { .. }, io::ErrorKind::AddrInUse) => "address already in use".into(),
        (BindStep::Listen { .. }, io::ErrorKind::AddrNotAvailable) => {
            "no such address on this machine".into()
        }
        (BindStep::Listen { port }, io::ErrorKind::PermissionDenied) if port < 1024 => {
            "permission denied (ports below 1024 need privileges)".into()
        }
        (BindStep::Listen { .. }, io::ErrorKind::PermissionDenied) => "permission denied".into(),
        (BindStep::Listen { .. }, _) => text,
    }
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot listen on {}: {}", self.addr, self.cause)
    }
}

impl std::error::Error for BindError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Why a [`ServeDir`](crate::ServeDir)'s root cannot be served, in one line such as
/// `./pubilc: no such directory`; see [`ServeDir::try_new`](crate::ServeDir::try_new).
///
/// ```
/// let err = smolweb::ServeDir::try_new("./pubilc").unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert_eq!(err.to_string(), "./pubilc: no such directory");
/// ```
#[derive(Debug)]
pub struct RootError {
    root: PathBuf,
    problem: RootProblem,
}

#[derive(Debug)]
enum RootProblem {
    Missing,
    NotADirectory,
    /// It is a directory, but this process may not look into it.
    Unreadable(io::Error),
    /// The directory opened at start was removed or renamed, and another took its path.
    Replaced,
}

impl RootError {
    /// `Ok` if `root` is a directory this process may look into.
    pub(crate) fn check(root: &Path) -> Result<(), RootError> {
        let problem = match std::fs::metadata(root) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => RootProblem::Missing,
            Err(e) => RootProblem::Unreadable(e),
            Ok(meta) if !meta.is_dir() => RootProblem::NotADirectory,
            Ok(_) => match rustix::fs::access(root, rustix::fs::Access::EXEC_OK) {
                Ok(()) => return Ok(()),
                Err(e) => RootProblem::Unreadable(e.into()),
            },
        };
        Err(RootError {
            root: root.to_path_buf(),
            problem,
        })
    }

    /// The directory at `root` is not the one opened at start.
    pub(crate) fn replaced(root: &Path) -> RootError {
        RootError {
            root: root.to_path_buf(),
            problem: RootProblem::Replaced,
        }
    }

    /// Which problem this is, as a small number that is never 0 (for telling two apart).
    pub(crate) fn code(&self) -> u8 {
        match self.problem {
            RootProblem::Missing => 1,
            RootProblem::NotADirectory => 2,
            RootProblem::Unreadable(_) => 3,
            RootProblem::Replaced => 4,
        }
    }

    /// The root as it was given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// As an `io::Error` of the matching kind (`NotFound`, `NotADirectory`, ...).
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self.problem {
            RootProblem::Missing => io::ErrorKind::NotFound,
            RootProblem::NotADirectory => io::ErrorKind::NotADirectory,
            RootProblem::Unreadable(e) => e.kind(),
            RootProblem::Replaced => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = self.root.display();
        match &self.problem {
            RootProblem::Missing => write!(f, "{root}: no such directory"),
            RootProblem::NotADirectory => write!(f, "{root}: not a directory"),
            RootProblem::Unreadable(e) => write!(f, "{root}: cannot be read ({e})"),
            RootProblem::Replaced => write!(
                f,
                "{root}: replaced by another directory since it was opened (restart to serve it)"
            ),
        }
    }
}

impl std::error::Error for RootError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            RootProblem::Unreadable(e) => Some(e),
            _ => None,
        }
    }
}
