//! An in-memory transport: run whole HTTP exchanges through a [`Service`](crate::Service)
//! with no socket and no port.
//!
//! [`pair`] returns two connected [`MemoryStream`]s. Give one to
//! [`Service::serve_connection`](crate::Service::serve_connection); the other is the client,
//! an [`AsyncRead`] + [`AsyncWrite`]. Each direction holds at most [`PIPE_CAPACITY`] bytes, so
//! a client that stops reading applies back-pressure exactly as a socket would.
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//! use smolweb::{memory, Router, Service};
//!
//! let service = Service::new(Router::new().get("/", |_| async { "hi" }));
//! let (mut client, server) = memory::pair();
//! smol::block_on(async {
//!     let conn = smol::spawn(async move { service.serve_connection(server).await });
//!     client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
//!     let mut response = String::new();
//!     client.read_to_string(&mut response).await?;
//!     assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//!     assert!(response.ends_with("\r\n\r\nhi"));
//!     conn.await;
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_lite::{AsyncRead, AsyncWrite};

use crate::Transport;

/// Bytes one direction of a [`pair`] buffers before the writer waits.
///
/// **Default:** 64 KiB. **Unit:** bytes.
pub const PIPE_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
struct Pipe {
    bytes: VecDeque<u8>,
    /// The writing end is gone: readers see end of stream once `bytes` is empty.
    write_closed: bool,
    /// The reading end is gone: writers get `BrokenPipe`.
    read_closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    pipe.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wake(waker: &mut Option<Waker>) {
    if let Some(w) = waker.take() {
        w.wake();
    }
}

/// One end of an in-memory connection. Dropping it closes both directions.
pub struct MemoryStream {
    incoming: Arc<Mutex<Pipe>>,
    outgoing: Arc<Mutex<Pipe>>,
}

impl std::fmt::Debug for MemoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStream").finish_non_exhaustive()
    }
}

/// Two connected in-memory streams: what one writes, the other reads.
pub fn pair() -> (MemoryStream, MemoryStream) {
    let a = Arc::new(Mutex::new(Pipe::default()));
    let b = Arc::new(Mutex::new(Pipe::default()));
    (
        MemoryStream {
            incoming: a.clone(),
            outgoing: b.clone(),
        },
        MemoryStream {
            incoming: b,
            outgoing: a,
        },
    )
}

impl MemoryStream {
    fn recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut pipe = lock(&self.incoming);
        if pipe.bytes.is_empty() {
            if pipe.write_closed || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            pipe.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let (front, back) = pipe.bytes.as_slices();
        let n = front.len().min(buf.len());
        buf[..n].copy_from_slice(&front[..n]);
        let m = back.len().min(buf.len() - n);
        buf[n..n + m].copy_from_slice(&back[..m]);
        pipe.bytes.drain(..n + m);
        wake(&mut pipe.writer);
        Poll::Ready(Ok(n + m))
    }

    fn send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut pipe = lock(&self.outgoing);
        if pipe.read_closed || pipe.write_closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = PIPE_CAPACITY - pipe.bytes.len();
        if room == 0 && !buf.is_empty() {
            pipe.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        pipe.bytes.extend(&buf[..n]);
        wake(&mut pipe.reader);
        Poll::Ready(Ok(n))
    }

    fn close_write(&self) {
        let mut pipe = lock(&self.outgoing);
        pipe.write_closed = true;
        wake(&mut pipe.reader);
    }
}

impl Drop for MemoryStream {
    fn drop(&mut self) {
        self.close_write();
        let mut pipe = lock(&self.incoming);
        pipe.read_closed = true;
        pipe.bytes.clear();
        wake(&mut pipe.writer);
    }
}

impl Transport for MemoryStream {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.recv(cx, buf)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.send(cx, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.close_write();
        Ok(())
    }
}

impl AsyncRead for MemoryStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.recv(cx, buf)
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.send(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-closes: the other end reads end of stream after the bytes already written.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_write();
        Poll::Ready(Ok(()))
    }
}
