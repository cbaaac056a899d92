//! Compression over real sockets (feature `compression`): curl decodes gzip, brotli and zstd
//! byte for byte, Python's `gzip` decodes independently, server-sent events arrive compressed
//! one at a time, what must not be compressed is not, and precompressed files are sent as
//! they are. The disconnect storm over compressed bodies is `compression_storm.rs`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use smolweb::middleware::Compression;
use smolweb::sse::{Event, Sse};
use smolweb::{Config, Json, Router, ServeDir, body_from_stream};
use support::{Rng, TempDir, call, serve};

/// Words in a deterministic order: text that compresses about as well as prose.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "server", "client", "socket", "byte", "stream", "event", "header", "body", "gzip",
        "brotli", "zstd", "frame", "chunk", "request", "response", "cache", "\n",
    ];
    let mut rng = Rng::from_state(seed);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(rng.pick(WORDS).as_bytes());
        out.push(b' ');
    }
    out.truncate(len);
    out
}

const BIG: usize = 2 * 1024 * 1024 + 17;

struct Site {
    addr: SocketAddr,
    dir: TempDir,
    events: smol::channel::Sender<Event>,
}

fn site() -> Site {
    let dir = TempDir::new("compression");
    std::fs::write(dir.path().join("big.txt"), text(BIG, 1)).unwrap();
    std::fs::write(dir.path().join("image.png"), text(64 * 1024, 2)).unwrap();
    std::fs::write(dir.path().join("app.js"), text(50_000, 3)).unwrap();
    // A sibling whose bytes are not the original's: if they arrive, the sibling was sent.
    std::fs::write(
        dir.path().join("app.js.gz"),
        gzip(b"the precompressed sibling"),
    )
    .unwrap();
    let (events, rx) = smol::channel::unbounded::<Event>();
    let json: Vec<serde_json::Value> = (0..2500)
        .map(|i| serde_json::json!({ "id": i, "name": format!("item {i}"), "tags": ["a", "b"] }))
        .collect();
    let root = dir.path().to_path_buf();
    let app = Router::new()
        .get("/json", move |_| {
            let json = json.clone();
            async move { Json(json) }
        })
        .get("/small", |_| async { "too short to compress" })
        .get("/no-transform", |_| async {
            let mut res = smolweb::Response::new(smolweb::StatusCode::Ok);
            res.insert_header("cache-control", "no-transform");
            res.insert_header("content-type", "text/plain");
            res.set_body(String::from_utf8(text(20_000, 4)).unwrap());
            res
        })
        .get("/stream", |_| async {
            let chunks = (0..64u64).map(|i| Ok(text(32 * 1024, 10 + i)));
            let mut res = smolweb::Response::new(smolweb::StatusCode::Ok);
            res.insert_header("content-type", "text/plain");
            res.set_body(body_from_stream(futures_lite::stream::iter(chunks)));
            res
        })
        .get("/events", move |_| {
            let rx = rx.clone();
            async move { Sse::new(rx).keep_alive(None) }
        })
        .get("/files/*path", ServeDir::new(&root).precompressed())
        .middleware(Compression::new());
    Site {
        addr: serve(app, Config::default(), 2),
        dir,
        events,
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// curl's response head (lowercased) and body; `decode` makes curl undo the coding.
fn curl(url: &str, accept: &str, decode: bool, extra: &[&str]) -> (String, Vec<u8>) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "-D", "/dev/stderr", "-o", "-"]);
    if decode {
        cmd.arg("--compressed");
    }
    cmd.args(["-H", &format!("accept-encoding: {accept}")]);
    let out = cmd.args(extra).arg(url).output().expect("curl");
    assert!(out.status.success(), "curl failed: {:?}", out);
    (
        String::from_utf8_lossy(&out.stderr).to_lowercase(),
        out.stdout,
    )
}

#[test]
fn curl_decodes_every_coding_byte_for_byte() {
    let site = site();
    let big = std::fs::read(site.dir.path().join("big.txt")).unwrap();
    let json = call(site.addr, "GET", "/json", "", b"").body;
    assert!(json.len() > 100 * 1024, "the JSON is {} bytes", json.len());
    for coding in ["gzip", "br", "zstd"] {
        // Compressed whole (under 256 KiB): a Content-Length, far fewer bytes.
        let url = format!("http://{}/json", site.addr);
        let (head, raw) = curl(&url, coding, false, &[]);
        assert!(
            head.contains(&format!("content-encoding: {coding}\r\n")),
            "{head}"
        );
        assert!(head.contains("vary: accept-encoding\r\n"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}\r\n", raw.len())),
            "{head}"
        );
        assert!(
            raw.len() * 5 < json.len(),
            "{coding}: {} of {}",
            raw.len(),
            json.len()
        );
        assert_eq!(curl(&url, coding, true, &[]).1, json, "{coding}");

        // A 2 MiB file: streamed, chunked, a weak ETag, no ranges offered.
        let url = format!("http://{}/files/big.txt", site.addr);
        let (head, body) = curl(&url, coding, true, &[]);
        assert!(
            head.contains(&format!("content-encoding: {coding}\r\n")),
            "{head}"
        );
        assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
        assert!(head.contains("etag: w/\""), "{head}");
        assert!(!head.contains("accept-ranges"), "{head}");
        assert!(body == big, "{coding}: the file differs after decoding");

        // A stream of 64 chunks.
        let url = format!("http://{}/stream", site.addr);
        let (head, body) = curl(&url, coding, true, &[]);
        assert!(
            head.contains(&format!("content-encoding: {coding}\r\n")),
            "{head}"
        );
        let expected: Vec<u8> = (0..64u64).flat_map(|i| text(32 * 1024, 10 + i)).collect();
        assert!(
            body == expected,
            "{coding}: the stream differs after decoding"
        );
    }
}

#[test]
fn python_gzip_decodes_independently() {
    let site = site();
    let out = site.dir.path().join("decoded");
    let script = r#"
import gzip, http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=20)
conn.request("GET", "/files/big.txt", headers={"Accept-Encoding": "gzip"})
res = conn.getresponse()
assert res.getheader("Content-Encoding") == "gzip", res.getheaders()
open(sys.argv[3], "wb").write(gzip.decompress(res.read()))
"#;
    let status = Command::new("python3")
        .args(["-c", script, "127.0.0.1", &site.addr.port().to_string()])
        .arg(&out)
        .status()
        .expect("python3");
    assert!(status.success());
    let big = std::fs::read(site.dir.path().join("big.txt")).unwrap();
    assert!(std::fs::read(&out).unwrap() == big);
}

#[test]
fn what_must_not_be_compressed_is_not() {
    let site = site();
    let url = |path: &str| format!("http://{}{path}", site.addr);
    let plain = |head: &str| !head.contains("content-encoding");
    // No Accept-Encoding: identity, still marked as varying.
    let res = call(site.addr, "GET", "/json", "", b"");
    assert!(res.header("content-encoding").is_none());
    assert_eq!(res.header("vary"), Some("accept-encoding"));
    for (path, extra, why) in [
        ("/files/image.png", &[][..], "an image"),
        ("/small", &[][..], "under min_size"),
        ("/no-transform", &[][..], "no-transform"),
        ("/files/big.txt", &["-r", "0-99"][..], "a range"),
    ] {
        let (head, _) = curl(&url(path), "gzip, br, zstd", false, extra);
        assert!(plain(&head), "{why}: {head}");
        assert!(head.contains("vary: accept-encoding"), "{why}: {head}");
    }
    let (head, body) = curl(&url("/files/big.txt"), "gzip", false, &["-r", "0-99"]);
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert_eq!(body.len(), 100);
    let (head, _) = curl(&url("/json"), "gzip", false, &["-I"]);
    assert!(plain(&head), "HEAD: {head}");
    let (head, _) = curl(&url("/json"), "gzip;q=0, br;q=0, zstd;q=0", false, &[]);
    assert!(plain(&head), "all refused: {head}");
    // A 304 keeps Vary.
    let etag = call(site.addr, "GET", "/files/big.txt", "", b"")
        .header("etag")
        .unwrap()
        .to_string();
    let (head, _) = curl(
        &url("/files/big.txt"),
        "gzip",
        false,
        &["-H", &format!("if-none-match: {etag}")],
    );
    assert!(head.starts_with("http/1.1 304"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
}

#[test]
fn precompressed_siblings_are_sent_as_they_are() {
    let site = site();
    let url = format!("http://{}/files/app.js", site.addr);
    let (head, raw) = curl(&url, "gzip", false, &[]);
    assert!(head.contains("content-encoding: gzip\r\n"), "{head}");
    assert_eq!(head.matches("content-encoding").count(), 1, "{head}");
    assert!(
        head.contains("content-type: text/javascript;charset=utf-8\r\n"),
        "{head}"
    );
    assert_eq!(
        raw,
        std::fs::read(site.dir.path().join("app.js.gz")).unwrap()
    );
    assert_eq!(
        curl(&url, "gzip", true, &[]).1,
        b"the precompressed sibling"
    );
    // Ranges are over the encoded bytes, with the sibling's own validator.
    let (head, part) = curl(&url, "gzip", false, &["-r", "2-9"]);
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert!(head.contains("content-encoding: gzip\r\n"), "{head}");
    let range = format!("content-range: bytes 2-9/{}\r\n", raw.len());
    assert!(head.contains(&range), "{head}");
    assert_eq!(part, &raw[2..10]);
    let original = call(site.addr, "GET", "/files/app.js", "", b"");
    let original_etag = original.header("etag").unwrap().to_lowercase();
    let sibling_etag = head.lines().find(|l| l.starts_with("etag:")).unwrap();
    assert!(
        !sibling_etag.contains(&original_etag),
        "{sibling_etag} vs {original_etag}"
    );
    // A coding without a sibling: the original, compressed by the middleware.
    let (head, body) = curl(&url, "br", true, &[]);
    assert!(head.contains("content-encoding: br\r\n"), "{head}");
    assert_eq!(body, std::fs::read(site.dir.path().join("app.js")).unwrap());
}

#[test]
fn server_sent_events_arrive_compressed_one_at_a_time() {
    for coding in ["gzip", "br", "zstd"] {
        // A site each: the stream of a curl killed below keeps its receiver of the channel.
        let site = site();
        let mut curl = Command::new("curl")
            .args(["-sS", "--no-buffer", "--compressed", "--max-time", "20"])
            .args([
                "-H",
                &format!("accept-encoding: {coding}"),
                "-D",
                "/dev/stderr",
            ])
            .arg(format!("http://{}/events", site.addr))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("curl");
        let (lines_tx, lines) = std::sync::mpsc::channel();
        let stdout = curl.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        for i in 0..3 {
            // The next event is made only after curl decoded and printed this one: without a
            // flush per event, curl would have nothing to decode and this would time out.
            smol::block_on(site.events.send(Event::data(format!("tick {i}")))).unwrap();
            let line = lines.recv_timeout(Duration::from_secs(10));
            assert_eq!(line.as_deref(), Ok(&*format!("data: tick {i}")), "{coding}");
            assert_eq!(
                lines.recv_timeout(Duration::from_secs(10)).as_deref(),
                Ok("")
            );
        }
        curl.kill().unwrap();
        let out = curl.wait_with_output().unwrap();
        let head = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(
            head.contains(&format!("content-encoding: {coding}\r\n")),
            "{head}"
        );
    }
}

#[test]
fn file_server_flags_compress_serve_siblings_and_set_cache_control() {
    let dir = TempDir::new("file-server-flags");
    std::fs::write(dir.path().join("page.html"), text(40_000, 7)).unwrap();
    std::fs::write(dir.path().join("app.js"), text(30_000, 8)).unwrap();
    std::fs::write(dir.path().join("app.js.gz"), gzip(b"sibling")).unwrap();
    let flags = [
        "--compress",
        "--precompressed",
        "--cache-control",
        "public, max-age=60",
        dir.path().to_str().unwrap(),
    ];
    let ex = support::Example::start("file_server", &flags);
    let url = |path: &str| format!("http://{}{path}", ex.addr);
    let (head, body) = curl(&url("/page.html"), "br, gzip", true, &[]);
    assert!(head.contains("content-encoding: br\r\n"), "{head}");
    assert!(
        head.contains("cache-control: public, max-age=60\r\n"),
        "{head}"
    );
    assert_eq!(body, std::fs::read(dir.path().join("page.html")).unwrap());
    let (head, body) = curl(&url("/app.js"), "gzip", true, &[]);
    assert!(head.contains("content-encoding: gzip\r\n"), "{head}");
    assert_eq!(body, b"sibling");
}
