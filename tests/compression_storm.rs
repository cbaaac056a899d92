//! The disconnect storm over compressed bodies (feature `compression`): clients ask for a
//! file, a stream or a JSON document in gzip, brotli or zstd, read a random prefix of the
//! compressed bytes and vanish with RST or FIN, in a process whose SIGPIPE is at its default
//! action. The server must live, keep serving byte for byte, and close every descriptor.
//!
//! Its own test binary: descriptors are counted for the whole process.
//! `SMOLWEB_COMPRESSION_STORM` sets the number of clients (default 60; `.ci/run` runs 5,000
//! in release mode and prints the figures).

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use smolweb::middleware::Compression;
use smolweb::{Config, Json, Router, ServeDir, body_from_stream};
use support::{
    Rng, TempDir, connect_with, read_prefix, require_default_sigpipe, serve, storm, storm_size,
    vanish_now,
};

/// Text that compresses about as well as prose, the same for the same seed.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "socket ", "stream ", "event ", "header ", "body ", "chunk\n",
    ];
    let mut rng = Rng::from_state(seed);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(rng.pick(WORDS).as_bytes());
    }
    out.truncate(len);
    out
}

const PATHS: &[&str] = &["/files/big.txt", "/stream", "/json"];
const CODINGS: &[&str] = &["gzip", "br", "zstd"];

fn site(dir: &TempDir) -> SocketAddr {
    std::fs::write(dir.path().join("big.txt"), text(4 * 1024 * 1024, 1)).unwrap();
    let json: Vec<serde_json::Value> = (0..2500)
        .map(|i| serde_json::json!({ "id": i, "name": format!("item {i}") }))
        .collect();
    let app = Router::new()
        .get("/json", move |_| {
            let json = json.clone();
            async move { Json(json) }
        })
        .get("/stream", |_| async {
            let chunks = (0..128u64).map(|i| Ok(text(32 * 1024, 10 + i)));
            let mut res = smolweb::Response::new(smolweb::StatusCode::Ok);
            res.insert_header("content-type", "text/plain");
            res.set_body(body_from_stream(futures_lite::stream::iter(chunks)));
            res
        })
        .get("/files/*path", ServeDir::new(dir.path()))
        .middleware(Compression::new());
    serve(app, Config::default(), 2)
}

/// One whole response over a fresh connection, decoded with the same codec crates.
fn fetch_decoded(addr: SocketAddr, path: &str, coding: &str) -> Vec<u8> {
    let mut conn = support::Conn::connect_with(addr, Duration::from_secs(20));
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {coding}\r\nConnection: close\r\n\r\n"
    );
    conn.write(req.as_bytes());
    let res = conn.read_response();
    assert_eq!(
        res.header("content-encoding"),
        Some(coding),
        "{}",
        String::from_utf8_lossy(&res.head)
    );
    let mut out = Vec::new();
    let body = &res.body[..];
    match coding {
        "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut out),
        _ => zstd::stream::read::Decoder::new(body)
            .unwrap()
            .read_to_end(&mut out),
    }
    .unwrap();
    out
}

#[test]
fn clients_vanishing_mid_compressed_body_leave_nothing_behind() {
    require_default_sigpipe();
    let dir = TempDir::new("compression-storm");
    let addr = site(&dir);
    let big = std::fs::read(dir.path().join("big.txt")).unwrap();
    // Every path and coding once, so lazily made threads and buffers are in the baseline.
    for coding in CODINGS {
        assert!(fetch_decoded(addr, "/files/big.txt", coding) == big);
        fetch_decoded(addr, "/stream", coding);
    }
    std::thread::sleep(Duration::from_millis(200));
    let clients = storm_size("SMOLWEB_COMPRESSION_STORM", 60);
    let report = storm(clients, 8, 0xc0de, move |rng| {
        let mut s = connect_with(addr, Duration::from_secs(10));
        let (path, coding) = (rng.pick(PATHS), rng.pick(CODINGS));
        // `close`: a prefix longer than a short answer ends at its end, not at a timeout.
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {coding}\r\nConnection: close\r\n\r\n"
        );
        let _ = s.write_all(req.as_bytes());
        read_prefix(&mut s, rng.below(64 * 1024));
        vanish_now(&s, rng);
    });
    println!(
        "compression storm: {} clients in {:.1} s; fds before {} after {}",
        report.clients,
        report.elapsed.as_secs_f64(),
        report.fds_before,
        report.fds_after
    );
    assert!(
        report.settled,
        "descriptors leaked: {} before, {} after",
        report.fds_before, report.fds_after
    );
    for coding in CODINGS {
        assert!(
            fetch_decoded(addr, "/files/big.txt", coding) == big,
            "{coding}"
        );
    }
}
