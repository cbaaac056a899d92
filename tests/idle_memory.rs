//! What an idle keep-alive connection keeps on the heap, over real loopback sockets.
//!
//! A global allocator keeps, for every allocation size, how many allocations of that size
//! are live (allocations made on the client's thread are not counted). A one-thread server
//! answers one request on each of [`CONNS`] keep-alive connections, which are then held
//! open; the live allocations before and after, divided by the connection count, are what
//! one idle connection keeps. Run with `--nocapture` to see them by size:
//!
//! ```sh
//! cargo test --release --test idle_memory -- --nocapture --test-threads 1
//! ```
//!
//! The bytes counted are those asked of the allocator; the process's resident memory adds
//! the allocator's own overhead (about 8 bytes per allocation, sizes rounded up to 16) and
//! the pages of the kernel's side of the registration. `bench/rss.py` measures that.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use smolweb::{Request, Router, ServeDir};
use support::{TempDir, curl, spawn};

/// Sizes up to this are counted one by one; larger ones in the last entry.
const SIZES: usize = 16 * 1024;

/// Live allocations by size; the last entry counts the bytes of the larger ones.
static LIVE: [AtomicI64; SIZES + 2] = [const { AtomicI64::new(0) }; SIZES + 2];

thread_local! {
    /// Set on the client's thread: what it allocates is not the server's.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

fn count(size: usize, delta: i64) {
    if QUIET.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    if size <= SIZES {
        LIVE[size].fetch_add(delta, Ordering::Relaxed);
    } else {
        LIVE[SIZES + 1].fetch_add(delta * size as i64, Ordering::Relaxed);
    }
}

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(layout.size(), -1);
        count(new_size, 1);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout.size(), -1);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Connections held open at once.
const CONNS: usize = 500;

fn snapshot() -> Vec<i64> {
    LIVE.iter().map(|n| n.load(Ordering::Relaxed)).collect()
}

/// What one idle connection keeps: (bytes, allocations), and a line per size.
struct Kept {
    bytes: f64,
    allocations: f64,
    by_size: Vec<(usize, f64)>,
}

impl Kept {
    fn between(before: &[i64], after: &[i64]) -> Kept {
        let n = CONNS as f64;
        let mut kept = Kept {
            bytes: 0.0,
            allocations: 0.0,
            by_size: Vec::new(),
        };
        for size in 0..=SIZES {
            let live = (after[size] - before[size]) as f64 / n;
            kept.bytes += live * size as f64;
            kept.allocations += live;
            if live.abs() >= 0.05 {
                kept.by_size.push((size, live));
            }
        }
        let large = (after[SIZES + 1] - before[SIZES + 1]) as f64 / n;
        kept.bytes += large;
        kept
    }

    fn print(&self, what: &str) {
        println!(
            "{what}: {:.0} bytes in {:.2} allocations per idle connection",
            self.bytes, self.allocations
        );
        for (size, live) in &self.by_size {
            println!("  {live:6.2} x {size:5} bytes");
        }
    }
}

/// One request on `stream`, its whole response read (the body by its `Content-Length`).
fn exchange(stream: &mut TcpStream, target: &str) {
    write!(stream, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no whole response in time");
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the response ended");
        got.extend_from_slice(&buf[..n]);
        let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&got[..at]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200 "), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        if got.len() >= at + 4 + length {
            return;
        }
    }
}

/// One measurement at a time: the counts are the whole process's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds [`CONNS`] connections to `addr` after one `GET target` each; what each keeps.
fn kept_per_idle_connection(addr: SocketAddr, target: &str) -> Kept {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    QUIET.with(|q| q.set(true));
    // A first connection, closed: what the server makes once (per thread) is not counted.
    let mut warm = TcpStream::connect(addr).unwrap();
    warm.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    exchange(&mut warm, target);
    drop(warm);
    std::thread::sleep(Duration::from_millis(300));
    let before = snapshot();
    let mut held = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        exchange(&mut stream, target);
        held.push(stream);
    }
    // The server sets its last connections waiting; then nothing changes until they close.
    std::thread::sleep(Duration::from_millis(500));
    let after = snapshot();
    // Still open: a connection closed would make the figure a lie.
    for stream in held.iter_mut().step_by(50) {
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        assert!(
            matches!(stream.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a held connection was closed"
        );
    }
    Kept::between(&before, &after)
}

/// The bound on what an idle connection keeps on the heap.
const MAX_IDLE_BYTES: f64 = 1536.0;

#[test]
fn an_idle_hello_connection_keeps_little() {
    async fn hello(_req: Request) -> &'static str {
        "Hello, World!"
    }
    let addr = spawn(Router::new().get("/", hello));
    let kept = kept_per_idle_connection(addr, "/");
    kept.print("hello");
    assert!(kept.bytes <= MAX_IDLE_BYTES, "{} bytes", kept.bytes);
    // The server still answers an independent client on a fresh connection.
    let res = curl(&[&format!("http://{addr}/")]);
    assert_eq!(res.body, "Hello, World!");
}

#[test]
fn an_idle_file_server_connection_keeps_little() {
    let dir = TempDir::new("idle-memory");
    std::fs::write(dir.path().join("small.txt"), vec![b'x'; 1024]).unwrap();
    let files = ServeDir::try_new(dir.path()).unwrap();
    let addr = spawn(Router::new().get("/*path", files));
    let kept = kept_per_idle_connection(addr, "/small.txt");
    kept.print("file_server");
    assert!(kept.bytes <= MAX_IDLE_BYTES, "{} bytes", kept.bytes);
    let res = curl(&[&format!("http://{addr}/small.txt")]);
    assert_eq!(res.body.len(), 1024);
}
