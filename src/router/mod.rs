//! [`Router`]: method + path table with parameters, wildcards, nesting and middleware.

mod pattern;

use std::sync::Arc;

use http_types::{Method, Response, StatusCode};

use self::pattern::{Segment, decode_params, match_path, parse_pattern, same_shape};
use crate::handler::{BoxFuture, Handler, Middleware, Next};
use crate::request::{Request, State};
use crate::response::{error_response, status_response};
use crate::slot::FutureSlot;

/// Maps method and path to handlers.
///
/// Patterns are `/`-separated segments: static text, `:name` (one non-empty segment) or a
/// final `*name` (the rest of the path, possibly empty). Among the patterns that match a path
/// and have a handler for the method, the most specific wins, segment by segment: static
/// before `:param` before `*wildcard`, whatever order they were added in. Then:
///
/// * no pattern matches → `404 Not Found`;
/// * patterns match but none has a handler for the method → `405 Method Not Allowed` with an
///   `Allow` header listing the methods they have;
/// * `HEAD` uses the `GET` handler when there is no `HEAD` one (the body is not sent).
///
/// Static segments are compared with the path as sent (percent-encoded); parameters are
/// percent-decoded when read with [`Request::param`].
///
/// ```
/// use smolweb::{Request, Router};
///
/// let api = Router::new()
///     .get("/users/:id", |req: Request| async move { format!("user {}", req.param("id").unwrap()) })
///     .get("/users/me", |_| async { "the current user" });
/// let app = Router::new()
///     .get("/", |_| async { "home" })
///     .get("/files/*path", |req: Request| async move { req.param("path").unwrap().to_string() })
///     .nest("/api", api);
/// # let _ = app;
/// ```
///
/// # Panics
/// The builder methods panic on a pattern that does not start with `/`, a `*wildcard` that is
/// not the last segment, a parameter without a name, the same method and pattern twice, or
/// two patterns of the same shape whose parameters are named differently (`/a/:id` and
/// `/a/:name`): these are mistakes in the program, found at start-up.
#[derive(Default)]
pub struct Router {
    table: RouteTable,
    middleware: Vec<Arc<dyn Middleware>>,
}

#[derive(Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
    state: Option<State>,
    /// Answers what no route does (instead of `404` and `405`).
    fallback: Option<Arc<dyn Handler>>,
    /// smolweb's own error responses are JSON.
    json_errors: bool,
}

struct Route {
    pattern: String,
    segments: Vec<Segment>,
    endpoints: Vec<(Method, Endpoint)>,
}

#[derive(Clone)]
struct Endpoint {
    handler: Arc<dyn Handler>,
    /// Middleware of the routers this route was nested from, outermost first.
    chain: Arc<[Arc<dyn Middleware>]>,
    /// State of the router the route was added to, if it had one.
    state: Option<State>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<_> = self.table.routes.iter().map(|r| &r.pattern).collect();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("middleware", &self.middleware.len())
            .finish()
    }
}

impl Router {
    /// An empty router: every request gets `404`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for `method` on `path`.
    pub fn route(mut self, method: Method, path: &str, handler: impl Handler) -> Self {
        let endpoint = Endpoint {
            handler: Arc::new(handler),
            chain: Arc::new([]),
            state: None,
        };
        self.table.add(method, path, endpoint);
        self
    }

    /// Adds a `GET` handler (also used for `HEAD`).
    pub fn get(self, path: &str, handler: impl Handler) -> Self {
        self.route(Method::Get, path, handler)
    }

    /// Adds a `POST` handler.
    pub fn post(self, path: &str, handler: impl Handler) -> Self {
        self.route(Method::Post, path, handler)
    }

    /// Adds a `PUT` handler.
    pub fn put(self, path: &str, handler: impl Handler) -> Self {
        self.route(Method::Put, path, handler)
    }

    /// Adds a `DELETE` handler.
    pub fn delete(self, path: &str, handler: impl Handler) -> Self {
        self.route(Method::Delete, path, handler)
    }

    /// Adds a `PATCH` handler.
    pub fn patch(self, path: &str, handler: impl Handler) -> Self {
        self.route(Method::Patch, path, handler)
    }

    /// Adds middleware around every request this router handles, including its `404`s and
    /// `405`s when it is the top-level router.
    ///
    /// Order: the first added is the outermost (it sees the request first and the response
    /// last). A nested router's middleware runs inside its parent's, and only for its routes.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Answers every request no route answers — instead of the `404` for a path no pattern
    /// matches and the `405` for a method no matching pattern has. Only the top-level
    /// router's fallback counts (nesting a router that has one panics). Its middleware runs
    /// around the fallback too.
    ///
    /// ```
    /// use smolweb::{Request, Router, StatusCode, test::TestClient};
    ///
    /// // A single-page app: the API, then index.html for every other GET.
    /// let app = Router::new()
    ///     .get("/api/status", |_| async { "up" })
    ///     .fallback(|req: Request| async move {
    ///         if req.method() == smolweb::Method::Get {
    ///             (StatusCode::Ok, "<!doctype html><div id=app></div>").into_response()
    ///         } else {
    ///             StatusCode::NotFound.into_response()
    ///         }
    ///     });
    /// # use smolweb::IntoResponse;
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     assert_eq!(client.get("/api/status").send().await.text().await, "up");
    ///     assert!(client.get("/settings/profile").send().await.text().await.contains("id=app"));
    ///     assert_eq!(client.delete("/api/status").send().await.status(), StatusCode::NotFound);
    /// });
    /// ```
    pub fn fallback(mut self, handler: impl Handler) -> Self {
        self.table.fallback = Some(Arc::new(handler));
        self
    }

    /// Answers smolweb's own errors as JSON, `{"error": "...", "status": 404}` with
    /// `application/json`: the router's `404` and `405`, a handler's
    /// [`Error`](crate::Error) (the `413` of a body too large, the `415` and `422` of
    /// [`body_json`](crate::Request::body_json), a `400` from
    /// [`params`](crate::Request::params), ...), and the `500` of a panic. Responses a
    /// handler builds itself are left as they are. Set it on the top-level router; it holds
    /// for the whole application. (Requests the connection refuses before routing — a
    /// malformed head, say — are still answered in plain text.)
    ///
    /// ```
    /// use smolweb::{Request, Router, StatusCode, test::TestClient};
    ///
    /// let app = Router::new()
    ///     .get("/notes/:id", |req: Request| async move {
    ///         let (id,): (u64,) = req.params()?;
    ///         Ok::<_, smolweb::Error>(format!("note {id}"))
    ///     })
    ///     .json_errors();
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     let res = client.get("/nope").send().await;
    ///     assert_eq!(res.header("content-type"), Some("application/json"));
    ///     let body: serde_json::Value = res.json().await;
    ///     assert_eq!(body, serde_json::json!({"error": "Not Found", "status": 404}));
    ///     let body: serde_json::Value = client.get("/notes/x").send().await.json().await;
    ///     assert_eq!(body["status"], 400);
    ///     assert!(body["error"].as_str().unwrap().contains("`id`"));
    /// });
    /// ```
    pub fn json_errors(mut self) -> Self {
        self.table.json_errors = true;
        self
    }

    /// Gives this router's handlers a shared value of type `S`, read with
    /// [`Request::state`]. A nested router keeps its own state if it has one.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use smolweb::{Request, Router};
    ///
    /// struct Hits(AtomicU64);
    /// async fn count(req: Request) -> String {
    ///     let n = req.state::<Hits>().0.fetch_add(1, Ordering::Relaxed) + 1;
    ///     format!("visit {n}")
    /// }
    /// let app = Router::new().get("/", count).with_state(Hits(AtomicU64::new(0)));
    /// # let _ = app;
    /// ```
    pub fn with_state<S: Send + Sync + 'static>(mut self, state: S) -> Self {
        self.table.state = Some(Arc::new(state));
        self
    }

    /// Mounts every route of `other` under `prefix` (`"/api"` + `"/users"` = `"/api/users"`,
    /// and `other`'s `"/"` is `"/api"` itself). `other`'s middleware and state go with its
    /// routes.
    pub fn nest(mut self, prefix: &str, other: Router) -> Self {
        assert!(
            prefix.starts_with('/'),
            "nest prefix {prefix:?} must start with '/'"
        );
        assert!(
            other.table.fallback.is_none(),
            "a fallback belongs to the top-level router, not to one nested under {prefix:?}"
        );
        let prefix = prefix.trim_end_matches('/');
        let Router { table, middleware } = other;
        for route in table.routes {
            let path = match (prefix, route.pattern.as_str()) {
                ("", p) => p.to_string(),
                (pre, "/") => pre.to_string(),
                (pre, p) => format!("{pre}{p}"),
            };
            for (method, mut endpoint) in route.endpoints {
                endpoint.chain = middleware
                    .iter()
                    .chain(endpoint.chain.iter())
                    .cloned()
                    .collect();
                endpoint.state = endpoint.state.or_else(|| table.state.clone());
                self.table.add(method, &path, endpoint);
            }
        }
        self
    }

    /// Adds every route of `other` as it is; same as `nest("/", other)`.
    pub fn merge(self, other: Router) -> Self {
        self.nest("/", other)
    }

    /// Splits into the top-level middleware and the routing handler behind it.
    /// The router made ready to serve. Panics if a handler needs a state its routes do not
    /// have ([`stateful`](crate::stateful)): found at start-up, not at the first request.
    pub(crate) fn into_parts(self) -> (Arc<[Arc<dyn Middleware>]>, Arc<RouteTable>) {
        self.table.check_states();
        (self.middleware.into(), Arc::new(self.table))
    }
}

impl RouteTable {
    fn add(&mut self, method: Method, path: &str, endpoint: Endpoint) {
        let segments = parse_pattern(path);
        if let Some(other) = self
            .routes
            .iter()
            .find(|r| same_shape(&r.segments, &segments))
        {
            // `/users/:id` and `/users/:name` match the same paths: which one answers would
            // depend on insertion order, so refuse the second.
            assert!(
                other.segments == segments,
                "route {path:?} conflicts with {:?}: same shape, different parameter names",
                other.pattern
            );
        }
        let route = match self.routes.iter_mut().position(|r| r.segments == segments) {
            Some(i) => &mut self.routes[i],
            None => {
                self.routes.push(Route {
                    pattern: path.to_string(),
                    segments,
                    endpoints: Vec::new(),
                });
                self.routes.last_mut().expect("just pushed")
            }
        };
        assert!(
            !route.endpoints.iter().any(|(m, _)| *m == method),
            "{method} {path} is routed twice"
        );
        route.endpoints.push((method, endpoint));
    }

    pub(crate) fn state(&self) -> Option<State> {
        self.state.clone()
    }

    pub(crate) fn json_errors(&self) -> bool {
        self.json_errors
    }

    /// Panics naming the first handler whose needed state its route does not have.
    fn check_states(&self) {
        let has = |state: Option<&State>, need: crate::handler::StateNeed| {
            state.is_some_and(|s| <dyn std::any::Any>::type_id(&**s) == need.type_id)
        };
        for route in &self.routes {
            for (method, endpoint) in &route.endpoints {
                let Some(need) = endpoint.handler.needs_state() else {
                    continue;
                };
                let state = endpoint.state.as_ref().or(self.state.as_ref());
                assert!(
                    has(state, need),
                    "{method} {} needs a state of type {}: call Router::with_state",
                    route.pattern,
                    need.name
                );
            }
        }
        if let Some(need) = self.fallback.as_ref().and_then(|f| f.needs_state()) {
            assert!(
                has(self.state.as_ref(), need),
                "the fallback needs a state of type {}: call Router::with_state",
                need.name
            );
        }
    }

    /// The most specific route matching `path` that has a handler for `method` (`HEAD`
    /// falling back to `GET`), with that handler.
    fn find(&self, path: &str, method: Method) -> Option<(&Route, &Endpoint)> {
        let mut best: Option<(&Route, &Endpoint)> = None;
        for route in &self.routes {
            if best.is_some_and(|(b, _)| !more_specific(route, b)) {
                continue;
            }
            if let Some(endpoint) = route.endpoint(method) {
                if match_path(&route.segments, path, None) {
                    best = Some((route, endpoint));
                }
            }
        }
        best
    }

    /// The methods some route matching `path` accepts (for `Allow`); empty if none matches.
    fn allowed(&self, path: &str) -> Vec<&str> {
        let mut allow: Vec<&str> = Vec::new();
        for route in self
            .routes
            .iter()
            .filter(|r| match_path(&r.segments, path, None))
        {
            for (m, _) in &route.endpoints {
                if !allow.contains(&m.as_ref()) {
                    allow.push(m.as_ref());
                }
            }
        }
        if allow.contains(&"GET") && !allow.contains(&"HEAD") {
            allow.push("HEAD");
        }
        allow
    }
}

impl Route {
    fn endpoint(&self, method: Method) -> Option<&Endpoint> {
        let exact = self.endpoints.iter().find(|(m, _)| *m == method);
        let head_as_get = || {
            self.endpoints
                .iter()
                .find(|(m, _)| method == Method::Head && *m == Method::Get)
        };
        exact.or_else(head_as_get).map(|(_, e)| e)
    }
}

/// True when `a` beats `b` for a path both match.
fn more_specific(a: &Route, b: &Route) -> bool {
    for (x, y) in a.segments.iter().zip(&b.segments) {
        if x.rank() != y.rank() {
            return x.rank() < y.rank();
        }
    }
    // Same kinds as far as both go: the one without a trailing wildcard is more specific.
    a.segments.len() < b.segments.len()
}

impl RouteTable {
    /// Finds the route for `req` and gives its chain (with the parameters and state put in
    /// `req`), or the response when there is none (`404`, `405`) or its parameters are not
    /// valid percent-encoding (`400`).
    // The response is moved once, into the caller's future; boxing it would allocate.
    #[allow(clippy::result_large_err)]
    fn route(&self, req: &mut Request) -> Result<Next, Response> {
        let method = req.method();
        let Some((route, endpoint)) = self.find(req.path(), method) else {
            if let Some(fallback) = &self.fallback {
                req.set_state(self.state.clone());
                return Ok(Next::new(Arc::new([]), fallback.clone()));
            }
            let allow = self.allowed(req.path());
            if allow.is_empty() {
                return Err(status_response(StatusCode::NotFound));
            }
            let mut res = status_response(StatusCode::MethodNotAllowed);
            res.insert_header("allow", allow.join(", "));
            return Err(res);
        };
        let has_params = route
            .segments
            .iter()
            .any(|s| !matches!(s, Segment::Static(_)));
        if has_params {
            let mut params = Vec::new();
            match_path(&route.segments, req.path(), Some(&mut params));
            if !decode_params(req.path(), &mut params) {
                return Err(error_response(
                    StatusCode::BadRequest,
                    "invalid percent-encoding in path",
                ));
            }
            let wildcard = matches!(route.segments.last(), Some(Segment::Wildcard(_)));
            req.set_params(params, wildcard);
        }
        req.set_state(endpoint.state.clone().or_else(|| self.state.clone()));
        Ok(Next::new(endpoint.chain.clone(), endpoint.handler.clone()))
    }
}

impl Handler for RouteTable {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        match self.route(&mut req) {
            Ok(next) => next.run(req),
            Err(res) => Box::pin(std::future::ready(res)),
        }
    }

    fn call_in(&self, mut req: Request, slot: &mut FutureSlot) {
        match self.route(&mut req) {
            Ok(next) => next.run_in(req, slot),
            Err(res) => slot.put(std::future::ready(res)),
        }
    }
}
