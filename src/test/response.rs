//! [`TestResponse`]: a response read by the test client, its head parsed and its body read
//! as it arrives (by `Content-Length`, chunked, or to the end of the connection).

use std::fmt;
use std::time::Duration;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::io::{ReadHalf, WriteHalf};
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite};
use http_types::StatusCode;
use serde::de::DeserializeOwned;

use crate::h1::ChunkedDecoder;
use crate::memory::MemoryStream;

/// Largest response head the client reads.
const MAX_HEAD: usize = 64 * 1024;
/// Bytes asked for per read of the connection.
const READ_CHUNK: usize = 16 * 1024;

/// How the body of a response ends.
enum Framing {
    Length(u64),
    Chunked(ChunkedDecoder),
    /// At the end of the connection.
    Close,
    /// No body (`HEAD`, `1xx`, `204`, `304`), or it was read.
    Done,
}

/// A response, as a [`TestClient`](super::TestClient) received it: status and headers at
/// once, the body when it is read.
///
/// ```
/// use smolweb::{Router, StatusCode, test::TestClient};
/// smol::block_on(async {
///     let client = TestClient::new(Router::new());
///     let res = client.get("/missing").send().await;
///     assert_eq!(res.status(), StatusCode::NotFound);
///     assert_eq!(res.text().await, "Not Found");
/// });
/// ```
pub struct TestResponse {
    status: StatusCode,
    headers: Vec<(String, String)>,
    reader: ReadHalf<MemoryStream>,
    /// Received bytes of the body not yet given out.
    buf: Vec<u8>,
    framing: Framing,
    timeout: Duration,
    /// The server's side of the connection; dropped with the response.
    _conn: smol::Task<()>,
    /// Writing the request; it ends with the connection's write half.
    writer: Option<smol::Task<WriteHalf<MemoryStream>>>,
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Reads once, within `timeout`; panics on a timeout (the test would hang otherwise).
async fn read_some(
    reader: &mut ReadHalf<MemoryStream>,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> usize {
    let start = buf.len();
    buf.resize(start + READ_CHUNK, 0);
    let read = async { reader.read(&mut buf[start..]).await };
    let timer = async {
        async_io::Timer::after(timeout).await;
        panic!("the test client waited {timeout:?} for the server");
    };
    let n = futures_lite::future::or(read, timer).await.unwrap_or(0);
    buf.truncate(start + n);
    n
}

impl TestResponse {
    /// Reads the response head from `reader`; `head_only` for a `HEAD` request.
    pub(super) async fn read(
        mut reader: ReadHalf<MemoryStream>,
        head_only: bool,
        timeout: Duration,
        conn: smol::Task<()>,
        writer: Option<smol::Task<WriteHalf<MemoryStream>>>,
    ) -> TestResponse {
        let mut buf = Vec::new();
        loop {
            let mut fields = [httparse::EMPTY_HEADER; 128];
            let mut res = httparse::Response::new(&mut fields);
            match res.parse(&buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = res.code.unwrap_or(0);
                    let headers: Vec<(String, String)> = res
                        .headers
                        .iter()
                        .map(|h| {
                            let value = String::from_utf8_lossy(h.value).into_owned();
                            (h.name.to_ascii_lowercase(), value)
                        })
                        .collect();
                    let status = StatusCode::try_from(status)
                        .unwrap_or_else(|_| panic!("the server sent status {status}"));
                    // An interim response (100 Continue) is skipped.
                    if u16::from(status) < 200 && status != StatusCode::SwitchingProtocols {
                        buf.drain(..len);
                        continue;
                    }
                    buf.drain(..len);
                    let framing = framing(status, &headers, head_only);
                    return TestResponse {
                        status,
                        headers,
                        reader,
                        buf,
                        framing,
                        timeout,
                        _conn: conn,
                        writer,
                    };
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => panic!("the server sent a malformed response head: {e}"),
            }
            assert!(buf.len() < MAX_HEAD, "response head over {MAX_HEAD} bytes");
            if read_some(&mut reader, &mut buf, timeout).await == 0 {
                panic!("the connection closed before a response");
            }
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The first value of a header (the name is matched without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (`set-cookie`, say).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// All header fields, names in lowercase, in the order they came.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The next piece of the body as it arrives, `None` at its end: for streamed bodies and
    /// server-sent events, read while the handler is still writing.
    pub async fn chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            match &mut self.framing {
                Framing::Done => return None,
                Framing::Length(0) => {
                    self.framing = Framing::Done;
                    return None;
                }
                Framing::Length(left) if !self.buf.is_empty() => {
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    *left -= n as u64;
                    return Some(self.buf.drain(..n).collect());
                }
                Framing::Chunked(decoder) if !self.buf.is_empty() || decoder.is_done() => {
                    let mut out = vec![0u8; self.buf.len().max(1)];
                    let (used, n) = decoder
                        .decode(&self.buf, &mut out)
                        .unwrap_or_else(|e| panic!("a malformed chunked body: {e:?}"));
                    self.buf.drain(..used);
                    if decoder.is_done() {
                        self.framing = Framing::Done;
                    }
                    if n > 0 {
                        out.truncate(n);
                        return Some(out);
                    }
                    if used > 0 {
                        continue;
                    }
                }
                Framing::Close if !self.buf.is_empty() => {
                    return Some(std::mem::take(&mut self.buf));
                }
                _ => {}
            }
            if matches!(self.framing, Framing::Done) {
                return None;
            }
            if read_some(&mut self.reader, &mut self.buf, self.timeout).await == 0 {
                match self.framing {
                    Framing::Close => {
                        self.framing = Framing::Done;
                        return None;
                    }
                    _ => panic!("the connection closed in the middle of the body"),
                }
            }
        }
    }

    /// The connection after a `101 Switching Protocols`, to speak the new protocol over:
    /// bytes the server sent after its `101` come first. Panics if the status is not `101`.
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    /// use smolweb::{Request, Router, StatusCode, Upgrade, test::TestClient};
    ///
    /// let app = Router::new().get("/echo", |_req: Request| async {
    ///     Upgrade::new("echo", |mut conn| async move {
    ///         let mut buf = [0u8; 64];
    ///         while let Ok(n @ 1..) = conn.read(&mut buf).await {
    ///             let _ = conn.write_all(&buf[..n]).await;
    ///         }
    ///     })
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     let res = client
    ///         .get("/echo")
    ///         .header("connection", "upgrade")
    ///         .header("upgrade", "echo")
    ///         .send()
    ///         .await;
    ///     assert_eq!(res.status(), StatusCode::SwitchingProtocols);
    ///     let mut conn = res.upgrade().await;
    ///     conn.write_all(b"ping").await.unwrap();
    ///     let mut back = [0u8; 4];
    ///     conn.read_exact(&mut back).await.unwrap();
    ///     assert_eq!(&back, b"ping");
    /// });
    /// ```
    pub async fn upgrade(mut self) -> TestUpgraded {
        assert_eq!(
            self.status,
            StatusCode::SwitchingProtocols,
            "upgrade() on a response that did not switch protocols"
        );
        let writer = self.writer.take().expect("the request's writer").await;
        TestUpgraded {
            reader: self.reader,
            writer,
            buf: std::mem::take(&mut self.buf),
            at: 0,
            _conn: self._conn,
        }
    }

    /// The whole body.
    pub async fn bytes(mut self) -> Vec<u8> {
        let mut body = Vec::new();
        // Each round takes at least one byte, or ends the body.
        while let Some(piece) = self.chunk().await {
            body.extend_from_slice(&piece);
        }
        body
    }

    /// The whole body as text; panics if it is not UTF-8.
    pub async fn text(self) -> String {
        String::from_utf8(self.bytes().await).expect("the response body is not UTF-8")
    }

    /// The whole body parsed as JSON into `T`; panics with the body if it does not parse.
    pub async fn json<T: DeserializeOwned>(self) -> T {
        let body = self.bytes().await;
        serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "the response body is not the JSON expected ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })
    }
}

/// How the body of a response with `status` and `headers` is framed (RFC 9112 §6.3).
fn framing(status: StatusCode, headers: &[(String, String)], head_only: bool) -> Framing {
    let code = u16::from(status);
    if head_only || code < 200 || code == 204 || code == 304 {
        return Framing::Done;
    }
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if get("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked")) {
        return Framing::Chunked(ChunkedDecoder::new());
    }
    match get("content-length").and_then(|v| v.trim().parse().ok()) {
        Some(n) => Framing::Length(n),
        None => Framing::Close,
    }
}

/// A connection after `101 Switching Protocols`, from [`TestResponse::upgrade`]: read and
/// write the new protocol's bytes.
pub struct TestUpgraded {
    reader: ReadHalf<MemoryStream>,
    writer: WriteHalf<MemoryStream>,
    /// What arrived after the `101`'s head, given out first.
    buf: Vec<u8>,
    at: usize,
    _conn: smol::Task<()>,
}

impl fmt::Debug for TestUpgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestUpgraded").finish_non_exhaustive()
    }
}

impl AsyncRead for TestUpgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.at < this.buf.len() {
            let n = out.len().min(this.buf.len() - this.at);
            out[..n].copy_from_slice(&this.buf[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.reader).poll_read(cx, out)
    }
}

impl AsyncWrite for TestUpgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_close(cx)
    }
}
