//! Graceful shutdown with `run_until`, and the `max_connections` limit.

mod support;

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_io::Timer;
use smolweb::{Config, Router};
use support::{Conn, ReadEnd, read_until_end, wait_for};

const SLOW: Duration = Duration::from_secs(1);

fn app(slow_started: Arc<AtomicUsize>) -> Router {
    Router::new()
        .get("/", |_| async { "ok" })
        .get("/slow", move |_| {
            slow_started.fetch_add(1, Ordering::SeqCst);
            async {
                Timer::after(SLOW).await;
                "slow done"
            }
        })
}

#[test]
fn graceful_shutdown_closes_idle_finishes_busy_and_refuses_new() {
    let slow_started = Arc::new(AtomicUsize::new(0));
    let server = support::serve_until(app(slow_started.clone()), Config::default(), 2);
    let addr = server.addr;

    // An idle keep-alive connection: one request answered, then nothing.
    let mut idle = Conn::connect(addr);
    idle.write(&support::request("GET", "/", "", b""));
    let res = idle.read_response();
    assert_eq!((res.status, res.text()), (200, "ok"));
    assert!(!res.connection_has("close"));

    // A slow request, under way in its handler.
    let mut busy = Conn::connect(addr);
    busy.write(&support::request("GET", "/slow", "", b""));
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(2), || {
            slow_started.load(Ordering::SeqCst) == 1
        }),
        "the slow handler never started"
    );

    // Shut down.
    let signalled = Instant::now();
    server.stop.close();

    // The idle connection closes promptly: long before the slow request could finish.
    idle.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let (bytes, end) = read_until_end(&mut idle.stream, 1 << 16, Duration::from_secs(5));
    let idle_closed = signalled.elapsed();
    assert_eq!(end, ReadEnd::Eof, "idle connection not closed cleanly");
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(
        idle_closed < SLOW.mul_f32(0.8),
        "idle connection closed only after {idle_closed:?}"
    );

    // The listener is closed by then (it is dropped before connections are told to stop),
    // so a new connection is refused outright.
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("a new connection was accepted after shutdown began"),
    }

    // The slow request completes, saying it closes the connection, which then closes.
    let res = busy.read_response();
    assert_eq!((res.status, res.text()), (200, "slow done"));
    assert!(res.connection_has("close"), "{res:?}");
    let slow_done = signalled.elapsed();
    assert!(
        slow_done < SLOW + Duration::from_secs(3),
        "slow request took {slow_done:?} after the signal"
    );
    busy.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let (rest, end) = read_until_end(&mut busy.stream, 1 << 16, Duration::from_secs(5));
    assert_ne!(
        end,
        ReadEnd::Timeout,
        "busy connection not closed after its response"
    );
    assert!(rest.is_empty());

    // run_until returns.
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(5), || {
            server.thread.is_finished()
        }),
        "run_until did not return"
    );
    server
        .thread
        .join()
        .expect("server thread panicked")
        .expect("run_until failed");
}

#[test]
fn shutdown_with_no_connections_returns_at_once() {
    let server = support::serve_until(app(Arc::default()), Config::default(), 1);
    let res = support::get(server.addr, "/");
    assert_eq!(res.status, 200);
    let signalled = Instant::now();
    server.stop.close();
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(2), || {
            server.thread.is_finished()
        }),
        "run_until did not return"
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(1),
        "{:?}",
        signalled.elapsed()
    );
    server.thread.join().unwrap().unwrap();
    match TcpStream::connect_timeout(&server.addr, Duration::from_secs(2)) {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("connected to a server that has shut down"),
    }
}

#[test]
fn shutdown_timeout_drops_requests_that_take_too_long() {
    let slow_started = Arc::new(AtomicUsize::new(0));
    let config = Config {
        shutdown_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let server = support::serve_until(app(slow_started.clone()), config, 1);
    let mut busy = Conn::connect(server.addr);
    busy.write(&support::request("GET", "/slow", "", b""));
    assert!(wait_for(
        Duration::from_secs(5),
        Duration::from_millis(2),
        || { slow_started.load(Ordering::SeqCst) == 1 }
    ));
    let signalled = Instant::now();
    server.stop.close();
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(2), || {
            server.thread.is_finished()
        }),
        "run_until did not return"
    );
    let took = signalled.elapsed();
    assert!(
        took < SLOW,
        "run_until waited {took:?}, past the 200 ms shutdown timeout"
    );
    server.thread.join().unwrap().unwrap();
    // The dropped request never got an answer: the connection just ends.
    busy.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let (bytes, end) = read_until_end(&mut busy.stream, 1 << 16, Duration::from_secs(5));
    assert_ne!(end, ReadEnd::Timeout, "dropped connection stayed open");
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
}

#[test]
fn per_core_listeners_serve_and_shut_down() {
    // Two threads, each with its own SO_REUSEPORT listener on the same port.
    let server = smolweb::Server::bind_per_core("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .threads(2);
    let support::Stoppable { addr, stop, thread } = support::run_until(server, app(Arc::default()));
    // Many fresh connections: the kernel spreads them over both listeners.
    for _ in 0..40 {
        let res = support::get(addr, "/");
        assert_eq!((res.status, res.body.as_slice()), (200, &b"ok"[..]));
    }
    stop.close();
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(5), || {
            thread.is_finished()
        }),
        "run_until did not return"
    );
    thread.join().unwrap().unwrap();
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("a per-core listener survived the shutdown"),
    }
}

/// The drain sequence for a load balancer: at the signal the health check fails at once,
/// the server goes on accepting and serving for `drain_delay`, then stops accepting (new
/// connections refused) and exits once its requests are done.
#[test]
fn the_health_check_fails_for_the_drain_delay_before_the_server_stops() {
    let config = Config {
        drain_delay: Duration::from_millis(800),
        ..Config::default()
    };
    let server = smolweb::Server::bind("127.0.0.1:0")
        .expect("bind")
        .threads(1)
        .config(config);
    let health = server.health();
    let router = app(Arc::default()).get("/healthz", health.handler());
    let support::Stoppable { addr, stop, thread } = support::run_until(server, router);
    let check = support::get(addr, "/healthz");
    assert_eq!((check.status, check.text()), (200, "ok"));
    let signalled = Instant::now();
    drop(stop);
    // Draining: the check says so, and ordinary requests are still served.
    assert!(
        support::wait_for(Duration::from_secs(5), Duration::from_millis(5), || health
            .draining()),
        "never draining"
    );
    let check = support::get(addr, "/healthz");
    assert_eq!((check.status, check.text()), (503, "draining"));
    assert_eq!(support::get(addr, "/").status, 200);
    // After the delay: the listener is closed.
    thread.join().unwrap().unwrap();
    assert!(
        signalled.elapsed() >= Duration::from_millis(700),
        "{:?}",
        signalled.elapsed()
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after the drain"
    );
}

/// A connection served with `Service::serve_connection` (no accept loop, so no idle list to
/// wake it) waits for shutdown on its own: an idle keep-alive connection ends when
/// `Service::shutdown` is called.
#[test]
fn a_connection_served_without_the_server_closes_when_idle_at_shutdown() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let service = smolweb::Service::new(app(Arc::default()));
    let (mut client, server) = smolweb::memory::pair();
    let bytes = smol::block_on(async {
        let conn = {
            let service = service.clone();
            smol::spawn(async move { service.serve_connection(server).await })
        };
        client
            .write_all(&support::request("GET", "/", "", b""))
            .await
            .expect("write");
        let mut bytes = vec![0; 4096];
        let n = client.read(&mut bytes).await.expect("read");
        bytes.truncate(n);
        // The response is in; a moment later the connection is waiting for its next request
        // (it would also end if shutdown began before that wait: the test holds either way,
        // the pause makes it test the wait).
        Timer::after(Duration::from_millis(100)).await;
        assert!(!conn.is_finished());
        service.shutdown();
        let ended = async {
            conn.await;
            true
        };
        let timeout = async {
            Timer::after(Duration::from_secs(10)).await;
            false
        };
        assert!(
            futures_lite::future::or(ended, timeout).await,
            "the idle connection did not end at shutdown"
        );
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("read to end");
        assert!(rest.is_empty(), "{rest:?}");
        bytes
    });
    let responses = support::parse_all(&bytes);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200);
}
