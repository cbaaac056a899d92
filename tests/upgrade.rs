//! Protocol upgrades over real sockets and the in-memory transport: a handler answers `101`
//! with `smolweb::Upgrade` and gets the connection (with the bytes the client sent past its
//! head); a `101` is never sent to a request that cannot switch; `Upgrade: h2c` is answered as
//! HTTP/1.1; an upgraded connection still counts toward `max_connections` and hears graceful
//! shutdown.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smolweb::{
    Config, IntoResponse, Request, Response, Router, Service, StatusCode, Upgrade, memory,
};
use support::{Conn, is_closed, serve_until, spawn};

/// Echoes every byte back, after switching to `echo`; `426` to a request that did not ask.
async fn echo(req: Request) -> Response {
    if !req.wants_upgrade("echo") {
        return (StatusCode::UpgradeRequired, "ask for echo").into_response();
    }
    let mut res = Upgrade::new("echo", |mut conn| async move {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = conn.read(&mut buf).await {
            if conn.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    })
    .into_response();
    res.insert_header("x-echo", "yes");
    res
}

/// Switches whatever the request asked (the server must refuse when it did not).
async fn force(_req: Request) -> Response {
    Upgrade::new("echo", |_conn| async {}).into_response()
}

fn app() -> Router {
    Router::new()
        .get("/echo", echo)
        .get("/force", force)
        .post("/force", force)
        .get("/bare", |_| async { StatusCode::SwitchingProtocols })
        .get("/", |_| async { "plain" })
}

const ASK: &str = "Connection: Upgrade\r\nUpgrade: echo\r\n";

/// Reads from `conn` until `want` has arrived after what is already buffered; returns all of
/// it (bounded by the client's timeouts and a deadline).
fn read_exactly(conn: &mut Conn, want: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while conn.buffered().len() < want {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {want} bytes"
        );
        assert!(conn.fill().expect("read") > 0, "closed early");
    }
    conn.take_buffered()
}

#[test]
fn a_handler_takes_over_its_connection_over_tcp() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    // The first bytes of the new protocol come right behind the head, in the same write.
    conn.write(format!("GET /echo HTTP/1.1\r\nHost: x\r\n{ASK}\r\nearly bytes").as_bytes());
    let res = conn.read_response_to_head();
    assert_eq!(res.status, 101);
    assert_eq!(res.header("upgrade"), Some("echo"));
    assert!(res.connection_has("upgrade"), "{:?}", res.headers);
    assert_eq!(res.header("x-echo"), Some("yes"));
    assert!(!res.has_header("content-length") && !res.has_header("transfer-encoding"));
    assert_eq!(read_exactly(&mut conn, 11), b"early bytes");

    // A large exchange both ways: the server's writes keep up with its reads.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut writer = conn.stream.try_clone().unwrap();
    let sent = big.clone();
    let feeder = std::thread::spawn(move || writer.write_all(&sent));
    assert_eq!(read_exactly(&mut conn, big.len()), big);
    feeder.join().unwrap().unwrap();

    // Ending our side ends the handler's loop, and so the connection.
    conn.stream.shutdown(Shutdown::Write).unwrap();
    assert!(is_closed(&mut conn));
}

#[test]
fn an_upgrade_works_the_same_in_memory() {
    let service = Service::new(app());
    let (mut client, server) = memory::pair();
    let client_side = async {
        client
            .write_all(format!("GET /echo HTTP/1.1\r\nHost: x\r\n{ASK}\r\nhi").as_bytes())
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // The head, then the echo of "hi": a bounded number of reads.
        for _ in 0..100 {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
            if got.ends_with(b"\r\n\r\nhi") {
                break;
            }
        }
        let text = String::from_utf8(got).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nconnection: upgrade\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nhi"), "{text}");
        client.write_all(b"and more").await.unwrap();
        let mut more = [0u8; 8];
        client.read_exact(&mut more).await.unwrap();
        assert_eq!(&more, b"and more");
        client.close().await.unwrap();
    };
    future::block_on(future::zip(client_side, service.serve_connection(server)));
}

#[test]
fn a_101_goes_only_to_a_request_that_may_switch() {
    let addr = spawn(app());
    let cases: [(&str, String); 5] = [
        (
            "no Upgrade asked",
            "GET /force HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        ),
        (
            "HTTP/1.0",
            format!("GET /force HTTP/1.0\r\nHost: x\r\n{ASK}\r\n"),
        ),
        (
            "a request with a body",
            format!("POST /force HTTP/1.1\r\nHost: x\r\n{ASK}Content-Length: 2\r\n\r\nab"),
        ),
        (
            "h2c, which smolweb does not speak",
            "GET /force HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n\
             Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
                .into(),
        ),
        (
            "a 101 without smolweb::Upgrade",
            format!("GET /bare HTTP/1.1\r\nHost: x\r\n{ASK}\r\n"),
        ),
    ];
    for (what, request) in cases {
        let mut conn = Conn::connect(addr);
        conn.write(request.as_bytes());
        let res = conn.read_response();
        assert_eq!(res.status, 500, "{what}");
        assert!(!res.has_header("upgrade"), "{what}: {:?}", res.headers);
        // The connection goes on as HTTP (HTTP/1.0 closes, as without an upgrade).
        if !request.contains("HTTP/1.0") {
            assert_eq!(conn.get("/", "").text(), "plain", "{what}");
        }
    }
}

#[test]
fn h2c_is_answered_as_http11() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    let h2c = "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\
               HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n";
    let res = conn.get("/", h2c);
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "plain");
    assert!(!res.has_header("upgrade"));
    // An endpoint that upgrades only on request sees no upgrade asked.
    assert_eq!(conn.get("/echo", h2c).status, 426);
    assert_eq!(conn.get("/", "").text(), "plain");
}

#[test]
fn an_upgraded_connection_counts_and_hears_shutdown() {
    async fn wait_for_shutdown(_req: Request) -> Response {
        Upgrade::new("waiting", |mut conn| async move {
            let _ = conn.write_all(b"ready\n").await;
            conn.shutdown_started().await;
            assert!(conn.is_shutting_down());
            let _ = conn.write_all(b"bye\n").await;
        })
        .into_response()
    }
    let config = Config {
        max_connections: 1,
        shutdown_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let server = serve_until(Router::new().get("/", wait_for_shutdown), config, 1);
    let mut upgraded = Conn::connect(server.addr);
    upgraded.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: waiting\r\n\r\n");
    assert_eq!(upgraded.read_response_to_head().status, 101);
    assert_eq!(read_exactly(&mut upgraded, 6), b"ready\n");

    // The one connection slot is taken: another client is not served meanwhile.
    let mut other = std::net::TcpStream::connect(server.addr).unwrap();
    other
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    other
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut byte = [0u8; 1];
    let err = other
        .read(&mut byte)
        .expect_err("no answer while the slot is held");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );

    // Graceful shutdown: the upgraded connection is told, says goodbye, and the server ends.
    let started = Instant::now();
    drop(server.stop);
    assert_eq!(read_exactly(&mut upgraded, 4), b"bye\n");
    assert!(is_closed(&mut upgraded));
    server.thread.join().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(other);
}

#[test]
fn an_upgraded_write_to_a_client_that_stopped_reading_times_out() {
    let (tx, rx) = std::sync::mpsc::channel::<std::io::ErrorKind>();
    let tx = std::sync::Mutex::new(tx);
    let router = Router::new().get("/", move |_req: Request| {
        let tx = tx.lock().unwrap().clone();
        async move {
            Upgrade::new("firehose", move |mut conn| async move {
                let chunk = vec![b'f'; 64 * 1024];
                // Far more than the socket buffers hold: the client reads none of it.
                for _ in 0..4096 {
                    if let Err(e) = conn.write_all(&chunk).await {
                        let _ = tx.send(e.kind());
                        return;
                    }
                }
            })
            .into_response()
        }
    });
    let config = Config {
        write_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let addr = support::serve(router, config, 1);
    let mut conn = Conn::connect(addr);
    conn.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: firehose\r\n\r\n");
    assert_eq!(conn.read_response_to_head().status, 101);
    let kind = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the stalled write ended");
    assert_eq!(kind, ErrorKind::TimedOut);
}
