//! The disconnect storm: smolweb must survive clients that vanish mid-transfer, in a process
//! whose SIGPIPE is at its *default* action (which kills the process on a write to a dead
//! socket), and must release every connection's descriptors afterwards.
//!
//! This file is its own test binary so it can put SIGPIPE back to `SIG_DFL` (the Rust runtime
//! ignores it before `main`; an embedding host program or C library may not).
//!
//! `SMOLWEB_STORM_REQUESTS` sets the number of storm requests (default 10,000); `.ci/run`
//! runs 100,000 in release mode and prints the figures.

mod support;

use std::io::{IoSlice, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use smolweb::{Config, Router, ServeDir};
use support::{
    Conn, Rng, connect_with, default_sigpipe, fd_count, find, read_prefix, serve, set_linger_zero,
    sigpipe_is_default, wait_for,
};

/// Read and write timeout of every client socket here.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const FILE_SIZE: usize = 8 * 1024 * 1024 + 123;
const CONCURRENCY: usize = 32;
const REQUEST: &[u8] = b"GET /big.bin HTTP/1.1\r\nHost: storm\r\n\r\n";
/// Several ranges: a `multipart/byteranges` answer, boundaries and part heads between file
/// ranges (the large ones through `sendfile` with the feature).
const RANGES: &[u8] =
    b"GET /big.bin HTTP/1.1\r\nHost: storm\r\nRange: bytes=0-99,5000-2000000,4000000-\r\n\r\n";

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn file_contents() -> Vec<u8> {
    Rng::from_state(0x5eed).bytes(FILE_SIZE)
}

/// A server on a loopback port serving a directory holding `big.bin`.
fn start_server() -> (SocketAddr, Vec<u8>) {
    default_sigpipe();
    let dir = std::env::temp_dir().join(format!("smolweb-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let contents = file_contents();
    std::fs::write(dir.join("big.bin"), &contents).unwrap();
    let app = Router::new().get("/*path", ServeDir::new(&dir));
    (serve(app, Config::default(), 2), contents)
}

/// Downloads the file whole and returns the body.
fn full_download(addr: SocketAddr) -> Vec<u8> {
    let mut conn = Conn::connect_with(addr, IO_TIMEOUT);
    conn.write(b"GET /big.bin HTTP/1.1\r\nHost: storm\r\nConnection: close\r\n\r\n");
    let res = conn.read_response();
    let head = String::from_utf8_lossy(&res.head).to_string();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("content-length: {FILE_SIZE}\r\n")),
        "{head}"
    );
    // Nothing after the body, and then the server closes.
    let rest = conn.read_to_close();
    assert!(rest.is_empty(), "{} bytes after the body", rest.len());
    res.body
}

#[derive(Default)]
struct Counts {
    rst: AtomicU64,
    fin: AtomicU64,
    after_request: AtomicU64,
    pipelined: AtomicU64,
    bytes: AtomicU64,
    multipart: AtomicU64,
}

/// One client vanishing in one of the four ways; returns nothing: the server must cope.
fn vanish(addr: SocketAddr, rng: &mut Rng, counts: &Counts) {
    let mut s = connect_with(addr, IO_TIMEOUT);
    let kind = rng.below(10);
    // One client in four asks for several ranges: about 6 MB, so its prefix is kept shorter
    // (a prefix longer than the answer would wait for the read timeout).
    let request = if rng.below(4) == 0 {
        counts.multipart.fetch_add(1, Ordering::Relaxed);
        RANGES
    } else {
        REQUEST
    };
    // Mostly short prefixes (cheap), sometimes deep into the 8 MiB.
    let prefix = if rng.below(10) == 0 {
        rng.below(FILE_SIZE as u64)
    } else {
        rng.below(256 * 1024)
    };
    let prefix = if request == RANGES {
        prefix % 4_000_000
    } else {
        prefix
    };
    match kind {
        0 => {
            // Sends the request and leaves at once.
            let _ = s.write_all(request);
            if rng.below(2) == 0 {
                set_linger_zero(&s);
            }
            counts.after_request.fetch_add(1, Ordering::Relaxed);
        }
        1 => {
            // Pipelines several requests, reads a little, vanishes with RST.
            let _ = s.write_all(&request.repeat(2 + rng.below(4) as usize));
            counts
                .bytes
                .fetch_add(read_prefix(&mut s, prefix / 4), Ordering::Relaxed);
            set_linger_zero(&s);
            counts.pipelined.fetch_add(1, Ordering::Relaxed);
        }
        k => {
            let _ = s.write_all(request);
            counts
                .bytes
                .fetch_add(read_prefix(&mut s, prefix), Ordering::Relaxed);
            if k % 2 == 0 {
                set_linger_zero(&s);
                counts.rst.fetch_add(1, Ordering::Relaxed);
            } else {
                let _ = s.shutdown(std::net::Shutdown::Both);
                counts.fin.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    drop(s);
}

#[test]
fn disconnect_storm_with_default_sigpipe() {
    let (addr, contents) = start_server();
    assert!(
        sigpipe_is_default(),
        "the storm must run with SIGPIPE at SIG_DFL"
    );
    let requests: u64 = std::env::var("SMOLWEB_STORM_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);

    // Warm up (lazily created threads and descriptors), then take the baseline.
    assert!(full_download(addr) == contents);
    let mut conn = Conn::connect_with(addr, IO_TIMEOUT);
    conn.write(RANGES);
    let ranged = conn.read_response();
    assert_eq!(ranged.status, 206);
    let content_type = ranged.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/byteranges"),
        "{content_type}"
    );
    assert!(find(&ranged.body, &contents[5000..2_000_001]).is_some());
    drop(conn);
    std::thread::sleep(Duration::from_millis(200));
    let (fds_before, rss_before) = (fd_count(), rss_kib());

    let counts = Arc::new(Counts::default());
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let clients: Vec<_> = (0..CONCURRENCY)
        .map(|i| {
            let (counts, next) = (counts.clone(), next.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::from_state(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    vanish(addr, &mut rng, &counts);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    let elapsed = start.elapsed();
    let rss_peak_after = rss_kib();

    // Still alive (we are the server's process), still serving, byte for byte.
    assert!(
        full_download(addr) == contents,
        "full download after the storm differs"
    );

    // Every connection's socket and file closed: back to the baseline within a few seconds
    // (the assertion below says whether it got there).
    let mut fds_after = fd_count();
    wait_for(Duration::from_secs(10), Duration::from_millis(50), || {
        fds_after = fd_count();
        fds_after <= fds_before
    });
    let c = &*counts;
    println!(
        "storm: {requests} requests in {:.2} s ({:.0}/s) at concurrency {CONCURRENCY}; \
         aborts: {} RST after prefix, {} FIN after prefix, {} right after request, {} pipelined; \
         {} asked for several ranges; {:.1} MiB read by clients; fds before {fds_before} after {fds_after}; \
         RSS before {rss_before} KiB, after storm {rss_peak_after} KiB, now {} KiB",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        c.rst.load(Ordering::Relaxed),
        c.fin.load(Ordering::Relaxed),
        c.after_request.load(Ordering::Relaxed),
        c.pipelined.load(Ordering::Relaxed),
        c.multipart.load(Ordering::Relaxed),
        c.bytes.load(Ordering::Relaxed) as f64 / 1048576.0,
        rss_kib(),
    );
    assert!(
        fds_after <= fds_before,
        "descriptors leaked: {fds_before} before, {fds_after} after"
    );
    assert!(c.rst.load(Ordering::Relaxed) > 0 && c.fin.load(Ordering::Relaxed) > 0);
    assert!(c.multipart.load(Ordering::Relaxed) > 0);
    // With the `sendfile` feature the same storm must have gone through `sendfile` (on the
    // server's threads, SIGPIPE blocked), not quietly through the copying path.
    #[cfg(all(feature = "sendfile", target_os = "linux"))]
    {
        let zero_copy = smolweb::zero_copy_bytes();
        println!("storm: {zero_copy} bytes sent with sendfile");
        assert!(zero_copy > 0, "the sendfile path was not taken");
    }
}

/// Control: shows the storm *could* fail. In a child process with SIGPIPE at its default
/// action, a plain `writev` to a reset socket kills the child by SIGPIPE, while smolweb's
/// socket module, in the same situation, gets an error and lives.
#[test]
fn control_writev_dies_socket_module_survives() {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().unwrap();
    let run = |mode: &str| {
        Command::new(&exe)
            .args([
                "--exact",
                "child_writes_to_reset_socket",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SMOLWEB_SIGPIPE_CHILD", mode)
            .output()
            .expect("spawn child")
    };
    let writev = run("writev");
    assert_eq!(
        writev.status.signal(),
        Some(libc::SIGPIPE),
        "writev child should die of SIGPIPE; status {:?}, stdout {}",
        writev.status,
        String::from_utf8_lossy(&writev.stdout)
    );
    let socket = run("socket");
    let out = String::from_utf8_lossy(&socket.stdout);
    assert!(
        socket.status.success(),
        "socket-module child died: {:?} {out}",
        socket.status
    );
    assert!(out.contains("survived: send failed with"), "{out}");
}

/// Runs only as the child of the control test.
#[test]
#[ignore = "child process of control_writev_dies_socket_module_survives"]
fn child_writes_to_reset_socket() {
    let Ok(mode) = std::env::var("SMOLWEB_SIGPIPE_CHILD") else {
        return;
    };
    default_sigpipe();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    set_linger_zero(&client);
    drop(client); // RST
    // Wait until the reset has arrived: a read reports it.
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut byte = [0u8; 1];
    let _ = (&server).read(&mut byte);
    for _ in 0..10 {
        let result = if mode == "writev" {
            (&server).write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"y")])
        } else {
            let stream = async_io::Async::new(server.try_clone().unwrap()).unwrap();
            smol::block_on(smolweb::socket::send(&stream, b"xy"))
        };
        if let Err(e) = result {
            println!("survived: send failed with {e}");
        }
    }
}
