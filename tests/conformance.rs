//! An HTTP/1.1 conformance table, written from the RFCs: RFC 9112 (message syntax §2–§8,
//! persistence §9, request smuggling §11.2), RFC 9110 where methods and fields are concerned,
//! and RFC 3986 for request targets. It is in the spirit of trillium's `http/tests/corpus`, as
//! a Rust table: every case is a name, the section it checks, the raw bytes of a request and
//! the expected outcome ([`Expect`]).
//!
//! How the expectations were chosen: where a section says MUST, the row expects that. Where
//! the RFC leaves a choice (reject or repair obs-fold, accept or refuse a repeated identical
//! `Content-Length`, answer an incomplete message or just close, ...), the row follows what
//! `tests/hostile.rs` shows this server doing, or else the stricter, safe choice; a comment on
//! the row says so. Request smuggling rows (RFC 9112 §11.2) hide `GET /smuggled` where a
//! server with a framing bug would find a second request: the route counts its hits, and the
//! count must stay at zero.
//!
//! Every case runs twice, on a fresh connection each time: in memory (a
//! [`smolweb::memory::pair`] served by [`Service::serve_connection`]) and over a real socket
//! on 127.0.0.1 (`support::serve`). Each request either asks `Connection: close` or is
//! refused, so the server ends every connection by itself: the client writes the bytes, reads
//! until end of stream (within a bounded time), parses the first response with the one parser
//! below, and checks that nothing followed it and that the close came promptly.

mod support;

use std::collections::HashSet;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smolweb::{Config, Request, Router, Service, memory};
use support::{Conn, ReadEnd, find, preview, read_until_end};

/// `Config::header_timeout` of the table's server.
const HEADER_TIMEOUT: Duration = Duration::from_secs(8);
/// `Config::body_timeout` of the table's server.
const BODY_TIMEOUT: Duration = Duration::from_secs(8);
/// `Config::keep_alive_timeout` of the table's server.
const KEEP_ALIVE: Duration = Duration::from_secs(8);
/// Longest one exchange may take, from the request written to the end of the stream.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(12);
/// A close later than this after the request was written came from a timeout (the keep-alive
/// or header timeout, both 8 s), not from the server ending the connection after its answer.
const PROMPT_CLOSE: Duration = Duration::from_secs(4);
/// Most bytes read from one connection.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Most reads on one in-memory connection (each returns at least one byte or ends the loop).
const MAX_READS: usize = 100_000;
/// Threads running cases, for each runner.
const WORKERS: usize = 4;
/// The request hidden by the smuggling rows; its route counts hits.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// What the server must do with a case's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Answer normally with this status (the request asks `Connection: close`, so the server
    /// then closes), with the case's body if it names one, and nothing after it.
    Status(u16),
    /// Refuse: this status with `connection: close`, then close; nothing after it, so no
    /// request bytes that followed are answered.
    Refuse(u16),
    /// Close without answering at all.
    Close,
}

#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    /// Where the expectation comes from, e.g. `"RFC 9112 §5.1"`.
    section: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
    /// The body a `Status` response must have, if it matters.
    body: Option<&'static str>,
    /// Half-close the sending side after the bytes (a client that is done sending).
    half_close: bool,
}

fn case(
    name: &'static str,
    section: &'static str,
    bytes: impl AsRef<[u8]>,
    expect: Expect,
) -> Case {
    Case {
        name,
        section,
        bytes: bytes.as_ref().to_vec(),
        expect,
        body: None,
        half_close: false,
    }
}

impl Case {
    fn with_body(self, body: &'static str) -> Case {
        Case {
            body: Some(body),
            ..self
        }
    }

    fn then_half_close(self) -> Case {
        Case {
            half_close: true,
            ..self
        }
    }

    /// A response to `HEAD` has no body whatever its framing says.
    fn is_head(&self) -> bool {
        self.bytes.starts_with(b"HEAD ")
    }
}

/// `GET {target}` over HTTP/1.1 with `Host: x`, the field lines `extra` (each ending in CRLF),
/// asking to close.
fn get(target: &str, extra: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n")
}

/// `GET /h` (which answers the value of `x-a`) with the field lines `extra`.
fn h(extra: &str) -> String {
    get("/h", extra)
}

/// `GET {target}` with `host` as the value of its one `Host` field, asking to close.
fn with_host(target: &str, host: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// `request_line`, `Host: x` and the blank line: for requests that must be refused.
fn line(request_line: &str) -> String {
    format!("{request_line}\r\nHost: x\r\n\r\n")
}

/// `request_line`, `Host: x`, `Connection: close` and the blank line.
fn line_close(request_line: &str) -> String {
    format!("{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n")
}

/// `POST /echo` (which answers its body) with the field lines `fields`, then `body`.
fn post(fields: &str, body: &str) -> String {
    format!("POST /echo HTTP/1.1\r\nHost: x\r\n{fields}\r\n{body}")
}

/// A chunked `POST /echo` asking to close, whose body (framing included) is `body`.
fn chunked(body: &str) -> String {
    post("Transfer-Encoding: chunked\r\nConnection: close\r\n", body)
}

/// A chunked `POST /echo` that does not ask to close: a bad body must close it anyway.
fn bad_chunked(body: &str) -> String {
    post("Transfer-Encoding: chunked\r\n", body)
}

fn cases() -> Vec<Case> {
    use Expect::{Close, Refuse, Status};
    let s = SMUGGLED;
    let n = SMUGGLED.len();
    let hello = "5\r\nhello\r\n0\r\n\r\n";
    vec![
        // ---- Request line (RFC 9112 §2–§3; methods RFC 9110 §9) ---------------------------
        case("origin_form_root", "RFC 9112 §3", get("/", ""), Status(200)).with_body("ok"),
        case(
            "leading_crlf_is_ignored",
            "RFC 9112 §2.2",
            format!("\r\n{}", get("/", "")),
            Status(200),
        )
        .with_body("ok"),
        // Methods are case-sensitive: `get` is an unknown method, not GET.
        case(
            "method_lowercase_is_another_method",
            "RFC 9110 §9.1",
            line("get / HTTP/1.1"),
            Refuse(501),
        ),
        case("method_unknown", "RFC 9110 §9.1", line("FROB / HTTP/1.1"), Refuse(501)),
        case("method_not_a_token", "RFC 9112 §3.1", line("G@T / HTTP/1.1"), Refuse(400)),
        case(
            "head_response_has_no_body",
            "RFC 9110 §9.3.2",
            line_close("HEAD / HTTP/1.1"),
            Status(200),
        )
        .with_body(""),
        // §3 lets a recipient parse on whitespace boundaries; this server does not (hostile.rs).
        case("two_spaces_after_method", "RFC 9112 §3", line("GET  / HTTP/1.1"), Refuse(400)),
        case(
            "tab_between_method_and_target",
            "RFC 9112 §3",
            line("GET\t/ HTTP/1.1"),
            Refuse(400),
        ),
        case("space_after_version", "RFC 9112 §3", line("GET / HTTP/1.1 "), Refuse(400)),
        // An HTTP/1.0 request without `keep-alive` is not persistent.
        case(
            "http_1_0_closes_by_default",
            "RFC 9112 §9.3",
            "GET / HTTP/1.0\r\nHost: x\r\n\r\n",
            Status(200),
        )
        .with_body("ok"),
        // A later 1.x minor version is answered as the highest this server speaks, 1.1.
        case(
            "http_1_2_is_answered_as_1_1",
            "RFC 9112 §2.3",
            line_close("GET / HTTP/1.2"),
            Status(200),
        )
        .with_body("ok"),
        case(
            "http_1_9_is_answered_as_1_1",
            "RFC 9112 §2.3",
            line_close("GET / HTTP/1.9"),
            Status(200),
        )
        .with_body("ok"),
        case("http_2_0_is_505", "RFC 9110 §15.6.6", line("GET / HTTP/2.0"), Refuse(505)),
        case("http_3_0_is_505", "RFC 9110 §15.6.6", line("GET / HTTP/3.0"), Refuse(505)),
        // A well-formed version whose major is 0: 505 (unlike the simple request below).
        case(
            "http_0_9_version_is_505",
            "RFC 9110 §15.6.6",
            "GET / HTTP/0.9\r\n\r\n",
            Refuse(505),
        ),
        // A malformed version is no version: the request line is invalid, 400.
        case("version_lowercase", "RFC 9112 §2.3", line("GET / http/1.1"), Refuse(400)),
        case("version_without_minor", "RFC 9112 §2.3", line("GET / HTTP/1"), Refuse(400)),
        case(
            "version_with_leading_zeros",
            "RFC 9112 §2.3",
            line("GET / HTTP/01.01"),
            Refuse(400),
        ),
        case("version_with_space", "RFC 9112 §2.3", line("GET / HTTP/ 1.1"), Refuse(400)),
        case("version_with_suffix", "RFC 9112 §2.3", line("GET / HTTP/1.1x"), Refuse(400)),
        // HTTP/0.9's `GET /` has no version at all: not a request-line.
        case("http_0_9_simple_request", "RFC 9112 §3", "GET /\r\n\r\n", Refuse(400)),
        case(
            "tls_handshake_on_plain_http",
            "RFC 9112 §3",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
            Refuse(400),
        ),
        // §8: an incomplete request MAY get an error response; this server just closes.
        case(
            "head_cut_short_then_eof",
            "RFC 9112 §8",
            "GET / HTTP/1.1\r\nHost: x\r\n",
            Close,
        )
        .then_half_close(),
        // ---- Request target forms (RFC 9112 §3.2) -------------------------------------------
        case("origin_form_path", "RFC 9112 §3.2.1", get("/a/b", ""), Status(200))
            .with_body("path=/a/b"),
        case("origin_form_query", "RFC 9112 §3.2.1", get("/q?a=1&b=2", ""), Status(200))
            .with_body("query=a=1&b=2"),
        // The origin server MUST ignore Host and use the target's authority.
        case(
            "absolute_form_host_wins_over_host_field",
            "RFC 9112 §3.2.2",
            get("http://example.com/x", ""),
            Status(200),
        )
        .with_body("example.com"),
        case(
            "absolute_form_with_port",
            "RFC 9112 §3.2.2",
            get("http://example.com:8080/x", ""),
            Status(200),
        )
        .with_body("example.com"),
        // An empty path is equivalent to `/`.
        case(
            "absolute_form_empty_path_is_root",
            "RFC 9110 §4.2.3",
            get("http://example.com", ""),
            Status(200),
        )
        .with_body("ok"),
        // HTTP/1.1 needs Host even when the target is absolute.
        case(
            "absolute_form_without_host_field",
            "RFC 9112 §3.2",
            "GET http://example.com/x HTTP/1.1\r\nConnection: close\r\n\r\n",
            Refuse(400),
        ),
        case(
            "absolute_form_empty_host",
            "RFC 9110 §4.2.1",
            get("http:///x", ""),
            Refuse(400),
        ),
        // Answered by the server itself (no route): a plain success.
        case(
            "asterisk_form_with_options",
            "RFC 9112 §3.2.4",
            line_close("OPTIONS * HTTP/1.1"),
            Status(200),
        ),
        case("asterisk_form_with_get", "RFC 9112 §3.2.4", line("GET * HTTP/1.1"), Refuse(400)),
        // Authority form is for CONNECT to a proxy, which this server is not: 400 (hostile.rs).
        case(
            "authority_form_connect",
            "RFC 9112 §3.2.3",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            Refuse(400),
        ),
        // `//a` is a path here (origin-form is an absolute-path), never an authority.
        case("double_slash_stays_a_path", "RFC 3986 §3.3", get("//a/b", ""), Status(200))
            .with_body("path=//a/b"),
        case(
            "dot_segments_are_removed",
            "RFC 3986 §5.2.4",
            get("/a/../b/./c", ""),
            Status(200),
        )
        .with_body("path=/b/c"),
        case(
            "target_too_long_is_414",
            "RFC 9112 §3",
            get(&format!("/{}", "a".repeat(8 * 1024)), ""),
            Refuse(414),
        ),
        // A fragment is never sent in a request target.
        case("fragment_in_target", "RFC 9112 §3.2.1", get("/a#f", ""), Refuse(400)),
        // ---- Target characters (RFC 3986 §2, §3.3, §3.4) ---------------------------------
        // No whitespace is allowed in the request-target.
        case("raw_space_in_target", "RFC 9112 §3.2", get("/a b", ""), Refuse(400)),
        // Not pchar: refused rather than silently percent-encoded (400 is §3's answer to an
        // invalid request-line; a redirect is the other choice).
        case("dquote_in_path", "RFC 3986 §3.3", get("/a\"b", ""), Refuse(400)),
        case("less_than_in_path", "RFC 3986 §3.3", get("/a<b", ""), Refuse(400)),
        case("greater_than_in_path", "RFC 3986 §3.3", get("/a>b", ""), Refuse(400)),
        case("backslash_in_path", "RFC 3986 §3.3", get("/a\\b", ""), Refuse(400)),
        case("caret_in_path", "RFC 3986 §3.3", get("/a^b", ""), Refuse(400)),
        case("backtick_in_path", "RFC 3986 §3.3", get("/a`b", ""), Refuse(400)),
        case("open_brace_in_path", "RFC 3986 §3.3", get("/a{b", ""), Refuse(400)),
        case("pipe_in_path", "RFC 3986 §3.3", get("/a|b", ""), Refuse(400)),
        case("close_brace_in_path", "RFC 3986 §3.3", get("/a}b", ""), Refuse(400)),
        case("open_bracket_in_path", "RFC 3986 §3.3", get("/a[b", ""), Refuse(400)),
        case("close_bracket_in_path", "RFC 3986 §3.3", get("/a]b", ""), Refuse(400)),
        case("pipe_in_query", "RFC 3986 §3.4", get("/q?a|b", ""), Refuse(400)),
        case("brackets_in_query", "RFC 3986 §3.4", get("/q?a[]=1", ""), Refuse(400)),
        // Bytes outside ASCII must be percent-encoded in a URI.
        case(
            "utf8_bytes_in_path",
            "RFC 3986 §2",
            b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
            Refuse(400),
        ),
        case(
            "latin1_byte_in_path",
            "RFC 3986 §2",
            b"GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n",
            Refuse(400),
        ),
        case(
            "utf8_bytes_in_query",
            "RFC 3986 §2",
            b"GET /q?n=caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
            Refuse(400),
        ),
        // pct-encoded = "%" HEXDIG HEXDIG.
        case("percent_at_end_of_path", "RFC 3986 §2.1", get("/foo%", ""), Refuse(400)),
        case(
            "percent_with_one_hex_digit",
            "RFC 3986 §2.1",
            get("/foo%2zbar", ""),
            Refuse(400),
        ),
        case("percent_without_hex_digits", "RFC 3986 §2.1", get("/%GH", ""), Refuse(400)),
        // %00 is syntactically a pct-encoded octet, but a NUL in a path names no route and no
        // file: refused, the stricter, safe choice (in a query it is left to the handler).
        case("percent_00_in_path", "RFC 3986 §2.1", get("/a%00b", ""), Refuse(400)),
        case("semicolon_in_path", "RFC 3986 §3.3", get("/a;b=c", ""), Status(200))
            .with_body("path=/a;b=c"),
        case("tilde_in_path", "RFC 3986 §3.3", get("/~u", ""), Status(200)).with_body("path=/~u"),
        case("colon_and_at_in_path", "RFC 3986 §3.3", get("/a:b@c", ""), Status(200))
            .with_body("path=/a:b@c"),
        case(
            "sub_delims_in_path",
            "RFC 3986 §3.3",
            get("/!$&'()*+,;=", ""),
            Status(200),
        )
        .with_body("path=/!$&'()*+,;="),
        case(
            "slash_and_question_in_query",
            "RFC 3986 §3.4",
            get("/q?a=/b?c", ""),
            Status(200),
        )
        .with_body("query=a=/b?c"),
        case("percent_encoded_octet", "RFC 3986 §2.1", get("/%41", ""), Status(200))
            .with_body("path=/%41"),
        case("percent_00_in_query", "RFC 3986 §3.4", get("/q?a=%00", ""), Status(200))
            .with_body("query=a=%00"),
        // ---- Header fields (RFC 9112 §5, RFC 9110 §5) -------------------------------------
        case("field_value", "RFC 9110 §5.5", h("X-A: v\r\n"), Status(200)).with_body("v"),
        case(
            "field_name_is_case_insensitive",
            "RFC 9110 §5.1",
            h("x-A: v\r\n"),
            Status(200),
        )
        .with_body("v"),
        case(
            "ows_around_value_is_trimmed",
            "RFC 9112 §5.1",
            h("X-A:   v   \r\n"),
            Status(200),
        )
        .with_body("v"),
        case("htab_ows_is_trimmed", "RFC 9112 §5.1", h("X-A:\tv\t\r\n"), Status(200))
            .with_body("v"),
        case(
            "whitespace_inside_value_is_kept",
            "RFC 9110 §5.5",
            h("X-A: a \t b\r\n"),
            Status(200),
        )
        .with_body("a \t b"),
        case("empty_field_value", "RFC 9110 §5.5", h("X-A:\r\n"), Status(200)).with_body(""),
        // obs-text (0x80–0xFF) is allowed in a field value: accepted and served.
        case(
            "obs_text_utf8_value",
            "RFC 9110 §5.5",
            h("X-A: café\r\n"),
            Status(200),
        )
        .with_body("café"),
        case(
            "obs_text_utf8_value_bytes",
            "RFC 9110 §5.5",
            get("/hb", "X-A: café\r\n"),
            Status(200),
        )
        .with_body("636166c3a9"),
        case(
            "obs_text_latin1_value_bytes",
            "RFC 9110 §5.5",
            b"GET /hb HTTP/1.1\r\nHost: x\r\nX-A: \xe9\r\nConnection: close\r\n\r\n",
            Status(200),
        )
        .with_body("e9"),
        // NUL: reject or replace; rejected. Other controls are not field-vchar.
        case("nul_in_value", "RFC 9110 §5.5", h("X-A: a\0b\r\n"), Refuse(400)),
        // A bare CR MUST be treated as invalid (or replaced by SP); treated as invalid.
        case("bare_cr_in_value", "RFC 9112 §2.2", h("X-A: a\rb\r\n"), Refuse(400)),
        case("del_in_value", "RFC 9110 §5.5", h("X-A: a\x7fb\r\n"), Refuse(400)),
        case("space_before_colon", "RFC 9112 §5.1", h("X-A : v\r\n"), Refuse(400)),
        // §5.2 lets a server replace obs-fold with SP; this one rejects it (hostile.rs).
        case("obs_fold_with_space", "RFC 9112 §5.2", h("X-A: a\r\n b\r\n"), Refuse(400)),
        case("obs_fold_with_tab", "RFC 9112 §5.2", h("X-A: a\r\n\tb\r\n"), Refuse(400)),
        // Reject, or ignore each whitespace-preceded line: rejected (hostile.rs).
        case(
            "whitespace_before_first_field",
            "RFC 9112 §2.2",
            "GET /h HTTP/1.1\r\n X-A: v\r\nHost: x\r\nConnection: close\r\n\r\n",
            Refuse(400),
        ),
        case("empty_field_name", "RFC 9110 §5.1", h(": v\r\n"), Refuse(400)),
        case("field_line_without_colon", "RFC 9112 §5", h("X-A\r\n"), Refuse(400)),
        case("separator_in_field_name", "RFC 9110 §5.1", h("X(A): v\r\n"), Refuse(400)),
        case(
            "non_ascii_field_name",
            "RFC 9110 §5.1",
            b"GET /h HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: v\r\nConnection: close\r\n\r\n",
            Refuse(400),
        ),
        // A recipient MAY take a bare LF as the line terminator of the start-line and fields.
        case(
            "bare_lf_line_endings",
            "RFC 9112 §2.2",
            "GET /h HTTP/1.1\nHost: x\nX-A: v\nConnection: close\n\n",
            Status(200),
        )
        .with_body("v"),
        case(
            "mixed_line_endings",
            "RFC 9112 §2.2",
            "GET /h HTTP/1.1\r\nHost: x\nX-A: v\r\nConnection: close\n\r\n",
            Status(200),
        )
        .with_body("v"),
        case(
            "header_section_too_large_is_431",
            "RFC 9110 §5.4",
            get("/", &format!("X-Big: {}\r\n", "b".repeat(40 * 1024))),
            Refuse(431),
        ),
        // ---- Host (RFC 9112 §3.2, RFC 9110 §7.2) ------------------------------------------
        case(
            "host_missing_in_http_1_1",
            "RFC 9112 §3.2",
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            Refuse(400),
        ),
        case(
            "host_twice",
            "RFC 9112 §3.2",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\nConnection: close\r\n\r\n",
            Refuse(400),
        ),
        case("host_with_slash", "RFC 9112 §3.2", with_host("/", "a/b"), Refuse(400)),
        case("host_with_userinfo", "RFC 9110 §7.2", with_host("/", "u@a"), Refuse(400)),
        case(
            "host_with_port",
            "RFC 9110 §7.2",
            with_host("/x", "example.com:8080"),
            Status(200),
        )
        .with_body("example.com"),
        case(
            "host_ipv6_literal",
            "RFC 3986 §3.2.2",
            with_host("/x", "[::1]:8080"),
            Status(200),
        )
        .with_body("[::1]"),
        // An empty Host is what a client sends for a target URI without an authority.
        case("host_empty", "RFC 9110 §7.2", with_host("/", ""), Status(200)).with_body("ok"),
        case("host_port_not_digits", "RFC 3986 §3.2.3", with_host("/", "x:abc"), Refuse(400)),
        case(
            "host_missing_in_http_1_0",
            "RFC 9112 §3.2",
            "GET / HTTP/1.0\r\n\r\n",
            Status(200),
        )
        .with_body("ok"),
        case(
            "host_twice_in_http_1_0",
            "RFC 9112 §3.2",
            "GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n",
            Refuse(400),
        ),
        // ---- Content-Length (RFC 9112 §6, RFC 9110 §8.6) ----------------------------------
        case(
            "content_length_body",
            "RFC 9112 §6.2",
            post("Content-Length: 5\r\nConnection: close\r\n", "hello"),
            Status(200),
        )
        .with_body("hello"),
        case(
            "content_length_leading_zeros",
            "RFC 9110 §8.6",
            post("Content-Length: 005\r\nConnection: close\r\n", "hello"),
            Status(200),
        )
        .with_body("hello"),
        // Identical values MAY be rejected or replaced by one: accepted (hostile.rs).
        case(
            "content_length_identical_list",
            "RFC 9110 §8.6",
            post("Content-Length: 5, 5\r\nConnection: close\r\n", "hello"),
            Status(200),
        )
        .with_body("hello"),
        // Content-Length = 1*DIGIT: no sign, no base, no inner whitespace.
        case(
            "content_length_plus_sign",
            "RFC 9110 §8.6",
            post("Content-Length: +5\r\n", "hello"),
            Refuse(400),
        ),
        case(
            "content_length_negative",
            "RFC 9110 §8.6",
            post("Content-Length: -1\r\n", ""),
            Refuse(400),
        ),
        case(
            "content_length_hex",
            "RFC 9110 §8.6",
            post("Content-Length: 0x5\r\n", "hello"),
            Refuse(400),
        ),
        case(
            "content_length_inner_space",
            "RFC 9110 §8.6",
            post("Content-Length: 5 5\r\n", "hello"),
            Refuse(400),
        ),
        case(
            "content_length_fields_differ",
            "RFC 9112 §6.3",
            post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
            Refuse(400),
        ),
        case(
            "content_length_list_differs",
            "RFC 9112 §6.3",
            post("Content-Length: 5, 6\r\n", "hello!"),
            Refuse(400),
        ),
        case(
            "content_length_overflows_u64",
            "RFC 9112 §6.3",
            post("Content-Length: 18446744073709551616\r\n", "hello"),
            Refuse(400),
        ),
        // §8: a body cut short MAY get an error response before the close: it gets 400.
        case(
            "content_length_body_cut_short",
            "RFC 9112 §8",
            post("Content-Length: 10\r\n", "hello"),
            Refuse(400),
        )
        .then_half_close(),
        // ---- Transfer-Encoding (RFC 9112 §6.1, §6.3) ---------------------------------------
        case("chunked_body", "RFC 9112 §7.1", chunked(hello), Status(200)).with_body("hello"),
        case(
            "transfer_coding_names_are_case_insensitive",
            "RFC 9112 §7",
            post("Transfer-Encoding: CHUNKED\r\nConnection: close\r\n", hello),
            Status(200),
        )
        .with_body("hello"),
        // Chunked not final: the length cannot be determined, MUST 400 and close.
        case(
            "chunked_not_the_last_coding",
            "RFC 9112 §6.3",
            post("Transfer-Encoding: chunked, gzip\r\n", hello),
            Refuse(400),
        ),
        // An unknown coding alone is also "chunked not final": §6.3's 400 comes before 501.
        case(
            "unknown_coding_without_chunked",
            "RFC 9112 §6.3",
            post("Transfer-Encoding: gzip\r\n", "hello"),
            Refuse(400),
        ),
        // A coding the server does not understand, chunked last: SHOULD 501.
        case(
            "unknown_coding_then_chunked",
            "RFC 9112 §6.1",
            post("Transfer-Encoding: foo, chunked\r\n", hello),
            Refuse(501),
        ),
        case(
            "gzip_then_chunked_is_not_implemented",
            "RFC 9112 §6.1",
            post("Transfer-Encoding: gzip, chunked\r\n", hello),
            Refuse(501),
        ),
        // A sender MUST NOT apply chunked more than once.
        case(
            "chunked_applied_twice",
            "RFC 9112 §6.1",
            post("Transfer-Encoding: chunked, chunked\r\n", hello),
            Refuse(400),
        ),
        // Both framings: "ought to be handled as an error"; refused whatever their order.
        case(
            "content_length_then_transfer_encoding",
            "RFC 9112 §6.3",
            post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", hello),
            Refuse(400),
        ),
        case(
            "transfer_encoding_then_content_length",
            "RFC 9112 §6.3",
            post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", hello),
            Refuse(400),
        ),
        // MUST treat the framing as faulty and close after processing: served, then closed
        // although the request asks to keep the connection.
        case(
            "transfer_encoding_in_http_1_0",
            "RFC 9112 §6.1",
            "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Status(200),
        )
        .with_body("hello"),
        case(
            "chunked_body_on_get",
            "RFC 9112 §6.3",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
            Status(200),
        )
        .with_body("ok"),
        // ---- Chunked coding (RFC 9112 §7.1) -------------------------------------------------
        case(
            "several_chunks",
            "RFC 9112 §7.1",
            chunked("2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
            Status(200),
        )
        .with_body("hello"),
        case("only_the_last_chunk", "RFC 9112 §7.1", chunked("0\r\n\r\n"), Status(200))
            .with_body(""),
        // Twenty hex digits, but leading zeros: the size is 5.
        case(
            "chunk_size_with_leading_zeros",
            "RFC 9112 §7.1",
            chunked("00000000000000000005\r\nhello\r\n0\r\n\r\n"),
            Status(200),
        )
        .with_body("hello"),
        // Twenty significant hex digits overflow any size this server can hold.
        case(
            "chunk_size_overflows",
            "RFC 9112 §7.1",
            bad_chunked("10000000000000000000\r\nhello\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "chunk_size_not_hex",
            "RFC 9112 §7.1",
            bad_chunked("zz\r\nhello\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        // BWS is allowed only before `;` of an extension, not at the end of the size.
        case(
            "chunk_size_then_space",
            "RFC 9112 §7.1",
            bad_chunked("5 \r\nhello\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "chunk_data_not_followed_by_crlf",
            "RFC 9112 §7.1",
            bad_chunked("5\r\nhello0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "chunk_data_longer_than_size",
            "RFC 9112 §7.1",
            bad_chunked("5\r\nhello!\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        // A recipient MUST ignore unrecognized chunk extensions.
        case(
            "chunk_extension_is_ignored",
            "RFC 9112 §7.1.1",
            chunked("5;ext\r\nhello\r\n0\r\n\r\n"),
            Status(200),
        )
        .with_body("hello"),
        case(
            "chunk_extensions_with_values",
            "RFC 9112 §7.1.1",
            chunked("5;a=b;c=\"d; e\"\r\nhello\r\n0;z=1\r\n\r\n"),
            Status(200),
        )
        .with_body("hello"),
        case(
            "chunk_extension_with_control_char",
            "RFC 9112 §7.1.1",
            bad_chunked("5;a\x01b\r\nhello\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "trailer_fields_are_accepted",
            "RFC 9112 §7.1.2",
            chunked("5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
            Status(200),
        )
        .with_body("hello"),
        case(
            "trailer_line_without_colon",
            "RFC 9112 §7.1.2",
            bad_chunked("5\r\nhello\r\n0\r\nnocolon\r\n\r\n"),
            Refuse(400),
        ),
        // §7.1's grammar ends every chunk line with CRLF, and §2.2's bare-LF leniency covers
        // only the start-line and header fields: a bare LF in the framing is refused.
        case(
            "bare_lf_after_chunk_size",
            "RFC 9112 §7.1",
            bad_chunked("5\nhello\r\n0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "bare_lf_after_chunk_data",
            "RFC 9112 §7.1",
            bad_chunked("5\r\nhello\n0\r\n\r\n"),
            Refuse(400),
        ),
        case(
            "bare_lf_ending_the_chunked_body",
            "RFC 9112 §7.1",
            bad_chunked("5\r\nhello\r\n0\r\n\n"),
            Refuse(400),
        ),
        // §8: an incomplete body MAY get an error response before the close: it gets 400.
        case(
            "chunked_body_cut_short",
            "RFC 9112 §8",
            bad_chunked("5\r\nhel"),
            Refuse(400),
        )
        .then_half_close(),
        // ---- Request smuggling (RFC 9112 §11.2, §9.3, §9.6) --------------------------------
        case(
            "cl_te_hides_a_request",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{s}",
                n + 5
            ),
            Refuse(400),
        ),
        case(
            "te_cl_hides_a_request",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{n:x}\r\n{s}\r\n0\r\n\r\n"
            ),
            Refuse(400),
        ),
        case(
            "obfuscated_te_with_cl",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            Refuse(400),
        ),
        case(
            "second_te_field_with_cl",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            Refuse(400),
        ),
        case(
            "te_after_vertical_tab_with_cl",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            Refuse(400),
        ),
        case(
            "conflicting_cl_hides_a_request",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: {n}\r\n\r\n{s}"
            ),
            Refuse(400),
        ),
        // Seventeen hex digits: a size that would wrap a u64 to the hidden request's length.
        case(
            "chunk_size_wrapping_u64_hides_a_request",
            "RFC 9112 §11.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1{n:016x}\r\n{s}\r\n0\r\n\r\n"
            ),
            Refuse(400),
        ),
        case(
            "request_after_refusal_is_not_answered",
            "RFC 9112 §11.2",
            format!("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n{s}"),
            Refuse(400),
        ),
        case(
            "content_length_body_is_not_a_request",
            "RFC 9112 §6.2",
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n{s}"
            ),
            Status(200),
        )
        .with_body(SMUGGLED),
        case(
            "chunk_data_is_not_a_request",
            "RFC 9112 §7.1",
            chunked(&format!("{n:x}\r\n{s}\r\n0\r\n\r\n")),
            Status(200),
        )
        .with_body(SMUGGLED),
        // The body of a GET has no meaning, but its framing is honoured: never a request.
        case(
            "get_body_is_not_a_request",
            "RFC 9112 §9.3",
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n{s}"
            ),
            Status(200),
        )
        .with_body("ok"),
        // After `close` the server MUST NOT process further requests on the connection.
        case(
            "request_after_close_is_not_answered",
            "RFC 9112 §9.6",
            format!("{}{s}", get("/", "")),
            Status(200),
        )
        .with_body("ok"),
        // Framing fields in a trailer section cannot change the framing.
        case(
            "trailer_fields_do_not_reframe",
            "RFC 9110 §6.5.1",
            chunked(&format!(
                "5\r\nhello\r\n0\r\nContent-Length: {n}\r\nTransfer-Encoding: chunked\r\n\r\n{s}"
            )),
            Status(200),
        )
        .with_body("hello"),
    ]
}

// ---------------------------------------------------------------------------------------
// The application and its configuration
// ---------------------------------------------------------------------------------------

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn app(hits: Arc<AtomicUsize>) -> Router {
    Router::new()
        .get("/", |_| async { "ok" })
        .post("/echo", |mut req: Request| async move {
            req.body_string().await
        })
        .get("/h", |req: Request| async move {
            req.header("x-a").unwrap_or("-").to_string()
        })
        .get("/hb", |req: Request| async move {
            match req.header_bytes("x-a") {
                Some(bytes) => hex(bytes),
                None => "-".to_string(),
            }
        })
        .get("/x", |req: Request| async move {
            req.url().host_str().unwrap_or("?").to_string()
        })
        .get("/q", |req: Request| async move {
            format!("query={}", req.query().unwrap_or("-"))
        })
        .get("/*rest", |req: Request| async move {
            format!("path={}", req.path())
        })
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
        header_timeout: HEADER_TIMEOUT,
        body_timeout: BODY_TIMEOUT,
        keep_alive_timeout: KEEP_ALIVE,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------
// The response parser both runners share
// ---------------------------------------------------------------------------------------

/// The first response in the bytes a connection delivered.
#[derive(Debug)]
struct Parsed {
    status: u16,
    /// In order; names lowercased, values trimmed.
    headers: Vec<(String, String)>,
    /// After transfer decoding.
    body: Vec<u8>,
    /// Bytes of the input the response took.
    used: usize,
}

impl Parsed {
    /// True when a `connection` field lists `token`.
    fn connection_has(&self, token: &str) -> bool {
        values(&self.headers, "connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// Every value of the fields named `name` (lowercase).
fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.as_str() == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Parses the response at the start of `buf`, all the bytes the connection delivered before
/// it ended (so a body without framing runs to the end of `buf`). `head_only`: the request
/// was `HEAD`.
fn parse_response(buf: &[u8], head_only: bool) -> Result<Parsed, String> {
    let head_end = find(buf, b"\r\n\r\n")
        .map(|i| i + 4)
        .ok_or("no complete response head")?;
    let head = String::from_utf8_lossy(&buf[..head_end - 4]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    // RFC 9112 §2.3: the server answers with its own version, 1.1, whatever 1.x was asked.
    if parts.next() != Some("HTTP/1.1") {
        return Err(format!("status line {status_line:?} is not HTTP/1.1"));
    }
    let code = parts.next().unwrap_or_default();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad status code in {status_line:?}"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| format!("bad status code in {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        if line.contains('\r') || line.contains('\n') {
            return Err(format!("bare CR or LF in field line {line:?}"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("field line without a colon: {line:?}"))?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(format!("bad field name in {line:?}"));
        }
        headers.push((
            name.to_ascii_lowercase(),
            value.trim_matches(|c| c == ' ' || c == '\t').to_string(),
        ));
    }
    let rest = &buf[head_end..];
    let lengths = values(&headers, "content-length");
    let codings = values(&headers, "transfer-encoding");
    if lengths.len() > 1 {
        return Err(format!("more than one content-length: {lengths:?}"));
    }
    if !lengths.is_empty() && !codings.is_empty() {
        return Err("both content-length and transfer-encoding".into());
    }
    let no_body = head_only || (100..200).contains(&status) || status == 204 || status == 304;
    let (body, used) = if no_body {
        (Vec::new(), head_end)
    } else if let Some(coding) = codings.first() {
        if codings.len() != 1 || !coding.eq_ignore_ascii_case("chunked") {
            return Err(format!("unexpected transfer-encoding {codings:?}"));
        }
        let (body, len) = decode_chunked(rest)?;
        (body, head_end + len)
    } else if let Some(len) = lengths.first() {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad content-length {len:?}"))?;
        if rest.len() < len {
            return Err(format!(
                "body cut short: content-length {len}, {} bytes came",
                rest.len()
            ));
        }
        (rest[..len].to_vec(), head_end + len)
    } else {
        // Neither: the body runs to the end of the connection.
        (rest.to_vec(), buf.len())
    };
    Ok(Parsed {
        status,
        headers,
        body,
        used,
    })
}

/// Decodes the chunked body at the start of `buf`: `(body, bytes used)`.
fn decode_chunked(buf: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut body = Vec::new();
    let mut at = 0;
    // Each round consumes a chunk-size line of at least two bytes, or ends.
    for _ in 0..=buf.len() {
        let line_len = find(&buf[at..], b"\r\n").ok_or("chunked body cut short")?;
        let line = String::from_utf8_lossy(&buf[at..at + line_len]);
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        at += line_len + 2;
        if size == 0 {
            // The trailer section (none expected, but allowed) ends with an empty line.
            for _ in 0..=buf.len() {
                let len = find(&buf[at..], b"\r\n").ok_or("chunked body cut short")?;
                at += len + 2;
                if len == 0 {
                    return Ok((body, at));
                }
            }
            return Err("trailer section does not end".into());
        }
        let left = buf.len() - at;
        if left < size || left - size < 2 {
            return Err("chunk cut short".into());
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size;
        if &buf[at..at + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".into());
        }
        at += 2;
    }
    Err("chunked body does not end".into())
}

// ---------------------------------------------------------------------------------------
// Running a case and judging what came back
// ---------------------------------------------------------------------------------------

/// How reading a connection ended.
#[derive(Debug)]
enum Ended {
    /// The server closed (end of stream, or a reset).
    Closed,
    /// Still open when the exchange's time ran out.
    Open,
    /// Reading failed.
    Failed(String),
}

/// Everything a connection delivered, how it ended, and how long after the request.
#[derive(Debug)]
struct Outcome {
    bytes: Vec<u8>,
    ended: Ended,
    elapsed: Duration,
}

fn expected(case: &Case) -> String {
    match case.expect {
        Expect::Status(code) => match case.body {
            Some(body) => format!("{code} with body {body:?}, then a close"),
            None => format!("{code}, then a close"),
        },
        Expect::Refuse(code) => format!("{code} with `connection: close`, then a close"),
        Expect::Close => "a close with no response".to_string(),
    }
}

/// Judges `out` against the case; `Err` says what was expected and what came.
fn check(case: &Case, out: &Outcome) -> Result<(), String> {
    let want = expected(case);
    let fail = |got: String| -> Result<(), String> { Err(format!("expected {want}, got {got}")) };
    if let Ended::Failed(e) = &out.ended {
        return fail(format!("a read error ({e}) after {}", preview(&out.bytes)));
    }
    let closed = matches!(out.ended, Ended::Closed);
    let code = match case.expect {
        Expect::Close => {
            if !out.bytes.is_empty() {
                return fail(format!("a response: {}", preview(&out.bytes)));
            }
            if !closed {
                return fail(format!("a connection still open after {EXCHANGE_LIMIT:?}"));
            }
            return Ok(());
        }
        Expect::Status(code) | Expect::Refuse(code) => code,
    };
    let res = match parse_response(&out.bytes, case.is_head()) {
        Ok(res) => res,
        Err(_) if out.bytes.is_empty() && closed => {
            return fail("a close with no response".to_string());
        }
        Err(_) if out.bytes.is_empty() => {
            return fail(format!("no response within {EXCHANGE_LIMIT:?}"));
        }
        Err(e) => {
            return fail(format!(
                "an unreadable response ({e}): {}",
                preview(&out.bytes)
            ));
        }
    };
    if res.status != code {
        return fail(format!("{} {}", res.status, preview(&res.body)));
    }
    if let (Expect::Status(_), Some(body)) = (case.expect, case.body) {
        if res.body != body.as_bytes() {
            return fail(format!("{code} with body {}", preview(&res.body)));
        }
    }
    if matches!(case.expect, Expect::Refuse(_)) && !res.connection_has("close") {
        return fail(format!(
            "{code} without `connection: close`: {:?}",
            res.headers
        ));
    }
    let rest = &out.bytes[res.used..];
    if !rest.is_empty() {
        return fail(format!("{code}, then more bytes: {}", preview(rest)));
    }
    if !closed {
        return fail(format!(
            "{code}, but the connection stayed open for {EXCHANGE_LIMIT:?}"
        ));
    }
    if out.elapsed > PROMPT_CLOSE {
        return fail(format!(
            "{code}, but the close came only after {:?}: a timeout, not the server ending the \
             connection after its response",
            out.elapsed
        ));
    }
    Ok(())
}

/// Runs `case` on a fresh in-memory connection served by `service`.
fn exchange_in_memory(service: &Service, case: &Case) -> Outcome {
    smol::block_on(async {
        let (mut client, server) = memory::pair();
        let svc = service.clone();
        let conn = smol::spawn(async move { svc.serve_connection(server).await });
        let started = Instant::now();
        let mut bytes = Vec::new();
        let talk = async {
            // A server that refused early may have closed its end already: not an error here.
            let _ = client.write_all(&case.bytes).await;
            if case.half_close {
                let _ = client.close().await;
            }
            let mut buf = [0u8; 16 * 1024];
            for _ in 0..MAX_READS {
                match client.read(&mut buf).await {
                    Ok(0) => return Ended::Closed,
                    Ok(n) => {
                        bytes.extend_from_slice(&buf[..n]);
                        if bytes.len() > MAX_RESPONSE_BYTES {
                            return Ended::Failed(format!("more than {MAX_RESPONSE_BYTES} bytes"));
                        }
                    }
                    Err(e) => return Ended::Failed(e.to_string()),
                }
            }
            Ended::Failed(format!("more than {MAX_READS} reads"))
        };
        let limit = async {
            smol::Timer::after(EXCHANGE_LIMIT).await;
            Ended::Open
        };
        let ended = future::or(talk, limit).await;
        let elapsed = started.elapsed();
        // With its peer gone the connection ends; it is not left running either way (a task
        // still running after the grace period is dropped, which cancels it).
        drop(client);
        future::or(conn, async {
            smol::Timer::after(Duration::from_secs(2)).await;
        })
        .await;
        Outcome {
            bytes,
            ended,
            elapsed,
        }
    })
}

/// Runs `case` on a fresh connection to the server at `addr`.
fn exchange_over_socket(addr: SocketAddr, case: &Case) -> Outcome {
    let mut conn = Conn::connect(addr);
    conn.write_tolerant(&case.bytes);
    if case.half_close {
        let _ = conn.stream.shutdown(Shutdown::Write);
    }
    let started = Instant::now();
    let (bytes, end) = read_until_end(&mut conn.stream, MAX_RESPONSE_BYTES, EXCHANGE_LIMIT);
    let ended = match end {
        ReadEnd::Eof | ReadEnd::Reset => Ended::Closed,
        ReadEnd::Timeout => Ended::Open,
    };
    Outcome {
        bytes,
        ended,
        elapsed: started.elapsed(),
    }
}

/// Runs every case with `run` on [`WORKERS`] threads; returns the failures, sorted, as
/// `"name (section): expected …, got …"`.
fn run_all(cases: &[Case], run: &(dyn Fn(&Case) -> Outcome + Sync)) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                // Each worker takes cases until none are left: at most cases.len() rounds.
                for _ in 0..cases.len() {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    if let Err(e) = check(case, &run(case)) {
                        failures
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(format!("{} ({}): {e}", case.name, case.section));
                    }
                }
            });
        }
    });
    let mut failures = failures
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    failures.sort();
    failures
}

/// Prints the tally and fails the test on any failure or smuggled request.
fn report(runner: &str, total: usize, failures: &[String], hits: usize) {
    let passed = total - failures.len();
    eprintln!("conformance: {} cases, {} passed", total, passed);
    assert!(
        failures.is_empty(),
        "{runner}: {} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        hits, 0,
        "{runner}: a smuggled request reached the application"
    );
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn conformance_in_memory() {
    support::require_default_sigpipe();
    let hits = Arc::new(AtomicUsize::new(0));
    let service = Service::with_config(app(hits.clone()), config());
    let cases = cases();
    let failures = run_all(&cases, &|case: &Case| exchange_in_memory(&service, case));
    report(
        "in memory",
        cases.len(),
        &failures,
        hits.load(Ordering::SeqCst),
    );
}

#[test]
fn conformance_over_a_socket() {
    support::require_default_sigpipe();
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = support::serve(app(hits.clone()), config(), 2);
    let cases = cases();
    let failures = run_all(&cases, &|case: &Case| exchange_over_socket(addr, case));
    report(
        "over a socket",
        cases.len(),
        &failures,
        hits.load(Ordering::SeqCst),
    );
    // After all that, the server still serves.
    let res = support::get(addr, "/");
    assert_eq!((res.status, res.body.as_slice()), (200, &b"ok"[..]));
}

/// True for `"RFC <4 digits> §<digits and dots>"`, e.g. `"RFC 9112 §5.1"`.
fn is_section(section: &str) -> bool {
    let Some(rest) = section.strip_prefix("RFC ") else {
        return false;
    };
    let Some((number, part)) = rest.split_once(" §") else {
        return false;
    };
    number.len() == 4
        && number.bytes().all(|b| b.is_ascii_digit())
        && part.starts_with(|c: char| c.is_ascii_digit())
        && part.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[test]
fn every_case_names_an_rfc_section_and_names_are_unique() {
    let cases = cases();
    assert!(
        (120..=160).contains(&cases.len()),
        "{} cases: the table should have about 120 to 150",
        cases.len()
    );
    let mut names = HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        assert!(
            !case.name.is_empty()
                && case
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "case name {:?} is not snake_case",
            case.name
        );
        assert!(
            is_section(case.section),
            "{}: section {:?} does not name an RFC section",
            case.name,
            case.section
        );
        assert!(!case.bytes.is_empty(), "{}: no bytes", case.name);
        match case.expect {
            // A served request must end its connection by itself: it asks to close, or is
            // HTTP/1.0 (not persistent without keep-alive, or closed after its framing).
            Expect::Status(_) => {
                let text = String::from_utf8_lossy(&case.bytes).to_ascii_lowercase();
                assert!(
                    text.contains("connection: close")
                        || text.contains(" http/1.0\r\n")
                        || text.contains(" http/1.0\n"),
                    "{}: a served request must ask to close",
                    case.name
                );
            }
            // Only a client that is done sending lets a server close without answering.
            Expect::Close => assert!(case.half_close, "{}: Close without a half-close", case.name),
            Expect::Refuse(_) => {}
        }
        if case.body.is_some() {
            assert!(
                matches!(case.expect, Expect::Status(_)),
                "{}: only served cases check a body",
                case.name
            );
        }
    }
}
