//! The HTTP/1.1 core over real sockets: persistence, pipelining, body framing both ways,
//! `100 Continue`, error responses and refused heads.

mod support;

use std::io::{self, Write};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smolweb::{Body, Config, Error, IntoResponse, Json, Request, Response, Router, StatusCode};
use support::{
    Conn, RawResponse, call, get, is_closed, parse_all, request, send_raw, serve, spawn,
};

const HELLO: &str = "Hello, World!";

async fn hello(_req: Request) -> &'static str {
    HELLO
}

/// Echoes the request path.
async fn path(req: Request) -> String {
    req.path().to_string()
}

/// Echoes the request body (so it reads it).
async fn echo(mut req: Request) -> smolweb::Result<String> {
    req.body_string().await
}

/// Never touches the request body.
async fn fixed(_req: Request) -> &'static str {
    "fixed"
}

/// Asks for the connection to be closed after its response.
async fn close(_req: Request) -> Response {
    let mut res = "closing".into_response();
    res.insert_header("connection", "close");
    res
}

/// A body of this many bytes whose length is not known up front.
const STREAM_LEN: usize = 40_000;

fn stream_bytes() -> Vec<u8> {
    (0..STREAM_LEN).map(|i| (i % 251) as u8).collect()
}

async fn stream(_req: Request) -> Body {
    Body::from_reader(futures_lite::io::Cursor::new(stream_bytes()), None)
}

async fn panics(_req: Request) -> &'static str {
    panic!("handler panicked on purpose")
}

async fn bad_request(_req: Request) -> smolweb::Result<String> {
    Err(Error::new(StatusCode::BadRequest, "nope"))
}

const SECRET: &str = "secret detail: db password hunter2";

fn failing_io() -> io::Result<String> {
    Err(io::Error::other(SECRET))
}

async fn io_failure(_req: Request) -> smolweb::Result<String> {
    Ok(failing_io()?)
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    item: String,
    qty: u32,
}

/// Doubles the quantity of an order.
async fn double(mut req: Request) -> smolweb::Result<Json<Order>> {
    let mut order: Order = req.body_json().await?;
    order.qty *= 2;
    Ok(Json(order))
}

fn app() -> Router {
    Router::new()
        .get("/hello", hello)
        .get("/p/:n", path)
        .post("/echo", echo)
        .post("/ignore", fixed)
        .get("/fixed", fixed)
        .post("/fixed", fixed)
        .get("/close", close)
        .get("/no-content", |_| async { StatusCode::NoContent })
        .get("/not-modified", |_| async { StatusCode::NotModified })
        .get("/stream", stream)
        .get("/panic", panics)
        .get("/bad", bad_request)
        .get("/io", io_failure)
        .post("/json", double)
        .post(
            "/stream-echo",
            |mut req: Request| async move { req.take_body() },
        )
        .get("/short", |_| async {
            // Promises 10 bytes, has 3.
            Body::from_reader(futures_lite::io::Cursor::new(b"abc".to_vec()), Some(10))
        })
        .get("/long", |_| async {
            // Promises 3 bytes, has 10: only 3 may be sent.
            Body::from_reader(
                futures_lite::io::Cursor::new(b"0123456789".to_vec()),
                Some(3),
            )
        })
}

/// Sends `GET /hello` on `conn` and checks the answer: proof the connection is still in step.
fn assert_hello_works(conn: &mut Conn) {
    conn.write(&request("GET", "/hello", "", b""));
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), HELLO);
}

/// A chunked encoding of `body` in pieces of `piece` bytes.
fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn assert_no_length_or_body(res: &RawResponse) {
    assert!(!res.has_header("content-length"), "{res:?}");
    assert!(!res.has_header("transfer-encoding"), "{res:?}");
    assert!(res.body.is_empty());
}

// ---------------------------------------------------------------------------------------
// Persistence and pipelining
// ---------------------------------------------------------------------------------------

#[test]
fn simple_get_has_exact_status_line_and_framing() {
    let addr = spawn(app());
    let res = get(addr, "/hello");
    assert!(res.head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{res:?}");
    assert_eq!(res.header("content-length"), Some("13"));
    assert_eq!(res.header("content-type"), Some("text/plain;charset=utf-8"));
    assert!(!res.has_header("transfer-encoding"));
    assert_eq!(res.text(), HELLO);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    for i in 0..5 {
        conn.write(&request("GET", &format!("/p/{i}"), "", b""));
        let res = conn.read_response();
        assert_eq!(res.status, 200);
        assert_eq!(res.text(), format!("/p/{i}"));
        assert!(!res.connection_has("close"), "{res:?}");
    }
    assert!(conn.buffered().is_empty());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    let all: Vec<u8> = (0..10)
        .flat_map(|i| request("GET", &format!("/p/{i}"), "", b""))
        .collect();
    conn.write(&all);
    for i in 0..10 {
        let res = conn.read_response();
        assert_eq!(res.status, 200);
        assert_eq!(res.text(), format!("/p/{i}"));
    }
    assert_hello_works(&mut conn);
}

#[test]
fn pipelined_requests_stop_after_one_asking_to_close() {
    let addr = spawn(app());
    let mut bytes = request("GET", "/p/0", "", b"");
    bytes.extend(request("GET", "/p/1", "Connection: close\r\n", b""));
    bytes.extend(request("GET", "/p/2", "", b""));
    let responses = parse_all(&send_raw(addr, &bytes));
    let bodies: Vec<_> = responses.iter().map(|r| r.text().to_string()).collect();
    assert_eq!(bodies, ["/p/0", "/p/1"]);
    assert!(responses[1].connection_has("close"));
}

#[test]
fn pipelined_mix_of_methods_and_bodies_is_answered_in_order() {
    let addr = spawn(app());
    let mut bytes = request("POST", "/echo", "Content-Length: 3\r\n", b"one");
    bytes.extend(request(
        "POST",
        "/echo",
        "Transfer-Encoding: chunked\r\n",
        &chunked(b"two", 2),
    ));
    bytes.extend(request("HEAD", "/hello", "", b""));
    bytes.extend(request(
        "POST",
        "/ignore",
        "Content-Length: 5\r\n",
        b"three",
    ));
    bytes.extend(request("GET", "/no-content", "", b""));
    bytes.extend(request("GET", "/p/last", "", b""));
    let mut conn = Conn::connect(addr);
    conn.write(&bytes);
    assert_eq!(conn.read_response().text(), "one");
    assert_eq!(conn.read_response().text(), "two");
    let head = conn.read_response_to_head();
    assert_eq!(head.header("content-length"), Some("13"));
    assert_eq!(conn.read_response().text(), "fixed");
    assert_eq!(conn.read_response().status, 204);
    assert_eq!(conn.read_response().text(), "/p/last");
}

#[test]
fn request_dribbled_byte_by_byte_is_parsed() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    for b in request("POST", "/echo", "Content-Length: 5\r\n", b"hello") {
        conn.write(&[b]);
    }
    assert_eq!(conn.read_response().text(), "hello");
    for b in request(
        "POST",
        "/echo",
        "Transfer-Encoding: chunked\r\n",
        &chunked(b"dribble", 3),
    ) {
        conn.write(&[b]);
    }
    assert_eq!(conn.read_response().text(), "dribble");
}

#[test]
fn large_head_is_accepted() {
    let addr = spawn(app());
    let extra: String = (0..50)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "v".repeat(200)))
        .collect();
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/hello", &extra, b""));
    assert_eq!(conn.read_response().text(), HELLO);
    assert_hello_works(&mut conn);
}

#[test]
fn small_head_limit_holds_for_heads_that_arrive_in_one_read() {
    // Heads are first received onto a 4 KiB stack buffer: a smaller configured limit must
    // still be enforced, whether the head arrives in one read or several.
    let config = Config {
        max_head_bytes: 1024,
        ..Config::default()
    };
    let addr = serve(app(), config, 1);
    let big = format!("X-Pad: {}\r\n", "p".repeat(2000));
    let raw = send_raw(addr, &request("GET", "/hello", &big, b""));
    let res = &parse_all(&raw)[0];
    assert_eq!(res.status, 431, "{res:?}");
    let fits = format!("X-Pad: {}\r\n", "p".repeat(500));
    let raw = send_raw(addr, &request("GET", "/hello", &fits, b""));
    assert_eq!(parse_all(&raw)[0].status, 200);
}

#[test]
fn http10_without_keep_alive_closes_after_response() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(b"GET /hello HTTP/1.0\r\n\r\n");
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), HELLO);
    assert_eq!(res.header("content-length"), Some("13"));
    assert!(!res.has_header("transfer-encoding"), "{res:?}");
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
}

#[test]
fn http10_keep_alive_stays_open() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    for _ in 0..3 {
        conn.write(b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let res = conn.read_response();
        assert_eq!(res.status, 200);
        assert_eq!(res.text(), HELLO);
        assert!(res.connection_has("keep-alive"), "{res:?}");
        assert!(!res.has_header("transfer-encoding"));
    }
}

#[test]
fn client_connection_close_closes() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/hello", "Connection: close\r\n", b""));
    let res = conn.read_response();
    assert_eq!(res.text(), HELLO);
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
}

#[test]
fn handler_connection_close_closes() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/close", "", b""));
    let res = conn.read_response();
    assert_eq!(res.text(), "closing");
    assert_eq!(res.header_all("connection"), ["close"]);
    assert!(is_closed(&mut conn));
}

#[test]
fn keep_alive_timeout_closes_an_idle_connection() {
    let config = Config {
        keep_alive_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let addr = serve(app(), config, 1);
    let mut conn = Conn::connect(addr);
    assert_hello_works(&mut conn);
    // The read timeout (5 s) bounds the wait; the server should close after ~200 ms.
    assert!(is_closed(&mut conn));
}

#[test]
fn header_timeout_closes_a_stalled_head() {
    let config = Config {
        header_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let addr = serve(app(), config, 1);
    let mut conn = Conn::connect(addr);
    conn.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n");
    let rest = conn.read_to_close();
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
}

// ---------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------

#[test]
fn content_length_body_is_echoed() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/echo",
        "Content-Length: 11\r\n",
        b"hello world",
    ));
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "hello world");
    assert_hello_works(&mut conn);
}

#[test]
fn large_content_length_body_is_echoed() {
    let addr = spawn(app());
    let body = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    let mut conn = Conn::connect(addr);
    let head = request(
        "POST",
        "/echo",
        &format!("Content-Length: {}\r\n", body.len()),
        b"",
    );
    conn.write(&head);
    conn.write(body.as_bytes());
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert!(res.body == body.as_bytes(), "echoed body differs");
    assert_hello_works(&mut conn);
}

#[test]
fn chunked_body_with_extension_and_trailer_is_echoed() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/echo",
        "Transfer-Encoding: chunked\r\n",
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    ));
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "hello world");
    assert_hello_works(&mut conn);
}

#[test]
fn chunked_body_split_across_writes_is_echoed() {
    let addr = spawn(app());
    let body: Vec<u8> = (0..20_000).map(|i| b'a' + (i % 26) as u8).collect();
    let mut bytes = request("POST", "/echo", "Transfer-Encoding: chunked\r\n", b"");
    bytes.extend(chunked(&body, 777));
    let mut conn = Conn::connect(addr);
    for piece in bytes.chunks(1000) {
        conn.write(piece);
    }
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.body, body);
    assert_hello_works(&mut conn);
}

/// Sends `head` then `body` (from another thread, so request and response can flow at once)
/// and returns the response.
fn send_streaming(conn: &mut Conn, head: &[u8], body: Vec<u8>) -> RawResponse {
    conn.write(head);
    let mut writer = conn.stream.try_clone().expect("clone socket");
    let sender = thread::spawn(move || writer.write_all(&body));
    let res = conn.read_response();
    sender
        .join()
        .expect("sender thread")
        .expect("write request body");
    res
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

#[test]
fn response_may_stream_a_content_length_request_body() {
    let addr = spawn(app());
    let body = pattern(3 * 1024 * 1024);
    let mut conn = Conn::connect(addr);
    let head = request(
        "POST",
        "/stream-echo",
        &format!("Content-Length: {}\r\n", body.len()),
        b"",
    );
    let res = send_streaming(&mut conn, &head, body.clone());
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("3145728"));
    assert!(res.body == body, "echoed body differs");
    assert_hello_works(&mut conn);
}

#[test]
fn response_may_stream_a_chunked_request_body() {
    let addr = spawn(app());
    let body = pattern(3 * 1024 * 1024);
    let mut conn = Conn::connect(addr);
    let head = request(
        "POST",
        "/stream-echo",
        "Transfer-Encoding: chunked\r\n",
        b"",
    );
    let res = send_streaming(&mut conn, &head, chunked(&body, 10_000));
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert!(res.body == body, "echoed body differs");
    assert_hello_works(&mut conn);
}

#[test]
fn ignored_content_length_body_is_drained() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    // The body and the next request arrive together: the body must not be taken for a head.
    let mut bytes = request(
        "POST",
        "/ignore",
        "Content-Length: 30\r\n",
        b"GET /p/smuggled HTTP/1.1\r\n\r\n\r\n",
    );
    bytes.extend(request("GET", "/p/next", "", b""));
    conn.write(&bytes);
    let first = conn.read_response();
    assert_eq!(first.text(), "fixed");
    assert!(!first.connection_has("close"), "{first:?}");
    let second = conn.read_response();
    assert_eq!(second.text(), "/p/next");
}

/// A declared body beyond the drain bound, on a request answered without reading it: the
/// response says `Connection: close` and the connection ends right after it, rather than
/// waiting to drain a body it would give up on anyway (nginx answers and closes likewise).
#[test]
fn an_undrainable_declared_body_closes_at_once() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    let started = std::time::Instant::now();
    conn.write(&request(
        "POST",
        "/ignore",
        "Content-Length: 999999999\r\n",
        b"",
    ));
    let res = conn.read_response();
    assert_eq!(res.text(), "fixed");
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
    // Well within the body timeout (30 s) a drain would have waited.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn ignored_chunked_body_is_drained() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/ignore",
        "Transfer-Encoding: chunked\r\n",
        &chunked(&[b'z'; 10_000], 1000),
    ));
    let first = conn.read_response();
    assert_eq!(first.text(), "fixed");
    assert!(!first.connection_has("close"), "{first:?}");
    conn.write(&request("GET", "/p/next", "", b""));
    assert_eq!(conn.read_response().text(), "/p/next");
}

#[test]
fn ignored_body_over_drain_limit_is_answered_then_closed() {
    const LEN: usize = 2 * 1024 * 1024;
    assert!(LEN as u64 > smolweb::MAX_DRAIN_BYTES);
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/ignore",
        &format!("Content-Length: {LEN}\r\n"),
        b"",
    ));
    // The body goes from another thread: the server stops reading it, so these writes may
    // block and then fail once the server closes; the response must get through anyway.
    let mut writer = conn.stream.try_clone().expect("clone socket");
    let sender = thread::spawn(move || {
        let piece = vec![b'x'; 64 * 1024];
        for _ in 0..LEN / piece.len() {
            if writer.write_all(&piece).is_err() {
                break;
            }
        }
    });
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "fixed");
    // The response goes out before the body is drained, so it cannot announce the close.
    assert!(is_closed(&mut conn));
    sender.join().expect("sender thread");
}

#[test]
fn expect_continue_is_sent_before_the_body_when_the_handler_reads_it() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/echo",
        "Expect: 100-continue\r\nContent-Length: 5\r\n",
        b"",
    ));
    // Nothing of the body has been sent: the server must invite it first.
    let interim = conn.read_response();
    assert_eq!(interim.status, 100);
    assert_eq!(interim.head, b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(conn.buffered().is_empty());
    conn.write(b"hello");
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "hello");
    assert_hello_works(&mut conn);
}

#[test]
fn expect_continue_is_not_sent_when_the_handler_ignores_the_body() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/fixed",
        "Expect: 100-continue\r\nContent-Length: 5\r\n",
        b"",
    ));
    // The final response comes without the body ever being sent.
    let res = conn.read_response();
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.text(), "fixed");
    // The server cannot know whether the body will follow: it must not reuse the connection.
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
}

// ---------------------------------------------------------------------------------------
// Response framing
// ---------------------------------------------------------------------------------------

#[test]
fn head_on_a_get_route_has_the_headers_but_no_body() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("HEAD", "/hello", "", b""));
    let res = conn.read_response_to_head();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("13"));
    assert_eq!(res.header("content-type"), Some("text/plain;charset=utf-8"));
    assert!(res.body.is_empty());
    // Had a body followed, this response would be garbage.
    assert_hello_works(&mut conn);
}

#[test]
fn no_content_has_no_body_and_no_length() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/no-content", "", b""));
    let res = conn.read_response();
    assert_eq!(res.status, 204);
    assert_no_length_or_body(&res);
    assert_hello_works(&mut conn);
}

#[test]
fn not_modified_has_no_body_and_no_length() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/not-modified", "", b""));
    let res = conn.read_response();
    assert_eq!(res.status, 304);
    assert_no_length_or_body(&res);
    assert_hello_works(&mut conn);
}

#[test]
fn unknown_length_is_chunked_for_http11() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/stream", "", b""));
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert!(!res.has_header("content-length"));
    assert!(res.body == stream_bytes(), "streamed body differs");
    assert_hello_works(&mut conn);
}

#[test]
fn unknown_length_is_close_delimited_for_http10() {
    let addr = spawn(app());
    for extra in ["", "Connection: keep-alive\r\n"] {
        let mut conn = Conn::connect(addr);
        conn.write(format!("GET /stream HTTP/1.0\r\n{extra}\r\n").as_bytes());
        // No length and no chunking: the client reads to the end of the connection.
        let res = conn.read_response();
        assert_eq!(res.status, 200);
        assert!(!res.has_header("transfer-encoding"), "{res:?}");
        assert!(!res.has_header("content-length"), "{res:?}");
        assert!(res.connection_has("close"), "{res:?}");
        assert!(res.body == stream_bytes(), "streamed body differs");
        assert!(is_closed(&mut conn));
    }
}

#[test]
fn date_header_is_an_imf_fixdate() {
    let addr = spawn(app());
    let res = get(addr, "/hello");
    let dates = res.header_all("date");
    assert_eq!(dates.len(), 1, "{res:?}");
    let date = dates[0];
    assert_eq!(date.len(), 29, "{date:?}");
    assert!(date.ends_with(" GMT"), "{date:?}");
    let b = date.as_bytes();
    assert!(
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&date[..3]),
        "{date:?}"
    );
    assert_eq!(&date[3..5], ", ");
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(months.contains(&&date[8..11]), "{date:?}");
    for (i, c) in b.iter().enumerate().take(25).skip(5) {
        match i {
            7 | 11 | 16 => assert_eq!(*c, b' ', "{date:?}"),
            19 | 22 => assert_eq!(*c, b':', "{date:?}"),
            8..=10 => {}
            _ => assert!(c.is_ascii_digit(), "{date:?}"),
        }
    }
    let year: u32 = date[12..16].parse().unwrap();
    assert!((2024..2200).contains(&year), "{date:?}");
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[test]
fn panicking_handler_gives_500_and_the_server_survives() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    // Twice on one connection: the second request's future goes where the first one's
    // panicked (the connection keeps one slot for its handlers' futures).
    for _ in 0..2 {
        conn.write(&request("GET", "/panic", "", b""));
        let res = conn.read_response();
        assert_eq!(res.status, 500);
        assert_eq!(res.text(), "Internal Server Error");
    }
    // Same connection.
    assert_hello_works(&mut conn);
    assert_hello_works(&mut conn);
    // New connection.
    let res = get(addr, "/hello");
    assert_eq!(res.text(), HELLO);
}

#[test]
fn handler_error_gives_its_status_and_message() {
    let addr = spawn(app());
    let res = get(addr, "/bad");
    assert_eq!(res.status, 400);
    assert_eq!(res.text(), "nope");
}

#[test]
fn io_error_gives_500_without_its_details() {
    let addr = spawn(app());
    let res = get(addr, "/io");
    assert_eq!(res.status, 500);
    assert_eq!(res.text(), "Internal Server Error");
    assert!(!res.text().contains("hunter2"));
    let head = String::from_utf8_lossy(&res.head);
    assert!(!head.contains("hunter2"), "{head}");
}

#[test]
fn json_round_trip() {
    let addr = spawn(app());
    let sent = Order {
        item: "tea".into(),
        qty: 21,
    };
    let body = serde_json::to_vec(&sent).unwrap();
    let res = call(
        addr,
        "POST",
        "/json",
        &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ),
        &body,
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    let got: Order = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(
        got,
        Order {
            item: "tea".into(),
            qty: 42
        }
    );
}

#[test]
fn invalid_json_is_400_wrong_shape_422_not_json_415() {
    let addr = spawn(app());
    let json = "Content-Type: application/json; charset=utf-8\r\n";
    let res = call(
        addr,
        "POST",
        "/json",
        &format!("{json}Content-Length: 5\r\n"),
        b"{nope",
    );
    assert_eq!(res.status, 400);
    assert!(res.text().starts_with("invalid JSON"), "{res:?}");
    let shape = br#"{"item":"tea","qty":"many"}"#;
    let extra = format!("{json}Content-Length: {}\r\n", shape.len());
    let res = call(addr, "POST", "/json", &extra, shape);
    assert_eq!(res.status, 422, "{res:?}");
    assert!(res.text().contains("line 1 column"), "{res:?}");
    // A text/plain body (what a cross-site form or fetch can send without a preflight) and
    // a body with no content type are not JSON.
    for extra in ["Content-Type: text/plain\r\n", ""] {
        let extra = format!("{extra}Content-Length: 2\r\n");
        let res = call(addr, "POST", "/json", &extra, b"{}");
        assert_eq!(res.status, 415, "{extra:?}");
    }
}

#[test]
fn query_and_form_failures_name_the_field() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        n: u32,
        q: String,
    }
    let app = Router::new()
        .get("/q", |req: Request| async move {
            req.query_as::<Page>().map(|p| p.n.to_string())
        })
        .post("/f", |mut req: Request| async move {
            req.body_form::<Page>().await.map(|p| p.n.to_string())
        });
    let addr = spawn(app);
    let res = support::get(addr, "/q?n=abc&q=x");
    assert_eq!(res.status, 400);
    assert!(res.text().contains("`n`"), "{}", res.text());
    let res = support::get(addr, "/q?n=3");
    assert!(res.text().contains("missing field `q`"), "{}", res.text());
    assert_eq!(support::get(addr, "/q?n=3&q=x").text(), "3");
    let form = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n";
    let res = call(addr, "POST", "/f", form, b"n=-1&q=xy");
    assert_eq!(res.status, 400);
    assert!(res.text().contains("`n`"), "{}", res.text());
}

fn small_limit() -> Config {
    Config {
        max_body_bytes: 16,
        ..Config::default()
    }
}

#[test]
fn body_over_the_limit_is_413() {
    let addr = serve(app(), small_limit(), 1);
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/echo",
        "Content-Length: 100\r\n",
        &[b'a'; 100],
    ));
    let res = conn.read_response();
    assert_eq!(res.status, 413);
    assert_eq!(res.text(), "request body too large");
    // The unread body was drained: the connection carries on.
    conn.write(&request("POST", "/echo", "Content-Length: 5\r\n", b"small"));
    let res = conn.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "small");
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let addr = serve(app(), small_limit(), 1);
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/echo",
        "Transfer-Encoding: chunked\r\n",
        &chunked(&[b'a'; 100], 10),
    ));
    let res = conn.read_response();
    assert_eq!(res.status, 413);
    assert_hello_works(&mut conn);
}

#[test]
fn conflicting_framing_is_400_and_closes() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(
        b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let res = conn.read_response();
    assert_eq!(res.status, 400);
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
}

/// Sends `bytes`, expects one refusal with `status` and the connection closed.
fn assert_refused(addr: std::net::SocketAddr, bytes: &[u8], status: u16) {
    let responses = parse_all(&send_raw(addr, bytes));
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0].status, status, "{responses:?}");
    assert!(responses[0].connection_has("close"), "{responses:?}");
}

#[test]
fn conflicting_content_lengths_are_400() {
    let addr = spawn(app());
    assert_refused(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
    );
}

#[test]
fn limits_give_414_and_431() {
    let config = Config {
        max_target_bytes: 64,
        max_headers: 8,
        ..Config::default()
    };
    let addr = serve(app(), config, 1);
    let long = format!("/p/{}", "a".repeat(100));
    assert_refused(addr, &request("GET", &long, "", b""), 414);
    let many: String = (0..20).map(|i| format!("X-{i}: y\r\n")).collect();
    assert_refused(addr, &request("GET", "/hello", &many, b""), 431);
    // Within the limits all is well.
    assert_eq!(get(addr, "/p/short").text(), "/p/short");
}

#[test]
fn unsupported_version_method_and_expectation_are_refused() {
    let addr = spawn(app());
    assert_refused(addr, b"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    assert_refused(addr, b"get /hello HTTP/1.1\r\nHost: x\r\n\r\n", 501);
    assert_refused(
        addr,
        &request(
            "POST",
            "/echo",
            "Expect: teapot\r\nContent-Length: 1\r\n",
            b"x",
        ),
        417,
    );
}

#[test]
fn response_body_shorter_than_its_length_ends_the_connection() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/short", "", b""));
    let err = conn
        .try_read_response(false)
        .expect_err("a 10-byte response cannot be completed from 3 bytes");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
}

#[test]
fn response_body_longer_than_its_length_is_cut_to_it() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(&request("GET", "/long", "", b""));
    let res = conn.read_response();
    assert_eq!(res.header("content-length"), Some("3"));
    assert_eq!(res.text(), "012");
    assert_hello_works(&mut conn);
}

#[test]
fn absolute_form_target_is_routed_by_its_path() {
    let addr = spawn(app());
    let responses = parse_all(&send_raw(
        addr,
        b"GET http://example.com/p/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
    ));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].text(), "/p/abs");
}

#[test]
fn two_host_headers_are_400() {
    let addr = spawn(app());
    assert_refused(
        addr,
        b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
    );
}

/// RFC 9112 §3.2.4: `OPTIONS * HTTP/1.1` (asterisk-form) is a valid request; the server may
/// answer it as it likes, but not as a malformed request.
#[test]
fn options_asterisk_is_not_a_bad_request() {
    let addr = spawn(app());
    let responses = parse_all(&send_raw(addr, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 200, "{responses:?}");
    // Only OPTIONS may use the asterisk form.
    let responses = parse_all(&send_raw(addr, b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!(responses[0].status, 400, "{responses:?}");
}

#[test]
fn http11_without_host_is_400() {
    let addr = spawn(app());
    let responses = parse_all(&send_raw(addr, b"GET /hello HTTP/1.1\r\n\r\n"));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 400);
    assert!(responses[0].connection_has("close"));
}

fn send_malformed_chunked_body(conn: &mut Conn) -> RawResponse {
    conn.write(&request(
        "POST",
        "/echo",
        "Transfer-Encoding: chunked\r\n",
        b"zz\r\nhello\r\n0\r\n\r\n",
    ));
    conn.read_response()
}

#[test]
fn malformed_chunked_body_is_400_and_the_connection_is_not_reused() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    let res = send_malformed_chunked_body(&mut conn);
    assert_eq!(res.status, 400);
    assert_eq!(res.text(), "invalid request body");
    assert!(is_closed(&mut conn));
}

/// The body was found malformed before the response was written, so the server knows it will
/// close: RFC 9112 §9.6 says its response should carry `Connection: close`.
#[test]
fn malformed_chunked_body_response_announces_the_close() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    let res = send_malformed_chunked_body(&mut conn);
    assert!(res.connection_has("close"), "{res:?}");
}

/// RFC 9112 §6.1: a request with Transfer-Encoding in HTTP/1.0 must be treated as having
/// faulty framing, and the connection closed after it, even when it asks for keep-alive.
#[test]
fn http10_with_transfer_encoding_closes_the_connection() {
    let addr = spawn(app());
    let mut conn = Conn::connect(addr);
    conn.write(
        b"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
    );
    let res = conn.read_response();
    assert!(res.connection_has("close"), "{res:?}");
    assert!(is_closed(&mut conn));
}

// ---------------------------------------------------------------------------------------
// A large response after a large ignored body
// ---------------------------------------------------------------------------------------

const BIG_RESPONSE: usize = 4 * 1024 * 1024;

async fn big(_req: Request) -> Vec<u8> {
    vec![b'r'; BIG_RESPONSE]
}

/// Sends an 8 MiB body the handler never reads (from another thread, as a client that does
/// not wait would) and reads the 4 MiB response at 16 KiB a millisecond, like a client on a
/// real network. Returns every byte received before the server closed.
fn big_response_after_ignored_body(extra: &str) -> Vec<u8> {
    const LEN: usize = 8 * 1024 * 1024;
    let addr = spawn(app().post("/big", big));
    let mut conn = Conn::connect(addr);
    conn.write(&request(
        "POST",
        "/big",
        &format!("{extra}Content-Length: {LEN}\r\n"),
        b"",
    ));
    let mut writer = conn.stream.try_clone().expect("clone socket");
    let sender = thread::spawn(move || {
        let piece = vec![b'x'; 64 * 1024];
        for _ in 0..LEN / piece.len() {
            if writer.write_all(&piece).is_err() {
                break;
            }
        }
    });
    let mut received = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    // At most ~300 reads are needed; the bound only guards against a server that never closes.
    for _ in 0..10_000 {
        match io::Read::read(&mut conn.stream, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
        thread::sleep(Duration::from_millis(1));
    }
    sender.join().expect("sender thread");
    received
}

fn assert_whole_big_response(received: &[u8]) {
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no response head")
        + 4;
    assert!(received.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(
        received.len() - head_end,
        BIG_RESPONSE,
        "response body cut short: the server reset the connection while it was in flight"
    );
}

#[test]
fn large_response_survives_a_large_ignored_body() {
    assert_whole_big_response(&big_response_after_ignored_body(""));
}

#[test]
fn large_response_survives_a_body_sent_despite_expect_continue() {
    assert_whole_big_response(&big_response_after_ignored_body("Expect: 100-continue\r\n"));
}

/// Everything a handler can read of a request, read twice: through the accessors that answer
/// from the head as received (`path`, `query`, `header`) and through the `http_types::Request`
/// (parsed `Url`, `Headers`), which smolweb builds only when asked. Returns `same` or the
/// first difference; on `same`, the path, query and header as the client sent them.
async fn accessors(req: Request) -> String {
    let direct = (
        req.path().to_string(),
        req.query().map(str::to_string),
        req.header("x-dup").map(str::to_string),
        req.header("X-Other").map(str::to_string),
    );
    let built = (
        req.url().path().to_string(),
        req.url().query().map(str::to_string),
        req.headers().get("x-dup").map(|v| v.as_str().to_string()),
        req.as_http()
            .header("x-other")
            .map(|v| v.as_str().to_string()),
    );
    let host = req.url().host_str().unwrap_or("?").to_string();
    match direct == built {
        true => format!("same {host} {direct:?}"),
        false => format!("differ: direct {direct:?}, built {built:?}"),
    }
}

#[test]
fn request_read_from_the_head_agrees_with_the_built_url_and_headers() {
    let addr = spawn(Router::new().get("/*rest", accessors));
    let fields = "X-Dup: 1\r\nx-dup: 2\r\nX-Other:  padded \t\r\n";
    // (target, the path and query a handler sees)
    let cases = [
        ("/a/b?x=1&y=%20", r#"("/a/b", Some("x=1&y=%20")"#),
        ("/a/./b/../c", r#"("/a/c", None"#),
        ("/a/%2e%2E/b", r#"("/b", None"#),
        ("/q?it's", r#"("/q", Some("it%27s")"#),
        ("/x?", r#"("/x", Some("")"#),
        // (Raw `{}` would be encoded by the URL parser; it is refused with 400 instead.)
        ("/%7e/caf%C3%A9/", r#"("/%7e/caf%C3%A9/", None"#),
    ];
    for (target, expected) in cases {
        for extra_fields in [0, 40] {
            // More than 32 fields: the request is built at once instead of kept as received.
            let extra: String = (0..extra_fields)
                .map(|i| format!("X-F{i}: {i}\r\n"))
                .collect();
            let mut conn = Conn::connect(addr);
            conn.write(&request("GET", target, &format!("{fields}{extra}"), b""));
            let res = conn.read_response();
            assert_eq!(res.status, 200, "{target}");
            let text = res.text();
            assert!(text.starts_with("same x "), "{target}: {text}");
            assert!(text.contains(expected), "{target}: {text}");
            assert!(
                text.ends_with(r#"Some("1"), Some("padded"))"#),
                "{target}: {text}"
            );
        }
    }
    // HTTP/1.0 without Host: the URL's host is `localhost`, read either way.
    let res = send_raw(addr, b"GET /v1?a=b HTTP/1.0\r\n\r\n");
    let text = String::from_utf8_lossy(&res).to_string();
    assert!(
        text.ends_with(r#"same localhost ("/v1", Some("a=b"), None, None)"#),
        "{text}"
    );
}

/// Cookies with UTF-8 values (obs-text, RFC 9110 §5.5, as browsers send them) reach the
/// handler intact, whether the request is kept as received or built (a body makes it built),
/// and a Latin-1 byte is there as raw bytes (`header_bytes`), not guessed into text.
#[test]
fn cookies_with_utf8_values_reach_the_handler_intact() {
    support::require_default_sigpipe();
    let echo = |req: Request| async move {
        let text = req.header("cookie").unwrap_or("(none)").to_string();
        let bytes = req
            .header_bytes("cookie")
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{text}|{hex}")
    };
    let addr = spawn(Router::new().get("/c", echo).post("/c", echo));
    let cookie = "name=Zoë; city=Zürich; emoji=🦀";
    let hex: String = cookie.bytes().map(|b| format!("{b:02x}")).collect();
    for (method, body) in [("GET", &b""[..]), ("POST", &b"x=1"[..])] {
        let res = call(addr, method, "/c", &format!("Cookie: {cookie}\r\n"), body);
        assert_eq!(res.status, 200, "{method}");
        assert_eq!(res.text(), format!("{cookie}|{hex}"), "{method}");
    }
    let mut conn = Conn::connect(addr);
    conn.write(b"GET /c HTTP/1.1\r\nHost: x\r\nCookie: n=caf\xe9\r\nConnection: close\r\n\r\n");
    let res = conn.read_response();
    assert_eq!((res.status, res.text()), (200, "(none)|6e3d636166e9"));
}

/// A streamed body whose first piece is not ready has its head sent first, so the client
/// sees the response begin (server-sent events): the head arrives, then each piece as it is
/// written.
#[test]
fn a_slow_streamed_body_sends_its_head_first() {
    use futures_lite::AsyncWriteExt;
    let (mut feed, body_end) = smolweb::memory::pair();
    let body_end = std::sync::Mutex::new(Some(body_end));
    let addr = spawn(Router::new().get("/events", move |_| {
        let end = body_end.lock().unwrap().take().expect("one request");
        async move {
            let reader = futures_lite::io::BufReader::new(end);
            smolweb::http::Response::from(smolweb::Body::from_reader(reader, None))
        }
    }));
    let mut conn = Conn::connect(addr);
    conn.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    let res = conn.read_response_to_head();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    smol::block_on(feed.write_all(b"data: 1\n\n")).unwrap();
    let mut got = Vec::new();
    for _ in 0..100 {
        got.extend_from_slice(&conn.take_buffered());
        if support::contains(&got, b"data: 1\n\n") {
            break;
        }
        conn.fill().unwrap();
    }
    assert!(
        support::contains(&got, b"9\r\ndata: 1\n\n\r\n"),
        "{}",
        support::preview(&got)
    );
}
