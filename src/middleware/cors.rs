//! [`Cors`]: cross-origin requests (the Fetch standard's CORS protocol), preflights answered.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_types::{Method, Response, StatusCode};

use super::vary::add_vary;
use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;

/// Middleware that lets pages of other origins call the application from a browser.
///
/// * A **preflight** (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is
///   answered here, before any handler or the router's `404`/`405`: `204 No Content` with
///   `Access-Control-Allow-Origin`, `-Methods`, `-Headers`, `-Max-Age` and `-Credentials`
///   as configured, when the origin, the method and every requested header are allowed.
///   Otherwise `403 Forbidden` with none of those headers, so the browser refuses the
///   request it was asking about (and the refusal is visible as a `4xx` in the logs).
/// * An **actual request** with an allowed `Origin` gets `Access-Control-Allow-Origin`
///   (and `-Credentials`, `-Expose-Headers`) on its response. One from an origin that is
///   not allowed gets none of them; a request without `Origin` passes through unchanged.
/// * `Vary: Origin` is added (to what the response already has) whenever the answer
///   depends on the origin: always, except for any origin without credentials. Preflights
///   also vary on `Access-Control-Request-Method` and `-Headers`, which decide them.
/// * `*` is never sent with credentials: with credentials and any origin, the request's
///   origin is sent back.
///
/// Add it on the top-level router, first (outermost), so that it answers preflights for
/// every route and the `404`s and `405`s too. Nothing is allowed until origins are given.
///
/// ```
/// use std::time::Duration;
/// use smolweb::{middleware::Cors, Method, Router, StatusCode, test::TestClient};
///
/// let cors = Cors::new()
///     .allow_origins(["https://app.example"])
///     .allow_methods([Method::Get, Method::Put])
///     .allow_headers(["content-type"])
///     .allow_credentials(true)
///     .max_age(Duration::from_secs(600));
/// let app = Router::new().get("/notes", |_| async { "[]" }).middleware(cors);
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     let res = client
///         .request(Method::Options, "/notes")
///         .header("origin", "https://app.example")
///         .header("access-control-request-method", "PUT")
///         .header("access-control-request-headers", "Content-Type")
///         .send()
///         .await;
///     assert_eq!(res.status(), StatusCode::NoContent);
///     assert_eq!(res.header("access-control-allow-origin"), Some("https://app.example"));
///     assert_eq!(res.header("access-control-allow-methods"), Some("GET, PUT"));
///     assert_eq!(res.header("access-control-max-age"), Some("600"));
///     let res = client.get("/notes").header("origin", "https://evil.example").send().await;
///     assert_eq!(res.header("access-control-allow-origin"), None);
/// });
/// ```
#[derive(Clone)]
pub struct Cors {
    origins: Origins,
    methods: Vec<Method>,
    headers: AllowHeaders,
    expose: Vec<String>,
    credentials: bool,
    max_age: Option<Duration>,
}

#[derive(Clone)]
enum Origins {
    List(Vec<String>),
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
    Any,
}

#[derive(Clone)]
enum AllowHeaders {
    /// Lowercase names.
    List(Vec<String>),
    Mirror,
}

impl fmt::Debug for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origins = match &self.origins {
            Origins::List(list) => format!("{list:?}"),
            Origins::Predicate(_) => "predicate".into(),
            Origins::Any => "any".into(),
        };
        let headers = match &self.headers {
            AllowHeaders::List(list) => format!("{list:?}"),
            AllowHeaders::Mirror => "mirror".into(),
        };
        f.debug_struct("Cors")
            .field("origins", &origins)
            .field("methods", &self.methods)
            .field("headers", &headers)
            .field("expose", &self.expose)
            .field("credentials", &self.credentials)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl Default for Cors {
    fn default() -> Self {
        Self::new()
    }
}

impl Cors {
    /// CORS that allows no origin yet; the methods below say what to allow.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().allow_any_origin();
    /// # let _ = cors;
    /// ```
    pub fn new() -> Self {
        Cors {
            origins: Origins::List(Vec::new()),
            methods: vec![Method::Get, Method::Head, Method::Post],
            headers: AllowHeaders::List(Vec::new()),
            expose: Vec::new(),
            credentials: false,
            max_age: None,
        }
    }

    /// Allows these origins, each exactly `scheme://host[:port]` as a browser sends it in
    /// `Origin` (compared as given, after lowercasing the configured ones), replacing
    /// earlier origin settings.
    ///
    /// **Default:** no origin.
    ///
    /// # Panics
    /// On an origin that is not `scheme://host[:port]` (a path, even `/`, a query, user
    /// info, `null`): a mistake found at start-up. [`try_allow_origins`](Self::try_allow_origins)
    /// returns the error instead.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new()
    ///     .allow_origins(["https://app.example", "http://localhost:3000"]);
    /// # let _ = cors;
    /// ```
    pub fn allow_origins<I>(self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.try_allow_origins(origins)
            .unwrap_or_else(|e| panic!("Cors::allow_origins: {e}"))
    }

    /// [`allow_origins`](Self::allow_origins), with an origin that is not
    /// `scheme://host[:port]` returned as an error (for origins read from configuration).
    ///
    /// ```
    /// use smolweb::middleware::Cors;
    /// assert!(Cors::new().try_allow_origins(["https://app.example:8443"]).is_ok());
    /// let err = Cors::new().try_allow_origins(["https://app.example/"]).unwrap_err();
    /// assert_eq!(err.origin(), "https://app.example/");
    /// ```
    pub fn try_allow_origins<I>(mut self, origins: I) -> Result<Self, InvalidOrigin>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            let origin = origin.as_ref();
            if !is_origin(origin) {
                return Err(InvalidOrigin(origin.to_owned()));
            }
            list.push(origin.to_ascii_lowercase());
        }
        self.origins = Origins::List(list);
        Ok(self)
    }

    /// Allows the origins for which `allowed(origin)` is true (the `Origin` header as
    /// sent), replacing earlier origin settings.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new()
    ///     .allow_origin_fn(|origin| origin.ends_with(".app.example") && origin.starts_with("https://"));
    /// # let _ = cors;
    /// ```
    pub fn allow_origin_fn(
        mut self,
        allowed: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.origins = Origins::Predicate(Arc::new(allowed));
        self
    }

    /// Allows every origin (`Access-Control-Allow-Origin: *`, or the request's origin when
    /// credentials are allowed), replacing earlier origin settings.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().allow_any_origin();
    /// # let _ = cors;
    /// ```
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = Origins::Any;
        self
    }

    /// The methods a preflight may ask for (compared exactly, as methods are).
    ///
    /// **Default:** `GET`, `HEAD`, `POST`.
    ///
    /// ```
    /// use smolweb::{middleware::Cors, Method};
    /// let cors = Cors::new().allow_methods([Method::Get, Method::Put, Method::Delete]);
    /// # let _ = cors;
    /// ```
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// The request headers a preflight may ask for (names, in any case).
    ///
    /// **Default:** none (only what browsers send without asking).
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().allow_headers(["content-type", "x-token"]);
    /// # let _ = cors;
    /// ```
    pub fn allow_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let list = headers
            .into_iter()
            .map(|h| h.as_ref().trim().to_ascii_lowercase());
        self.headers = AllowHeaders::List(list.collect());
        self
    }

    /// Allows whatever request headers a preflight asks for, sending its
    /// `Access-Control-Request-Headers` back.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().allow_any_origin().mirror_request_headers();
    /// # let _ = cors;
    /// ```
    pub fn mirror_request_headers(mut self) -> Self {
        self.headers = AllowHeaders::Mirror;
        self
    }

    /// The response headers a page may read besides the safelisted ones
    /// (`Access-Control-Expose-Headers`).
    ///
    /// **Default:** none.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().expose_headers(["location", "x-request-id"]);
    /// # let _ = cors;
    /// ```
    pub fn expose_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.expose = headers.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// Whether pages may send cookies and read responses to requests with them
    /// (`Access-Control-Allow-Credentials: true`).
    ///
    /// **Default:** `false`.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().allow_credentials(true);
    /// # let _ = cors;
    /// ```
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long a browser may keep a preflight's answer (`Access-Control-Max-Age`, sent in
    /// whole seconds).
    ///
    /// **Default:** not sent (browsers then keep it 5 seconds). **Unit:** time, sent in
    /// seconds.
    ///
    /// ```
    /// let cors = smolweb::middleware::Cors::new().max_age(std::time::Duration::from_secs(3600));
    /// # let _ = cors;
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        match &self.origins {
            Origins::List(list) => list.iter().any(|o| o == origin),
            Origins::Predicate(allowed) => allowed(origin),
            Origins::Any => true,
        }
    }

    /// Whether the answer depends on `Origin`.
    fn varies_by_origin(&self) -> bool {
        self.credentials || !matches!(self.origins, Origins::Any)
    }

    /// `Access-Control-Allow-Origin` (and `-Credentials`) for an allowed `origin`.
    fn allow_origin(&self, origin: &str, headers: &mut Vec<(&'static str, String)>) {
        let value = if self.varies_by_origin() { origin } else { "*" };
        headers.push(("access-control-allow-origin", value.to_owned()));
        if self.credentials {
            headers.push(("access-control-allow-credentials", "true".to_owned()));
        }
    }

    /// The answer to a preflight from `origin` asking for `method` (and the headers of
    /// `Access-Control-Request-Headers`, if sent).
    fn preflight(&self, origin: &str, method: &str, asked: Option<&str>) -> Response {
        let mut vary = vec!["origin"];
        let mut headers = Vec::new();
        let allowed = self.origin_allowed(origin) && {
            vary.extend([
                "access-control-request-method",
                "access-control-request-headers",
            ]);
            let method_ok = self.methods.iter().any(|m| m.as_ref() == method);
            let asked: Vec<&str> = asked
                .into_iter()
                .flat_map(|list| list.split(','))
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect();
            let headers_ok = match &self.headers {
                AllowHeaders::Mirror => true,
                AllowHeaders::List(list) => asked
                    .iter()
                    .all(|h| list.iter().any(|l| l.eq_ignore_ascii_case(h))),
            };
            method_ok && headers_ok && {
                self.allow_origin(origin, &mut headers);
                let methods: Vec<&str> = self.methods.iter().map(|m| m.as_ref()).collect();
                headers.push(("access-control-allow-methods", methods.join(", ")));
                let allow = match &self.headers {
                    AllowHeaders::Mirror => asked.join(", "),
                    AllowHeaders::List(list) => list.join(", "),
                };
                if !allow.is_empty() {
                    headers.push(("access-control-allow-headers", allow));
                }
                if let Some(max_age) = self.max_age {
                    headers.push(("access-control-max-age", max_age.as_secs().to_string()));
                }
                true
            }
        };
        if !self.varies_by_origin() {
            vary.retain(|v| *v != "origin");
        }
        let status = if allowed {
            StatusCode::NoContent
        } else {
            StatusCode::Forbidden
        };
        let mut res = Response::new(status);
        for (name, value) in headers {
            res.insert_header(name, value);
        }
        add_vary(&mut res, &vary);
        res
    }
}

impl Middleware for Cors {
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let Some(origin) = req.header("origin") else {
            return next.run(req);
        };
        if req.method() == Method::Options {
            if let Some(method) = req.header("access-control-request-method") {
                let asked = req.header("access-control-request-headers");
                let res = self.preflight(origin, method, asked);
                return Box::pin(std::future::ready(res));
            }
        }
        let mut headers = Vec::new();
        if self.origin_allowed(origin) {
            self.allow_origin(origin, &mut headers);
            if !self.expose.is_empty() {
                headers.push(("access-control-expose-headers", self.expose.join(", ")));
            }
        }
        let vary = self.varies_by_origin();
        let res = next.run(req);
        Box::pin(async move {
            let mut res = res.await;
            for (name, value) in headers {
                res.insert_header(name, value);
            }
            if vary {
                add_vary(&mut res, &["origin"]);
            }
            res
        })
    }
}

/// True for `scheme://host[:port]`: what a browser's `Origin` holds for a URL origin.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.ends_with(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = match host.strip_prefix('[') {
        Some(v6) => v6
            .strip_suffix(']')
            .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok()),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        }
    };
    scheme_ok && port_ok && host_ok
}

/// An allowed origin that is not `scheme://host[:port]`
/// ([`Cors::try_allow_origins`]).
///
/// ```
/// let err = smolweb::middleware::Cors::new().try_allow_origins(["null"]).unwrap_err();
/// assert!(err.to_string().contains("scheme://host[:port]"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOrigin(String);

impl InvalidOrigin {
    /// The origin as it was given.
    ///
    /// ```
    /// let err = smolweb::middleware::Cors::new().try_allow_origins(["app.example"]).unwrap_err();
    /// assert_eq!(err.origin(), "app.example");
    /// ```
    pub fn origin(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvalidOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an origin: write scheme://host[:port], with no path, not even `/`",
            self.0
        )
    }
}

impl std::error::Error for InvalidOrigin {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Router;
    use crate::test::{TestClient, TestResponse};

    fn client(cors: Cors) -> TestClient {
        let app = Router::new()
            .get("/r", |_| async {
                let mut res = Response::new(StatusCode::Ok);
                res.insert_header("vary", "Accept-Encoding");
                res
            })
            .middleware(cors);
        TestClient::new(app)
    }

    async fn preflight(
        client: &TestClient,
        origin: &str,
        method: &str,
        headers: Option<&str>,
    ) -> TestResponse {
        let mut req = client
            .request(Method::Options, "/r")
            .header("origin", origin)
            .header("access-control-request-method", method);
        if let Some(headers) = headers {
            req = req.header("access-control-request-headers", headers);
        }
        req.send().await
    }

    fn allow(res: &TestResponse, what: &str) -> Option<String> {
        res.header(&format!("access-control-allow-{what}"))
            .map(str::to_owned)
    }

    #[test]
    fn a_preflight_for_a_get_only_route_is_answered_not_405() {
        smol::block_on(async {
            let c = client(
                Cors::new()
                    .allow_origins(["https://a.example"])
                    .allow_methods([Method::Put]),
            );
            let res = preflight(&c, "https://a.example", "PUT", None).await;
            assert_eq!(res.status(), StatusCode::NoContent);
            assert_eq!(allow(&res, "origin").as_deref(), Some("https://a.example"));
            assert_eq!(allow(&res, "methods").as_deref(), Some("PUT"));
            assert_eq!(allow(&res, "headers"), None);
            assert_eq!(allow(&res, "credentials"), None);
            assert_eq!(res.header("access-control-max-age"), None);
            assert_eq!(
                res.header("vary"),
                Some("origin, access-control-request-method, access-control-request-headers")
            );
            // OPTIONS without the request method is no preflight: the router's 405.
            let res = c
                .request(Method::Options, "/r")
                .header("origin", "https://a.example")
                .send()
                .await;
            assert_eq!(res.status(), StatusCode::MethodNotAllowed);
            assert_eq!(
                res.header("access-control-allow-origin"),
                Some("https://a.example")
            );
        });
    }

    #[test]
    fn refused_preflights_have_no_allow_headers() {
        smol::block_on(async {
            let cors = Cors::new()
                .allow_origins(["https://a.example"])
                .allow_headers(["X-Token"])
                .allow_credentials(true)
                .max_age(Duration::from_secs(60));
            let c = client(cors);
            let ok = preflight(&c, "https://a.example", "POST", Some("x-token")).await;
            assert_eq!(ok.status(), StatusCode::NoContent);
            assert_eq!(allow(&ok, "headers").as_deref(), Some("x-token"));
            assert_eq!(allow(&ok, "credentials").as_deref(), Some("true"));
            assert_eq!(ok.header("access-control-max-age"), Some("60"));
            for (origin, method, headers) in [
                ("https://b.example", "POST", None),
                ("https://a.example.evil", "POST", None),
                ("https://a.example", "DELETE", None),
                ("https://a.example", "post", None),
                ("https://a.example", "POST", Some("x-token, x-other")),
            ] {
                let res = preflight(&c, origin, method, headers).await;
                assert_eq!(
                    res.status(),
                    StatusCode::Forbidden,
                    "{origin} {method} {headers:?}"
                );
                for what in ["origin", "methods", "headers", "credentials"] {
                    assert_eq!(allow(&res, what), None, "{origin} {method} {what}");
                }
                assert_eq!(res.header("access-control-max-age"), None);
                assert!(res.header("vary").unwrap().starts_with("origin"));
            }
        });
    }

    #[test]
    fn actual_requests() {
        smol::block_on(async {
            let cors = Cors::new()
                .allow_origin_fn(|o| o.ends_with(".a.example"))
                .expose_headers(["x-total"]);
            let c = client(cors);
            let res = c
                .get("/r")
                .header("origin", "https://x.a.example")
                .send()
                .await;
            assert_eq!(res.status(), StatusCode::Ok);
            assert_eq!(
                res.header("access-control-allow-origin"),
                Some("https://x.a.example")
            );
            assert_eq!(res.header("access-control-expose-headers"), Some("x-total"));
            assert_eq!(res.header("access-control-allow-credentials"), None);
            assert_eq!(res.header("vary"), Some("Accept-Encoding, origin"));
            // A refused origin: no CORS headers (Vary still says the answer depends on it).
            let res = c
                .get("/r")
                .header("origin", "https://b.example")
                .send()
                .await;
            assert_eq!(res.header("access-control-allow-origin"), None);
            assert_eq!(res.header("access-control-expose-headers"), None);
            assert_eq!(res.header("vary"), Some("Accept-Encoding, origin"));
            // No Origin: unchanged.
            let res = c.get("/r").send().await;
            assert_eq!(res.header("vary"), Some("Accept-Encoding"));
            assert_eq!(res.header("access-control-allow-origin"), None);
        });
    }

    #[test]
    fn any_origin_is_a_star_unless_credentials() {
        smol::block_on(async {
            let c = client(Cors::new().allow_any_origin().mirror_request_headers());
            let res = c
                .get("/r")
                .header("origin", "https://z.example")
                .send()
                .await;
            assert_eq!(res.header("access-control-allow-origin"), Some("*"));
            assert_eq!(res.header("vary"), Some("Accept-Encoding"));
            let res = preflight(&c, "https://z.example", "GET", Some("X-A, x-b")).await;
            assert_eq!(allow(&res, "origin").as_deref(), Some("*"));
            assert_eq!(allow(&res, "headers").as_deref(), Some("X-A, x-b"));
            assert_eq!(
                res.header("vary"),
                Some("access-control-request-method, access-control-request-headers")
            );

            let c = client(Cors::new().allow_any_origin().allow_credentials(true));
            let res = c
                .get("/r")
                .header("origin", "https://z.example")
                .send()
                .await;
            assert_eq!(
                res.header("access-control-allow-origin"),
                Some("https://z.example")
            );
            assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
            assert_eq!(res.header("vary"), Some("Accept-Encoding, origin"));
            let res = preflight(&c, "https://z.example", "HEAD", None).await;
            assert_eq!(allow(&res, "origin").as_deref(), Some("https://z.example"));
        });
    }

    #[test]
    fn vary_is_merged_never_clobbered() {
        let mut res = Response::new(StatusCode::Ok);
        res.append_header("vary", "accept");
        res.append_header("vary", "Origin, cookie");
        add_vary(&mut res, &["origin", "access-control-request-method"]);
        assert_eq!(
            res.header("vary").unwrap().as_str(),
            "accept, Origin, cookie, access-control-request-method"
        );
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header("vary", "*");
        add_vary(&mut res, &["origin"]);
        assert_eq!(res.header("vary").unwrap().as_str(), "*");
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        for good in [
            "https://a.example",
            "http://localhost:3000",
            "http://[::1]:8080",
            "http://10.0.0.1",
            "app+x://h",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "null",
            "a.example",
            "https://a.example/",
            "https://a.example/x",
            "https://u@a.example",
            "https://a.example:",
            "https://a.example:123456",
            "https://",
            "://a",
            "1http://a",
            "https://a.example?x",
            "http://[::1",
            "http://[zz]:80",
            "https://a b",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
        let cors = Cors::new().allow_origins(["HTTPS://A.Example"]);
        assert!(cors.origin_allowed("https://a.example"));
    }
}
