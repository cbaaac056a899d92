//! The disconnect storm for upgraded connections: thousands of clients switch protocols, ask
//! the server for a large message, read part of it and vanish (RST or FIN), in a process whose
//! SIGPIPE is at its default action. The process must live, and every connection's
//! descriptors must be released.
//!
//! Its own test binary, so that SIGPIPE can be put back to `SIG_DFL` and the descriptor count
//! is this storm's alone. `SMOLWEB_UPGRADE_STORM` sets the number of clients (default 2,000).

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use smolweb::{Config, IntoResponse, Request, Response, Router, Upgrade};
use support::{
    Conn, Gone, Rng, StormReport, connect_small_rcvbuf, read_prefix, require_default_sigpipe,
    serve, set_linger_zero, sigpipe_is_default, storm, storm_size, vanish_now,
};

/// What each client asks the server to send it: far more than the socket buffers hold, so
/// the server is still writing when the client goes away.
const MESSAGE: u64 = 8 * 1024 * 1024;
const CONCURRENCY: usize = 16;

/// After `flood`: reads a decimal length and a newline, then writes that many bytes in
/// chunks, until done or until a write fails.
async fn flood(_req: Request) -> Response {
    Upgrade::new("flood", |mut conn| async move {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < 20 {
            match conn.read(&mut byte).await {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) => line.push(byte[0]),
                _ => return,
            }
        }
        let Some(mut left) = std::str::from_utf8(&line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return;
        };
        let chunk = vec![b'z'; 64 * 1024];
        while left > 0 {
            let n = chunk.len().min(left as usize);
            if conn.write_all(&chunk[..n]).await.is_err() {
                return; // the client went away: an error for this connection only
            }
            left -= n as u64;
        }
    })
    .into_response()
}

#[derive(Default)]
struct Counts {
    switched: AtomicU64,
    rst: AtomicU64,
    fin: AtomicU64,
    right_away: AtomicU64,
    bytes: AtomicU64,
}

fn vanish(addr: SocketAddr, rng: &mut Rng, counts: &Counts) {
    // A small receive window: the server's writes fill the socket and wait.
    let mut conn = Conn::from_stream(connect_small_rcvbuf(addr, 8 * 1024));
    let head = format!(
        "GET /flood HTTP/1.1\r\nHost: storm\r\nConnection: Upgrade\r\nUpgrade: flood\r\n\r\n\
         {MESSAGE}\n"
    );
    if conn.stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    if rng.below(8) == 0 {
        // Asks, and leaves before reading a byte.
        set_linger_zero(&conn.stream);
        counts.right_away.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let Ok(res) = conn.try_read_response(true) else {
        return;
    };
    assert_eq!(res.status, 101);
    counts.switched.fetch_add(1, Ordering::Relaxed);
    let already = conn.take_buffered().len() as u64;
    let prefix = rng.below(512 * 1024);
    let got = already + read_prefix(&mut conn.stream, prefix);
    counts.bytes.fetch_add(got, Ordering::Relaxed);
    match vanish_now(&conn.stream, rng) {
        Gone::Rst => counts.rst.fetch_add(1, Ordering::Relaxed),
        Gone::Fin => counts.fin.fetch_add(1, Ordering::Relaxed),
    };
}

#[test]
fn upgraded_connections_survive_clients_that_vanish() {
    require_default_sigpipe();
    let clients = storm_size("SMOLWEB_UPGRADE_STORM", 2_000);
    let config = Config {
        write_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let addr = serve(Router::new().get("/flood", flood), config, 2);
    let counts = Arc::new(Counts::default());
    let in_storm = counts.clone();
    let report = storm(clients, CONCURRENCY, 0x5eed_0000, move |rng| {
        vanish(addr, rng, &in_storm)
    });
    assert!(sigpipe_is_default());
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let StormReport {
        clients: ran,
        elapsed,
        fds_before,
        fds_after,
        settled,
    } = report;
    println!(
        "upgrade storm: {ran} clients in {:.2} s; {} switched, {} RST and {} FIN after a prefix, \
         {} left before reading; {:.1} MiB read by clients; fds before {fds_before} after \
         {fds_after}",
        elapsed.as_secs_f64(),
        load(&counts.switched),
        load(&counts.rst),
        load(&counts.fin),
        load(&counts.right_away),
        load(&counts.bytes) as f64 / (1024.0 * 1024.0),
    );
    assert!(
        settled,
        "descriptors: {fds_before} before, {fds_after} after"
    );
    assert!(load(&counts.switched) as usize > clients / 2);
    assert!(load(&counts.rst) > 0 && load(&counts.fin) > 0);
}
