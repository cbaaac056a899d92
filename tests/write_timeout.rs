//! A client that asks for a large response and never reads it: with `write_timeout` 1 s the
//! server gives up on the connection, and everything it held (the socket, the open file) is
//! released: the process' descriptor count returns to its baseline.
//!
//! The two tests run one at a time (they count this process' descriptors).

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use smolweb::{Config, Router, ServeDir};
use support::{ReadEnd, connect_small_rcvbuf, fd_count, read_until_end, wait_for};

const BIG: usize = 32 * 1024 * 1024;
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// The tests count descriptors of the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A directory holding `big.bin` (32 MiB), unique to this process.
fn big_file_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smolweb-write-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join("big.bin");
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(BIG as u64) {
        let mut file = std::fs::File::create(&path).expect("create big.bin");
        let block = vec![b'z'; 1024 * 1024];
        for _ in 0..BIG / block.len() {
            file.write_all(&block).expect("write big.bin");
        }
    }
    dir
}

fn serve(dir: PathBuf) -> SocketAddr {
    let app = Router::new()
        .get("/", |_| async { "ok" })
        .get("/files/*path", ServeDir::new(dir))
        .get("/vec", |_| async { vec![b'v'; BIG] });
    let config = Config {
        write_timeout: WRITE_TIMEOUT,
        ..Config::default()
    };
    support::serve(app, config, 1)
}

/// Requests `target` and never reads: the server must drop the connection and release what
/// it held. `held` is how many descriptors the server holds while stalled (socket, file).
fn stalled_reader_is_dropped(target: &str, held: usize) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = big_file_dir();
    let addr = serve(dir.clone());
    // Warm up (and wait for the server to close: reading to EOF), then take the baseline.
    let warm = support::send_raw(
        addr,
        b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n",
    );
    assert!(
        warm.starts_with(b"HTTP/1.1 206 "),
        "{:?}",
        String::from_utf8_lossy(&warm)
    );
    let baseline = fd_count();

    // A tiny receive buffer, so the server's sends stall quickly.
    let mut client = connect_small_rcvbuf(addr, 4096);
    client
        .write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("send request");
    let sent_at = Instant::now();
    // The client's socket, plus what the server holds while it writes.
    let mut peak = 0;
    let reached = wait_for(Duration::from_secs(5), Duration::from_millis(5), || {
        peak = peak.max(fd_count());
        peak >= baseline + 1 + held
    });
    assert!(
        reached,
        "the server never held {held} descriptors (baseline {baseline}, peak {peak})"
    );

    // Then it gives up: only the client's socket is left.
    let released = wait_for(Duration::from_secs(10), Duration::from_millis(10), || {
        fd_count() == baseline + 1
    });
    let took = sent_at.elapsed();
    assert!(
        released,
        "descriptors not released after {took:?}: {} open, baseline {baseline} + 1",
        fd_count()
    );
    assert!(
        took >= WRITE_TIMEOUT.mul_f32(0.9),
        "released after only {took:?}: before the write timeout?"
    );
    assert!(
        took < WRITE_TIMEOUT + Duration::from_secs(5),
        "released after {took:?}"
    );

    // What arrived is a truncated response, ended by the server.
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let (bytes, end) = read_until_end(&mut client, BIG + 4096, Duration::from_secs(20));
    assert_ne!(
        end,
        ReadEnd::Timeout,
        "the server did not end the connection"
    );
    assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(
        bytes.len() < BIG,
        "the whole response ({} bytes) got through a client that never read",
        bytes.len()
    );
    drop(client);
    assert!(
        wait_for(Duration::from_secs(5), Duration::from_millis(5), || {
            fd_count() == baseline
        }),
        "{} descriptors open after the client closed, baseline {baseline}",
        fd_count()
    );
    eprintln!(
        "{target}: held {held} descriptors, released after {took:?}, {} bytes reached the client",
        bytes.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_to_a_client_that_never_reads_is_dropped_and_the_file_closed() {
    stalled_reader_is_dropped("/files/big.bin", 2);
}

#[test]
fn large_body_to_a_client_that_never_reads_is_dropped() {
    stalled_reader_is_dropped("/vec", 1);
}
