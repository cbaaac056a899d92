//! Restarts without a supervisor: `examples/production --handoff PATH`. A second process
//! started with the same PATH takes the first one's listening sockets over the Unix control
//! socket; the first drains and exits 0 by itself. Under continuous load from several client
//! threads (a new connection per request, so no request can race with an idle keep-alive
//! close) and curl, no request fails and no connection is refused. Also: a first start binds,
//! a stale socket file is replaced, a file that is not a socket is left alone, a second
//! newcomer during a handoff is refused, and a newcomer whose old server dies mid-handoff
//! binds.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{Example, TIMEOUT, TempDir, example_binary, wait_for, wait_for_exit};

const HELLO: &[u8] = b"smolweb-handoff/1\n";

/// Starts `production` on `addr` serving `dir`, with `--handoff sock` and `envs`.
fn start(addr: &str, dir: &TempDir, sock: &str, envs: &[(&str, &str)]) -> Example {
    Example::start_with("production", addr, &[dir.text(), "--handoff", sock], envs)
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
}

/// One request on a new connection: `GET target` must answer 200 with `body`.
fn one(addr: SocketAddr, target: &str, body: &[u8], tally: &Tally) {
    let stream = match TcpStream::connect_timeout(&addr, TIMEOUT) {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            tally.refused.fetch_add(1, Ordering::SeqCst);
            return;
        }
        Err(_) => {
            tally.failed.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    let served = support::Conn::from_stream(stream);
    let mut conn = served;
    let _ = conn.stream.set_read_timeout(Some(TIMEOUT));
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let good = conn.stream.write_all(request.as_bytes()).is_ok()
        && conn
            .try_read_response(false)
            .is_ok_and(|res| res.status == 200 && res.body == body);
    let counter = if good { &tally.ok } else { &tally.failed };
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Four client threads (files and the health check, which must pass throughout) and a curl
/// loop, until `stop` or 60 s.
fn load(
    addr: SocketAddr,
    stop: &Arc<AtomicBool>,
    tally: &Arc<Tally>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut clients = Vec::new();
    for n in 0..4 {
        let (stop, tally) = (stop.clone(), tally.clone());
        clients.push(std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
                match n % 2 {
                    0 => one(addr, "/a.txt", b"served", &tally),
                    _ => one(addr, "/healthz", b"ok", &tally),
                }
            }
        }));
    }
    let (stop, tally) = (stop.clone(), tally.clone());
    clients.push(std::thread::spawn(move || {
        let url = format!("http://{addr}/a.txt");
        let started = Instant::now();
        while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
            let out = Command::new("curl")
                .args([
                    "--silent",
                    "--max-time",
                    "10",
                    "--write-out",
                    " %{http_code}",
                    &url,
                ])
                .output()
                .expect("run curl");
            let counter = match out.status.success() && out.stdout == b"served 200" {
                true => &tally.ok,
                false if out.status.code() == Some(7) => &tally.refused,
                false => &tally.failed,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    clients
}

/// The handoff under load, with the servers' environment `envs`.
fn handoff_under_load(tag: &str, envs: &[(&str, &str)]) {
    support::require_default_sigpipe();
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("a.txt"), "served").unwrap();
    let sock = dir.path().join("handoff.sock");
    let sock = sock.to_str().unwrap();
    let mut first = start("127.0.0.1:0", &dir, sock, envs);
    let addr = first.addr;
    let mode = std::fs::metadata(sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the control socket's mode");

    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let clients = load(addr, &stop, &tally);
    std::thread::sleep(Duration::from_millis(500));
    // Same address; the newcomer prints it once it has the sockets.
    let second = start(&addr.to_string(), &dir, sock, envs);
    assert_eq!(second.addr, addr);
    let status = wait_for_exit(&mut first.child, Duration::from_secs(30));
    assert!(status.success(), "the first server ended with {status:?}");
    // Only the second serves now: go on until it has served 300 more.
    let after = tally.ok.load(Ordering::SeqCst);
    let more = wait_for(Duration::from_secs(30), Duration::from_millis(20), || {
        tally.ok.load(Ordering::SeqCst) >= after + 300
    });
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    // The second's own count, read with curl: it served requests.
    let metrics = support::curl(&[&format!("http://{addr}/metrics")]);
    let served: f64 = metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("smolweb_responses_total{class=\"2xx\"} "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a 2xx count in /metrics");
    let (ok, failed, refused) = (
        tally.ok.load(Ordering::SeqCst),
        tally.failed.load(Ordering::SeqCst),
        tally.refused.load(Ordering::SeqCst),
    );
    eprintln!(
        "handoff under load ({tag}): {ok} requests served ({after} by the time the first \
         exited, {served} by the second), {failed} failed, {refused} refused"
    );
    assert_eq!((failed, refused), (0, 0), "requests failed or were refused");
    assert!(more, "the second server did not serve 300 requests");
    assert!(
        served >= 300.0,
        "the second server counted {served} responses"
    );
    assert!(ok >= 500, "only {ok} requests");
    assert!(
        std::fs::metadata(sock).is_ok(),
        "the second's control socket is at the path"
    );
}

#[test]
fn a_handoff_under_load_fails_and_refuses_nothing() {
    handoff_under_load("handoff", &[("SMOLWEB_THREADS", "2")]);
}

/// The case SO_REUSEPORT restarts lose connections in: every thread's listener has its own
/// queue. The newcomer asks for one thread and gets one per listener taken over.
#[test]
fn a_per_core_handoff_under_load_fails_and_refuses_nothing() {
    handoff_under_load(
        "handoff-per-core",
        &[("SMOLWEB_THREADS", "2"), ("SMOLWEB_PER_CORE", "1")],
    );
}

#[test]
fn a_first_start_binds_a_stale_socket_is_replaced_and_other_files_are_left_alone() {
    let dir = TempDir::new("handoff-stale");
    std::fs::write(dir.path().join("a.txt"), "served").unwrap();
    let sock = dir.path().join("handoff.sock");
    let text = sock.to_str().unwrap();
    // Nothing at the path: the server binds.
    let mut first = start("127.0.0.1:0", &dir, text, &[]);
    let addr = first.addr;
    assert_eq!(
        support::curl(&[&format!("http://{addr}/a.txt")]).body,
        "served"
    );
    // Killed: its socket file stays, and nobody listens on it.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(UnixStream::connect(&sock).is_err(), "a stale socket");
    assert!(
        std::fs::symlink_metadata(&sock).is_ok(),
        "the stale file is there"
    );
    // The next one binds the port again and replaces the stale file with its own socket.
    let second = start(&addr.to_string(), &dir, text, &[]);
    assert_eq!(
        support::curl(&[&format!("http://{addr}/a.txt")]).body,
        "served"
    );
    assert!(
        UnixStream::connect(&sock).is_ok(),
        "the new control socket answers"
    );
    drop(second);

    // A file that is not a socket: refused with one line, left as it was.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "keep me").unwrap();
    let out = Command::new(example_binary("production"))
        .args([
            "127.0.0.1:0",
            dir.text(),
            "--handoff",
            plain.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exists and is not a socket"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "keep me");
}

#[test]
fn a_second_newcomer_is_refused_and_one_that_vanishes_changes_nothing() {
    let dir = TempDir::new("handoff-busy");
    std::fs::write(dir.path().join("a.txt"), "served").unwrap();
    let sock = dir.path().join("handoff.sock");
    let text = sock.to_str().unwrap();
    let mut first = start("127.0.0.1:0", &dir, text, &[]);
    let addr = first.addr;
    // The test begins a handoff and stalls (it reads the answer; the sockets passed with it
    // are closed by the kernel, since it does not receive them with recvmsg).
    let mut stalled = UnixStream::connect(&sock).unwrap();
    stalled.set_read_timeout(Some(TIMEOUT)).unwrap();
    stalled.write_all(HELLO).unwrap();
    let mut answer = [0u8; 2];
    stalled.read_exact(&mut answer).unwrap();
    assert_eq!(answer, [b'L', 1]);
    // A newcomer meanwhile is refused, and says why.
    let out = Command::new(example_binary("production"))
        .args([&addr.to_string(), dir.text(), "--handoff", text])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another process is taking the listeners over"),
        "{stderr}"
    );
    // The stalled newcomer goes away: the first server goes on as before.
    drop(stalled);
    assert_eq!(
        support::curl(&[&format!("http://{addr}/healthz")]).body,
        "ok"
    );
    assert!(
        first.child.try_wait().unwrap().is_none(),
        "the first server still runs"
    );
    // And hands over to the next newcomer.
    let second = start(&addr.to_string(), &dir, text, &[]);
    let status = wait_for_exit(&mut first.child, Duration::from_secs(30));
    assert!(status.success(), "the first server ended with {status:?}");
    assert_eq!(
        support::curl(&[&format!("http://{}/a.txt", second.addr)]).body,
        "served"
    );
}

#[test]
fn an_old_server_that_dies_mid_handoff_leaves_the_newcomer_to_bind() {
    let dir = TempDir::new("handoff-dies");
    std::fs::write(dir.path().join("a.txt"), "served").unwrap();
    let sock = dir.path().join("handoff.sock");
    // The test plays an old server that reads the hello and dies before answering.
    let old = UnixListener::bind(&sock).unwrap();
    let dies = std::thread::spawn(move || {
        let (mut conn, _) = old.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut hello = [0u8; HELLO.len()];
        conn.read_exact(&mut hello).unwrap();
        assert_eq!(hello, HELLO);
    });
    let second = start("127.0.0.1:0", &dir, sock.to_str().unwrap(), &[]);
    dies.join().unwrap();
    assert_eq!(
        support::curl(&[&format!("http://{}/a.txt", second.addr)]).body,
        "served"
    );
    assert!(
        UnixStream::connect(&sock).is_ok(),
        "the newcomer's control socket answers"
    );
}
