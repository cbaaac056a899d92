//! The hyper 1.x peer: a tokio current-thread runtime, TCP_NODELAY, HTTP/1.1 keep-alive.
//!
//! Routes: `/` → `Hello, World!` (text/plain); `/files/<name>` → the file `<name>` from the
//! directory given at start, streamed with a plain read loop (64 KiB `std::fs` reads, each
//! chunk a frame of a `StreamBody`) with `content-length` set. Reads are inline on the
//! runtime thread, as smolweb's are (`pread` on the executor thread), so both servers do the
//! same work per chunk apart from how they hand it to the socket.
//!
//! No hyper timer is configured (as in hyper's own examples), so hyper enforces no header
//! or idle timeouts here while smolweb does: if anything this favours hyper slightly.

use std::convert::Infallible;
use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Size of each file read (and so of each body frame).
pub const FILE_CHUNK: usize = 64 * 1024;

type Body = Either<Full<Bytes>, StreamBody<FileChunks>>;

/// A file as a stream of chunks of at most [`FILE_CHUNK`] bytes.
pub struct FileChunks {
    file: File,
    left: u64,
}

impl futures_core::Stream for FileChunks {
    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(FILE_CHUNK as u64) as usize;
        let mut buf = vec![0u8; n];
        if let Err(e) = self.file.read_exact(&mut buf) {
            return Poll::Ready(Some(Err(e)));
        }
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut res = Response::new(Either::Left(Full::new(Bytes::from_static(body.as_bytes()))));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}

fn file(dir: &std::path::Path, name: &str) -> Response<Body> {
    // Only plain names inside the directory: enough for a benchmark, and no traversal.
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    let opened = File::open(dir.join(name)).and_then(|f| {
        let meta = f.metadata()?;
        Ok((f, meta))
    });
    let (f, meta) = match opened {
        Ok((f, meta)) if meta.is_file() => (f, meta),
        _ => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let len = meta.len();
    let mut res = Response::new(Either::Right(StreamBody::new(FileChunks {
        file: f,
        left: len,
    })));
    let headers = res.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    res
}

async fn handle(
    req: Request<Incoming>,
    dir: Option<Arc<PathBuf>>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    Ok(if path == "/" {
        text(StatusCode::OK, "Hello, World!")
    } else if let (Some(name), Some(dir)) = (path.strip_prefix("/files/"), dir.as_deref()) {
        file(dir, name)
    } else {
        text(StatusCode::NOT_FOUND, "not found\n")
    })
}

/// Accepts connections forever, each served as a task on the current runtime.
pub async fn serve(listener: TcpListener, dir: Option<PathBuf>) -> std::io::Result<()> {
    let dir = dir.map(Arc::new);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let dir = dir.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, dir.clone()));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Binds `addr` and serves on a new current-thread runtime on this thread, forever.
/// `bound` receives the listening address once the listener is up.
/// As [`run_current_thread`], on tokio's multi-thread runtime with `threads` workers.
pub fn run_multi_thread(
    addr: SocketAddr,
    dir: Option<PathBuf>,
    threads: usize,
    bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        bound(listener.local_addr()?);
        serve(listener, dir).await
    })
}

pub fn run_current_thread(
    addr: SocketAddr,
    dir: Option<PathBuf>,
    bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        bound(listener.local_addr()?);
        serve(listener, dir).await
    })
}
