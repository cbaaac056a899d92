//! What a server does with its [`Handoff`](super::Handoff) when serving begins: put its own
//! control socket at the path, tell the predecessor to stop, and answer successors.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use super::control::{self, Control};
use super::wire;
use crate::listener::Listener;
use crate::shutdown::Stop;

/// A server's part in handoffs, from [`Handoff`] until serving begins.
#[derive(Debug)]
pub(crate) struct HandoffState {
    path: PathBuf,
    /// Bound at a first start; on a takeover, bound when serving begins (the predecessor owns
    /// the path until then).
    control: Option<Control>,
    /// On a takeover: the server to tell to stop once this one serves.
    predecessor: Option<UnixStream>,
}

impl HandoffState {
    /// A first start: the control socket is bound already.
    pub(crate) fn bound(path: PathBuf, control: Control) -> Self {
        HandoffState {
            path,
            control: Some(control),
            predecessor: None,
        }
    }

    /// A takeover from `predecessor`, which owns the path until serving begins.
    pub(crate) fn taken(path: PathBuf, predecessor: UnixStream) -> Self {
        HandoffState {
            path,
            control: None,
            predecessor: Some(predecessor),
        }
    }
}

/// When serving begins on `listeners` (all of them): this server's control socket goes to
/// the path, the predecessor is told to stop, and the future returned completes with `signal`
/// ([`Stop::Signal`]) or when a successor has taken the listeners ([`Stop::HandedOff`]).
pub(crate) fn watch<'a>(
    state: Option<HandoffState>,
    listeners: &[&Listener],
    signal: impl Future<Output = ()> + 'a,
) -> io::Result<impl Future<Output = Stop> + 'a> {
    let control = match state {
        None => None,
        Some(state) => {
            let fds = listeners
                .iter()
                .map(|l| l.as_fd().try_clone_to_owned())
                .collect::<io::Result<Vec<OwnedFd>>>()?;
            let control = match state.control {
                Some(control) => control,
                None => Control::bind(&state.path)?,
            };
            if let Some(predecessor) = state.predecessor {
                // A predecessor already gone has nothing left to stop.
                let _ = wire::send_ready(&predecessor);
            }
            Some((control, fds))
        }
    };
    Ok(async move {
        let signalled = async {
            signal.await;
            Stop::Signal
        };
        match control {
            None => signalled.await,
            Some((control, fds)) => {
                let handed = async {
                    control.serve(fds, control::STEP_TIMEOUT).await;
                    Stop::HandedOff
                };
                futures_lite::future::or(signalled, handed).await
            }
        }
    })
}
