//! `alloc-count [N]`: heap allocations per keep-alive request for smolweb and for hyper:
//! `GET /` ("Hello, World!") and `GET /files/4k.bin` (a 4 KiB file).
//!
//! # Method
//!
//! A counting `#[global_allocator]` wraps the system allocator and counts every call that
//! can hand out a new block: `alloc`, `alloc_zeroed` and `realloc` (a `realloc` may move
//! and grows a block, so it is counted like an allocation; `dealloc` is not counted).
//! The counter is process-wide, so it sees the server's threads and the client alike.
//!
//! Each server runs in-process on its own thread with one executor thread (smolweb's router,
//! the hello route and a `ServeDir` at `/files/`, with `Server::bind("127.0.0.1:0")?.threads(1)`;
//! hyper's peer on a tokio current-thread runtime), serving a temporary directory holding the
//! 4 KiB file. The main thread is the client: one loopback keep-alive
//! connection, a blocking std `TcpStream`, requests written and responses read fully by
//! `content-length` (see `smolweb_bench::client`). After a warm-up of 1,000 requests the
//! counter is read, N requests are made, and it is read again.
//!
//! The client is built not to allocate in its loop (its request bytes and read buffer are
//! allocated once, at connect). Rather than trust that, the same client loop is first run
//! against a *raw* server thread that is also allocation-free (a blocking std socket that
//! reads a request into a stack buffer and writes a static response). Whatever that
//! baseline counts per request is the client's (plus the process' background) share; it is
//! printed and subtracted from both servers' figures. It is expected to be 0.0.
//!
//! Between phases the previous client is closed and the process idles briefly, so one
//! server's connection teardown is not counted in the next phase.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smolweb_bench::client::Client;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: u64 = 1_000;

/// Allocations and bytes per request of `n` requests for `path` to `addr` (a body of `len`
/// bytes expected), after the warm-up.
fn measure(addr: SocketAddr, path: &str, len: u64, n: u64) -> std::io::Result<(f64, f64)> {
    let mut client = Client::connect(addr, path)?;
    for _ in 0..WARMUP {
        check(client.get()?, len)?;
    }
    let (a0, b0) = (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    for _ in 0..n {
        // `check` allocates only on failure, which ends the run anyway.
        check(client.get()?, len)?;
    }
    let (a1, b1) = (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    drop(client);
    std::thread::sleep(Duration::from_millis(200));
    Ok(((a1 - a0) as f64 / n as f64, (b1 - b0) as f64 / n as f64))
}

fn check((status, len): (u16, u64), want: u64) -> std::io::Result<()> {
    if status != 200 || len != want {
        return Err(std::io::Error::other(format!(
            "unexpected response: status {status}, {len} bytes"
        )));
    }
    Ok(())
}

/// A server that allocates nothing per request: the baseline for the client's own share.
fn raw_server() -> std::io::Result<SocketAddr> {
    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\ncontent-type: text/plain\r\n\r\nHello, World!";
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((mut s, _)) = listener.accept() {
            let _ = s.set_nodelay(true);
            let mut filled = 0;
            loop {
                let n = match s.read(&mut buf[filled..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                filled += n;
                // One request in flight at a time: answer each complete head.
                while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    if s.write_all(RESPONSE).is_err() {
                        filled = 0;
                        break;
                    }
                    buf.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
                if filled == buf.len() {
                    break;
                }
            }
        }
    });
    Ok(addr)
}

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
        .max(1);
    let (base, base_bytes) = measure(raw_server()?, "/", 13, n)?;
    let files = smolweb_bench::TempFiles::new()?;
    let smolweb = smolweb_bench::spawn_smolweb(Some(files.path()))?;
    let hyper = smolweb_bench::spawn_hyper(Some(files.path()))?;
    for (label, path, len) in [("", "/", 13), ("file ", smolweb_bench::FILE_4K, 4096)] {
        let (smol, smol_bytes) = measure(smolweb, path, len, n)?;
        let (hyp, hyp_bytes) = measure(hyper, path, len, n)?;
        println!(
            "{label}allocs/request smolweb={:.1} hyper={:.1}",
            smol - base,
            hyp - base
        );
        println!(
            "{label}bytes/request smolweb={:.0} hyper={:.0}",
            smol_bytes - base_bytes,
            hyp_bytes - base_bytes
        );
    }
    println!(
        "baseline (client + raw server) allocs/request={base:.2} bytes/request={base_bytes:.0} n={n} warmup={WARMUP}"
    );
    Ok(())
}
