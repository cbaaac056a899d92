//! Malformed and hostile requests, one per fresh connection, with the status each must get
//! (or a plain close), followed each time by proof that the server still serves a valid
//! request. Then request-smuggling probes: a `GET /smuggled` hidden where a server with a
//! framing bug would see a second request; the route counts hits and must never be reached.
//!
//! Every refusal must say `connection: close` and the server must then close the socket.
//! Every test runs with SIGPIPE at its default action.

mod support;

use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use smolweb::{Config, Request, Router};
use support::{Conn, is_closed};

/// `Config::max_streamed_body_bytes` of the table's server.
const STREAM_LIMIT: u64 = 64 * 1024;

/// What the server must do with a row's bytes.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Refuse with one of these statuses, `connection: close`, then close the socket.
    Reject(&'static [u16]),
    /// Serve normally (the row's request asks to close): this status, and this body if given.
    Served(u16, Option<&'static str>),
}

/// What the client does after writing the row's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Keep the connection open and wait for the server.
    Wait,
    /// Half-close (FIN) the sending side, as a client that is done sending.
    HalfClose,
}

#[derive(Debug, Clone)]
struct Row {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
    then: Then,
}

use Expect::*;

fn row(name: &'static str, bytes: impl AsRef<[u8]>, expect: Expect) -> Row {
    Row {
        name,
        bytes: bytes.as_ref().to_vec(),
        expect,
        then: Then::Wait,
    }
}

fn row_then(name: &'static str, bytes: impl AsRef<[u8]>, expect: Expect, then: Then) -> Row {
    Row {
        then,
        ..row(name, bytes, expect)
    }
}

/// `POST /echo` with `headers` (complete lines) and `body`.
fn post(headers: &str, body: &str) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: x\r\n{headers}\r\n{body}").into_bytes()
}

/// `GET {target}` with `headers` (complete lines), asking to close.
fn get(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").into_bytes()
}

const CHUNKED: &str = "Transfer-Encoding: chunked\r\n";
const HELLO_CHUNKED: &str = "5\r\nhello\r\n0\r\n\r\n";

fn rows() -> Vec<Row> {
    let r400: Expect = Reject(&[400]);
    let many_headers = |n: usize| {
        let mut s = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        // Host and Connection are two of the n.
        for i in 0..n - 2 {
            s.push_str(&format!("X-H{i}: v\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    let big_chunked = {
        let data = "a".repeat(4096);
        let mut s = format!("POST /echo HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n");
        for _ in 0..(STREAM_LIMIT as usize / 4096 + 2) {
            s.push_str(&format!("1000\r\n{data}\r\n"));
        }
        s.push_str("0\r\n\r\n");
        s
    };
    vec![
        // ---- Content-Length and Transfer-Encoding ----------------------------------------
        row(
            "cl_and_te",
            post(&format!("Content-Length: 5\r\n{CHUNKED}"), HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_and_cl",
            post(&format!("{CHUNKED}Content-Length: 5\r\n"), HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_and_cl_zero",
            post(&format!("{CHUNKED}Content-Length: 0\r\n"), HELLO_CHUNKED),
            r400,
        ),
        row(
            "cl_duplicates_differ",
            post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
            r400,
        ),
        row("cl_list_differs", post("Content-Length: 5, 6\r\n", "hello!"), r400),
        row(
            "cl_duplicates_identical",
            post(
                "Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n",
                "hello",
            ),
            Served(200, Some("hello")),
        ),
        row("cl_plus_sign", post("Content-Length: +5\r\n", "hello"), r400),
        row("cl_negative", post("Content-Length: -1\r\n", ""), r400),
        row("cl_inner_space", post("Content-Length: 5 5\r\n", "hello"), r400),
        row("cl_hex", post("Content-Length: 0x10\r\n", "hello"), r400),
        row("cl_empty", post("Content-Length: \r\n", "hello"), r400),
        row(
            "cl_overflows_u64",
            post("Content-Length: 18446744073709551616\r\n", "hello"),
            r400,
        ),
        row(
            "cl_u64_max_over_stream_limit",
            post("Content-Length: 18446744073709551615\r\n", "hello"),
            Reject(&[413]),
        ),
        row(
            "cl_over_stream_limit",
            post(
                &format!("Content-Length: {}\r\n", STREAM_LIMIT + 1),
                &"a".repeat(STREAM_LIMIT as usize + 1),
            ),
            Reject(&[413]),
        ),
        row("te_gzip", post("Transfer-Encoding: gzip\r\n", "hello"), r400),
        row(
            "te_chunked_then_gzip",
            post("Transfer-Encoding: chunked, gzip\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_gzip_then_chunked",
            post("Transfer-Encoding: gzip, chunked\r\n", HELLO_CHUNKED),
            Reject(&[501]),
        ),
        row(
            "te_chunked_twice",
            post("Transfer-Encoding: chunked, chunked\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_chunked_in_two_fields",
            post(&format!("{CHUNKED}{CHUNKED}"), HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_identity",
            post("Transfer-Encoding: identity\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_xchunked",
            post("Transfer-Encoding: xchunked\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_tab_before_value_is_trimmed",
            post(
                "Transfer-Encoding:\tchunked\r\nConnection: close\r\n",
                HELLO_CHUNKED,
            ),
            Served(200, Some("hello")),
        ),
        row(
            "te_spaces_around_value_are_trimmed",
            post(
                "Transfer-Encoding:   chunked  \r\nConnection: close\r\n",
                HELLO_CHUNKED,
            ),
            Served(200, Some("hello")),
        ),
        row(
            "te_is_case_insensitive",
            post(
                "Transfer-Encoding: CHUNKED\r\nConnection: close\r\n",
                HELLO_CHUNKED,
            ),
            Served(200, Some("hello")),
        ),
        row(
            "te_space_before_colon",
            post("Transfer-Encoding : chunked\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_tab_before_colon",
            post("Transfer-Encoding\t: chunked\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_chunked_then_identity_field",
            post(
                "Transfer-encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                HELLO_CHUNKED,
            ),
            r400,
        ),
        row(
            "te_identity_then_chunked_field",
            post(
                "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
                HELLO_CHUNKED,
            ),
            Reject(&[501]),
        ),
        row("te_empty", post("Transfer-Encoding: \r\n", HELLO_CHUNKED), r400),
        row(
            "te_only_commas",
            post("Transfer-Encoding: , ,\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_obs_folded",
            post("Transfer-Encoding:\r\n chunked\r\n", HELLO_CHUNKED),
            r400,
        ),
        row(
            "te_behind_bare_lf_with_cl",
            post(
                "X-A: a\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                HELLO_CHUNKED,
            ),
            r400,
        ),
        row(
            "portswigger_cl_te",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
            r400,
        ),
        row(
            "portswigger_te_cl",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
            r400,
        ),
        row(
            "portswigger_te_te_obfuscated",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n",
            r400,
        ),
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as if its
        // framing were faulty, and the connection closed after processing it.
        row(
            "http10_transfer_encoding_closes",
            b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Reject(&[200, 400]),
        ),
        // ---- Chunked bodies, read by the handler -------------------------------------------
        row("chunk_size_not_hex", post(CHUNKED, "zz\r\nhello\r\n0\r\n\r\n"), r400),
        row("chunk_size_negative", post(CHUNKED, "-1\r\nhello\r\n0\r\n\r\n"), r400),
        row(
            "chunk_size_17_hex_digits",
            post(CHUNKED, "10000000000000000\r\nhello\r\n0\r\n\r\n"),
            r400,
        ),
        row(
            "chunk_size_then_space",
            post(CHUNKED, "5 \r\nhello\r\n0\r\n\r\n"),
            r400,
        ),
        row("chunk_size_bare_lf", post(CHUNKED, "5\nhello\r\n0\r\n\r\n"), r400),
        row(
            "chunk_ext_control_char",
            post(CHUNKED, "5;a\x01b\r\nhello\r\n0\r\n\r\n"),
            r400,
        ),
        row(
            "chunk_ext_bare_lf",
            post(CHUNKED, "5;ab\nhello\r\n0\r\n\r\n"),
            r400,
        ),
        row(
            "chunk_data_longer_than_size",
            post(CHUNKED, "5\r\nhello!\r\n0\r\n\r\n"),
            r400,
        ),
        row(
            "trailer_without_colon",
            post(CHUNKED, "5\r\nhello\r\n0\r\nnocolon\r\n\r\n"),
            r400,
        ),
        row(
            "trailer_obs_fold",
            post(CHUNKED, "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"),
            r400,
        ),
        row(
            "trailer_bare_cr",
            post(CHUNKED, "5\r\nhello\r\n0\r\nX-T: a\rb\r\n\r\n"),
            r400,
        ),
        row_then(
            "chunked_body_cut_short",
            post(CHUNKED, "5\r\nhel"),
            r400,
            Then::HalfClose,
        ),
        row("chunked_over_stream_limit", big_chunked, Reject(&[413])),
        // ---- Header fields -----------------------------------------------------------------
        row(
            "obs_fold",
            get("/", "Host: x\r\nX-A: a\r\n b\r\n"),
            r400,
        ),
        row("header_without_colon", get("/", "Host: x\r\nX-A\r\n"), r400),
        row("space_before_colon", get("/", "Host : x\r\n"), r400),
        row("tab_before_colon", get("/", "Host: x\r\nX-A\t: b\r\n"), r400),
        row("invalid_name_char", get("/", "Host: x\r\nX(A): b\r\n"), r400),
        row("name_with_slash", get("/", "Host: x\r\nX/A: b\r\n"), r400),
        row("empty_name", get("/", "Host: x\r\n: b\r\n"), r400),
        row("nul_in_value", get("/", "Host: x\r\nX-A: a\0b\r\n"), r400),
        row("bare_cr_in_value", get("/", "Host: x\r\nX-A: a\rb\r\n"), r400),
        row("del_in_value", get("/", "Host: x\r\nX-A: a\x7fb\r\n"), r400),
        // A bare LF ends the line (RFC 9112 §2.2 lets a recipient accept it as a line
        // terminator), so what follows must itself be a valid field line.
        row("bare_lf_then_no_colon", get("/", "Host: x\r\nX-A: a\nb\r\n"), r400),
        row(
            "bare_lf_line_endings_accepted",
            b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n",
            Served(200, Some("ok")),
        ),
        row(
            "space_before_first_field",
            b"GET / HTTP/1.1\r\n Host: x\r\nConnection: close\r\n\r\n",
            r400,
        ),
        // obs-text is legal in a field value (RFC 9110 §5.5) and browsers send it: served
        // (nginx serves it too).
        row("obs_text_in_value", get("/", "Host: x\r\nX-A: café\r\n"), Served(200, Some("ok"))),
        row("latin1_in_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xe9\r\nConnection: close\r\n\r\n", Served(200, Some("ok"))),
        // ---- Request line ------------------------------------------------------------------
        row("method_with_at", b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("method_lowercase", b"get / HTTP/1.1\r\nHost: x\r\n\r\n", Reject(&[501])),
        row("method_unknown", b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n", Reject(&[501])),
        row(
            "http2_preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            Reject(&[505]),
        ),
        // RFC 9112 §2.3: a later minor version is answered as HTTP/1.1 (as nginx does); a
        // well-formed version with another major is 505; a malformed one is not a version
        // at all, so the request line is malformed: 400 (RFC 9112 §3; nginx: 400).
        row("http_1_2", b"GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n", Served(200, Some("ok"))),
        row("http_2_0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", Reject(&[505])),
        row("http_lowercase", b"GET / http/1.1\r\nHost: x\r\n\r\n", r400),
        row("http_0_9_with_blank_line", b"GET /\r\n\r\n", r400),
        // An HTTP/0.9 line is refused as soon as it arrives, not at the header timeout.
        row_then("http_0_9_then_eof", b"GET /\r\n", r400, Then::HalfClose),
        row("double_space", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("tab_separator", b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("space_after_version", b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", r400),
        row("nul_in_target", b"GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("del_in_target", b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("asterisk_target_on_get", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        row("relative_target", b"GET x HTTP/1.1\r\nHost: x\r\n\r\n", r400),
        // Authority form is for CONNECT to a proxy, which this server is not.
        row(
            "connect_authority_form",
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            r400,
        ),
        row("backslash_in_target", get("/x\\..\\admin", "Host: x\r\n"), r400),
        row("fragment_in_target", get("/a#frag", "Host: x\r\n"), r400),
        // RFC 9112 §3.2 / RFC 3986 §2: only URI characters, `%` before two hex digits. The
        // URL parser would encode or keep these and route them; nginx answers 400.
        row("percent_at_end", get("/foo%", "Host: x\r\n"), r400),
        row("percent_not_hex", get("/foo%2zbar", "Host: x\r\n"), r400),
        row("percent_gh", get("/%GH", "Host: x\r\n"), r400),
        row("encoded_nul_in_path", get("/a%00b", "Host: x\r\n"), r400),
        row("raw_brackets_in_path", get("/a[0]", "Host: x\r\n"), r400),
        row("raw_pipe_in_path", get("/a|b", "Host: x\r\n"), r400),
        row("raw_braces_in_query", get("/a?b={}", "Host: x\r\n"), r400),
        row("raw_backtick_in_path", get("/a`b", "Host: x\r\n"), r400),
        row("raw_utf8_in_target", get("/café", "Host: x\r\n"), r400),
        row(
            "encoded_nul_in_query_is_data",
            get("/q?a=%00", "Host: x\r\n"),
            Served(200, Some("host=x path=/q")),
        ),
        row(
            "double_slash_target_stays_a_path",
            get("//evil.example/y", "Host: x\r\n"),
            Served(200, Some("host=x path=//evil.example/y")),
        ),
        row(
            "dot_segments_stay_under_the_host",
            get("/../../y", "Host: x\r\n"),
            Served(200, Some("host=x path=/y")),
        ),
        row(
            "target_over_8k",
            get(&format!("/{}", "a".repeat(8 * 1024)), "Host: x\r\n"),
            Reject(&[414]),
        ),
        row(
            "target_over_head_limit",
            get(&format!("/{}", "a".repeat(40 * 1024)), "Host: x\r\n"),
            Reject(&[414]),
        ),
        row(
            "header_section_over_32k",
            get("/", &format!("Host: x\r\nX-Big: {}\r\n", "b".repeat(40 * 1024))),
            Reject(&[431]),
        ),
        row("headers_101", many_headers(101), Reject(&[431])),
        row("headers_100", many_headers(100), Served(200, Some("ok"))),
        // ---- Host --------------------------------------------------------------------------
        row("http11_without_host", get("/", ""), r400),
        row("two_hosts", get("/", "Host: x\r\nHost: x\r\n"), r400),
        row("host_with_slash", get("/", "Host: a/b\r\n"), r400),
        row("host_with_at", get("/", "Host: a@b\r\n"), r400),
        row("host_with_space", get("/", "Host: a b\r\n"), r400),
        row(
            "absolute_form_with_host",
            get("http://example.com/x", "Host: other.example\r\n"),
            Served(200, Some("x from example.com")),
        ),
        row("absolute_form_without_host", get("http://example.com/x", ""), r400),
        row("absolute_form_empty_authority", get("http:///x", "Host: x\r\n"), r400),
        row("absolute_form_other_scheme", get("ftp://example.com/x", "Host: x\r\n"), r400),
        row(
            "http10_without_host",
            b"GET / HTTP/1.0\r\n\r\n",
            Served(200, Some("ok")),
        ),
        // ---- Expect ------------------------------------------------------------------------
        row(
            "expect_unknown",
            post("Content-Length: 5\r\nExpect: something-else\r\n", "hello"),
            Reject(&[417]),
        ),
        row(
            "expect_twice",
            post(
                "Content-Length: 5\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n",
                "hello",
            ),
            r400,
        ),
    ]
}

fn app(hits: Arc<AtomicUsize>) -> Router {
    Router::new()
        .get("/", |_| async { "ok" })
        .get("/admin", |_| async { "admin" })
        .get("/*rest", |req: Request| async move {
            let host = req.url().host_str().unwrap_or("?").to_string();
            format!("host={host} path={}", req.path())
        })
        .get("/x", |req: Request| async move {
            format!("x from {}", req.url().host_str().unwrap_or("?"))
        })
        .post("/echo", |mut req: Request| async move {
            req.body_string().await
        })
        .post("/fixed", |_| async { "fixed" })
        .get("/smuggled", {
            let hits = hits.clone();
            move |_| {
                hits.fetch_add(1, Ordering::SeqCst);
                async { "smuggled" }
            }
        })
        .post("/smuggled", move |_| {
            hits.fetch_add(1, Ordering::SeqCst);
            async { "smuggled" }
        })
}

fn config() -> Config {
    Config {
        max_streamed_body_bytes: Some(STREAM_LIMIT),
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(2),
        keep_alive_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// Runs one row on a fresh connection; `Err` describes how the server got it wrong.
fn run_row(addr: SocketAddr, row: &Row) -> Result<(), String> {
    let mut conn = Conn::connect(addr);
    conn.write_tolerant(&row.bytes);
    if row.then == Then::HalfClose {
        let _ = conn.stream.shutdown(Shutdown::Write);
    }
    match row.expect {
        Reject(codes) => {
            let res = conn
                .try_read_response(false)
                .map_err(|e| format!("expected {codes:?}, got no response: {e}"))?;
            if !codes.contains(&res.status) {
                return Err(format!(
                    "expected {codes:?}, got {} {:?}",
                    res.status,
                    String::from_utf8_lossy(&res.body)
                ));
            }
            if !res.connection_has("close") {
                return Err(format!(
                    "{} without `connection: close`: {:?}",
                    res.status,
                    String::from_utf8_lossy(&res.head)
                ));
            }
            if !is_closed(&mut conn) {
                return Err(format!(
                    "{} but the connection stayed open (or more bytes came: {:?})",
                    res.status,
                    String::from_utf8_lossy(conn.buffered())
                ));
            }
        }
        Served(status, body) => {
            let res = conn
                .try_read_response(false)
                .map_err(|e| format!("expected {status}, got no response: {e}"))?;
            if res.status != status {
                return Err(format!(
                    "expected {status}, got {} {:?}",
                    res.status,
                    String::from_utf8_lossy(&res.body)
                ));
            }
            if let Some(body) = body {
                if res.body != body.as_bytes() {
                    return Err(format!(
                        "expected body {body:?}, got {:?}",
                        String::from_utf8_lossy(&res.body)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Runs `rows` on `workers` threads; after each row a valid request on a fresh connection
/// must still get `200`. Returns the failures.
fn run_rows(addr: SocketAddr, rows: Vec<Row>, workers: usize) -> Vec<String> {
    let rows = Arc::new(rows);
    let next = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (rows, next) = (rows.clone(), next.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                // Each worker takes rows until none are left: at most rows.len() rounds.
                for _ in 0..rows.len() {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(row) = rows.get(i) else { break };
                    if let Err(e) = run_row(addr, row) {
                        failures.push(format!("{}: {e}", row.name));
                    }
                    let ok = support::get(addr, "/");
                    if ok.status != 200 || ok.body != b"ok" {
                        failures.push(format!(
                            "{}: afterwards a valid request got {} {:?}",
                            row.name,
                            ok.status,
                            String::from_utf8_lossy(&ok.body)
                        ));
                    }
                }
                failures
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("row worker panicked"))
        .collect()
}

#[test]
fn table_has_enough_rows_with_unique_names() {
    support::require_default_sigpipe();
    let rows = rows();
    assert!(rows.len() >= 40, "only {} rows", rows.len());
    let mut names: Vec<_> = rows.iter().map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rows.len(), "duplicate row names");
}

#[test]
fn hostile_requests_are_refused_and_the_server_survives() {
    support::require_default_sigpipe();
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = support::serve(app(hits.clone()), config(), 2);
    let rows = rows();
    let count = rows.len();
    let failures = run_rows(addr, rows, 6);
    eprintln!("{count} rows run, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a smuggled request was served"
    );
}

// ---------------------------------------------------------------------------------------
// Smuggling: a request hidden where a mis-framing server would find it
// ---------------------------------------------------------------------------------------

/// A request to the counting route.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
/// A last, legitimate request that closes the connection, so reading to EOF ends.
const FINAL: &str = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// A probe: its name, its bytes, and the (status, body) of every response the server may
/// send (bodies of refusals left empty).
type Probe = (&'static str, String, Vec<(u16, String)>);

fn smuggling_probes() -> Vec<Probe> {
    let s = SMUGGLED;
    let n = s.len();
    let ok = || (200, "ok".to_string());
    vec![
        (
            "cl_te",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{CHUNKED}\r\n0\r\n\r\n{s}",
                n + 5
            ),
            vec![(400, String::new())],
        ),
        (
            "te_cl",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n{CHUNKED}\r\n{n:x}\r\n{s}\r\n0\r\n\r\n"
            ),
            vec![(400, String::new())],
        ),
        (
            "te_obfuscated_with_cl",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            vec![(400, String::new())],
        ),
        (
            "te_behind_bare_cr",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nX-A: a\rTransfer-Encoding: chunked\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            vec![(400, String::new())],
        ),
        (
            "cl_plus_sign",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +{n}\r\n\r\n{s}"),
            vec![(400, String::new())],
        ),
        (
            "cl_body_read_by_handler",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}{FINAL}"),
            vec![(200, s.to_string()), ok()],
        ),
        (
            "cl_body_left_unread_is_drained",
            format!("POST /fixed HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}{FINAL}"),
            vec![(200, "fixed".into()), ok()],
        ),
        (
            "cl_on_get_is_honoured",
            format!("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}{FINAL}"),
            vec![ok(), ok()],
        ),
        (
            "http10_keep_alive_body_drained",
            format!(
                "POST /fixed HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: {n}\r\n\r\n{s}{FINAL}"
            ),
            vec![(200, "fixed".into()), ok()],
        ),
        (
            "chunked_body_left_unread_is_drained",
            format!(
                "POST /fixed HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n{n:x};ext=\"{s:?}\"\r\n{s}\r\n0\r\nX-T: {n}\r\n\r\n{FINAL}"
            ),
            vec![(200, "fixed".into()), ok()],
        ),
        (
            "bad_chunk_after_valid_one_unread",
            format!("POST /fixed HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n5\r\nhello\r\nzz\r\n{s}"),
            vec![(200, "fixed".into())],
        ),
        (
            "bad_chunk_after_valid_one_read",
            format!("POST /echo HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n5\r\nhello\r\nzz\r\n{s}"),
            vec![(400, String::new())],
        ),
        (
            "chunk_size_that_wraps_u64",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n1{:016x}\r\n{s}\r\n0\r\n\r\n",
                n
            ),
            vec![(400, String::new())],
        ),
    ]
}

#[test]
fn no_request_is_ever_smuggled() {
    support::require_default_sigpipe();
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = support::serve(app(hits.clone()), config(), 2);
    let probes = smuggling_probes();
    let threads: Vec<_> = probes
        .into_iter()
        .map(|(name, bytes, want)| {
            std::thread::spawn(move || {
                let got: Vec<(u16, String)> =
                    support::parse_all(&support::send_raw(addr, bytes.as_bytes()))
                        .into_iter()
                        .map(|r| {
                            // Refusals' bodies are reasons, not worth pinning down.
                            let body = if r.status >= 400 {
                                String::new()
                            } else {
                                String::from_utf8_lossy(&r.body).into_owned()
                            };
                            (r.status, body)
                        })
                        .collect();
                (got == want)
                    .then_some(())
                    .ok_or_else(|| format!("{name}: expected {want:?}, got {got:?}"))
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().expect("probe panicked").err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a smuggled request was served"
    );

    // The counter does count: a legitimate request to the route is seen.
    let res = support::get(addr, "/smuggled");
    assert_eq!((res.status, res.text()), (200, "smuggled"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A client that sent `Expect: 100-continue` and was answered without `100 Continue` may
/// still send its body (RFC 9110 §10.1.1): that body must never be parsed as a request.
#[test]
fn body_sent_after_a_refused_expectation_is_not_a_request() {
    support::require_default_sigpipe();
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = support::serve(app(hits.clone()), config(), 1);
    let mut conn = Conn::connect(addr);
    conn.write(
        format!(
            "POST /fixed HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            SMUGGLED.len()
        )
        .as_bytes(),
    );
    let res = conn.read_response();
    assert_eq!((res.status, res.text()), (200, "fixed"));
    assert!(res.connection_has("close"), "{res:?}");
    conn.write_tolerant(SMUGGLED.as_bytes());
    let rest = conn.read_to_close();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a smuggled request was served"
    );
}

/// The URL of each request on a keep-alive connection comes from that request's own `Host`.
#[test]
fn host_may_change_between_requests_on_one_connection() {
    support::require_default_sigpipe();
    let addr = support::serve(app(Arc::default()), config(), 1);
    let mut conn = Conn::connect(addr);
    for host in ["a.example", "b.example", "a.example", "localhost:8080"] {
        conn.write(format!("GET /y HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
        let res = conn.read_response();
        let bare = host.split(':').next().unwrap_or(host);
        assert_eq!(
            (res.status, res.text()),
            (200, &*format!("host={bare} path=/y"))
        );
    }
}

/// `max_drain_bytes` bounds how much of an unread body is read to keep the connection, but
/// only decoded body bytes count: chunk framing (here 1-byte chunks with 4 KiB extensions)
/// is read without limit. 1 MiB of framing carrying 256 body bytes, with the limit at
/// 64 KiB, must not leave the connection open for another request. (The same class as Go's
/// CVE-2023-39326.)
#[test]
fn draining_counts_chunk_framing_too() {
    support::require_default_sigpipe();
    let config = Config {
        max_drain_bytes: 64 * 1024,
        ..config()
    };
    let addr = support::serve(app(Arc::default()), config, 1);
    let mut conn = Conn::connect(addr);
    let mut piece = b"1;".to_vec();
    piece.extend(std::iter::repeat_n(b'e', 4000));
    piece.extend_from_slice(b"\r\nx\r\n");
    let mut bytes = format!("POST /fixed HTTP/1.1\r\nHost: x\r\n{CHUNKED}\r\n").into_bytes();
    for _ in 0..256 {
        bytes.extend_from_slice(&piece);
    }
    bytes.extend_from_slice(format!("0\r\n\r\n{FINAL}").as_bytes());
    conn.write_tolerant(&bytes);
    let res = conn.read_response();
    assert_eq!((res.status, res.text()), (200, "fixed"));
    let next = conn.try_read_response(false);
    assert!(
        next.is_err(),
        "after 1 MiB of framing the connection still served {:?}",
        next.map(|r| r.status)
    );
}
