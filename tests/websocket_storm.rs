//! The disconnect storm for WebSocket endpoints (the `websocket` feature): clients open a
//! socket, send a large message the server echoes (or ask for a large message), read part of
//! the answer and vanish (RST or FIN), in a process whose SIGPIPE is at its default action. The process must live, and every
//! connection's descriptors must be released.
//!
//! Its own test binary, for SIGPIPE and a descriptor count of its own.
//! `SMOLWEB_WEBSOCKET_STORM` sets the number of clients (default 1,000).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_tungstenite::tungstenite;
use smolweb::websocket::{Message, WebSocket, WebSocketConfig};
use smolweb::{Config, Router};
use support::{
    Gone, Rng, StormReport, connect_small_rcvbuf, read_prefix, require_default_sigpipe, serve,
    sigpipe_is_default, storm, storm_size, vanish_now,
};

/// What each client asks for: more than the socket buffers hold.
const MESSAGE: usize = 4 * 1024 * 1024;
const CONCURRENCY: usize = 16;

/// Echoes every binary message as it came.
async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if msg.is_binary() && ws.send(msg).await.is_err() {
            return; // the client went away: an error for this socket only
        }
    }
}

/// Answers a text message holding a length with a binary message that long.
async fn flood(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        let Some(len) = msg.to_text().ok().and_then(|t| t.parse::<usize>().ok()) else {
            continue;
        };
        if ws.send(Message::binary(vec![b'w'; len])).await.is_err() {
            return; // the client went away: an error for this socket only
        }
    }
}

#[derive(Default)]
struct Counts {
    opened: AtomicU64,
    echoed: AtomicU64,
    rst: AtomicU64,
    fin: AtomicU64,
    bytes: AtomicU64,
}

fn vanish(addr: SocketAddr, rng: &mut Rng, counts: &Counts) {
    let stream = connect_small_rcvbuf(addr, 8 * 1024);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // One client in four sends a large message for the server to echo; the others ask for one.
    let echoing = rng.below(4) == 0;
    let url = format!("ws://{addr}/{}", if echoing { "echo" } else { "flood" });
    let Ok((mut ws, _)) = tungstenite::client(url.as_str(), stream) else {
        return;
    };
    counts.opened.fetch_add(1, Ordering::Relaxed);
    let ask = if echoing {
        counts.echoed.fetch_add(1, Ordering::Relaxed);
        tungstenite::Message::binary(vec![b'e'; MESSAGE])
    } else {
        tungstenite::Message::text(MESSAGE.to_string())
    };
    if ws.send(ask).is_err() {
        return;
    }
    let prefix = rng.below(512 * 1024);
    let got = read_prefix(ws.get_mut(), prefix);
    counts.bytes.fetch_add(got, Ordering::Relaxed);
    let stream = ws.get_mut();
    match vanish_now(stream, rng) {
        Gone::Rst => counts.rst.fetch_add(1, Ordering::Relaxed),
        Gone::Fin => counts.fin.fetch_add(1, Ordering::Relaxed),
    };
}

#[test]
fn websockets_survive_clients_that_vanish() {
    require_default_sigpipe();
    let clients = storm_size("SMOLWEB_WEBSOCKET_STORM", 1_000);
    let config = Config {
        write_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let big = WebSocketConfig {
        max_message_bytes: MESSAGE,
        max_frame_bytes: MESSAGE,
        ..WebSocketConfig::default()
    };
    let app = Router::new()
        .get("/flood", smolweb::websocket(flood))
        .get("/echo", smolweb::websocket(echo).config(big));
    let addr = serve(app, config, 2);
    let counts = Arc::new(Counts::default());
    let in_storm = counts.clone();
    let report = storm(clients, CONCURRENCY, 0x5eed_0005, move |rng| {
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
        "websocket storm: {ran} clients in {:.2} s; {} opened ({} sent a message to echo), {} \
         RST and {} FIN after a prefix; {:.1} MiB read by clients; fds before {fds_before} \
         after {fds_after}",
        elapsed.as_secs_f64(),
        load(&counts.opened),
        load(&counts.echoed),
        load(&counts.rst),
        load(&counts.fin),
        load(&counts.bytes) as f64 / (1024.0 * 1024.0),
    );
    assert!(
        settled,
        "descriptors: {fds_before} before, {fds_after} after"
    );
    assert!(load(&counts.opened) as usize > clients * 9 / 10);
    assert!(load(&counts.rst) > 0 && load(&counts.fin) > 0 && load(&counts.echoed) > 0);
}
