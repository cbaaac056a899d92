//! The file responder ([`FileResponse`]) and static directory serving ([`ServeDir`]) over
//! real TCP sockets on 127.0.0.1.
//!
//! Every test starts its own server on an ephemeral port (one executor thread, on a background
//! thread that never returns) and its own temporary directory of real files, and talks to the
//! server with the strict raw HTTP/1.1 client of `tests/support` over `std::net::TcpStream`,
//! so no client library normalizes paths or hides framing mistakes.

mod support;

use std::io::ErrorKind;
#[cfg(unix)]
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use smolweb::{FileResponse, Request, Router, ServeDir};
use support::{Conn, RawResponse, Rng, contains, spawn};
#[cfg(unix)]
use support::{connect_small_rcvbuf, request};

/// The secret next to (outside) every served root; it must never appear in a response.
const SECRET: &[u8] = b"TOP-SECRET-7f3a9c-do-not-serve";
/// A fixed modification time: Sun, 09 Sep 2001 01:46:40 GMT.
const MTIME_SECS: u64 = 1_000_000_000;
const MTIME_HTTP: &str = "Sun, 09 Sep 2001 01:46:40 GMT";

// ---------------------------------------------------------------------------------------------
// Fixtures: temporary directories, file contents, servers.
// ---------------------------------------------------------------------------------------------

/// `<tmp>/smolweb-fs-<pid>-<n>-<tag>/` holding `root/` (served) and `secret.txt` (outside the
/// root). Removed on drop.
struct Fixture {
    base: PathBuf,
    root: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base =
            std::env::temp_dir().join(format!("smolweb-fs-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(&root).expect("create temp root");
        std::fs::write(base.join("secret.txt"), SECRET).expect("write secret");
        Fixture { base, root }
    }

    /// Writes `bytes` to `root/rel` (creating parent directories) and returns the path.
    fn file(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// A `ServeDir` of the root at `/static/*path`, running.
    fn serve_static(&self) -> SocketAddr {
        spawn(Router::new().get("/static/*path", ServeDir::new(&self.root)))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Deterministic, non-repeating-looking bytes (xorshift64*), different per `seed`.
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    // The top byte of each output.
    (0..len).map(|_| (rng.next_u64() >> 56) as u8).collect()
}

/// Sets a file's modification time to [`MTIME_SECS`].
fn set_fixed_mtime(path: &Path) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for set_modified");
    file.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME_SECS))
        .expect("set_modified");
}

// ---------------------------------------------------------------------------------------------
// Requests, through the shared client.
// ---------------------------------------------------------------------------------------------

/// `GET target` with `extra` header lines (each ending in CRLF) on a fresh connection, which is
/// left open.
fn get(addr: SocketAddr, target: &str, extra: &str) -> RawResponse {
    Conn::connect(addr).get(target, extra)
}

/// The file's etag, as the server reports it.
fn etag_of(addr: SocketAddr, target: &str) -> String {
    let res = get(addr, target, "");
    assert_eq!(res.status, 200);
    res.header("etag").expect("etag").to_string()
}

fn assert_last_modified_shape(value: &str) {
    assert_eq!(
        value.len(),
        29,
        "last-modified {value:?} is not an IMF-fixdate"
    );
    assert!(value.ends_with(" GMT"), "last-modified {value:?}");
    assert_eq!(&value[3..5], ", ", "last-modified {value:?}");
}

// ---------------------------------------------------------------------------------------------
// 1. Full GET.
// ---------------------------------------------------------------------------------------------

const BIG: usize = 300 * 1024 + 77;

#[test]
fn full_get_sends_the_whole_file_with_validators() {
    let fx = Fixture::new("full");
    let data = content(BIG, 1);
    fx.file("big.bin", &data);
    let addr = fx.serve_static();

    let res = get(addr, "/static/big.bin", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(BIG as u64));
    assert_eq!(res.body.len(), BIG);
    assert!(res.body == data, "body differs from the file");
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    let etag = res.header("etag").expect("etag");
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "etag {etag:?} is not a strong quoted tag"
    );
    assert_last_modified_shape(res.header("last-modified").expect("last-modified"));
    assert!(res.header("content-range").is_none());
}

#[test]
fn full_get_keeps_the_connection_usable() {
    let fx = Fixture::new("full-keepalive");
    let data = content(BIG, 2);
    fx.file("big.bin", &data);
    let addr = fx.serve_static();

    let mut client = Conn::connect(addr);
    for _ in 0..3 {
        let res = client.get("/static/big.bin", "");
        assert_eq!(res.status, 200);
        assert!(res.body == data, "body differs from the file");
    }
}

#[test]
fn last_modified_is_the_files_mtime() {
    let fx = Fixture::new("mtime");
    let path = fx.file("a.txt", b"hello");
    set_fixed_mtime(&path);
    let addr = fx.serve_static();

    let res = get(addr, "/static/a.txt", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("last-modified"), Some(MTIME_HTTP));
}

// ---------------------------------------------------------------------------------------------
// 2. Content-Type.
// ---------------------------------------------------------------------------------------------

fn content_type_of(name: &str) -> String {
    let fx = Fixture::new("ctype");
    fx.file(name, b"x");
    let addr = fx.serve_static();
    let res = get(addr, &format!("/static/{name}"), "");
    assert_eq!(res.status, 200, "GET {name}");
    res.header("content-type")
        .expect("content-type")
        .to_string()
}

/// The media type without parameters.
fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap().trim()
}

#[test]
fn content_type_html() {
    assert_eq!(essence(&content_type_of("page.html")), "text/html");
}

#[test]
fn content_type_css() {
    assert_eq!(essence(&content_type_of("site.css")), "text/css");
}

#[test]
fn content_type_json() {
    assert_eq!(essence(&content_type_of("data.json")), "application/json");
}

#[test]
fn content_type_png() {
    assert_eq!(essence(&content_type_of("logo.png")), "image/png");
}

#[test]
fn content_type_extension_is_case_insensitive() {
    assert_eq!(essence(&content_type_of("LOGO.PNG")), "image/png");
}

#[test]
fn content_type_unknown_extension() {
    assert_eq!(
        essence(&content_type_of("blob.qqzz")),
        "application/octet-stream"
    );
}

#[test]
fn content_type_no_extension() {
    assert_eq!(
        essence(&content_type_of("README")),
        "application/octet-stream"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. HEAD.
// ---------------------------------------------------------------------------------------------

#[test]
fn head_sends_the_headers_of_get_and_no_body() {
    let fx = Fixture::new("head");
    let data = content(BIG, 3);
    fx.file("page.html", &data);
    let addr = fx.serve_static();

    let mut client = Conn::connect(addr);
    let head = client.request("HEAD", "/static/page.html", "");
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), Some(BIG as u64));
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
    assert!(head.header("etag").is_some());
    assert!(head.header("last-modified").is_some());
    assert_eq!(
        essence(head.header("content-type").expect("content-type")),
        "text/html"
    );

    // Had the server sent a body after the HEAD head, this would parse file bytes as a head.
    let full = client.get("/static/page.html", "");
    assert_eq!(full.status, 200);
    assert!(full.body == data, "GET after HEAD: body differs");
    for name in ["content-length", "etag", "last-modified", "content-type"] {
        assert_eq!(head.header(name), full.header(name), "{name} differs");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Ranges and If-Range.
// ---------------------------------------------------------------------------------------------

const RLEN: usize = 20_000;

fn range_fixture(tag: &str) -> (Fixture, Vec<u8>, SocketAddr) {
    let fx = Fixture::new(tag);
    let data = content(RLEN, 4);
    let path = fx.file("r.bin", &data);
    set_fixed_mtime(&path);
    let addr = fx.serve_static();
    (fx, data, addr)
}

#[test]
fn range_first_ten_bytes() {
    let (_fx, data, addr) = range_fixture("range-0-9");
    let res = get(addr, "/static/r.bin", "Range: bytes=0-9\r\n");
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 0-9/{RLEN}").as_str())
    );
    assert_eq!(res.content_length(), Some(10));
    assert_eq!(res.body, &data[..10]);
}

#[test]
fn range_open_ended() {
    let (_fx, data, addr) = range_fixture("range-open");
    let res = get(addr, "/static/r.bin", "Range: bytes=100-\r\n");
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 100-{}/{RLEN}", RLEN - 1).as_str())
    );
    assert_eq!(res.content_length(), Some((RLEN - 100) as u64));
    assert!(res.body == data[100..]);
}

#[test]
fn range_suffix() {
    let (_fx, data, addr) = range_fixture("range-suffix");
    let res = get(addr, "/static/r.bin", "Range: bytes=-500\r\n");
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes {}-{}/{RLEN}", RLEN - 500, RLEN - 1).as_str())
    );
    assert!(res.body == data[RLEN - 500..]);
}

#[test]
fn range_end_beyond_length_is_clamped() {
    let (_fx, data, addr) = range_fixture("range-clamp");
    let spec = format!("bytes={}-{}", RLEN - 10, RLEN + 1000);
    let res = get(addr, "/static/r.bin", &format!("Range: {spec}\r\n"));
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes {}-{}/{RLEN}", RLEN - 10, RLEN - 1).as_str())
    );
    assert_eq!(res.content_length(), Some(10));
    assert_eq!(res.body, &data[RLEN - 10..]);
}

#[test]
fn range_starting_at_length_is_416_without_file_bytes() {
    let (_fx, data, addr) = range_fixture("range-416");
    let mut client = Conn::connect(addr);
    let spec = format!("bytes={RLEN}-");
    let res = client.get("/static/r.bin", &format!("Range: {spec}\r\n"));
    assert_eq!(res.status, 416);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes */{RLEN}").as_str())
    );
    assert!(res.content_length().unwrap_or(0) < 100, "416 with a body");
    assert!(!contains(&res.body, &data[..16]), "file bytes in a 416");
    // Framing held: the next response on the connection parses.
    let next = client.get("/static/r.bin", "Range: bytes=0-3\r\n");
    assert_eq!(next.status, 206);
    assert_eq!(next.body, &data[..4]);
}

/// The boundary a multipart answer names in its `Content-Type`.
fn boundary_of(res: &RawResponse) -> String {
    let content_type = res.header("content-type").expect("content-type");
    content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart/byteranges: {content_type:?}"))
        .to_string()
}

/// The exact multipart/byteranges body for `ranges` (inclusive) of `data` typed `mime`.
fn multipart_body(boundary: &str, mime: &str, data: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, &(first, last)) in ranges.iter().enumerate() {
        let crlf = if i == 0 { "" } else { "\r\n" };
        let len = data.len();
        body.extend_from_slice(
            format!(
                "{crlf}--{boundary}\r\nContent-Type: {mime}\r\nContent-Range: bytes {first}-{last}/{len}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&data[first..=last]);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[test]
fn several_ranges_get_a_multipart_206_with_exact_bytes() {
    let (_fx, data, addr) = range_fixture("range-multi");
    let mime = get(addr, "/static/r.bin", "")
        .header("content-type")
        .unwrap()
        .to_string();
    let mut client = Conn::connect(addr);
    // Out of order, with a suffix: sorted in the answer.
    let res = client.get("/static/r.bin", "Range: bytes=5000-5099,0-9,-10\r\n");
    assert_eq!(res.status, 206);
    assert!(
        res.header("content-range").is_none(),
        "Content-Range is per part"
    );
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert!(res.header("etag").is_some());
    let boundary = boundary_of(&res);
    assert!(boundary.len() >= 32, "a long boundary: {boundary:?}");
    let ranges = [(0, 9), (5000, 5099), (RLEN - 10, RLEN - 1)];
    let expected = multipart_body(&boundary, &mime, &data, &ranges);
    assert_eq!(res.content_length(), Some(expected.len() as u64));
    assert!(
        res.body == expected,
        "multipart body: {}",
        support::preview(&res.body)
    );
    // The framing was exact: the connection carries the next request.
    let next = client.get("/static/r.bin", "Range: bytes=1-2,100-101\r\n");
    assert_eq!(next.status, 206);
    let second = boundary_of(&next);
    assert_ne!(second, boundary, "a boundary per response");
    assert!(next.body == multipart_body(&second, &mime, &data, &[(1, 2), (100, 101)]));
}

#[test]
fn head_with_several_ranges_gets_the_multipart_headers_only() {
    let (_fx, data, addr) = range_fixture("range-multi-head");
    let mut client = Conn::connect(addr);
    let range = "Range: bytes=0-9,1000-1009\r\n";
    let head = client.request("HEAD", "/static/r.bin", range);
    let full = client.get("/static/r.bin", range);
    assert_eq!((head.status, full.status), (206, 206));
    assert_eq!(head.content_length(), full.content_length());
    assert!(head.content_length().unwrap() > 20);
    boundary_of(&head);
    for name in ["etag", "last-modified", "accept-ranges"] {
        assert_eq!(head.header(name), full.header(name), "{name} differs");
    }
    assert!(contains(&full.body, &data[1000..1010]));
}

#[test]
fn ranges_that_coalesce_to_one_get_a_plain_206() {
    let (_fx, data, addr) = range_fixture("range-coalesce");
    // Overlapping, adjacent and close: one range 0-199.
    let res = get(
        addr,
        "/static/r.bin",
        "Range: bytes=100-199,0-49,50-60,90-120\r\n",
    );
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 0-199/{RLEN}").as_str())
    );
    assert!(res.body == data[..200]);
}

#[test]
fn unsatisfiable_ranges_are_dropped_or_416() {
    let (_fx, data, addr) = range_fixture("range-drop");
    let res = get(
        addr,
        "/static/r.bin",
        &format!("Range: bytes={RLEN}-,0-3\r\n"),
    );
    assert_eq!(res.status, 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 0-3/{RLEN}").as_str())
    );
    assert_eq!(res.body, &data[..4]);
    let spec = format!("bytes={RLEN}-,{}-{}", RLEN + 5, RLEN + 9);
    let res = get(addr, "/static/r.bin", &format!("Range: {spec}\r\n"));
    assert_eq!(res.status, 416);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes */{RLEN}").as_str())
    );
}

#[test]
fn too_many_or_too_much_ranges_get_the_whole_file() {
    let (_fx, data, addr) = range_fixture("range-dos");
    let specs: Vec<String> = (0..17)
        .map(|i| format!("{}-{}", i * 1000, i * 1000 + 1))
        .collect();
    let too_many = format!("Range: bytes={}\r\n", specs.join(","));
    let res = get(addr, "/static/r.bin", &too_many);
    assert_eq!(res.status, 200, "17 ranges");
    assert!(res.body == data);
    let sixteen = format!("Range: bytes={}\r\n", specs[..16].join(","));
    let res = get(addr, "/static/r.bin", &sixteen);
    assert_eq!(res.status, 206, "16 ranges");
    let overlapping = "Range: bytes=0-,0-\r\n";
    let res = get(addr, "/static/r.bin", overlapping);
    assert_eq!(res.status, 200, "ranges adding up to more than the file");
    assert!(res.header("content-range").is_none());
    assert!(res.body == data);
}

#[test]
fn if_range_decides_for_several_ranges_too() {
    let (_fx, data, addr) = range_fixture("range-multi-ifrange");
    let etag = etag_of(addr, "/static/r.bin");
    let ranges = "Range: bytes=0-9,1000-1009\r\n";
    let res = get(
        addr,
        "/static/r.bin",
        &format!("{ranges}If-Range: {etag}\r\n"),
    );
    assert_eq!(res.status, 206);
    boundary_of(&res);
    let res = get(
        addr,
        "/static/r.bin",
        &format!("{ranges}If-Range: \"stale\"\r\n"),
    );
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

#[test]
fn multipart_ranges_of_a_large_file_go_out_whole() {
    // Ranges larger than a chunk: with the `sendfile` feature they go out with `sendfile`,
    // the part heads through the write buffer between them.
    let fx = Fixture::new("range-multi-large");
    let data = content(BIG, 11);
    fx.file("big.bin", &data);
    let addr = fx.serve_static();
    let mime = get(addr, "/static/big.bin", "Range: bytes=0-0\r\n")
        .header("content-type")
        .unwrap()
        .to_string();
    #[cfg(all(feature = "sendfile", target_os = "linux"))]
    let before = smolweb::zero_copy_bytes();
    let ranges = [(10, 100_009), (150_000, 230_000), (BIG - 70_000, BIG - 1)];
    let spec: Vec<String> = ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    let res = get(
        addr,
        "/static/big.bin",
        &format!("Range: bytes={}\r\n", spec.join(",")),
    );
    assert_eq!(res.status, 206);
    let expected = multipart_body(&boundary_of(&res), &mime, &data, &ranges);
    assert_eq!(res.content_length(), Some(expected.len() as u64));
    assert!(res.body == expected, "large multipart body differs");
    #[cfg(all(feature = "sendfile", target_os = "linux"))]
    assert!(
        smolweb::zero_copy_bytes() - before >= 250_000,
        "the ranges went out with sendfile"
    );
}

#[test]
fn multipart_parts_cross_small_chunks_exactly() {
    let fx = Fixture::new("range-multi-chunks");
    let data = content(5000, 12);
    let path = fx.file("c.bin", &data);
    let app = Router::new().get("/c", move |req: Request| {
        let file = FileResponse::open(&path);
        async move { file.expect("open").chunk_size(7).respond_to(&req) }
    });
    let addr = spawn(app);
    let ranges = [(3, 40), (500, 500), (1000, 1099), (4990, 4999)];
    let spec: Vec<String> = ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    let res = get(addr, "/c", &format!("Range: bytes={}\r\n", spec.join(",")));
    assert_eq!(res.status, 206);
    let mime = "application/octet-stream";
    let expected = multipart_body(&boundary_of(&res), mime, &data, &ranges);
    assert!(
        res.body == expected,
        "body: {}",
        support::preview(&res.body)
    );
}

/// curl fetches several ranges (`-r`), and Python's email package and a manual reader
/// check each part against the file.
#[test]
fn curl_and_python_read_the_multipart_answer() {
    let fx = Fixture::new("range-multi-curl");
    // Printable bytes without line breaks, so that the email package keeps them as they are.
    let data: Vec<u8> = content(RLEN, 13).iter().map(|b| b'!' + b % 90).collect();
    let path = fx.file("letters.txt", &data);
    let addr = fx.serve_static();
    let headers = fx.base.join("headers.txt");
    let body = fx.base.join("body.bin");
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "-r",
            "0-9,1000-1009,-10",
        ])
        .arg("-D")
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .arg(format!("http://{addr}/static/letters.txt"))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/multipart_client.py");
    let last = format!("{}-{}", RLEN - 10, RLEN - 1);
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([&headers, &body, &path])
        .args(["0-9", "1000-1009", &last])
        .output()
        .expect("run python3");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python: {said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.trim(), "ok 3");
}

#[test]
fn malformed_range_is_ignored() {
    let (_fx, data, addr) = range_fixture("range-bad");
    let res = get(addr, "/static/r.bin", "Range: bytes=abc\r\n");
    assert_eq!(res.status, 200);
    assert!(res.header("content-range").is_none());
    assert!(res.body == data);
}

#[test]
fn if_range_with_the_etag_applies_the_range() {
    let (_fx, data, addr) = range_fixture("ifrange-etag");
    let etag = etag_of(addr, "/static/r.bin");
    let res = get(
        addr,
        "/static/r.bin",
        &format!("Range: bytes=0-9\r\nIf-Range: {etag}\r\n"),
    );
    assert_eq!(res.status, 206);
    assert_eq!(res.body, &data[..10]);
}

#[test]
fn if_range_with_another_etag_sends_the_whole_file() {
    let (_fx, data, addr) = range_fixture("ifrange-other");
    let res = get(
        addr,
        "/static/r.bin",
        "Range: bytes=0-9\r\nIf-Range: \"not-the-etag\"\r\n",
    );
    assert_eq!(res.status, 200);
    assert!(res.header("content-range").is_none());
    assert!(res.body == data);
}

#[test]
fn if_range_with_a_weak_etag_sends_the_whole_file() {
    let (_fx, data, addr) = range_fixture("ifrange-weak");
    let etag = etag_of(addr, "/static/r.bin");
    let weak = format!("W/{etag}");
    let res = get(
        addr,
        "/static/r.bin",
        &format!("Range: bytes=0-9\r\nIf-Range: {weak}\r\n"),
    );
    assert_eq!(res.status, 200, "If-Range needs a strong comparison");
    assert!(res.body == data);
}

#[test]
fn if_range_with_the_last_modified_date_applies_the_range() {
    let (_fx, data, addr) = range_fixture("ifrange-date");
    let res = get(
        addr,
        "/static/r.bin",
        &format!("Range: bytes=0-9\r\nIf-Range: {MTIME_HTTP}\r\n"),
    );
    assert_eq!(res.status, 206);
    assert_eq!(res.body, &data[..10]);
}

#[test]
fn if_range_with_another_date_sends_the_whole_file() {
    let (_fx, data, addr) = range_fixture("ifrange-olddate");
    let res = get(
        addr,
        "/static/r.bin",
        "Range: bytes=0-9\r\nIf-Range: Sat, 01 Jan 2000 00:00:00 GMT\r\n",
    );
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

// ---------------------------------------------------------------------------------------------
// 5. Conditionals.
// ---------------------------------------------------------------------------------------------

#[test]
fn if_none_match_with_the_etag_is_304_without_body() {
    let (_fx, data, addr) = range_fixture("inm-etag");
    let etag = etag_of(addr, "/static/r.bin");
    let mut client = Conn::connect(addr);
    let res = client.get("/static/r.bin", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(res.status, 304);
    assert_eq!(res.header("etag"), Some(etag.as_str()));
    assert!(res.body.is_empty());
    // Nothing followed the 304 head: the next response parses.
    let next = client.get("/static/r.bin", "");
    assert_eq!(next.status, 200);
    assert!(next.body == data);
}

#[test]
fn if_none_match_star_is_304() {
    let (_fx, _data, addr) = range_fixture("inm-star");
    let res = get(addr, "/static/r.bin", "If-None-Match: *\r\n");
    assert_eq!(res.status, 304);
}

#[test]
fn if_none_match_weak_etag_is_304() {
    let (_fx, _data, addr) = range_fixture("inm-weak");
    let etag = etag_of(addr, "/static/r.bin");
    let weak = format!("W/{etag}");
    let res = get(addr, "/static/r.bin", &format!("If-None-Match: {weak}\r\n"));
    assert_eq!(res.status, 304);
}

#[test]
fn if_none_match_list_containing_the_etag_is_304() {
    let (_fx, _data, addr) = range_fixture("inm-list");
    let etag = etag_of(addr, "/static/r.bin");
    let list = format!("\"aaa\", W/\"bbb\",{etag} , \"ccc\"");
    let res = get(addr, "/static/r.bin", &format!("If-None-Match: {list}\r\n"));
    assert_eq!(res.status, 304);
}

#[test]
fn if_none_match_other_etag_is_200() {
    let (_fx, data, addr) = range_fixture("inm-other");
    let res = get(
        addr,
        "/static/r.bin",
        "If-None-Match: \"something-else\", W/\"x\"\r\n",
    );
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

#[test]
fn if_modified_since_equal_to_last_modified_is_304() {
    let (_fx, _data, addr) = range_fixture("ims-equal");
    let mut client = Conn::connect(addr);
    let res = client.get(
        "/static/r.bin",
        &format!("If-Modified-Since: {MTIME_HTTP}\r\n"),
    );
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    let next = client.get("/static/r.bin", "Range: bytes=0-0\r\n");
    assert_eq!(next.status, 206);
}

#[test]
fn if_modified_since_before_mtime_is_200() {
    let (_fx, data, addr) = range_fixture("ims-before");
    let res = get(
        addr,
        "/static/r.bin",
        "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n",
    );
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

#[test]
fn if_modified_since_after_mtime_is_304() {
    let (_fx, _data, addr) = range_fixture("ims-after");
    let res = get(
        addr,
        "/static/r.bin",
        "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n",
    );
    assert_eq!(res.status, 304);
}

#[test]
fn if_none_match_takes_precedence_over_if_modified_since() {
    let (_fx, data, addr) = range_fixture("inm-over-ims");
    let res = get(
        addr,
        "/static/r.bin",
        &format!("If-None-Match: \"stale\"\r\nIf-Modified-Since: {MTIME_HTTP}\r\n"),
    );
    assert_eq!(res.status, 200, "RFC 9110 §13.1.3: IMS is ignored with INM");
    assert!(res.body == data);
}

// ---------------------------------------------------------------------------------------------
// 6. Traversal.
// ---------------------------------------------------------------------------------------------

/// Sends `target` as the raw request line and checks the secret next to the root is not in
/// the response; returns the status.
fn traversal_status(target: &str) -> u16 {
    let fx = Fixture::new("traversal");
    fx.file("index.html", b"<p>root index</p>");
    fx.file("a.txt", b"plain file a");
    let addr = fx.serve_static();

    let res = get(addr, target, "");
    assert!(
        !contains(&res.body, SECRET),
        "{target}: the secret outside the root was served"
    );
    assert!(
        !contains(&res.body, b"root:x:0:0"),
        "{target}: /etc/passwd was served"
    );
    res.status
}

fn assert_refused(target: &str) {
    let status = traversal_status(target);
    assert!(
        status == 400 || status == 404,
        "{target}: status {status}, wanted 400 or 404"
    );
}

#[test]
fn traversal_dot_dot() {
    assert_refused("/static/../secret.txt");
}

#[test]
fn traversal_encoded_dot_dot_lower() {
    assert_refused("/static/%2e%2e/secret.txt");
}

#[test]
fn traversal_encoded_dot_dot_upper() {
    assert_refused("/static/%2E%2E/secret.txt");
}

#[test]
fn traversal_encoded_slash_lower() {
    assert_refused("/static/..%2fsecret.txt");
}

#[test]
fn traversal_encoded_slash_upper() {
    assert_refused("/static/..%2Fsecret.txt");
}

#[test]
fn traversal_fully_encoded() {
    assert_refused("/static/%2e%2e%2fsecret.txt");
}

#[test]
fn traversal_encoded_backslash() {
    assert_refused("/static/..%5csecret.txt");
}

#[test]
fn traversal_raw_backslash() {
    assert_refused("/static/..\\secret.txt");
}

#[test]
fn traversal_encoded_nul() {
    assert_refused("/static/%00");
}

#[test]
fn traversal_encoded_nul_in_name() {
    assert_refused("/static/a%00.txt");
}

#[test]
fn traversal_drive_letter() {
    assert_refused("/static/C:%5cwindows");
}

#[test]
fn traversal_absolute_path_stays_under_root() {
    assert_eq!(traversal_status("/static//etc/passwd"), 404);
}

#[test]
fn traversal_double_encoding_is_decoded_once() {
    assert_eq!(traversal_status("/static/%252e%252e/secret.txt"), 404);
}

#[test]
fn traversal_dot_segments_inside_the_wildcard() {
    assert_refused("/static/sub/../../secret.txt");
}

// ---------------------------------------------------------------------------------------------
// 7. Symlinks.
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn symlink_to_a_file_outside_the_root_is_404() {
    let fx = Fixture::new("symlink-out");
    std::os::unix::fs::symlink(fx.base.join("secret.txt"), fx.root.join("leak.txt")).unwrap();
    let addr = fx.serve_static();
    let res = get(addr, "/static/leak.txt", "");
    assert_eq!(res.status, 404);
    assert!(!contains(&res.body, SECRET));
}

#[cfg(unix)]
#[test]
fn relative_symlink_to_a_file_outside_the_root_is_404() {
    let fx = Fixture::new("symlink-out-rel");
    std::os::unix::fs::symlink("../secret.txt", fx.root.join("leak.txt")).unwrap();
    let addr = fx.serve_static();
    let res = get(addr, "/static/leak.txt", "");
    assert_eq!(res.status, 404);
    assert!(!contains(&res.body, SECRET));
}

#[cfg(unix)]
#[test]
fn symlinked_directory_outside_the_root_is_404() {
    let fx = Fixture::new("symlink-dir-out");
    let outside = fx.base.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::fs::write(outside.join("index.html"), SECRET).unwrap();
    std::os::unix::fs::symlink(&outside, fx.root.join("linkdir")).unwrap();
    let addr = fx.serve_static();
    for target in [
        "/static/linkdir/secret.txt",
        "/static/linkdir/",
        "/static/linkdir",
    ] {
        let res = get(addr, target, "");
        assert_eq!(res.status, 404, "{target}");
        assert!(!contains(&res.body, SECRET), "{target}");
    }
}

#[cfg(unix)]
#[test]
fn symlinked_index_outside_the_root_is_404() {
    let fx = Fixture::new("symlink-index-out");
    std::fs::create_dir_all(fx.root.join("sub")).unwrap();
    std::os::unix::fs::symlink(fx.base.join("secret.txt"), fx.root.join("sub/index.html")).unwrap();
    let addr = fx.serve_static();
    let res = get(addr, "/static/sub/", "");
    assert_eq!(res.status, 404);
    assert!(!contains(&res.body, SECRET));
}

#[cfg(unix)]
#[test]
fn symlink_inside_the_root_is_served() {
    let fx = Fixture::new("symlink-in");
    let data = content(5000, 5);
    let real = fx.file("dir/real.bin", &data);
    std::os::unix::fs::symlink(&real, fx.root.join("alias.bin")).unwrap();
    let addr = fx.serve_static();
    let res = get(addr, "/static/alias.bin", "");
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

// ---------------------------------------------------------------------------------------------
// 8. Directories.
// ---------------------------------------------------------------------------------------------

#[test]
fn directory_with_index_serves_it() {
    let fx = Fixture::new("dir-index");
    fx.file("sub/index.html", b"<h1>sub index</h1>");
    let addr = fx.serve_static();
    let res = get(addr, "/static/sub/", "");
    assert_eq!(res.status, 200);
    assert_eq!(
        essence(res.header("content-type").expect("content-type")),
        "text/html"
    );
    assert_eq!(res.body, b"<h1>sub index</h1>");
}

#[test]
fn root_directory_serves_its_index() {
    let fx = Fixture::new("dir-root-index");
    fx.file("index.html", b"<h1>root</h1>");
    let addr = fx.serve_static();
    let res = get(addr, "/static/", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"<h1>root</h1>");
}

#[test]
fn directory_without_slash_redirects() {
    let fx = Fixture::new("dir-redirect");
    fx.file("sub/index.html", b"<h1>sub index</h1>");
    let addr = fx.serve_static();
    let mut client = Conn::connect(addr);
    let res = client.get("/static", "");
    assert_eq!(res.status, 301);
    // Relative references, resolved against the request URL by the client.
    assert_eq!(res.header("location"), Some("./static/"));
    let res = client.get("/static/sub", "");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("location"), Some("./sub/"));
    let res = client.get("/static/sub?x=1&y=2", "");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("location"), Some("./sub/?x=1&y=2"));
}

#[test]
fn directory_redirect_is_never_protocol_relative() {
    let fx = Fixture::new("dir-redirect-open");
    fx.file("evil.example/index.html", b"x");
    let addr = spawn(Router::new().get("/*path", ServeDir::new(&fx.root)));
    let res = get(addr, "//evil.example", "");
    let location = res.header("location").unwrap_or("");
    assert_eq!(res.status, 301);
    assert!(
        location.starts_with("./") && !location.starts_with("//") && !location.starts_with("/\\"),
        "status {}, location {location:?} points to another host",
        res.status
    );
}

#[test]
fn directory_without_index_is_404() {
    let fx = Fixture::new("dir-noindex");
    fx.file("empty/other.txt", b"not an index");
    let addr = fx.serve_static();
    let res = get(addr, "/static/empty/", "");
    assert_eq!(res.status, 404);
    assert!(!contains(&res.body, b"not an index"));
    assert!(!contains(&res.body, b"other.txt"), "a listing was sent");
}

#[test]
fn fifo_in_the_root_is_404_and_blocks_nothing() {
    // Opening a FIFO for reading would wait for a writer; smolweb opens with O_NONBLOCK and
    // refuses anything that is not a regular file.
    let fx = Fixture::new("fifo");
    fx.file("present.txt", b"here");
    let status = std::process::Command::new("mkfifo")
        .arg(fx.root.join("pipe"))
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    let addr = fx.serve_static();
    let mut client = Conn::connect(addr);
    assert_eq!(client.get("/static/pipe", "").status, 404);
    assert_eq!(client.get("/static/present.txt", "").body, b"here");
}

#[test]
fn missing_file_is_404() {
    let fx = Fixture::new("missing");
    fx.file("present.txt", b"here");
    let addr = fx.serve_static();
    let mut client = Conn::connect(addr);
    assert_eq!(client.get("/static/absent.txt", "").status, 404);
    assert_eq!(client.get("/static/nodir/absent.txt", "").status, 404);
    assert_eq!(client.get("/static/present.txt/x", "").status, 404);
    // The connection survived the 404s.
    assert_eq!(client.get("/static/present.txt", "").body, b"here");
}

#[test]
fn names_are_percent_decoded_once() {
    let fx = Fixture::new("percent-name");
    fx.file("with space.txt", b"spaced");
    fx.file("100%.txt", b"percent");
    let addr = fx.serve_static();
    let mut client = Conn::connect(addr);
    let res = client.get("/static/with%20space.txt", "");
    assert_eq!((res.status, res.body.as_slice()), (200, &b"spaced"[..]));
    let res = client.get("/static/100%25.txt", "");
    assert_eq!((res.status, res.body.as_slice()), (200, &b"percent"[..]));
}

#[test]
fn empty_file_is_200_with_zero_length() {
    let fx = Fixture::new("empty-file");
    fx.file("empty.txt", b"");
    fx.file("next.txt", b"next");
    let addr = fx.serve_static();
    let mut client = Conn::connect(addr);
    let res = client.get("/static/empty.txt", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(0));
    assert!(res.body.is_empty());
    assert_eq!(client.get("/static/next.txt", "").body, b"next");
}

#[test]
fn served_dir_chunk_size_keeps_the_body_identical() {
    let fx = Fixture::new("servedir-chunk");
    let data = content(BIG, 6);
    fx.file("big.bin", &data);
    let addr = spawn(Router::new().get("/static/*path", ServeDir::new(&fx.root).chunk_size(1000)));
    let res = get(addr, "/static/big.bin", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(BIG as u64));
    assert!(res.body == data);
}

// ---------------------------------------------------------------------------------------------
// 9. FileResponse from handlers.
// ---------------------------------------------------------------------------------------------

fn report_router(path: PathBuf, chunk: Option<usize>) -> Router {
    Router::new().get("/report", move |req: Request| {
        let path = path.clone();
        async move {
            let mut file = FileResponse::open(&path)?;
            if let Some(chunk) = chunk {
                file = file.chunk_size(chunk);
            }
            Ok::<_, smolweb::Error>(file.respond_to(&req))
        }
    })
}

#[test]
fn file_response_respond_to_from_a_handler() {
    let fx = Fixture::new("respond-to");
    let data = content(BIG, 7);
    let path = fx.file("report.json", &data);
    let addr = spawn(report_router(path, None));
    let res = get(addr, "/report", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(BIG as u64));
    assert_eq!(
        essence(res.header("content-type").unwrap()),
        "application/json"
    );
    assert!(res.header("etag").is_some());
    assert!(res.body == data);
}

#[test]
fn file_response_respond_to_honours_the_request() {
    let fx = Fixture::new("respond-to-range");
    let data = content(4000, 8);
    let path = fx.file("report.bin", &data);
    let addr = spawn(report_router(path, None));
    let mut client = Conn::connect(addr);
    let res = client.get("/report", "Range: bytes=10-19\r\n");
    assert_eq!(res.status, 206);
    assert_eq!(res.body, &data[10..20]);
    let etag = res.header("etag").unwrap().to_string();
    let res = client.get("/report", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(res.status, 304);
}

#[test]
fn file_response_chunk_size_keeps_the_body_identical() {
    let fx = Fixture::new("respond-to-chunk");
    let data = content(BIG, 9);
    let path = fx.file("report.bin", &data);
    let addr = spawn(report_router(path, Some(1000)));
    let mut client = Conn::connect(addr);
    let res = client.get("/report", "");
    assert_eq!(res.status, 200);
    assert!(res.body == data);
    // A range that starts and ends mid-chunk.
    let res = client.get("/report", "Range: bytes=999-250000\r\n");
    assert_eq!(res.status, 206);
    assert!(res.body == data[999..=250_000]);
}

#[test]
fn file_response_as_into_response_is_the_whole_file() {
    let fx = Fixture::new("into-response");
    let data = content(BIG, 10);
    let path = fx.file("whole.css", &data);
    let addr = spawn(Router::new().get("/whole", move |_req: Request| {
        let path = path.clone();
        async move { FileResponse::open(&path).map_err(smolweb::Error::from) }
    }));
    let mut client = Conn::connect(addr);
    let res = client.get("/whole", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(BIG as u64));
    assert_eq!(essence(res.header("content-type").unwrap()), "text/css");
    assert!(res.body == data);
    // No request to read conditionals from: Range and If-None-Match are not applied.
    let etag = res.header("etag").unwrap().to_string();
    let res = client.get(
        "/whole",
        &format!("Range: bytes=0-9\r\nIf-None-Match: {etag}\r\n"),
    );
    assert_eq!(res.status, 200);
    assert!(res.body == data);
}

#[test]
fn file_response_open_refuses_a_directory() {
    let fx = Fixture::new("open-dir");
    let err = FileResponse::open(&fx.root).expect_err("a directory is not a file");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// 10. A file truncated while it is being sent.
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn file_truncated_while_sending_ends_the_connection() {
    // Larger than the 4 MiB the brief suggests: on loopback (64 KiB MSS) the server's send
    // buffer autotunes to ~3.3 MB even against a small receive window, so 4 MiB left only a
    // thin margin. The send buffer is capped by net.ipv4.tcp_wmem (4 MiB by default), so the
    // server cannot have read all 8 MiB before the truncation.
    const LEN: usize = 8 * 1024 * 1024;
    const KEEP: usize = 1024;
    let fx = Fixture::new("truncate");
    let data = content(LEN, 11);
    let path = fx.file("big.bin", &data);
    let addr = fx.serve_static();

    // A small receive buffer (so the advertised window stays small): the server cannot push
    // megabytes into kernel buffers ahead of us.
    let mut client = Conn::from_stream(connect_small_rcvbuf(addr, 8 * 1024));
    client.write(&request("GET", "/static/big.bin", "", b""));
    // The head only (read as if to HEAD, so the body stays buffered): the body is read below,
    // across the truncation.
    let res = client.read_response_to_head();
    let head = String::from_utf8_lossy(&res.head).to_string();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.contains(&format!("content-length: {LEN}\r\n")),
        "{head}"
    );
    let mut body = client.take_buffered();
    while body.len() < 32 * 1024 {
        let mut chunk = [0u8; 4096];
        let n = client.stream.read(&mut chunk).expect("read body");
        assert!(n > 0, "EOF early in the body");
        body.extend_from_slice(&chunk[..n]);
    }
    // Let the server fill every buffer between us and block on a full socket.
    std::thread::sleep(Duration::from_millis(300));
    let before_truncation = body.len();

    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(KEEP as u64)
        .unwrap();

    // Read to the end, bounded by the content length and the read timeout. A connection that
    // delivered the whole length may be kept alive, so it is not read past that.
    let mut closed = false;
    let mut chunk = vec![0u8; 64 * 1024];
    while body.len() < LEN {
        match client.stream.read(&mut chunk) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                closed = true;
                break;
            }
            Err(e) => panic!("reading after truncation: {e} ({} body bytes)", body.len()),
        }
    }
    assert!(
        body.len() <= LEN,
        "got {} body bytes, more than the content-length {LEN}",
        body.len()
    );
    // With the `sendfile` feature, what sits in the socket's queue is the file's page-cache
    // pages, not a copy: truncation zeroes the tail of the page at the new end, and those
    // zeros may reach the client (nginx's sendfile behaves the same). Only what was read
    // before the truncation is checked then. The copying path never sends a byte that was
    // not in the file.
    let checked = if cfg!(all(feature = "sendfile", target_os = "linux")) {
        before_truncation
    } else {
        body.len()
    };
    assert!(
        body[..checked] == data[..checked],
        "bytes that were never in the file were sent"
    );
    if body.len() == LEN {
        eprintln!(
            "note: the server finished sending before the truncation \
             ({before_truncation} bytes were in hand); the strict check is skipped"
        );
    } else {
        assert!(
            closed,
            "the connection stayed open after a short body ({} of {LEN} bytes)",
            body.len()
        );
        assert!(body.len() >= before_truncation);
        eprintln!(
            "truncation: {before_truncation} body bytes before, {} in all, of {LEN}",
            body.len()
        );
    }

    // The server is alive and serves the file as it is now.
    let res = get(addr, "/static/big.bin", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_length(), Some(KEEP as u64));
    assert_eq!(res.body, &data[..KEEP]);
}
