//! The router over real sockets: matching, precedence, 404/405, HEAD, nesting, state and
//! middleware; plus one exchange through `memory::pair` with no port at all.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use smolweb::{Method, Middleware, Next, Request, Response, Router, StatusCode};
use support::{call, get, spawn};

/// A handler answering with a fixed text.
fn text(body: &'static str) -> impl smolweb::Handler {
    move |_req: Request| async move { body }
}

/// A handler answering with the value of parameter `name` (or `<none>`).
fn param(name: &'static str) -> impl smolweb::Handler {
    move |req: Request| async move { req.param(name).unwrap_or("<none>").to_string() }
}

/// The body of `GET target`, asserting a 200.
fn body_of(addr: std::net::SocketAddr, target: &str) -> String {
    let res = get(addr, target);
    assert_eq!(res.status, 200, "GET {target}: {res:?}");
    res.text().to_string()
}

// ---------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------

#[test]
fn static_routes() {
    let addr = spawn(
        Router::new()
            .get("/", text("root"))
            .get("/about", text("about"))
            .get("/a/b/c", text("deep")),
    );
    assert_eq!(body_of(addr, "/"), "root");
    assert_eq!(body_of(addr, "/about"), "about");
    assert_eq!(body_of(addr, "/a/b/c"), "deep");
    assert_eq!(body_of(addr, "/about?x=1"), "about");
    assert_eq!(get(addr, "/a/b").status, 404);
}

#[test]
fn param_is_extracted() {
    let addr = spawn(
        Router::new()
            .get("/users/:id", param("id"))
            .get("/a/:x/b/:y", |req: Request| async move {
                format!("{}+{}", req.param("x").unwrap(), req.param("y").unwrap())
            }),
    );
    assert_eq!(body_of(addr, "/users/42"), "42");
    assert_eq!(body_of(addr, "/a/1/b/2"), "1+2");
    // A parameter is one non-empty segment.
    assert_eq!(get(addr, "/users/").status, 404);
    assert_eq!(get(addr, "/users/1/2").status, 404);
}

#[test]
fn param_is_percent_decoded() {
    let addr = spawn(Router::new().get("/users/:id", param("id")));
    assert_eq!(body_of(addr, "/users/j%C3%B6rg"), "jörg");
    assert_eq!(body_of(addr, "/users/a%20b"), "a b");
    assert_eq!(body_of(addr, "/users/a%2Fb"), "a/b");
}

/// `%ff` is not UTF-8 once decoded and `%zz` is no escape at all; whatever `param` does with
/// them, it must not hand out the same value as for a different, well-formed path (`%25ff`
/// decodes to the literal text `%ff`).
#[test]
fn undecodable_param_is_not_confused_with_a_decoded_one() {
    let addr = spawn(Router::new().get("/users/:id", param("id")));
    for (bad, good) in [
        ("/users/%ff", "/users/%25ff"),
        ("/users/%zz", "/users/%25zz"),
    ] {
        let bad_res = get(addr, bad);
        let good_res = get(addr, good);
        assert_eq!(good_res.status, 200);
        assert_eq!(
            bad_res.status, 400,
            "{bad} must be refused, not returned raw"
        );
        assert!(
            bad_res.status != 200 || bad_res.body != good_res.body,
            "{bad} and {good} both give {:?}",
            good_res.text()
        );
    }
}

#[test]
fn wildcard_captures_the_rest() {
    let addr = spawn(Router::new().get("/static/*path", param("path")));
    assert_eq!(body_of(addr, "/static/site.css"), "site.css");
    assert_eq!(
        body_of(addr, "/static/css/deep/site.css"),
        "css/deep/site.css"
    );
    assert_eq!(body_of(addr, "/static/a%20b/c"), "a b/c");
    assert_eq!(body_of(addr, "/static/"), "");
    assert_eq!(get(addr, "/other/x").status, 404);
}

#[test]
fn static_beats_param_whatever_the_order() {
    let addr = spawn(
        Router::new()
            .get("/users/:id", |req: Request| async move {
                format!("user {}", req.param("id").unwrap())
            })
            .get("/users/me", text("me")),
    );
    assert_eq!(body_of(addr, "/users/me"), "me");
    assert_eq!(body_of(addr, "/users/7"), "user 7");
}

fn files_router(order: [usize; 3]) -> Router {
    let mut router = Router::new();
    for i in order {
        router = match i {
            0 => router.get("/files/*rest", |req: Request| async move {
                format!("rest {}", req.param("rest").unwrap())
            }),
            1 => router.get("/files/:name", |req: Request| async move {
                format!("name {}", req.param("name").unwrap())
            }),
            _ => router.get("/files/special", text("special")),
        };
    }
    router
}

#[test]
fn static_then_param_then_wildcard_whatever_the_order() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2]] {
        let addr = spawn(files_router(order));
        assert_eq!(body_of(addr, "/files/special"), "special", "{order:?}");
        assert_eq!(body_of(addr, "/files/report"), "name report", "{order:?}");
        assert_eq!(body_of(addr, "/files/a/b"), "rest a/b", "{order:?}");
        assert_eq!(body_of(addr, "/files/"), "rest ", "{order:?}");
    }
}

#[test]
fn specificity_is_decided_segment_by_segment() {
    let addr = spawn(
        Router::new()
            .get("/a/:x/c", text("param then static"))
            .get("/a/b/*rest", text("static then wildcard")),
    );
    // The second segment decides: static `b` beats `:x`.
    assert_eq!(body_of(addr, "/a/b/c"), "static then wildcard");
    assert_eq!(body_of(addr, "/a/z/c"), "param then static");
}

// ---------------------------------------------------------------------------------------
// 404, 405, HEAD
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_path_is_404() {
    let addr = spawn(Router::new().get("/known", text("yes")));
    let res = get(addr, "/unknown");
    assert_eq!(res.status, 404);
    assert_eq!(res.text(), "Not Found");
    // An empty router answers everything with 404.
    assert_eq!(get(spawn(Router::new()), "/").status, 404);
}

fn allow_set(value: &str) -> BTreeSet<String> {
    value.split(',').map(|m| m.trim().to_string()).collect()
}

#[test]
fn wrong_method_is_405_with_allow() {
    let addr = spawn(
        Router::new()
            .get("/thing", text("got"))
            .post("/thing", text("posted")),
    );
    let res = call(addr, "DELETE", "/thing", "", b"");
    assert_eq!(res.status, 405);
    let allow = res.header("allow").expect("allow header");
    assert_eq!(allow_set(allow), allow_set("GET, HEAD, POST"));
}

#[test]
fn allow_without_get_has_no_head() {
    let addr = spawn(
        Router::new()
            .put("/doc", text("put"))
            .delete("/doc", text("deleted")),
    );
    let res = get(addr, "/doc");
    assert_eq!(res.status, 405);
    assert_eq!(
        allow_set(res.header("allow").unwrap()),
        allow_set("PUT, DELETE")
    );
}

#[test]
fn each_method_reaches_its_handler() {
    let addr = spawn(
        Router::new()
            .get("/m", text("get"))
            .post("/m", text("post"))
            .put("/m", text("put"))
            .delete("/m", text("delete"))
            .patch("/m", text("patch"))
            .route(Method::Options, "/m", text("options")),
    );
    for (method, body) in [
        ("GET", "get"),
        ("POST", "post"),
        ("PUT", "put"),
        ("DELETE", "delete"),
        ("PATCH", "patch"),
        ("OPTIONS", "options"),
    ] {
        let res = call(addr, method, "/m", "", b"");
        assert_eq!(res.text(), body, "{method}");
    }
}

#[test]
fn head_falls_back_to_get() {
    let addr = spawn(Router::new().get("/page", text("twelve bytes")));
    let res = call(addr, "HEAD", "/page", "", b"");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("12"));
    assert!(res.body.is_empty());
}

#[test]
fn explicit_head_route_wins_over_get() {
    let addr = spawn(Router::new().get("/page", text("from get")).route(
        Method::Head,
        "/page",
        |_req: Request| async {
            let mut res = Response::new(StatusCode::Ok);
            res.insert_header("x-from", "head");
            res
        },
    ));
    let res = call(addr, "HEAD", "/page", "", b"");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-from"), Some("head"));
}

// ---------------------------------------------------------------------------------------
// Nesting and merging
// ---------------------------------------------------------------------------------------

#[test]
fn nest_mounts_under_a_prefix() {
    let api = Router::new()
        .get("/", text("api root"))
        .get("/users/:id", param("id"));
    let addr = spawn(Router::new().get("/", text("home")).nest("/api", api));
    assert_eq!(body_of(addr, "/"), "home");
    assert_eq!(body_of(addr, "/api"), "api root");
    assert_eq!(body_of(addr, "/api/users/9"), "9");
    assert_eq!(get(addr, "/users/9").status, 404);
}

#[test]
fn nest_twice_concatenates_prefixes() {
    let v1 = Router::new().get("/ping", text("pong"));
    let api = Router::new().nest("/v1", v1);
    let addr = spawn(Router::new().nest("/api/", api));
    assert_eq!(body_of(addr, "/api/v1/ping"), "pong");
}

#[test]
fn nest_prefix_may_have_params() {
    let posts = Router::new().get("/posts/:post", |req: Request| async move {
        format!(
            "{}/{}",
            req.param("user").unwrap(),
            req.param("post").unwrap()
        )
    });
    let addr = spawn(Router::new().nest("/users/:user", posts));
    assert_eq!(body_of(addr, "/users/ann/posts/3"), "ann/3");
}

#[test]
fn merge_adds_routes_as_they_are() {
    let users = Router::new().get("/users", text("users"));
    let posts = Router::new()
        .get("/posts", text("posts"))
        .get("/", text("root"));
    let addr = spawn(Router::new().merge(users).merge(posts));
    assert_eq!(body_of(addr, "/users"), "users");
    assert_eq!(body_of(addr, "/posts"), "posts");
    assert_eq!(body_of(addr, "/"), "root");
}

#[test]
fn merge_joins_methods_on_the_same_path() {
    let reads = Router::new().get("/item", text("read"));
    let writes = Router::new().post("/item", text("written"));
    let addr = spawn(reads.merge(writes));
    assert_eq!(body_of(addr, "/item"), "read");
    assert_eq!(call(addr, "POST", "/item", "", b"").text(), "written");
}

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

struct Hits(AtomicUsize);

async fn count(req: Request) -> String {
    let n = req.state::<Hits>().0.fetch_add(1, Ordering::SeqCst) + 1;
    n.to_string()
}

#[test]
fn state_is_shared_across_requests() {
    let addr = spawn(
        Router::new()
            .get("/count", count)
            .with_state(Hits(AtomicUsize::new(0))),
    );
    for expected in 1..=3 {
        assert_eq!(body_of(addr, "/count"), expected.to_string());
    }
}

struct Name(&'static str);

async fn name(req: Request) -> &'static str {
    req.state::<Name>().0
}

#[test]
fn nested_router_keeps_its_own_state() {
    let child = Router::new().get("/who", name).with_state(Name("child"));
    let plain = Router::new().get("/who", name);
    let addr = spawn(
        Router::new()
            .get("/who", name)
            .nest("/child", child)
            .nest("/plain", plain)
            .with_state(Name("parent")),
    );
    assert_eq!(body_of(addr, "/who"), "parent");
    assert_eq!(body_of(addr, "/child/who"), "child");
    // A nested router without state sees its parent's.
    assert_eq!(body_of(addr, "/plain/who"), "parent");
}

#[test]
fn missing_state_is_500() {
    let addr = spawn(Router::new().get("/count", count));
    assert_eq!(get(addr, "/count").status, 500);
}

// ---------------------------------------------------------------------------------------
// Middleware
// ---------------------------------------------------------------------------------------

/// Names of the middleware a request went through, in order.
#[derive(Clone, Default)]
struct Trace(Vec<&'static str>);

/// Middleware that records `name` on the request on the way in and appends it to the
/// `x-trace` response header on the way out.
fn tracer(name: &'static str) -> impl Middleware {
    move |mut req: Request, next: Next| async move {
        let mut trace = req.ext::<Trace>().cloned().unwrap_or_default();
        trace.0.push(name);
        req.insert_ext(trace);
        let mut res = next.run(req).await;
        res.append_header("x-trace", name);
        res
    }
}

/// Answers with the middleware the request went through, comma-separated.
async fn trace(req: Request) -> String {
    req.ext::<Trace>()
        .map(|t| t.0.join(","))
        .unwrap_or_default()
}

#[test]
fn first_added_middleware_is_outermost() {
    let addr = spawn(
        Router::new()
            .get("/", trace)
            .middleware(tracer("a"))
            .middleware(tracer("b")),
    );
    let res = get(addr, "/");
    // Requests go a → b → handler; responses come back b → a.
    assert_eq!(res.text(), "a,b");
    assert_eq!(res.header_all("x-trace"), ["b", "a"]);
}

#[test]
fn nested_middleware_runs_inside_the_parents_and_only_for_its_routes() {
    let child = Router::new().get("/x", trace).middleware(tracer("child"));
    let addr = spawn(
        Router::new()
            .get("/x", trace)
            .nest("/child", child)
            .middleware(tracer("parent")),
    );
    let res = get(addr, "/child/x");
    assert_eq!(res.text(), "parent,child");
    assert_eq!(res.header_all("x-trace"), ["child", "parent"]);
    let res = get(addr, "/x");
    assert_eq!(res.text(), "parent");
    assert_eq!(res.header_all("x-trace"), ["parent"]);
}

#[test]
fn merged_router_keeps_its_middleware_for_its_own_routes() {
    let merged = Router::new()
        .get("/merged", trace)
        .middleware(tracer("merged"));
    let addr = spawn(Router::new().get("/own", trace).merge(merged));
    assert_eq!(body_of(addr, "/merged"), "merged");
    assert_eq!(body_of(addr, "/own"), "");
}

#[test]
fn nested_middleware_sees_the_nested_state() {
    let child = Router::new()
        .get("/x", trace)
        .middleware(|req: Request, next: Next| async move {
            let name = req.state::<Name>().0;
            let mut res = next.run(req).await;
            res.insert_header("x-state", name);
            res
        })
        .with_state(Name("child"));
    let addr = spawn(
        Router::new()
            .nest("/child", child)
            .with_state(Name("parent")),
    );
    let res = get(addr, "/child/x");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-state"), Some("child"));
}

#[test]
fn middleware_of_three_levels_nests_in_order() {
    let leaf = Router::new().get("/x", trace).middleware(tracer("c"));
    let mid = Router::new().nest("/c", leaf).middleware(tracer("b"));
    let addr = spawn(Router::new().nest("/b", mid).middleware(tracer("a")));
    assert_eq!(body_of(addr, "/b/c/x"), "a,b,c");
}

#[test]
fn top_level_middleware_sees_404_and_405() {
    let child = Router::new().get("/x", trace).middleware(tracer("child"));
    let addr = spawn(
        Router::new()
            .get("/only-get", trace)
            .nest("/child", child)
            .middleware(tracer("top")),
    );
    let res = get(addr, "/nowhere");
    assert_eq!(res.status, 404);
    assert_eq!(res.header_all("x-trace"), ["top"]);
    // Under the child's prefix but matching none of its routes: the child's middleware
    // does not run.
    let res = get(addr, "/child/nowhere");
    assert_eq!(res.status, 404);
    assert_eq!(res.header_all("x-trace"), ["top"]);
    let res = call(addr, "POST", "/only-get", "", b"");
    assert_eq!(res.status, 405);
    assert_eq!(res.header_all("x-trace"), ["top"]);
}

static GUARDED_CALLS: AtomicUsize = AtomicUsize::new(0);

async fn require_token(req: Request, next: Next) -> Response {
    if req.header("authorization") != Some("Bearer ok") {
        let mut res = Response::new(StatusCode::Unauthorized);
        res.set_body("no");
        return res;
    }
    next.run(req).await
}

#[test]
fn middleware_can_answer_without_calling_next() {
    let addr = spawn(
        Router::new()
            .get("/secret", |_req: Request| async {
                GUARDED_CALLS.fetch_add(1, Ordering::SeqCst);
                "the secret"
            })
            .middleware(require_token),
    );
    let res = get(addr, "/secret");
    assert_eq!(res.status, 401);
    assert_eq!(res.text(), "no");
    assert_eq!(GUARDED_CALLS.load(Ordering::SeqCst), 0);
    let res = call(addr, "GET", "/secret", "Authorization: Bearer ok\r\n", b"");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "the secret");
    assert_eq!(GUARDED_CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn middleware_state_is_visible() {
    // Middleware sees the top-level router's state.
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    let addr = spawn(
        Router::new()
            .get("/", text("ok"))
            .middleware(move |req: Request, next: Next| {
                let seen = seen2.clone();
                async move {
                    if req.try_state::<Name>().is_some_and(|n| n.0 == "app") {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(req).await
                }
            })
            .with_state(Name("app")),
    );
    assert_eq!(body_of(addr, "/"), "ok");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------
// Builder mistakes panic at start-up
// ---------------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "routed twice")]
fn same_method_and_pattern_twice_panics() {
    let _ = Router::new().get("/a", text("1")).get("/a", text("2"));
}

#[test]
#[should_panic(expected = "same shape, different parameter names")]
fn same_shape_with_other_param_names_panics() {
    let _ = Router::new()
        .get("/users/:id", text("1"))
        .post("/users/:name", text("2"));
}

#[test]
fn only_routes_with_the_method_compete() {
    // The more specific `:name` has no GET: the wildcard's GET answers, PUT goes to `:name`.
    let addr = spawn(
        Router::new()
            .route(Method::Put, "/files/:name", text("put name"))
            .get("/files/*path", text("get wildcard")),
    );
    assert_eq!(body_of(addr, "/files/x"), "get wildcard");
    let res = call(addr, "PUT", "/files/x", "", b"");
    assert_eq!((res.status, res.text()), (200, "put name"));
    let res = call(addr, "DELETE", "/files/x", "", b"");
    assert_eq!(res.status, 405);
    assert_eq!(
        allow_set(res.header("allow").unwrap_or("")),
        allow_set("GET, HEAD, PUT")
    );
}

#[test]
#[should_panic(expected = "must start with '/'")]
fn pattern_without_leading_slash_panics() {
    let _ = Router::new().get("a", text("1"));
}

#[test]
#[should_panic(expected = "last segment")]
fn wildcard_not_last_panics() {
    let _ = Router::new().get("/a/*rest/b", text("1"));
}

// ---------------------------------------------------------------------------------------
// No socket at all
// ---------------------------------------------------------------------------------------

#[test]
fn in_memory_connection_runs_through_the_router() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use smolweb::{Service, memory};

    let service = Service::new(
        Router::new()
            .get("/users/:id", param("id"))
            .middleware(tracer("mw")),
    );
    let (mut client, server) = memory::pair();
    let bytes = smol::block_on(async {
        let conn = smol::spawn(async move { service.serve_connection(server).await });
        let mut requests = support::request("GET", "/users/7", "", b"");
        requests.extend(support::request(
            "GET",
            "/nope",
            "Connection: close\r\n",
            b"",
        ));
        client.write_all(&requests).await.expect("write");
        let mut bytes = Vec::new();
        client.read_to_end(&mut bytes).await.expect("read");
        conn.await;
        bytes
    });
    let responses = support::parse_all(&bytes);
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].text(), "7");
    assert_eq!(responses[0].header_all("x-trace"), ["mw"]);
    assert_eq!(responses[1].status, 404);
    assert!(responses[1].connection_has("close"));
}

/// A `PUT /files/:name` beside `GET /files/*path` does not take the GETs: the router answers
/// from the most specific pattern that has a handler for the method (what
/// `examples/upload.rs` relies on).
#[test]
fn a_more_specific_pattern_without_the_method_does_not_shadow_a_wildcard() {
    use smolweb::test::TestClient;
    let app = Router::new()
        .put("/files/:name", |_| async { "put" })
        .get("/files/*path", |_| async { "wildcard" });
    smol::block_on(async {
        let client = TestClient::new(app);
        assert_eq!(
            client.get("/files/a.txt").send().await.text().await,
            "wildcard"
        );
        assert_eq!(client.put("/files/a.txt").send().await.text().await, "put");
        let res = client.delete("/files/a.txt").send().await;
        assert_eq!(res.status(), smolweb::StatusCode::MethodNotAllowed);
    });
}

/// `json_errors`: every error smolweb makes is JSON — the router's 404 and 405 (its `Allow`
/// kept), a handler's `Error` (a 413 from a body over the limit, a 415 from `body_json`), a
/// panic's 500 — while a response the handler built itself stays as it is.
#[test]
fn json_errors_cover_the_router_handlers_and_panics() {
    use smolweb::test::TestClient;
    use smolweb::{Config, Service, StatusCode};
    let app = Router::new()
        .get("/boom", |_| async {
            if true {
                panic!("boom");
            }
            "unreachable"
        })
        .post("/echo", |mut req: Request| async move {
            req.body_string().await
        })
        .post("/json", |mut req: Request| async move {
            req.body_json::<serde_json::Value>()
                .await
                .map(smolweb::Json)
        })
        .get("/teapot", |_| async { (StatusCode::ImATeapot, "mine") })
        .json_errors();
    let config = Config {
        max_body_bytes: 10,
        ..Config::default()
    };
    smol::block_on(async {
        let client = TestClient::new(Service::with_config(app, config));
        let cases = [
            (client.get("/nope").send().await, 404, "Not Found"),
            (client.put("/echo").send().await, 405, "Method Not Allowed"),
            (
                client.get("/boom").send().await,
                500,
                "Internal Server Error",
            ),
            (
                client.post("/echo").body("x".repeat(100)).send().await,
                413,
                "request body too large",
            ),
            (
                client.post("/json").body("{}").send().await,
                415,
                "expected a JSON body (Content-Type: application/json)",
            ),
        ];
        for (res, status, error) in cases {
            assert_eq!(u16::from(res.status()), status);
            assert_eq!(res.header("content-type"), Some("application/json"));
            if status == 405 {
                assert_eq!(res.header("allow"), Some("POST"));
            }
            let body: serde_json::Value = res.json().await;
            assert_eq!(body, serde_json::json!({"error": error, "status": status}));
        }
        let res = client.get("/teapot").send().await;
        assert_eq!(res.header("content-type"), Some("text/plain;charset=utf-8"));
        assert_eq!(res.text().await, "mine");
    });
}

/// A fallback answers what no route does: `ServeDir` on `/*path` and an unknown `DELETE` is
/// the fallback's (here a 404), not the wildcard's 405.
#[test]
fn a_fallback_answers_what_no_route_does() {
    use smolweb::test::TestClient;
    use smolweb::{ServeDir, StatusCode};
    let dir = support::TempDir::new("fallback");
    std::fs::write(dir.path().join("a.txt"), "file a").unwrap();
    let app = Router::new()
        .get("/*path", ServeDir::new(dir.path()))
        .fallback(|req: Request| async move {
            (
                StatusCode::NotFound,
                format!("no {} {}", req.method(), req.path()),
            )
        });
    smol::block_on(async {
        let client = TestClient::new(app);
        assert_eq!(client.get("/a.txt").send().await.text().await, "file a");
        let res = client.delete("/a.txt").send().await;
        assert_eq!(res.status(), StatusCode::NotFound);
        assert_eq!(res.text().await, "no DELETE /a.txt");
    });
}

#[test]
#[should_panic(expected = "a fallback belongs to the top-level router")]
fn a_nested_fallback_is_refused() {
    let inner = Router::new().fallback(|_| async { "inner" });
    let _ = Router::new().nest("/api", inner);
}

/// A `stateful` handler whose router has no state of its type is refused when the
/// application is built (here by `Service::new`), naming the route and the type; with the
/// state, on the router or a nested one, it builds and runs.
#[test]
fn a_missing_state_is_found_when_the_application_is_built() {
    use smolweb::{Service, stateful};
    use std::sync::Arc;
    struct Greeting(&'static str);
    async fn greet(_req: Request, g: Arc<Greeting>) -> &'static str {
        g.0
    }
    let missing = Router::new().get("/hi", stateful(greet));
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Service::new(missing)))
        .expect_err("built without its state");
    let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("GET /hi needs a state of type"), "{text}");
    assert!(text.contains("Greeting"), "{text}");
    let wrong = Router::new().get("/hi", stateful(greet)).with_state(42u32);
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Service::new(wrong))).is_err()
    );

    let nested = Router::new()
        .get("/hi", stateful(greet))
        .with_state(Greeting("hello"));
    let app = Router::new().nest("/api", nested).with_state(7u8);
    smol::block_on(async {
        let client = smolweb::test::TestClient::new(app);
        assert_eq!(client.get("/api/hi").send().await.text().await, "hello");
    });
}
