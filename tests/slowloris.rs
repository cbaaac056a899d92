//! Slow clients: heads dribbled a byte at a time, idle keep-alive connections, bodies that
//! stall. With short timeouts the server must keep answering everyone else promptly and
//! close the slow connections on time. Every test runs with SIGPIPE at its default action.

mod support;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use smolweb::{Config, Request, Router};
use support::{Conn, ReadEnd, read_until_end, wait_for};

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(1);
/// Slack for scheduling on a busy two-core machine; this is about correctness, not speed.
const MARGIN: Duration = Duration::from_millis(2500);

fn config() -> Config {
    Config {
        header_timeout: HEADER_TIMEOUT,
        keep_alive_timeout: KEEP_ALIVE_TIMEOUT,
        body_timeout: Duration::from_millis(500),
        ..Config::default()
    }
}

fn app() -> Router {
    Router::new()
        .get("/", |_| async { "ok" })
        .post("/echo", |mut req: Request| async move {
            req.body_string().await
        })
}

// ---------------------------------------------------------------------------------------
// Dribbled heads
// ---------------------------------------------------------------------------------------

const DRIBBLERS: usize = 240;
const DRIBBLE_THREADS: usize = 4;
const DRIBBLE_EVERY: Duration = Duration::from_millis(100);

/// An endless request head: a request line, then header lines forever.
fn dribble_byte(i: usize) -> u8 {
    const START: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";
    const LINE: &[u8] = b"X-Slow: yes\r\n";
    if i < START.len() {
        START[i]
    } else {
        LINE[(i - START.len()) % LINE.len()]
    }
}

/// One slow connection, as a dribbling thread sees it.
struct Dribbler {
    stream: TcpStream,
    sent: usize,
    first_byte: Option<Instant>,
    /// When the server's close was seen, and how much the server had sent before it.
    closed: Option<(Instant, usize)>,
    received: Vec<u8>,
}

/// What a dribbling thread reports for each of its connections.
#[derive(Debug)]
struct Outcome {
    /// Time from the first byte sent to the close seen; `None` if never closed.
    open_for: Option<Duration>,
    /// Bytes the server sent (a refusal such as `408`, or nothing).
    received: Vec<u8>,
    /// Bytes of the head dribbled before the close.
    sent: usize,
}

/// Connects `count` sockets and dribbles one byte on each every [`DRIBBLE_EVERY`], reading
/// (nonblocking) to notice the server's close, until all are closed or `limit` passes.
fn dribble(
    addr: SocketAddr,
    count: usize,
    started: Arc<AtomicUsize>,
    limit: Duration,
) -> Vec<Outcome> {
    let mut conns: Vec<Dribbler> = (0..count)
        .map(|_| {
            let stream = TcpStream::connect(addr).expect("connect dribbler");
            stream.set_nonblocking(true).expect("nonblocking");
            stream.set_nodelay(true).expect("nodelay");
            Dribbler {
                stream,
                sent: 0,
                first_byte: None,
                closed: None,
                received: Vec::new(),
            }
        })
        .collect();
    let begun = Instant::now();
    let rounds = (limit.as_millis() / DRIBBLE_EVERY.as_millis()) as usize + 1;
    let mut buf = [0u8; 1024];
    for round in 0..rounds {
        let round_start = Instant::now();
        for c in conns.iter_mut().filter(|c| c.closed.is_none()) {
            // Read first: the server may have closed since the last round.
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        c.closed = Some((Instant::now(), c.received.len()));
                        break;
                    }
                    Ok(n) => c.received.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        // A reset is a close too.
                        c.closed = Some((Instant::now(), c.received.len()));
                        break;
                    }
                }
            }
            if c.closed.is_some() {
                continue;
            }
            match c.stream.write(&[dribble_byte(c.sent)]) {
                Ok(1) => {
                    if c.first_byte.is_none() {
                        c.first_byte = Some(Instant::now());
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                    c.sent += 1;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => c.closed = Some((Instant::now(), c.received.len())),
            }
        }
        if conns.iter().all(|c| c.closed.is_some()) || begun.elapsed() > limit {
            break;
        }
        let _ = round;
        if let Some(rest) = DRIBBLE_EVERY.checked_sub(round_start.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    conns
        .into_iter()
        .map(|c| Outcome {
            open_for: c
                .closed
                .zip(c.first_byte)
                .map(|((at, _), first)| at.saturating_duration_since(first)),
            received: c.received,
            sent: c.sent,
        })
        .collect()
}

#[test]
fn dribbled_heads_do_not_slow_others_and_are_cut_at_the_header_timeout() {
    support::require_default_sigpipe();
    let addr = support::serve(app(), config(), 2);
    let started = Arc::new(AtomicUsize::new(0));
    let limit = HEADER_TIMEOUT + MARGIN + Duration::from_secs(2);
    let threads: Vec<_> = (0..DRIBBLE_THREADS)
        .map(|_| {
            let started = started.clone();
            std::thread::spawn(move || dribble(addr, DRIBBLERS / DRIBBLE_THREADS, started, limit))
        })
        .collect();
    // Every slow connection has begun its head before the normal client starts.
    assert!(
        wait_for(Duration::from_secs(10), Duration::from_millis(5), || {
            started.load(Ordering::SeqCst) == DRIBBLERS
        }),
        "only {} of {DRIBBLERS} dribblers got a byte out",
        started.load(Ordering::SeqCst)
    );

    // A normal client, meanwhile: 20 requests spread over the dribbling, each answered fast.
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let t = Instant::now();
        let res = support::get(addr, "/");
        let took = t.elapsed();
        assert_eq!((res.status, res.text()), (200, "ok"), "request {i}");
        assert!(took < Duration::from_secs(1), "request {i} took {took:?}");
        slowest = slowest.max(took);
        // Pacing, not synchronization: spread the requests over the header timeout.
        std::thread::sleep(Duration::from_millis(30));
    }

    let outcomes: Vec<Outcome> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("dribbler thread panicked"))
        .collect();
    assert_eq!(outcomes.len(), DRIBBLERS);
    let never_closed = outcomes.iter().filter(|o| o.open_for.is_none()).count();
    assert_eq!(
        never_closed, 0,
        "{never_closed} dribblers were never closed"
    );
    for o in &outcomes {
        let open_for = o.open_for.expect("checked above");
        assert!(o.sent > 0, "{o:?}");
        assert!(
            open_for >= HEADER_TIMEOUT.mul_f32(0.9),
            "closed too early, after {open_for:?}: {o:?}"
        );
        assert!(
            open_for <= HEADER_TIMEOUT + MARGIN,
            "closed only after {open_for:?}: {o:?}"
        );
        // Still inside the head when cut: the server never saw a complete request, so it
        // may say `408` before closing, and nothing else.
        assert!(
            o.received.is_empty() || o.received.starts_with(b"HTTP/1.1 408 "),
            "the server answered a head it never got: {:?}",
            String::from_utf8_lossy(&o.received)
        );
    }
    eprintln!(
        "slowest normal request {slowest:?}; dribblers closed after {:?}..{:?}",
        outcomes.iter().filter_map(|o| o.open_for).min().unwrap(),
        outcomes.iter().filter_map(|o| o.open_for).max().unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// Idle connections
// ---------------------------------------------------------------------------------------

/// Waits for the server to close `conn`; returns how long it took from `since`.
fn time_to_close(conn: &mut Conn, since: Instant) -> (Duration, ReadEnd, Vec<u8>) {
    conn.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let (bytes, end) = read_until_end(&mut conn.stream, 1 << 20, Duration::from_secs(10));
    (since.elapsed(), end, bytes)
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    support::require_default_sigpipe();
    let addr = support::serve(app(), config(), 1);
    let mut conn = Conn::connect(addr);
    conn.write(&support::request("GET", "/", "", b""));
    let res = conn.read_response();
    assert_eq!((res.status, res.text()), (200, "ok"));
    assert!(!res.connection_has("close"));
    let idle_since = Instant::now();
    let (took, end, bytes) = time_to_close(&mut conn, idle_since);
    assert_ne!(end, ReadEnd::Timeout, "idle connection was not closed");
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(
        took >= KEEP_ALIVE_TIMEOUT.mul_f32(0.9) && took <= KEEP_ALIVE_TIMEOUT + MARGIN,
        "closed after {took:?}"
    );
}

#[test]
fn connection_that_never_sends_is_closed_after_the_keep_alive_timeout() {
    support::require_default_sigpipe();
    let addr = support::serve(app(), config(), 1);
    let mut conn = Conn::connect(addr);
    let since = Instant::now();
    let (took, end, bytes) = time_to_close(&mut conn, since);
    assert_ne!(end, ReadEnd::Timeout, "silent connection was not closed");
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert!(
        took >= KEEP_ALIVE_TIMEOUT.mul_f32(0.9) && took <= KEEP_ALIVE_TIMEOUT + MARGIN,
        "closed after {took:?}"
    );
}

#[test]
fn keep_alive_timer_restarts_with_each_request() {
    support::require_default_sigpipe();
    // Three requests, each 0.6 s after the last: 1.8 s in all, longer than the 1 s
    // keep-alive timeout, yet never idle that long at once.
    let addr = support::serve(app(), config(), 1);
    let mut conn = Conn::connect(addr);
    for i in 0..3 {
        std::thread::sleep(KEEP_ALIVE_TIMEOUT.mul_f32(0.6));
        conn.write(&support::request("GET", "/", "", b""));
        let res = conn
            .try_read_response(false)
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(res.status, 200);
    }
}

// ---------------------------------------------------------------------------------------
// Stalled bodies
// ---------------------------------------------------------------------------------------

/// A handler that streams the body itself and records how reading it ended.
fn recording_app(seen: Arc<Mutex<Vec<Result<usize, io::ErrorKind>>>>) -> Router {
    Router::new().post("/stream", move |mut req: Request| {
        let seen = seen.clone();
        async move {
            let mut body = req.take_body();
            let mut bytes = Vec::new();
            let result = body.read_to_end(&mut bytes).await.map_err(|e| e.kind());
            seen.lock().unwrap().push(result);
            match result {
                Ok(n) => format!("read {n}"),
                Err(kind) => format!("failed: {kind:?}"),
            }
        }
    })
}

fn stalled_body_case(head_extra: &str, partial_body: &str) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let addr = support::serve(recording_app(seen.clone()), config(), 1);
    let mut conn = Conn::connect(addr);
    let started = Instant::now();
    conn.write(&support::request(
        "POST",
        "/stream",
        head_extra,
        partial_body.as_bytes(),
    ));
    // The body stalls: nothing more is sent. Within body_timeout the handler sees an error.
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(10), || {
            !seen.lock().unwrap().is_empty()
        }),
        "the handler never finished reading a stalled body"
    );
    let took = started.elapsed();
    let result = seen.lock().unwrap()[0];
    assert_eq!(result, Err(io::ErrorKind::TimedOut), "after {took:?}");
    assert!(
        took >= Duration::from_millis(450),
        "timed out after only {took:?}"
    );
    // The connection cannot carry another request: the server ends it, after answering or
    // not, within a few seconds.
    let (_, end, _) = time_to_close(&mut conn, started);
    assert_ne!(
        end,
        ReadEnd::Timeout,
        "connection with a stalled body stayed open"
    );
}

#[test]
fn stalled_content_length_body_times_out_for_the_handler() {
    support::require_default_sigpipe();
    stalled_body_case("Content-Length: 100\r\n", "only ten b");
}

#[test]
fn stalled_chunked_body_times_out_for_the_handler() {
    support::require_default_sigpipe();
    stalled_body_case(
        "Transfer-Encoding: chunked\r\n",
        "a\r\nonly ten b\r\n5\r\nab",
    );
}

/// Sends a body that stalls to a handler using `body_string`; returns the response, how long
/// it took, and the connection.
fn stalled_body_string() -> (support::RawResponse, Duration, Conn, Instant) {
    let addr = support::serve(app(), config(), 1);
    let mut conn = Conn::connect(addr);
    let started = Instant::now();
    conn.write(&support::request(
        "POST",
        "/echo",
        "Content-Length: 100\r\n",
        b"only ten b",
    ));
    let res = conn
        .try_read_response(false)
        .expect("a response to a stalled body");
    (res, started.elapsed(), conn, started)
}

#[test]
fn stalled_body_read_by_body_string_is_a_408_and_the_connection_closes() {
    support::require_default_sigpipe();
    let (res, took, mut conn, started) = stalled_body_string();
    assert_eq!(res.status, 408, "{res:?}");
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    let (_, end, rest) = time_to_close(&mut conn, started);
    assert_ne!(end, ReadEnd::Timeout, "connection stayed open after 408");
    assert!(rest.is_empty());
}

/// RFC 9110 §15.5.9: a server SHOULD send `Connection: close` with a 408, which says it
/// decided to close rather than keep waiting.
#[test]
fn stalled_body_408_says_connection_close() {
    support::require_default_sigpipe();
    let (res, _, _, _) = stalled_body_string();
    assert_eq!(res.status, 408, "{res:?}");
    assert!(res.connection_has("close"), "{res:?}");
}

#[test]
fn slow_but_steady_body_is_not_cut_by_the_body_timeout() {
    support::require_default_sigpipe();
    // body_timeout is an idle timeout: a byte every 200 ms (< 500 ms) for 1.6 s in all must
    // get through, although the whole body takes longer than the timeout.
    let addr = support::serve(app(), config(), 1);
    let mut conn = Conn::connect(addr);
    conn.write(&support::request(
        "POST",
        "/echo",
        "Content-Length: 8\r\n",
        b"",
    ));
    for b in b"steadily" {
        std::thread::sleep(Duration::from_millis(200));
        conn.stream.write_all(&[*b]).expect("write body byte");
    }
    let res = conn.read_response();
    assert_eq!((res.status, res.text()), (200, "steadily"));
}

// ---------------------------------------------------------------------------------------
// Connections that never send a byte
// ---------------------------------------------------------------------------------------

/// A connection that sends nothing is closed once its first request's header timeout,
/// counted from the accept, has passed — not kept for the (much longer) keep-alive timeout.
/// (nginx closes it on `client_header_timeout` likewise; before, smolweb held such sockets
/// for `keep_alive_timeout`, the cheapest slowloris.) A keep-alive connection that has served
/// a request still waits the keep-alive timeout for its next one.
#[test]
fn silent_connections_are_closed_after_the_header_timeout() {
    support::require_default_sigpipe();
    let config = Config {
        header_timeout: Duration::from_millis(500),
        keep_alive_timeout: Duration::from_secs(60),
        ..Config::default()
    };
    let addr = support::serve(app(), config, 1);
    let started = Instant::now();
    let mut silent: Vec<TcpStream> = (0..20)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        })
        .collect();
    let mut served = Conn::connect(addr);
    assert_eq!(served.get("/", "").text(), "ok");
    for s in &mut silent {
        let mut byte = [0u8; 1];
        match s.read(&mut byte) {
            Ok(0) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            other => panic!("a silent connection got {other:?} instead of a close"),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed too early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // Past the header timeout, the connection that served a request is still open.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(served.get("/", "").text(), "ok");
}

// ---------------------------------------------------------------------------------------
// Bytes that cannot begin a request
// ---------------------------------------------------------------------------------------

/// Input that can no longer be the start of a request line is refused as it arrives — `400`
/// and a close — not when the header timeout ends (nginx answers such input with 400 at
/// once too); a valid prefix, even byte by byte, is still waited for and served.
#[test]
fn bytes_that_cannot_begin_a_request_are_refused_at_once() {
    support::require_default_sigpipe();
    let config = Config {
        header_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let addr = support::serve(app(), config, 1);
    let tls_client_hello: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x5e, 0x1f,
    ];
    // Partial inputs that can no longer begin a valid head, none with a blank line.
    let refused: [(&str, &[u8]); 12] = [
        ("TLS ClientHello", tls_client_hello),
        ("SSH banner", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        ("binary", &[0x00, 0xff, 0x13, 0x37, 0x80, 0x81]),
        ("HTTP/0.9", b"GET /index.html\r\n"),
        ("a space in the method", b"GE T / HTTP/1.1\r\n"),
        ("a lowercase version", b"GET / http/1.1"),
        ("a raw space in the target", b"GET /a b HTTP/1.1\r\n"),
        (
            "a space before a colon",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A : b",
        ),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\n folded"),
        ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0"),
        ("a bare CR", b"GET / HTTP/1.1\r\nHost: x\rX"),
        ("a bad byte in a name", b"GET / HTTP/1.1\r\nHost: x\r\nX(A"),
    ];
    for (what, bytes) in refused {
        // Sent at once, and dribbled a byte at a time: refused either way as soon as the
        // byte that makes it invalid arrives (the rest of a dribble may meet a closed socket).
        for dribble in [false, true] {
            let started = Instant::now();
            let mut conn = Conn::connect(addr);
            if dribble {
                for b in bytes {
                    conn.write_tolerant(&[*b]);
                }
            } else {
                conn.write(bytes);
            }
            let res = conn.read_response();
            assert_eq!(res.status, 400, "{what} (dribbled: {dribble})");
            assert!(res.connection_has("close"), "{what}");
            assert!(support::is_closed(&mut conn), "{what}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{what}: answered after {:?}, not at once",
                started.elapsed()
            );
        }
    }
    // A request line without its CRLF yet, and a whole request sent a byte at a time, are
    // prefixes of valid requests: they wait, then are served.
    let mut conn = Conn::connect(addr);
    conn.write(b"GET / HTTP/1.1");
    conn.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waiting = conn.stream.read(&mut byte);
    assert!(
        matches!(&waiting, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "a valid prefix got {waiting:?}"
    );
    conn.stream
        .set_read_timeout(Some(support::TIMEOUT))
        .unwrap();
    conn.write(b"\r\nHost: x\r\n\r\n");
    assert_eq!(conn.read_response().text(), "ok");
    let mut dribbled = Conn::connect(addr);
    for b in b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" {
        dribbled.write(&[*b]);
    }
    assert_eq!(dribbled.read_response().text(), "ok");
}
