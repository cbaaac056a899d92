//! `TrustedProxies` over real sockets, with curl as the client on 127.0.0.1: a server that
//! trusts 127.0.0.1 takes the client address and scheme from the forwarding headers; one
//! that trusts only 10.0.0.0/8 ignores them.

mod support;

use smolweb::middleware::TrustedProxies;
use smolweb::{Request, Router};
use support::curl;

/// Answers `remote_addr url via_trusted_proxy`.
fn app(trusted: &[&str]) -> Router {
    Router::new()
        .get("/who", |req: Request| async move {
            let addr = req.remote_addr().map(|a| a.to_string()).unwrap_or_default();
            format!("{addr} {} {}", req.url(), req.via_trusted_proxy())
        })
        .middleware(TrustedProxies::new(trusted).expect("valid proxies"))
}

#[test]
fn a_trusted_peer_forwards_the_client_and_the_scheme() {
    let addr = support::spawn(app(&["127.0.0.1"]));
    let url = format!("http://{addr}/who");
    let res = curl(&[
        "-H",
        "X-Forwarded-For: 203.0.113.7",
        "-H",
        "X-Forwarded-Proto: https",
        &url,
    ]);
    assert_eq!(res.status, 200);
    let port = addr.port();
    assert_eq!(
        res.body,
        format!("203.0.113.7 https://127.0.0.1:{port}/who true")
    );

    // A client's lie on the left of the chain is passed over.
    let res = curl(&["-H", "X-Forwarded-For: 6.6.6.6, 203.0.113.7", &url]);
    assert!(res.body.starts_with("203.0.113.7 http://"), "{}", res.body);

    // Forwarded (RFC 7239), IPv6 client in brackets, and a host.
    let res = curl(&[
        "-H",
        r#"Forwarded: for="[2001:db8::7]:4711";proto=https;host=shop.example"#,
        &url,
    ]);
    assert_eq!(res.body, "2001:db8::7 https://shop.example/who true");

    // No forwarding headers: the peer itself.
    let res = curl(&[&url]);
    assert_eq!(
        res.body,
        format!("127.0.0.1 http://127.0.0.1:{port}/who true")
    );
}

#[test]
fn an_untrusted_peer_is_not_believed() {
    let addr = support::spawn(app(&["10.0.0.0/8", "fd00::/8"]));
    let url = format!("http://{addr}/who");
    let res = curl(&[
        "-H",
        "X-Forwarded-For: 203.0.113.7",
        "-H",
        "X-Forwarded-Proto: https",
        "-H",
        "Forwarded: for=198.51.100.1;proto=https;host=evil.example",
        &url,
    ]);
    assert_eq!(res.status, 200);
    let port = addr.port();
    assert_eq!(
        res.body,
        format!("127.0.0.1 http://127.0.0.1:{port}/who false")
    );
}

#[test]
fn a_configuration_error_is_typed() {
    let err = TrustedProxies::new(["10.0.0.0/8", "10.0.0.0/99"]).unwrap_err();
    assert_eq!(err.entry(), "10.0.0.0/99");
}
