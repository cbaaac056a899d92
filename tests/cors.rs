//! `Cors` over real sockets, with curl as the client: preflights answered before the router
//! (a GET-only route's `OPTIONS` gets the CORS answer, not `405`), refused preflights, and the
//! headers added to actual requests.

mod support;

use std::time::Duration;

use smolweb::middleware::Cors;
use smolweb::{Method, Response, Router, StatusCode};
use support::curl;

fn app() -> Router {
    let cors = Cors::new()
        .allow_origins(["https://app.example", "http://localhost:3000"])
        .allow_methods([Method::Get, Method::Put])
        .allow_headers(["content-type", "x-token"])
        .expose_headers(["x-total"])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    Router::new()
        .get("/notes", |_| async {
            let mut res = Response::new(StatusCode::Ok);
            res.insert_header("vary", "Accept-Encoding");
            res.insert_header("x-total", "0");
            res.set_body("[]");
            res
        })
        .middleware(cors)
}

fn preflight(
    url: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> support::CurlResponse {
    let origin = format!("Origin: {origin}");
    let method = format!("Access-Control-Request-Method: {method}");
    let mut args = vec!["-X", "OPTIONS", "-H", &origin, "-H", &method];
    let asked = headers.map(|h| format!("Access-Control-Request-Headers: {h}"));
    if let Some(asked) = &asked {
        args.extend(["-H", asked]);
    }
    args.push(url);
    curl(&args)
}

#[test]
fn a_preflight_is_answered_before_the_router() {
    let addr = support::spawn(app());
    let url = format!("http://{addr}/notes");
    let res = preflight(
        &url,
        "https://app.example",
        "PUT",
        Some("Content-Type, X-Token"),
    );
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(res.header("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(
        res.header("access-control-allow-headers"),
        Some("content-type, x-token")
    );
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(res.header("access-control-max-age"), Some("600"));
    let vary = res.header("vary").unwrap().to_ascii_lowercase();
    for name in [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ] {
        assert!(vary.contains(name), "{vary}");
    }
    // Without the middleware the same request is the router's 405: the test can fail.
    let bare = support::spawn(Router::new().get("/notes", |_| async { "[]" }));
    let res = preflight(
        &format!("http://{bare}/notes"),
        "https://app.example",
        "PUT",
        None,
    );
    assert_eq!(res.status, 405);
}

#[test]
fn refused_preflights_get_403_without_allow_headers() {
    let addr = support::spawn(app());
    let url = format!("http://{addr}/notes");
    for (origin, method, headers) in [
        ("https://evil.example", "PUT", None),
        ("https://app.example", "DELETE", None),
        ("https://app.example", "PUT", Some("x-secret")),
    ] {
        let res = preflight(&url, origin, method, headers);
        assert_eq!(res.status, 403, "{origin} {method} {headers:?}");
        let cors: Vec<_> = res
            .headers
            .iter()
            .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
    }
}

#[test]
fn actual_requests_get_the_origin_and_exposed_headers() {
    let addr = support::spawn(app());
    let url = format!("http://{addr}/notes");
    let res = curl(&["-H", "Origin: http://localhost:3000", &url]);
    assert_eq!((res.status, res.body.as_str()), (200, "[]"));
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(res.header("access-control-expose-headers"), Some("x-total"));
    // The handler's Vary is kept, Origin added.
    assert_eq!(res.header_all("vary"), ["Accept-Encoding, origin"]);

    let res = curl(&["-H", "Origin: https://evil.example", &url]);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), None);
    assert_eq!(res.header("access-control-expose-headers"), None);

    let res = curl(&[&url]);
    assert_eq!(res.header_all("vary"), ["Accept-Encoding"]);
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[test]
fn any_origin_without_credentials_is_a_star() {
    let app = Router::new()
        .get("/", |_| async { "hi" })
        .middleware(Cors::new().allow_any_origin());
    let addr = support::spawn(app);
    let res = curl(&[
        "-H",
        "Origin: https://anyone.example",
        &format!("http://{addr}/"),
    ]);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert_eq!(res.header("vary"), None);
}
