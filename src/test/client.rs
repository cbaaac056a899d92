//! [`TestClient`] and [`TestRequest`]: requests written as raw HTTP/1.1 onto an in-memory
//! connection served by the application, as a socket's would be.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use http_types::Method;
use serde::Serialize;

use super::jar::Jar;
use super::response::TestResponse;
use crate::memory::{self, MemoryStream};
use crate::service::Service;
use crate::transport::Transport;

/// How long a request may wait for the server at any one point, unless
/// [`TestClient::timeout`] says otherwise.
///
/// **Default:** 30 s. **Unit:** time.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for an application, with no socket: each request runs on an in-memory
/// connection through the whole server (see the [module docs](super)).
///
/// ```
/// use smolweb::{Request, Response, Router, StatusCode, test::TestClient};
///
/// let app = Router::new()
///     .post("/login", |_| async {
///         let mut res = Response::new(StatusCode::SeeOther);
///         res.insert_header("set-cookie", "sid=s3cr3t; HttpOnly; Path=/");
///         res.insert_header("location", "/me");
///         res
///     })
///     .get("/me", |req: Request| async move {
///         req.header("cookie").unwrap_or("nobody").to_string()
///     });
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     assert_eq!(client.post("/login").send().await.status(), StatusCode::SeeOther);
///     assert_eq!(client.cookie("sid").as_deref(), Some("s3cr3t"));
///     assert_eq!(client.get("/me").send().await.text().await, "sid=s3cr3t");
///     client.clear_cookies();
///     assert_eq!(client.get("/me").send().await.text().await, "nobody");
/// });
/// ```
#[derive(Clone)]
pub struct TestClient {
    service: Service,
    jar: Arc<Mutex<Jar>>,
    timeout: Duration,
    peer: Option<SocketAddr>,
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient")
            .field("cookies", &self.jar().all().len())
            .field("timeout", &self.timeout)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// A client for `app`: a [`Router`](crate::Router) (served with the default
    /// [`Config`](crate::Config)) or a [`Service`] (with its own).
    pub fn new(app: impl Into<Service>) -> Self {
        TestClient {
            service: app.into(),
            jar: Arc::default(),
            timeout: TEST_TIMEOUT,
            peer: None,
        }
    }

    /// Makes requests come from `peer`, as [`Request::peer_addr`](crate::Request::peer_addr)
    /// sees it (to test what depends on the client's address, such as
    /// [`TrustedProxies`](crate::middleware::TrustedProxies)).
    ///
    /// **Default:** none (requests have no peer address, as over a memory pipe).
    ///
    /// ```
    /// use smolweb::{Request, Router, test::TestClient};
    /// let app = Router::new().get("/", |req: Request| async move { format!("{:?}", req.peer_addr()) });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app).peer_addr("192.0.2.1:5000".parse().unwrap());
    ///     assert_eq!(client.get("/").send().await.text().await, "Some(192.0.2.1:5000)");
    /// });
    /// ```
    pub fn peer_addr(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets how long a request may wait for the server at any one point before the test
    /// panics.
    ///
    /// **Default:** 30 s ([`TEST_TIMEOUT`]). **Unit:** time.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A `GET` of `path` (with its query: `"/notes?tag=a"`).
    pub fn get(&self, path: &str) -> TestRequest {
        self.request(Method::Get, path)
    }

    /// A `POST` of `path`.
    pub fn post(&self, path: &str) -> TestRequest {
        self.request(Method::Post, path)
    }

    /// A `PUT` of `path`.
    pub fn put(&self, path: &str) -> TestRequest {
        self.request(Method::Put, path)
    }

    /// A `PATCH` of `path`.
    pub fn patch(&self, path: &str) -> TestRequest {
        self.request(Method::Patch, path)
    }

    /// A `DELETE` of `path`.
    pub fn delete(&self, path: &str) -> TestRequest {
        self.request(Method::Delete, path)
    }

    /// A `HEAD` of `path`.
    pub fn head(&self, path: &str) -> TestRequest {
        self.request(Method::Head, path)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequest {
        TestRequest {
            client: self.clone(),
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Payload::None,
        }
    }

    /// The value of the cookie `name` in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).map(str::to_owned)
    }

    /// Every cookie in the jar, as (name, value), in the order they were set.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.jar().all().to_vec()
    }

    /// Puts a cookie in the jar, as if a response had set it.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().insert(name, value);
    }

    /// Empties the jar.
    pub fn clear_cookies(&self) {
        self.jar().clear();
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, Jar> {
        self.jar.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a request carries after its head.
enum Payload {
    None,
    Bytes(Vec<u8>),
    /// Sent chunked, as it is read.
    Stream(Box<dyn AsyncRead + Send + Unpin + 'static>),
}

/// A request being built; [`send`](Self::send) runs it.
///
/// ```
/// use smolweb::{Request, Router, test::TestClient};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Note { title: String }
///
/// let app = Router::new().post("/notes", |mut req: Request| async move {
///     let note: Note = req.body_json().await?;
///     Ok::<_, smolweb::Error>(format!("saved {}", note.title))
/// });
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     let res = client.post("/notes").json(&Note { title: "a".into() }).send().await;
///     assert_eq!(res.text().await, "saved a");
/// });
/// ```
pub struct TestRequest {
    client: TestClient,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Payload,
}

impl fmt::Debug for TestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl TestRequest {
    /// Adds a header field (several with one name are all sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The body, sent with its `Content-Length`.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Payload::Bytes(body.into());
        self
    }

    /// A body streamed from `reader` with `Transfer-Encoding: chunked`, written while the
    /// handler reads it (a slow or endless upload).
    pub fn body_reader(mut self, reader: impl AsyncRead + Send + Unpin + 'static) -> Self {
        self.body = Payload::Stream(Box::new(reader));
        self
    }

    /// `value` as a JSON body, with `Content-Type: application/json`.
    pub fn json(self, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).expect("a value that serializes to JSON");
        self.header("content-type", "application/json").body(body)
    }

    /// `value` as a form body (`application/x-www-form-urlencoded`).
    pub fn form(self, value: &impl Serialize) -> Self {
        let body = serde_urlencoded::to_string(value).expect("a value that serializes as a form");
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// Runs the request and reads the response head (the body is read from the
    /// [`TestResponse`]). Cookies the response sets go into the client's jar.
    pub async fn send(self) -> TestResponse {
        let TestRequest {
            client,
            method,
            path,
            headers,
            body,
        } = self;
        let (stream, server) = memory::pair();
        let service = client.service.clone();
        let server = WithPeer {
            inner: server,
            peer: client.peer,
        };
        let conn = smol::spawn(async move { service.serve_connection(server).await });
        let (reader, mut writer) = futures_lite::io::split(stream);

        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: test\r\n");
        let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        if !has("cookie") {
            if let Some(cookies) = client.jar().header() {
                head.push_str(&format!("cookie: {cookies}\r\n"));
            }
        }
        for (name, value) in &headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match &body {
            Payload::Bytes(bytes) => head.push_str(&format!("content-length: {}\r\n", bytes.len())),
            Payload::Stream(_) => head.push_str("transfer-encoding: chunked\r\n"),
            Payload::None if matches!(method, Method::Post | Method::Put | Method::Patch) => {
                head.push_str("content-length: 0\r\n")
            }
            Payload::None => {}
        }
        head.push_str("\r\n");
        // The request is written by its own task, so that a server answering before reading
        // it all (a 413, a handler that ignores the body) does not stall the test.
        let write = async move {
            if writer.write_all(head.as_bytes()).await.is_err() {
                return writer;
            }
            match body {
                Payload::None => {}
                Payload::Bytes(bytes) => {
                    let _ = writer.write_all(&bytes).await;
                }
                Payload::Stream(mut reader) => {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match reader.read(&mut buf).await {
                            Ok(0) | Err(_) => 0,
                            Ok(n) => n,
                        };
                        let mut frame = format!("{n:x}\r\n").into_bytes();
                        frame.extend_from_slice(&buf[..n]);
                        frame.extend_from_slice(b"\r\n");
                        if n == 0 {
                            frame.extend_from_slice(b"\r\n");
                        }
                        if writer.write_all(&frame).await.is_err() || n == 0 {
                            break;
                        }
                    }
                }
            }
            // Kept for the response: the connection stays open while it lives, and an
            // upgraded connection writes through it.
            writer
        };
        let writer = smol::spawn(write);
        let res = TestResponse::read(
            reader,
            method == Method::Head,
            client.timeout,
            conn,
            Some(writer),
        )
        .await;
        let mut jar = client.jar();
        for set_cookie in res.header_all("set-cookie") {
            jar.set(set_cookie);
        }
        drop(jar);
        res
    }
}

/// The server's end of a test connection, with the peer address the client was given.
struct WithPeer {
    inner: MemoryStream,
    peer: Option<SocketAddr>,
}

impl Transport for WithPeer {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        self.inner.poll_recv(cx, buf)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.inner.poll_send(cx, buf)
    }

    fn shutdown_write(&self) -> std::io::Result<()> {
        self.inner.shutdown_write()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
}
