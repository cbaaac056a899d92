//! Arbitrary bytes as the whole input of one connection, served by a real `Service` over the
//! in-memory transport. The client half-closes after writing and reads to the end.
//! Property: no panic (the connection task included), and whatever comes back starts with
//! `HTTP/1.1 `.
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
            .post("/ignore", |_| async { "ignored" });
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
