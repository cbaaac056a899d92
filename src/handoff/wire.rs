//! The handoff's messages on the control socket, both sides.
//!
//! The newcomer connects and sends [`HELLO`]. The running server answers with one message:
//! [`BUSY`] (it is handing off to someone else), or [`LISTENERS`] and a count byte, with the
//! listening sockets themselves attached (`SCM_RIGHTS`). The newcomer, once it accepts on
//! them, sends [`READY`]; only then does the running server stop accepting. A newcomer that
//! goes away before `READY` leaves the running server as it was.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::TcpListener;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use async_io::{Async, Timer};
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::HandoffError;

/// What a newcomer sends first (the protocol's name and version).
pub(crate) const HELLO: &[u8] = b"smolweb-handoff/1\n";
/// "Listeners follow": the first byte of the answer that carries them.
const LISTENERS: u8 = b'L';
/// "Another handoff is in progress."
const BUSY: u8 = b'B';
/// "Accepting on them now: stop."
const READY: u8 = b'R';

/// The most listening sockets one handoff carries (one per thread of a per-core server).
pub(crate) const MAX_LISTENERS: usize = 250;

#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: SendFlags = SendFlags::NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: SendFlags = SendFlags::empty();

#[cfg(any(target_os = "linux", target_os = "android"))]
const RECV_FLAGS: RecvFlags = RecvFlags::CMSG_CLOEXEC;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const RECV_FLAGS: RecvFlags = RecvFlags::empty();

/// The newcomer's side, blocking (with `timeout` on every read): sends [`HELLO`] on `conn`
/// and receives the running server's listeners. `Ok(None)`: the server closed the connection
/// without sending them (it went away mid-handoff).
pub(crate) fn receive(
    conn: &UnixStream,
    timeout: Duration,
) -> io::Result<Option<Vec<TcpListener>>> {
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    if let Err(e) = send_all(conn, HELLO) {
        // A server that closed before our hello may have answered first (BUSY, sent without
        // waiting for it), or died: the read below tells which.
        if !matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) {
            return Err(e);
        }
    }
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_LISTENERS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut head = [0u8; 2];
    let received = loop {
        let mut iov = [IoSliceMut::new(&mut head)];
        match rustix::net::recvmsg(conn, &mut iov, &mut control, RECV_FLAGS) {
            Ok(msg) => break msg,
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::CONNRESET) => return Ok(None),
            Err(rustix::io::Errno::AGAIN) => return Err(io::ErrorKind::TimedOut.into()),
            Err(e) => return Err(e.into()),
        }
    };
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(passed) = message {
            fds.extend(passed);
        }
    }
    match (received.bytes, head[0]) {
        (0, _) => Ok(None),
        (1, BUSY) => Err(HandoffError::Busy.into()),
        (2, LISTENERS) if usize::from(head[1]) == fds.len() && !fds.is_empty() => fds
            .into_iter()
            .map(listener)
            .collect::<io::Result<_>>()
            .map(Some),
        _ => Err(HandoffError::Protocol.into()),
    }
}

/// A received descriptor as a TCP listener, once it is checked to be one.
fn listener(fd: OwnedFd) -> io::Result<TcpListener> {
    let listening = rustix::net::sockopt::socket_acceptconn(&fd)?;
    let addr = rustix::net::getsockname(&fd)?;
    let inet = matches!(
        addr.address_family(),
        rustix::net::AddressFamily::INET | rustix::net::AddressFamily::INET6
    );
    if !listening || !inet {
        return Err(HandoffError::Protocol.into());
    }
    let listener = TcpListener::from(fd);
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The newcomer's last word: it accepts on the listeners now. An error is ignored by the
/// caller (a server that went away has nothing left to stop).
pub(crate) fn send_ready(conn: &UnixStream) -> io::Result<()> {
    send_all(conn, &[READY])
}

fn send_all(conn: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::net::send(conn, bytes, SEND_FLAGS) {
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Tells a second newcomer that a handoff is in progress (best effort: it may be gone).
pub(crate) fn refuse(conn: &Async<UnixStream>) {
    let _ = rustix::net::send(conn, &[BUSY], SEND_FLAGS);
}

/// The running server's side of one handoff on `conn`: waits for [`HELLO`], sends `fds`,
/// and completes when the newcomer says [`READY`]. The hello and the send are bounded by
/// `timeout`; the wait for `READY` lasts as long as the newcomer's connection.
pub(crate) async fn give(
    conn: &Async<UnixStream>,
    fds: &[OwnedFd],
    timeout: Duration,
) -> Result<(), HandoffError> {
    let mut hello = [0u8; HELLO.len()];
    let mut got = 0;
    while got < hello.len() {
        match within(timeout, read(conn, &mut hello[got..])).await? {
            0 => return Err(HandoffError::Abandoned),
            n => got += n,
        }
    }
    if hello != HELLO {
        return Err(HandoffError::Protocol);
    }
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
    let count = u8::try_from(borrowed.len()).map_err(|_| HandoffError::Protocol)?;
    let head = [LISTENERS, count];
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(borrowed.len()))];
    let sent = conn.write_with(|s| {
        let mut control = SendAncillaryBuffer::new(&mut space);
        control.push(SendAncillaryMessage::ScmRights(&borrowed));
        rustix::net::sendmsg(s, &[IoSlice::new(&head)], &mut control, SEND_FLAGS)
            .map_err(io::Error::from)
    });
    if within(timeout, sent).await? != head.len() {
        return Err(HandoffError::Protocol);
    }
    // No time limit: the newcomer starts serving when its program is ready (it may connect
    // to a database first). While it lives, the handoff is its; if it dies, this ends.
    let mut answer = [0u8; 1];
    match within(Duration::MAX, read(conn, &mut answer)).await? {
        0 => Err(HandoffError::Abandoned),
        _ if answer[0] == READY => Ok(()),
        _ => Err(HandoffError::Protocol),
    }
}

/// One `recv` on `conn` when it is readable.
async fn read(conn: &Async<UnixStream>, buf: &mut [u8]) -> io::Result<usize> {
    conn.read_with(|s| {
        rustix::net::recv(s, &mut *buf, RecvFlags::empty())
            .map(|(n, _)| n)
            .map_err(io::Error::from)
    })
    .await
}

/// `io` unless it takes longer than `timeout`; a reset peer is one that abandoned the handoff.
async fn within<T>(
    timeout: Duration,
    io: impl std::future::Future<Output = io::Result<T>>,
) -> Result<T, HandoffError> {
    let late = async {
        Timer::after(timeout).await;
        Err(io::ErrorKind::TimedOut.into())
    };
    match futures_lite::future::or(io, late).await {
        Ok(value) => Ok(value),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(HandoffError::TimedOut),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) =>
        {
            Err(HandoffError::Abandoned)
        }
        Err(e) => Err(HandoffError::Io(e)),
    }
}
