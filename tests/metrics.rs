//! The server's counters after a scripted mix over real sockets (normal requests, a 404, an
//! aborted download, a slowloris, an oversized and a malformed head), read through the
//! Prometheus handler and parsed line by line. SIGPIPE is at its default action.

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use smolweb::{Config, Router, ServeDir, Server};
use support::{Conn, require_default_sigpipe, wait_for};

/// Parses Prometheus text: every line a `# HELP`, a `# TYPE` or a sample; returns the samples
/// by `name{labels}`, and checks that each sample's metric was declared, counters end in
/// `_total`, and values are numbers.
fn parse(text: &str) -> HashMap<String, u64> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(name.starts_with("smolweb_") && !help.is_empty(), "{line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(matches!(kind, "counter" | "gauge"), "{line}");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "a counter without _total: {line}");
            }
            types.insert(name.to_string(), kind.to_string());
        } else {
            let (key, value) = line.rsplit_once(' ').expect("a sample");
            let name = key.split('{').next().unwrap();
            assert!(types.contains_key(name), "{name} has no TYPE line");
            if let Some(labels) = key.strip_prefix(name) {
                assert!(
                    labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                    "{line}"
                );
            }
            samples.insert(key.to_string(), value.parse().expect("a number"));
        }
    }
    samples
}

#[test]
fn counters_after_a_scripted_mix() {
    require_default_sigpipe();
    let dir = support::TempDir::new("metrics");
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 4 << 20]).unwrap();
    let config = Config {
        header_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .threads(1)
        .config(config);
    let metrics = server.metrics();
    let addr = server.local_addr();
    let app = Router::new()
        .get("/", |_| async { "ok" })
        .get("/files/*path", ServeDir::new(dir.path()))
        .get("/metrics", metrics.handler());
    std::thread::spawn(move || server.run(app));

    for _ in 0..3 {
        assert_eq!(support::get(addr, "/").status, 200);
    }
    assert_eq!(support::get(addr, "/nope").status, 404);
    // A download abandoned with a reset after its first bytes.
    let mut aborted = Conn::connect(addr);
    aborted.write(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    aborted.read_response_to_head();
    support::set_linger_zero(&aborted.stream);
    drop(aborted);
    // A slowloris: half a head, then nothing until the header timeout.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    // An oversized head (431) and a malformed one (400).
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40 * 1024)
    );
    assert!(support::send_raw(addr, big.as_bytes()).starts_with(b"HTTP/1.1 431"));
    assert!(support::send_raw(addr, b"GET /a b HTTP/1.1\r\n\r\n").starts_with(b"HTTP/1.1 400"));

    let settled = wait_for(Duration::from_secs(10), Duration::from_millis(20), || {
        let s = metrics.snapshot();
        s.header_timeouts >= 1 && s.peer_reset + s.peer_closed >= 1
    });
    assert!(settled, "{:?}", metrics.snapshot());
    let res = support::get(addr, "/metrics");
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let samples = parse(res.text());
    let get = |key: &str| *samples.get(key).unwrap_or_else(|| panic!("no {key}"));
    assert!(
        get("smolweb_responses_total{class=\"2xx\"}") >= 4,
        "{samples:?}"
    );
    assert_eq!(get("smolweb_responses_total{class=\"4xx\"}"), 1);
    assert_eq!(get("smolweb_rejected_total{reason=\"too_large\"}"), 1);
    assert_eq!(get("smolweb_rejected_total{reason=\"invalid\"}"), 1);
    assert_eq!(get("smolweb_disconnects_total{kind=\"header_timeout\"}"), 1);
    let gone = get("smolweb_disconnects_total{kind=\"peer_reset\"}")
        + get("smolweb_disconnects_total{kind=\"peer_closed\"}");
    assert!(gone >= 1, "{samples:?}");
    assert!(get("smolweb_connections_accepted_total") >= 9);
    assert!(get("smolweb_sent_bytes_total{path=\"copied\"}") > 0);
    drop(slow);
}
