//! At `max_connections`, idle connections make room for new clients, oldest first; busy ones
//! never do. SIGPIPE is at its default action throughout.
//!
//! nginx 1.22 guided the policy: when `worker_connections` are all taken it closes its oldest
//! idle keep-alive and never-used connections ("N worker_connections are not enough, reusing
//! connections") and serves the new client at once. Before this, smolweb left new clients in
//! the listen backlog for up to the keep-alive timeout while silent sockets held every slot.

mod support;

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use smolweb::{Config, Router};
use support::{Conn, require_default_sigpipe};

/// Long timeouts, so nothing in these tests ends by a timeout: only eviction frees a slot.
fn config(max_connections: usize) -> Config {
    Config {
        max_connections,
        header_timeout: Duration::from_secs(30),
        keep_alive_timeout: Duration::from_secs(60),
        ..Config::default()
    }
}

fn app() -> Router {
    Router::new().get("/", |_| async { "ok" })
}

/// True if the server closed `stream` (end of stream or reset) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => true,
        Ok(_) => panic!("an idle connection received a byte"),
        Err(_) => false,
    }
}

/// One request on a fresh connection that asks to close; the time it took.
fn served(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut conn = Conn::connect(addr);
    let res = conn.get("/", "Connection: close\r\n");
    assert_eq!((res.status, res.text()), (200, "ok"));
    started.elapsed()
}

/// The limit filled by sockets that never send a byte (more of them than the limit, so some
/// wait in the backlog), then 5 real clients: all 5 are served promptly, not after the
/// header timeout (30 s here).
#[test]
fn silent_sockets_at_the_limit_make_room_for_real_clients() {
    require_default_sigpipe();
    let limit = 64;
    let addr = support::serve(app(), config(limit), 1);
    let silent: Vec<TcpStream> = (0..limit + 16)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Let the server accept up to its limit and see them idle.
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..5 {
        let took = served(addr);
        eprintln!("real client {i} served in {took:?}");
        assert!(took < Duration::from_secs(5), "client {i} waited {took:?}");
    }
    drop(silent);
}

/// Keep-alive connections that each served a request, idle one after another: at the limit,
/// a new client closes the oldest ones (an eighth of the idle, at least one), and the rest
/// still serve.
#[test]
fn idle_keep_alive_connections_are_closed_oldest_first() {
    require_default_sigpipe();
    let limit = 16;
    let addr = support::serve(app(), config(limit), 1);
    let mut conns: Vec<Conn> = (0..limit)
        .map(|_| {
            let mut conn = Conn::connect(addr);
            assert_eq!(conn.get("/", "").text(), "ok");
            // Distinct idle stamps, in this order.
            std::thread::sleep(Duration::from_millis(20));
            conn
        })
        .collect();
    let took = served(addr);
    assert!(
        took < Duration::from_secs(5),
        "the new client waited {took:?}"
    );
    let evicted = limit / 8;
    for (i, conn) in conns.iter_mut().enumerate() {
        let within = Duration::from_millis(if i < evicted { 2000 } else { 100 });
        let closed = closed_within(&mut conn.stream, within);
        assert_eq!(closed, i < evicted, "connection {i} (oldest first)");
    }
    for conn in &mut conns[evicted..] {
        conn.stream
            .set_read_timeout(Some(support::TIMEOUT))
            .unwrap();
        assert_eq!(conn.get("/", "").text(), "ok");
    }
}

/// A connection in the middle of a request — its handler running, or its head half
/// received — is never closed to make room: the new client waits until one of them ends,
/// and every busy one completes.
#[test]
fn busy_connections_are_never_closed_to_make_room() {
    require_default_sigpipe();
    let limit = 4;
    let (release, released) = smol::channel::bounded::<()>(1);
    let app = Router::new()
        .get("/", |_| async { "ok" })
        .get("/slow", move |_| {
            let released = released.clone();
            async move {
                // Never a message: the handler returns when the test closes the channel.
                let _ = released.recv().await;
                "slow"
            }
        });
    let addr = support::serve(app, config(limit), 1);
    let mut slow: Vec<Conn> = (0..2)
        .map(|_| {
            let mut conn = Conn::connect(addr);
            conn.write(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            conn
        })
        .collect();
    let mut half: Vec<Conn> = (0..2)
        .map(|_| {
            let mut conn = Conn::connect(addr);
            conn.write(b"GET / HTTP/1.1\r\nHost: x\r\n");
            conn
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The fifth client gets no answer while all four are busy.
    let mut waiting = Conn::connect(addr);
    waiting.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let early = waiting.fill();
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "served while every connection was busy: {early:?}"
    );
    // The half-received heads were not closed for it.
    for conn in &mut half {
        assert!(!closed_within(&mut conn.stream, Duration::from_millis(50)));
    }
    release.close();
    for conn in &mut slow {
        assert_eq!(conn.read_response().text(), "slow");
    }
    waiting
        .stream
        .set_read_timeout(Some(support::TIMEOUT))
        .unwrap();
    assert_eq!(waiting.read_response().text(), "ok");
    for conn in &mut half {
        conn.write(b"\r\n");
        assert_eq!(conn.read_response().text(), "ok");
    }
}
