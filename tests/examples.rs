//! Every example in `examples/`, run as a real process on `127.0.0.1:0` and sent real
//! requests over TCP.
//!
//! `cargo test` builds the examples (into `target/<profile>/examples/`) before it runs the
//! tests; a narrower command such as `cargo test --test examples` does not, so run
//! `cargo build --examples` first in that case. Each example prints its address on its first
//! line of output (`listening on http://127.0.0.1:PORT`, or `serving DIR on http://...` for
//! the file server); the test reads it from there.
//!
//! Every wait is bounded, and every child is killed when its guard is dropped, whether the
//! test passed or panicked. Requests go through the strict raw client of `tests/support`.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use support::{EXAMPLE_TIMEOUT as TIMEOUT, Example, TempDir, example_binary, wait_for_exit};

#[test]
fn hello() {
    let ex = Example::start("hello", &[]);
    let res = ex.get("/");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "Hello, World!");
    assert_eq!(ex.get("/missing").status, 404);
}

#[test]
fn router() {
    let ex = Example::start("router", &[]);
    let body = r#"{"text":"buy milk"}"#;
    let res = ex.send(
        format!(
            "POST /api/todos HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(res.status, 201, "{}", res.text());
    let created: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(created["text"], "buy milk");
    let id = created["id"].as_u64().expect("numeric id");

    let res = ex.get(&format!("/api/todos/{id}"));
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("server"), Some("smolweb-example"));
    let todo: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(todo, created);

    assert_eq!(ex.get("/api/todos/999").status, 404);
    let res = ex.send(b"DELETE /api/todos HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    assert_eq!(res.status, 405);
    assert!(res.header("allow").is_some_and(|a| a.contains("POST")));
}

#[test]
fn file_server() {
    let dir = TempDir::new("examples-test");
    std::fs::write(dir.0.join("hello.txt"), "hello from a file\n").unwrap();
    let ex = Example::start("file_server", &[dir.0.to_str().unwrap()]);
    assert!(ex.first_line.starts_with("serving "), "{}", ex.first_line);

    let res = ex.get("/hello.txt");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "hello from a file\n");
    assert_eq!(res.header("content-type"), Some("text/plain;charset=utf-8"));
    assert!(res.header("etag").is_some());

    let res = ex.send(
        b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nRange: bytes=0-4\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(res.status, 206);
    assert_eq!(res.text(), "hello");
    assert_eq!(ex.get("/nope.txt").status, 404);
}

#[test]
fn middleware() {
    let ex = Example::start("middleware", &[]);
    let res = ex.get("/");
    assert_eq!(res.status, 200);
    assert!(res.header("x-response-time").is_some(), "{:?}", res.headers);

    let res = ex.get("/admin/stats");
    assert_eq!(res.status, 401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    assert!(res.header("x-response-time").is_some());

    let res = ex.send(
        b"GET /admin/stats HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer let-me-in\r\n\
          Connection: close\r\n\r\n",
    );
    assert_eq!(res.status, 200);
    assert!(res.text().contains("hello admin"), "{}", res.text());
}

#[test]
fn streaming() {
    let ex = Example::start("streaming", &[]);
    let res = ex.get("/count");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert_eq!(res.text(), "line 1\nline 2\nline 3\nline 4\nline 5\n");

    let started = Instant::now();
    let res = ex.get("/events?count=2");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    let text = res.text();
    assert_eq!(text.matches("data: tick ").count(), 2, "{text}");
    assert!(text.ends_with("\n\n"));
    // The second event comes a second after the first.
    assert!(started.elapsed() >= Duration::from_millis(900));

    assert_eq!(ex.get("/events?count=many").status, 400);
}

#[test]
fn upload() {
    let ex = Example::start("upload", &[]);
    // Remove the example's upload directory when done (it prints it on its first line).
    let _uploads = ex
        .first_line
        .split("uploads go to ")
        .nth(1)
        .map(|d| TempDir(PathBuf::from(d.trim_end_matches(')'))));

    let body = "a small file\n";
    let res = ex.send(
        format!(
            "PUT /upload/small.txt HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(res.status, 201, "{}", res.text());
    let res = ex.get("/files/small.txt");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), body);

    // Announced as too large: refused before the body is sent.
    let res = ex.send(
        b"PUT /upload/big.bin HTTP/1.1\r\nHost: test\r\nContent-Length: 1048577\r\n\
          Expect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(res.status, 413);

    // Chunked, so the size is known only by reading: 1 MiB + 64 KiB.
    let chunk = vec![b'x'; 64 * 1024];
    let mut raw = b"PUT /upload/big.bin HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\
          Connection: close\r\n\r\n"
        .to_vec();
    for _ in 0..17 {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(&chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let res = ex.send(&raw);
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(
        ex.get("/files/big.bin").status,
        404,
        "no partial file is left"
    );
}

#[test]
#[cfg(unix)]
fn graceful_shutdown_on_sigterm() {
    let mut ex = Example::start("graceful_shutdown", &[]);
    let res = ex.get("/");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "hello\n");

    let pid = libc::pid_t::try_from(ex.child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid, with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_for_exit(&mut ex.child, TIMEOUT);
    assert!(status.success(), "exit status {status:?}");
    // The example said what it did on its way out.
    let mut said = Vec::new();
    loop {
        match ex.lines.recv_timeout(Duration::from_secs(5)) {
            Ok(line) => said.push(line),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!("stdout not closed after exit"),
        }
    }
    assert!(said.iter().any(|l| l.contains("shutting down")), "{said:?}");
}

#[test]
#[cfg(unix)]
fn file_server_drains_on_sigterm() {
    let dir = TempDir::new("examples-test");
    // Large enough that the download is still going when the signal comes.
    let big = vec![b'd'; 32 * 1024 * 1024];
    std::fs::write(dir.0.join("big.bin"), &big).unwrap();
    let mut ex = Example::start("file_server", &[dir.0.to_str().unwrap()]);
    let mut download = support::Conn::connect_with(ex.addr, TIMEOUT);
    download.write(b"GET /big.bin HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let head = download.read_response_to_head();
    assert_eq!(head.status, 200);

    let pid = libc::pid_t::try_from(ex.child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid, with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // The download in progress is completed, byte for byte.
    let body = download.read_to_close();
    assert_eq!(body.len(), big.len(), "the download was cut");
    assert!(body == big);
    let status = wait_for_exit(&mut ex.child, TIMEOUT);
    assert!(status.success(), "exit status {status:?}");
}

/// Every example.
const EXAMPLES: [&str; 7] = [
    "hello",
    "router",
    "middleware",
    "streaming",
    "upload",
    "graceful_shutdown",
    "file_server",
];

/// How a run of an example that is expected to exit at once ended.
struct Exit {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `name` with exactly `args` and waits (bounded) for it to exit by itself.
fn run_to_exit(name: &str, args: &[&str]) -> Exit {
    let mut child = Command::new(example_binary(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start example {name}: {e}"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} {args:?} did not exit within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |pipe: Option<&mut dyn std::io::Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            pipe.read_to_string(&mut text).expect("UTF-8 output");
        }
        text
    };
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn std::io::Read));
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn std::io::Read));
    Exit {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// A refusal: exit status 2 and one plain line on stderr, `NAME: ...`, with no Rust `Debug`
/// output in it; returns that line.
fn assert_refused(name: &str, args: &[&str]) -> String {
    let exit = run_to_exit(name, args);
    assert_eq!(exit.code, Some(2), "{name} {args:?}: {}", exit.stderr);
    let lines: Vec<&str> = exit.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{name} {args:?}: one line, got {lines:?}");
    let line = lines[0];
    assert!(line.starts_with(&format!("{name}: ")), "{line:?}");
    assert!(
        !line.contains('{') && !line.contains("kind:") && !line.contains("Custom"),
        "{name} {args:?}: not a message for a person: {line:?}"
    );
    line.to_string()
}

#[test]
fn every_example_explains_itself_with_help() {
    for name in EXAMPLES {
        for flag in ["--help", "-h"] {
            let exit = run_to_exit(name, &[flag]);
            assert_eq!(exit.code, Some(0), "{name} {flag}: {}", exit.stderr);
            let first = exit.stdout.lines().next().unwrap_or_default();
            assert!(
                first.starts_with(&format!("usage: {name} [ADDR]")),
                "{name} {flag}: {first:?}"
            );
            assert!(
                exit.stdout.contains("http://127.0.0.1:8080/"),
                "{name} {flag} names the URL to open: {}",
                exit.stdout
            );
            assert!(exit.stderr.is_empty(), "{name} {flag}: {}", exit.stderr);
        }
    }
}

#[test]
fn every_example_refuses_a_bad_address_in_one_line() {
    for name in EXAMPLES {
        let line = assert_refused(name, &["127.0.0.1:notaport"]);
        assert_eq!(
            line,
            format!("{name}: cannot listen on 127.0.0.1:notaport: invalid port")
        );
        let line = assert_refused(name, &["localhost"]);
        assert!(
            line.ends_with("cannot listen on localhost: not an address of the form HOST:PORT"),
            "{line}"
        );
        let line = assert_refused(name, &["--verbose"]);
        assert!(line.contains("unknown option --verbose"), "{line}");
    }
}

#[test]
fn an_address_in_use_is_refused_in_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for name in ["hello", "file_server"] {
        let line = assert_refused(name, &[&addr]);
        assert_eq!(
            line,
            format!("{name}: cannot listen on {addr}: address already in use")
        );
    }
}

#[test]
fn file_server_refuses_a_directory_that_is_not_one() {
    let dir = TempDir::new("examples-test");
    let missing = dir.0.join("pubilc");
    let missing = missing.to_str().unwrap();
    let line = assert_refused("file_server", &["127.0.0.1:0", missing]);
    assert_eq!(line, format!("file_server: {missing}: no such directory"));

    let file = dir.0.join("passwd");
    std::fs::write(&file, "not a directory\n").unwrap();
    let file = file.to_str().unwrap();
    let line = assert_refused("file_server", &["127.0.0.1:0", file]);
    assert_eq!(line, format!("file_server: {file}: not a directory"));

    let line = assert_refused("file_server", &["127.0.0.1:0", ".", "extra"]);
    assert!(line.contains("unexpected argument extra"), "{line}");
}

/// `examples/production.rs`: files, `/metrics`, `/healthz`; SIGTERM: the health check fails
/// during the drain, then the process exits 0.
#[test]
fn production_serves_metrics_health_and_drains_on_sigterm() {
    let dir = support::TempDir::new("production");
    std::fs::write(dir.path().join("a.txt"), "file a").unwrap();
    let mut ex = Example::start_with(
        "production",
        "127.0.0.1:0",
        &[dir.text()],
        &[("DRAIN_SECS", "1")],
    );
    assert_eq!(ex.get("/a.txt").text(), "file a");
    assert_eq!(ex.get("/healthz").text(), "ok");
    let metrics = ex.get("/metrics");
    assert!(
        metrics
            .text()
            .contains("smolweb_responses_total{class=\"2xx\"}"),
        "{}",
        metrics.text()
    );
    let pid = ex.child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let draining = support::wait_for(Duration::from_secs(5), Duration::from_millis(20), || {
        ex.get("/healthz").status == 503
    });
    assert!(draining, "the health check did not fail during the drain");
    assert_eq!(
        ex.get("/a.txt").text(),
        "file a",
        "still served while draining"
    );
    let status = support::wait_for_exit(&mut ex.child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}
