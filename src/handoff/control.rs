//! The control socket a running server listens on for its successor, and the loop that
//! answers there.
//!
//! What must stay true: the path always leads to the newest server. A control socket is
//! bound at a temporary name beside the path, given mode 0600, then renamed over the path
//! (atomic: there is never a moment without a socket there, and never one with a wider mode).
//! Its file is removed when it is dropped only if the path is still this socket (same
//! inode): after a handoff it is the successor's.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_io::{Async, Timer};

use super::{HandoffError, wire};
use crate::accept::ACCEPT_BACKOFF;

/// A bound control socket.
#[derive(Debug)]
pub(crate) struct Control {
    listener: Async<UnixListener>,
    path: PathBuf,
    /// The socket file's (device, inode), to know whether the path is still ours.
    id: (u64, u64),
}

impl Control {
    /// Binds the control socket at `path`, replacing a socket file there (the caller has
    /// checked nobody answers on it, or is its successor). Any other kind of file there is
    /// `AlreadyExists`, left alone.
    pub(crate) fn bind(path: &Path) -> io::Result<Control> {
        check_socket_or_absent(path)?;
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, HandoffError::NotAFile))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        let _ = std::fs::remove_file(&temp);
        let listener = UnixListener::bind(&temp)?;
        let placed = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
            .and_then(|()| std::fs::metadata(&temp))
            .and_then(|meta| std::fs::rename(&temp, path).map(|()| meta));
        let meta = match placed {
            Ok(meta) => meta,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
        };
        Ok(Control {
            listener: Async::new(listener)?,
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
        })
    }

    /// True while the path is this socket's file.
    fn is_current(&self) -> bool {
        std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
    }

    /// Answers successors until one has taken `fds` over (then completes): one handoff at a
    /// time, a second newcomer meanwhile told it is busy; a failed handoff (the newcomer went
    /// away or timed out) is logged and the server goes on, its control socket rebound if the
    /// newcomer had already put its own at the path.
    pub(crate) async fn serve(mut self, fds: Vec<OwnedFd>, timeout: Duration) {
        loop {
            let conn = match self.listener.accept().await {
                Ok((conn, _)) => conn,
                Err(e) => {
                    log::warn!("handoff socket {}: accept: {e}", self.path.display());
                    Timer::after(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let attempt = async {
                same_user(&conn)?;
                wire::give(&conn, &fds, timeout).await
            };
            let others = async {
                loop {
                    if let Ok((other, _)) = self.listener.accept().await {
                        log::warn!("handoff refused: another one is in progress");
                        wire::refuse(&other);
                    }
                }
            };
            match futures_lite::future::or(attempt, others).await {
                Ok(()) => {
                    log::info!("listeners handed over on {}: stopping", self.path.display());
                    return;
                }
                Err(e) => log::warn!(
                    "handoff on {} failed: {e}; still serving",
                    self.path.display()
                ),
            }
            if !self.is_current() {
                match Control::bind(&self.path) {
                    Ok(control) => self = control,
                    Err(e) => log::warn!("cannot rebind {}: {e}", self.path.display()),
                }
            }
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if self.is_current() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `Ok` when nothing is at `path` or a socket is; `AlreadyExists` for any other file.
pub(crate) fn check_socket_or_absent(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            HandoffError::NotASocket(path.to_owned()),
        )),
        _ => Ok(()),
    }
}

/// Only a process of the same user (or root) may take the listeners (besides the file's
/// mode, 0600). Where the platform gives no peer credentials, the mode alone guards.
fn same_user(conn: &Async<UnixStream>) -> Result<(), HandoffError> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let peer = rustix::net::sockopt::socket_peercred(conn).map_err(io::Error::from)?;
        let me = rustix::process::geteuid();
        if peer.uid != me && !peer.uid.is_root() {
            return Err(HandoffError::Denied(peer.uid.as_raw()));
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = conn;
    Ok(())
}

/// How long each step of a handoff may take before it is abandoned.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(30);
