//! [`Request`]: what a handler receives.

use std::any::Any;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;

use futures_lite::AsyncReadExt;
use http_types::headers::{HeaderName, Headers};
use http_types::{Body, Method, StatusCode, Url, Version};
use serde::de::DeserializeOwned;

use crate::config::MAX_BODY_BYTES;
use crate::error::{Error, Result};
use crate::h1::message::Message;
use crate::transport::{Remote, TlsInfo};

/// Shared application state, as stored by [`Router::with_state`](crate::Router::with_state).
pub(crate) type State = Arc<dyn Any + Send + Sync>;

/// A path parameter's value: where it is in the URL path, and its percent-decoded copy when
/// decoding changed it.
#[derive(Debug, Clone)]
pub(crate) struct ParamValue {
    pub raw: Range<usize>,
    pub decoded: Option<String>,
}

/// An HTTP request: the request head and body plus what routing found (path parameters and
/// the router's state).
///
/// [`method`](Self::method), [`path`](Self::path), [`query`](Self::query),
/// [`version`](Self::version), [`header`](Self::header) and [`param`](Self::param) read the
/// head as it arrived. The `http_types::Request` behind [`url`](Self::url),
/// [`headers`](Self::headers) and [`as_http`](Self::as_http) is built on the first call that
/// needs it (for a request without a body; one with a body has it from the start), and gives
/// the same values.
///
/// ```
/// use smolweb::{Request, Router};
///
/// async fn greet(req: Request) -> String {
///     let name = req.param("name").unwrap_or("stranger");
///     let agent = req.header("user-agent").unwrap_or("?");
///     format!("hello {name} ({agent}), you asked for {}", req.path())
/// }
/// let app = Router::new().get("/hello/:name", greet);
/// # let _ = app;
/// ```
#[derive(Debug)]
pub struct Request {
    inner: Message,
    params: Vec<(Arc<str>, ParamValue)>,
    /// The route ended in a `*wildcard` (the last entry of `params`).
    wildcard: bool,
    state: Option<State>,
    remote: Remote,
    body_limit: usize,
    /// Set by [`TrustedProxies`](crate::middleware::TrustedProxies) when the peer is one of
    /// its proxies: the client address the forwarding headers gave, if they gave one.
    proxied: Option<Option<IpAddr>>,
    /// Set by [`RequestId`](crate::middleware::RequestId).
    request_id: Option<Arc<str>>,
}

/// A request's id as [`RequestId`](crate::middleware::RequestId) puts it on the response's
/// extensions, for middleware outside it ([`log_requests`](crate::log_requests)) to read.
#[derive(Debug, Clone)]
pub(crate) struct ResponseRequestId(pub(crate) Arc<str>);

impl Request {
    /// Wraps an `http_types::Request`, for calling handlers directly (in tests, say).
    ///
    /// ```
    /// use smolweb::{http::{Method, Url}, Request};
    /// let req = Request::from_http(smolweb::http::Request::new(
    ///     Method::Get,
    ///     Url::parse("http://example.com/a?b=1").unwrap(),
    /// ));
    /// assert_eq!((req.path(), req.query()), ("/a", Some("b=1")));
    /// ```
    pub fn from_http(inner: http_types::Request) -> Self {
        Request {
            inner: Message::Built(Box::new(inner)),
            params: Vec::new(),
            wildcard: false,
            state: None,
            remote: Remote::default(),
            body_limit: MAX_BODY_BYTES,
            proxied: None,
            request_id: None,
        }
    }

    /// A request the connection parsed, from `remote`; its buffered body helpers stop at
    /// `body_limit` bytes.
    pub(crate) fn new(inner: Message, remote: Remote, body_limit: usize) -> Self {
        Request {
            inner,
            params: Vec::new(),
            wildcard: false,
            state: None,
            remote,
            body_limit,
            proxied: None,
            request_id: None,
        }
    }

    /// The request method.
    pub fn method(&self) -> Method {
        self.inner.method()
    }

    /// The full URL (scheme `http`, or `https` over TLS; host from the `Host` header or the
    /// absolute-form target). Behind [`TrustedProxies`](crate::middleware::TrustedProxies),
    /// the scheme and host the client used, as the trusted proxy forwarded them.
    pub fn url(&self) -> &Url {
        self.inner.http().url()
    }

    /// The path, still percent-encoded, e.g. `/users/42` (what `url().path()` gives).
    pub fn path(&self) -> &str {
        self.inner.path()
    }

    /// The query string without `?`, if any (what `url().query()` gives).
    pub fn query(&self) -> Option<&str> {
        self.inner.query()
    }

    /// Parses the query string into `T` (with `serde_qs`; a missing query parses as empty).
    /// `400` when it does not fit `T`.
    ///
    /// ```
    /// # use smolweb::{http::{Method, Url}, Request};
    /// #[derive(serde::Deserialize)]
    /// struct Page { n: u32 }
    /// # let req = Request::from_http(smolweb::http::Request::new(Method::Get, Url::parse("http://x/?n=3").unwrap()));
    /// let page: Page = req.query_as()?;
    /// assert_eq!(page.n, 3);
    /// # Ok::<(), smolweb::Error>(())
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T> {
        self.inner.http().query().map_err(|e| {
            let why = blame_field::<T>(self.query().unwrap_or_default().as_bytes())
                .map_or_else(|| e.to_string(), |field| field.to_string());
            Error::new(
                StatusCode::BadRequest,
                format!("invalid query string: {why}"),
            )
        })
    }

    /// The HTTP version of the request.
    pub fn version(&self) -> Option<Version> {
        self.inner.version()
    }

    /// The first value of a header, e.g. `req.header("content-type")`. The name is matched
    /// without regard to case, and may also be one of http-types' constants
    /// ([`http::headers::CONTENT_TYPE`](crate::http::headers::CONTENT_TYPE), ...). Looking a
    /// header up allocates nothing.
    ///
    /// A value may hold bytes 0x80–0xFF (obs-text, RFC 9110 §5.5), as browsers send in a
    /// `Cookie` or a `User-Agent`: it is given here when it is valid UTF-8, and `None` when it
    /// is not (Latin-1, say: it is not guessed at); [`header_bytes`](Self::header_bytes) gives
    /// it either way. http-types' [`headers`](Self::headers) holds ASCII values only, so such
    /// fields are not among them.
    ///
    /// ```
    /// # smol::block_on(async {
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    /// use smolweb::{memory, Request, Router, Service};
    ///
    /// let app = Router::new().get("/", |req: Request| async move {
    ///     req.header("x-name").unwrap_or("?").to_string()
    /// });
    /// let (mut client, server) = memory::pair();
    /// let conn = smol::spawn(async move { Service::new(app).serve_connection(server).await });
    /// let head = "GET / HTTP/1.1\r\nHost: x\r\nX-Name: Zoë\r\nConnection: close\r\n\r\n";
    /// client.write_all(head.as_bytes()).await?;
    /// let mut response = String::new();
    /// client.read_to_string(&mut response).await?;
    /// assert!(response.ends_with("\r\n\r\nZoë"));
    /// conn.await;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.inner.header(name.as_header_name())
    }

    /// [`header`](Self::header) by another name: the name
    /// [`ResponseExt::header_str`](crate::ResponseExt::header_str) has, so that middleware
    /// reads a request's headers and a response's the same way.
    ///
    /// ```
    /// use smolweb::{http::{Method, Url}, Request};
    /// let mut http = smolweb::http::Request::new(Method::Get, Url::parse("http://x/").unwrap());
    /// http.insert_header("accept", "text/html");
    /// assert_eq!(Request::from_http(http).header_str("Accept"), Some("text/html"));
    /// ```
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.inner.header(name)
    }

    /// The first value of a header as it was received, whatever its bytes: what
    /// [`header`](Self::header) gives, and also a value that is not UTF-8.
    ///
    /// ```
    /// use smolweb::{http::{Method, Url}, Request};
    /// let mut http = smolweb::http::Request::new(Method::Get, Url::parse("http://x/").unwrap());
    /// http.insert_header("x-a", "b");
    /// assert_eq!(Request::from_http(http).header_bytes("X-A"), Some(&b"b"[..]));
    /// ```
    pub fn header_bytes(&self, name: impl AsHeaderName) -> Option<&[u8]> {
        self.inner.header_bytes(name.as_header_name())
    }

    /// True if the client asks to switch this connection to `protocol` (compared without
    /// regard to case, and to a `/version` suffix): an HTTP/1.1 request whose `Connection`
    /// lists `upgrade` and whose `Upgrade` lists `protocol`. Answer it with an
    /// [`Upgrade`](crate::Upgrade).
    ///
    /// ```
    /// use smolweb::{http::{Method, Url}, Request};
    ///
    /// let mut http = smolweb::http::Request::new(Method::Get, Url::parse("http://x/chat")?);
    /// http.set_version(Some(smolweb::http::Version::Http1_1));
    /// http.insert_header("connection", "keep-alive, Upgrade");
    /// http.insert_header("upgrade", "websocket");
    /// let req = Request::from_http(http);
    /// assert!(req.wants_upgrade("WebSocket"));
    /// assert!(!req.wants_upgrade("h2c"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wants_upgrade(&self, protocol: &str) -> bool {
        let listed = |name: &str, token: &str| {
            self.headers_named(name).any(|value| {
                value.split(',').any(|t| {
                    let name = t.trim().split('/').next().unwrap_or_default();
                    name.eq_ignore_ascii_case(token)
                })
            })
        };
        self.version() == Some(Version::Http1_1)
            && listed("connection", "upgrade")
            && listed("upgrade", protocol)
    }

    /// The value of the cookie `name` (percent-decoded), from the request's `Cookie` header.
    ///
    /// ```
    /// use smolweb::{Request, Router, test::TestClient};
    /// let app = Router::new().get("/", |req: Request| async move {
    ///     format!("theme={:?} all={:?}", req.cookie("theme"), req.cookies())
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     client.set_cookie("theme", "dark%20blue");
    ///     client.set_cookie("n", "1");
    ///     let text = client.get("/").send().await.text().await;
    ///     assert_eq!(text, r#"theme=Some("dark blue") all=[("theme", "dark blue"), ("n", "1")]"#);
    /// });
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.inner.header("cookie")?;
        crate::cookie::parse(header)
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    /// The value of the signed cookie `name`, if one of `signer`'s keys signed it (feature
    /// `signed-cookies`); `None` for a missing cookie and for one the client changed.
    ///
    /// ```
    /// use smolweb::cookie::{Cookie, CookieSigner, Key};
    /// use smolweb::{Request, Router, test::TestClient};
    ///
    /// let signer = CookieSigner::new(Key::from_bytes(&[9u8; 32]));
    /// let signed = signer.sign(Cookie::new("user", "ada"));
    /// let app = Router::new().get("/", move |req: Request| {
    ///     let user = req.signed_cookie(&signer, "user");
    ///     async move { format!("{user:?}") }
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     client.set_cookie("user", signed.value());
    ///     assert_eq!(client.get("/").send().await.text().await, r#"Some("ada")"#);
    ///     client.set_cookie("user", &signed.value().replace("ada", "eve"));
    ///     assert_eq!(client.get("/").send().await.text().await, "None");
    /// });
    /// ```
    #[cfg(feature = "signed-cookies")]
    pub fn signed_cookie(
        &self,
        signer: &crate::cookie::CookieSigner,
        name: &str,
    ) -> Option<String> {
        signer.verify(name, &self.cookie(name)?)
    }

    /// Every cookie of the request, `(name, value)`, in the order the client sent them.
    pub fn cookies(&self) -> Vec<(String, String)> {
        let Some(header) = self.inner.header("cookie") else {
            return Vec::new();
        };
        crate::cookie::parse(header)
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    /// Every value of the fields named `name` (matched without regard to case).
    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let built = self.inner.http();
        built
            .iter()
            .filter(move |(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .flat_map(|(_, values)| values.iter().map(|v| v.as_str()))
    }

    /// All header fields whose values are ASCII (http-types holds no others; read a value
    /// with obs-text with [`header`](Self::header) or [`header_bytes`](Self::header_bytes)).
    pub fn headers(&self) -> &Headers {
        self.inner.http().as_ref()
    }

    /// A path parameter by name, percent-decoded: `:id` in `/users/:id`, or `*rest` in
    /// `/static/*rest`. (A path whose parameter does not decode to UTF-8 never reaches the
    /// handler: it gets `400`.)
    ///
    /// A wildcard value is decoded too, so `%2F` becomes `/` *after* the URL's `..` segments
    /// were resolved: `/files/a%2F..%2Fb` gives `"a/../b"`. Never join a parameter into a
    /// filesystem path yourself; [`ServeDir`](crate::ServeDir) does it safely.
    pub fn param(&self, name: &str) -> Option<&str> {
        let (_, value) = self.params.iter().find(|(n, _)| &**n == name)?;
        Some(
            value
                .decoded
                .as_deref()
                .unwrap_or(&self.path()[value.raw.clone()]),
        )
    }

    /// All of the route's parameters as `T`: a `serde` struct (by name) or a tuple (in the
    /// order of the pattern), each value parsed as its field's type asks.
    ///
    /// A value that does not parse is a `400` naming the parameter (`/notes/abc` for an
    /// integer id: ``invalid path parameter `id`: invalid digit found in string ("abc")``).
    /// A field the route has no parameter for is the program's mistake: `500`.
    ///
    /// ```
    /// use smolweb::{Request, Router, StatusCode, test::TestClient};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct NoteId { user: String, id: u64 }
    ///
    /// let app = Router::new().get("/users/:user/notes/:id", |req: Request| async move {
    ///     let NoteId { user, id } = req.params()?;
    ///     let (_, same_id): (String, u64) = req.params()?;
    ///     assert_eq!(id, same_id);
    ///     Ok::<_, smolweb::Error>(format!("note {id} of {user}"))
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     let res = client.get("/users/ada/notes/7").send().await;
    ///     assert_eq!(res.text().await, "note 7 of ada");
    ///     let res = client.get("/users/ada/notes/abc").send().await;
    ///     assert_eq!(res.status(), StatusCode::BadRequest);
    ///     assert!(res.text().await.contains("`id`"));
    /// });
    /// ```
    pub fn params<T: DeserializeOwned>(&self) -> Result<T> {
        let pairs: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(name, _)| (&**name, self.param(name).unwrap_or_default()))
            .collect();
        crate::de::from_pairs(&pairs).map_err(|e| {
            if e.message.starts_with("missing field") {
                Error::new(
                    StatusCode::InternalServerError,
                    format!("the route has no such parameter: {e}"),
                )
            } else {
                Error::new(
                    StatusCode::BadRequest,
                    format!("invalid path parameter {e}"),
                )
            }
        })
    }

    /// Sets the most [`body_bytes`](Self::body_bytes) and the helpers built on it read
    /// ([`BodyLimit`](crate::middleware::BodyLimit)).
    pub(crate) fn set_body_limit(&mut self, limit: usize) {
        self.body_limit = limit;
    }

    pub(crate) fn set_params(&mut self, params: Vec<(Arc<str>, ParamValue)>, wildcard: bool) {
        self.params = params;
        self.wildcard = wildcard;
    }

    /// The `*wildcard` part of the path as sent (still percent-encoded), if the route had one.
    pub(crate) fn raw_wildcard(&self) -> Option<&str> {
        let (_, value) = self.params.last().filter(|_| self.wildcard)?;
        Some(&self.path()[value.raw.clone()])
    }

    /// The state given to [`Router::with_state`](crate::Router::with_state).
    ///
    /// # Panics
    /// If the router has no state of type `S`: a programming error, which the server turns
    /// into a `500` for this request. Use [`try_state`](Self::try_state) to check.
    pub fn state<S: Send + Sync + 'static>(&self) -> &S {
        self.try_state().unwrap_or_else(|| {
            panic!(
                "no state of type {} on this router: call Router::with_state",
                std::any::type_name::<S>()
            )
        })
    }

    /// The router's state if it is of type `S`.
    pub fn try_state<S: Send + Sync + 'static>(&self) -> Option<&S> {
        self.state.as_deref()?.downcast_ref()
    }

    /// The state as an `Arc` of its own: it can be held while the request is borrowed
    /// mutably, to read the body say. Panics as [`state`](Self::state) does.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use smolweb::{Request, Router, test::TestClient};
    ///
    /// #[derive(Default)]
    /// struct Log(Mutex<Vec<String>>);
    ///
    /// async fn append(mut req: Request) -> smolweb::Result<String> {
    ///     let log = req.state_arc::<Log>();
    ///     let line = req.body_string().await?; // `req` borrowed mutably while `log` lives
    ///     let mut lines = log.0.lock().unwrap();
    ///     lines.push(line);
    ///     Ok(lines.len().to_string())
    /// }
    /// let app = Router::new().post("/log", append).with_state(Log::default());
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     assert_eq!(client.post("/log").body("a").send().await.text().await, "1");
    ///     assert_eq!(client.post("/log").body("b").send().await.text().await, "2");
    /// });
    /// ```
    pub fn state_arc<S: Send + Sync + 'static>(&self) -> Arc<S> {
        self.state
            .clone()
            .and_then(|state| state.downcast::<S>().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no state of type {} on this router: call Router::with_state",
                    std::any::type_name::<S>()
                )
            })
    }

    pub(crate) fn set_state(&mut self, state: Option<State>) {
        if state.is_some() {
            self.state = state;
        }
    }

    /// The client's address, when served over TCP.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.remote.peer
    }

    /// The client's address: the one [`TrustedProxies`](crate::middleware::TrustedProxies)
    /// found in the forwarding headers of a request that came through a trusted proxy, else
    /// the peer's own ([`peer_addr`](Self::peer_addr)); `None` when neither is known (a
    /// Unix-domain socket, a request built with [`from_http`](Self::from_http)).
    ///
    /// An address without a port: a forwarded client's port is rarely sent, and it would
    /// be the port the client used towards the first proxy, of no use here.
    ///
    /// ```
    /// use std::net::{IpAddr, SocketAddr};
    /// use smolweb::{middleware::TrustedProxies, Request, Router, test::TestClient};
    ///
    /// let app = Router::new()
    ///     .get("/", |req: Request| async move { format!("{:?}", req.remote_addr()) })
    ///     .middleware(TrustedProxies::new(["127.0.0.1"]).unwrap());
    /// let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    /// smol::block_on(async {
    ///     let client = TestClient::new(app).peer_addr(peer);
    ///     let res = client.get("/").header("x-forwarded-for", "203.0.113.7").send().await;
    ///     assert_eq!(res.text().await, "Some(203.0.113.7)");
    ///     assert_eq!(client.get("/").send().await.text().await, "Some(127.0.0.1)");
    /// });
    /// ```
    pub fn remote_addr(&self) -> Option<IpAddr> {
        match self.proxied {
            Some(Some(client)) => Some(client),
            _ => self.remote.peer.map(|peer| peer.ip()),
        }
    }

    /// True when [`TrustedProxies`](crate::middleware::TrustedProxies) ran before this point
    /// and found the peer to be one of its proxies: the request's forwarding headers (and
    /// the headers such a proxy sets, like `X-Request-Id`) are then the proxy's word.
    ///
    /// ```
    /// # use smolweb::{http::{Method, Url}, Request};
    /// # let req = Request::from_http(smolweb::http::Request::new(Method::Get, Url::parse("http://x/").unwrap()));
    /// assert!(!req.via_trusted_proxy()); // no TrustedProxies ran
    /// ```
    pub fn via_trusted_proxy(&self) -> bool {
        self.proxied.is_some()
    }

    /// Records that the peer is a trusted proxy, and the client address it forwarded.
    pub(crate) fn set_proxied(&mut self, client: Option<IpAddr>) {
        self.proxied = Some(client);
    }

    /// The request's id, set by [`RequestId`](crate::middleware::RequestId) when it ran
    /// before this point.
    ///
    /// ```
    /// use smolweb::{middleware::RequestId, Request, Router, test::TestClient};
    /// let app = Router::new()
    ///     .get("/", |req: Request| async move { req.request_id().unwrap_or("none").to_string() })
    ///     .middleware(RequestId::new());
    /// smol::block_on(async {
    ///     let res = TestClient::new(app).get("/").send().await;
    ///     let header = res.header("x-request-id").unwrap().to_string();
    ///     assert_eq!(res.text().await, header);
    /// });
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub(crate) fn set_request_id(&mut self, id: Arc<str>) {
        self.request_id = Some(id);
    }

    /// The process at the other end, for a request that came over a Unix-domain socket
    /// ([`Server::bind_unix`](crate::Server::bind_unix)) on Linux: its pid, uid and gid.
    ///
    /// ```
    /// # use smolweb::{http::{Method, Url}, Request};
    /// # let req = Request::from_http(smolweb::http::Request::new(Method::Get, Url::parse("http://x/").unwrap()));
    /// let local_root = req.peer_credentials().is_some_and(|c| c.uid == 0);
    /// # assert!(!local_root);
    /// ```
    pub fn peer_credentials(&self) -> Option<crate::PeerCredentials> {
        self.remote.credentials
    }

    /// What TLS negotiated, if the request came over TLS (its [`url`](Self::url) is then
    /// `https`): the ALPN protocol, the server name the client asked for, the version.
    ///
    /// ```
    /// # use smolweb::{http::{Method, Url}, Request};
    /// # let req = Request::from_http(smolweb::http::Request::new(Method::Get, Url::parse("http://x/").unwrap()));
    /// let secure = req.tls().is_some();
    /// # assert!(!secure);
    /// ```
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.remote.tls.as_deref()
    }

    /// A value middleware stored with [`insert_ext`](Self::insert_ext).
    pub fn ext<T: Send + Sync + 'static>(&self) -> Option<&T> {
        match &self.inner {
            // Nothing was ever inserted: that makes it an `Http`.
            Message::Raw(_) => None,
            Message::Built(http) => http.ext().get(),
        }
    }

    /// Stores a value on the request for later middleware and handlers, by type.
    pub fn insert_ext<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.inner.http_mut().ext_mut().insert(value)
    }

    /// Takes the body as a stream, leaving an empty one. Not limited by
    /// [`Config::max_body_bytes`](crate::Config::max_body_bytes).
    pub fn take_body(&mut self) -> Body {
        self.inner.http_mut().take_body()
    }

    /// Reads the whole body, up to [`Config::max_body_bytes`](crate::Config::max_body_bytes)
    /// (`413` beyond). A malformed or cut-off body is a `400`, a stalled one a `408`.
    pub async fn body_bytes(&mut self) -> Result<Vec<u8>> {
        let limit = self.body_limit;
        let body = self.take_body();
        if body.len().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(body.len().unwrap_or(0));
        body.take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(read_error)?;
        if bytes.len() > limit {
            return Err(too_large());
        }
        Ok(bytes)
    }

    /// Reads the whole body as UTF-8 (`400` if it is not); limits as [`body_bytes`](Self::body_bytes).
    pub async fn body_string(&mut self) -> Result<String> {
        String::from_utf8(self.body_bytes().await?)
            .map_err(|_| Error::new(StatusCode::BadRequest, "request body is not UTF-8"))
    }

    /// Reads the whole body as JSON into `T`; limits as [`body_bytes`](Self::body_bytes).
    ///
    /// * A `Content-Type` other than `application/json` or `application/…+json` (or none)
    ///   is `415 Unsupported Media Type`, before the body is read. A browser sends a
    ///   `text/plain` body cross-site without asking first (no CORS preflight), so accepting
    ///   one would let another site post to an API that trusts cookies.
    /// * A body that is not JSON is `400`, with the line and column where it went wrong.
    /// * JSON of the wrong shape is `422 Unprocessable Entity`, naming the field or the
    ///   position (``missing field `title` at line 1 column 2``).
    ///
    /// ```
    /// use smolweb::{Request, Router, StatusCode, test::TestClient};
    /// #[derive(serde::Deserialize)]
    /// struct Note { title: String }
    ///
    /// let app = Router::new().post("/notes", |mut req: Request| async move {
    ///     let note: Note = req.body_json().await?;
    ///     Ok::<_, smolweb::Error>(note.title)
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     let post = |body: &'static str, content_type: &str| {
    ///         client.post("/notes").header("content-type", content_type).body(body).send()
    ///     };
    ///     assert_eq!(post(r#"{"title":"a"}"#, "application/json").await.status(), StatusCode::Ok);
    ///     assert_eq!(post(r#"{"title":"a"}"#, "text/plain").await.status(), StatusCode::UnsupportedMediaType);
    ///     assert_eq!(post(r#"{"title":"#, "application/json").await.status(), StatusCode::BadRequest);
    ///     let res = post(r#"{"name":"a"}"#, "application/problem+json").await;
    ///     assert_eq!(res.status(), StatusCode::UnprocessableEntity);
    ///     assert!(res.text().await.contains("missing field `title`"));
    /// });
    /// ```
    pub async fn body_json<T: DeserializeOwned>(&mut self) -> Result<T> {
        if !is_json(self.header("content-type")) {
            return Err(Error::new(
                StatusCode::UnsupportedMediaType,
                "expected a JSON body (Content-Type: application/json)",
            ));
        }
        let bytes = self.body_bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => Error::new(
                StatusCode::UnprocessableEntity,
                format!("invalid JSON body: {e}"),
            ),
            _ => Error::new(StatusCode::BadRequest, format!("invalid JSON: {e}")),
        })
    }

    /// Reads the whole body as an `application/x-www-form-urlencoded` form (`400` if it does
    /// not parse as `T`); limits as [`body_bytes`](Self::body_bytes).
    pub async fn body_form<T: DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.body_bytes().await?;
        serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            let why = blame_field::<T>(&bytes).map_or_else(|| e.to_string(), |f| f.to_string());
            Error::new(StatusCode::BadRequest, format!("invalid form: {why}"))
        })
    }
    /// The underlying `http_types::Request`.
    pub fn as_http(&self) -> &http_types::Request {
        self.inner.http()
    }

    /// The underlying `http_types::Request`, mutably.
    pub fn as_http_mut(&mut self) -> &mut http_types::Request {
        self.inner.http_mut()
    }

    /// Unwraps into the `http_types::Request`.
    pub fn into_http(self) -> http_types::Request {
        *self.inner.into_http()
    }
}

/// A header name to look up with [`Request::header`]: text in any case (`"user-agent"`,
/// `"User-Agent"`), or an http-types [`HeaderName`] such as
/// [`headers::USER_AGENT`](crate::http::headers::USER_AGENT).
///
/// ```
/// use smolweb::http::{headers::USER_AGENT, Method, Url};
/// use smolweb::Request;
///
/// let mut http = smolweb::http::Request::new(Method::Get, Url::parse("http://x/")?);
/// http.insert_header("user-agent", "curl");
/// let req = Request::from_http(http);
/// assert_eq!(req.header("User-Agent"), Some("curl"));
/// assert_eq!(req.header(USER_AGENT), Some("curl"));
/// assert_eq!(req.header("naïve"), None); // not a header name: nothing, and no panic
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait AsHeaderName {
    /// The name as text.
    fn as_header_name(&self) -> &str;
}

impl AsHeaderName for &str {
    fn as_header_name(&self) -> &str {
        self
    }
}

impl AsHeaderName for String {
    fn as_header_name(&self) -> &str {
        self
    }
}

impl AsHeaderName for &String {
    fn as_header_name(&self) -> &str {
        self
    }
}

impl AsHeaderName for HeaderName {
    fn as_header_name(&self) -> &str {
        self.as_str()
    }
}

impl AsHeaderName for &HeaderName {
    fn as_header_name(&self) -> &str {
        self.as_str()
    }
}

fn too_large() -> Error {
    Error::new(StatusCode::PayloadTooLarge, "request body too large")
}

fn read_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut => Error::new(StatusCode::RequestTimeout, "request body timed out"),
        io::ErrorKind::FileTooLarge => too_large(),
        _ => Error::new(StatusCode::BadRequest, "invalid request body"),
    }
}

/// True for `application/json` and `application/…+json` (parameters such as `charset`
/// allowed).
fn is_json(content_type: Option<&str>) -> bool {
    let Some(essence) = content_type.and_then(|t| t.split(';').next()) else {
        return false;
    };
    let essence = essence.trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5
                && subtype
                    .get(subtype.len() - 5..)
                    .is_some_and(|end| end.eq_ignore_ascii_case("+json")))
}

/// Which field of a form-encoded `input` does not fit `T`, when the failure is one field's
/// (serde_qs and serde_urlencoded do not say).
fn blame_field<T: DeserializeOwned>(input: &[u8]) -> Option<crate::de::FieldError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(input).ok()?;
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (&**n, &**v)).collect();
    crate::de::from_pairs::<T>(&pairs).err()
}
