//! Arbitrary bytes as the whole input of one connection, served by a real `Service` over the
//! in-memory transport. The client half-closes after writing and reads to the end.
//! Properties: no panic (the connection task included); whatever comes back starts with
//! `HTTP/1.1 `; and a handler reads the same path, query and header values whether they come
//! from the head as received or from the `http_types::Request` built from it.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use libfuzzer_sys::fuzz_target;
use smolweb::{Config, Request, Router, Service, memory};

fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let router = Router::new()
            .get("/", |_| async { "ok" })
            .get("/p/:name", |req: Request| async move {
                req.param("name").unwrap_or_default().to_string()
            })
            .post(
                "/",
                |mut req: Request| async move { req.body_string().await },
            )
            .post("/ignore", |_| async { "ignored" })
            .get("/*rest", |req: Request| async move { agree(&req) });
        // Short limits keep each input cheap; short timeouts bound any stall.
        let config = Config {
            header_timeout: Duration::from_secs(2),
            body_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(2),
            keep_alive_timeout: Duration::from_secs(2),
            max_streamed_body_bytes: Some(1 << 20),
            ..Config::default()
        };
        Service::with_config(router, config)
    })
}

/// Aborts (a handler's panic would be caught and answered with `500`) if the accessors that
/// read the head as received disagree with the built `http_types::Request`.
fn agree(req: &Request) -> &'static str {
    // http-types holds only ASCII values: a value with other bytes lives beside the built
    // request (`h1/opaque.rs`), so the built side has no `host` then.
    let host = req.header("host").filter(|h| h.is_ascii()).map(str::to_string);
    let direct = (req.path(), req.query(), host.as_deref());
    let http = req.as_http();
    let built = (
        http.url().path(),
        http.url().query(),
        http.header("host").map(|v| v.as_str()),
    );
    if direct != built {
        eprintln!("direct {direct:?} != built {built:?}");
        std::process::abort();
    }
    "agreed"
}

fuzz_target!(|data: &[u8]| {
    let (client, server) = memory::pair();
    let (mut rd, mut wr) = futures_lite::io::split(client);
    let serve = service().serve_connection(server);
    let write = async {
        // The server may close first (a refused head): a broken pipe is fine.
        let _ = wr.write_all(data).await;
        let _ = wr.close().await;
    };
    let read = async {
        let mut response = Vec::new();
        let _ = rd.read_to_end(&mut response).await;
        response
    };
    let ((_, ()), response) = smol::block_on(future::zip(future::zip(serve, write), read));
    assert!(
        response.is_empty() || response.starts_with(b"HTTP/1.1 "),
        "response does not start with a status line: {:?}",
        String::from_utf8_lossy(&response[..response.len().min(200)])
    );
});
