//! Helpers for the hostile, slowloris, write-timeout, shutdown and codec property tests
//! (kept apart from `tests/common`, which belongs to the HTTP/1.1 suite).
//!
//! Every wait here is a bounded poll: a condition checked every few milliseconds until it
//! holds or a deadline passes, never a sleep standing in for synchronization.
#![allow(dead_code)]

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use smolweb::{Config, Router, Server};

/// Runs `router` on a server with `threads` executor threads on `127.0.0.1:0`, forever (the
/// end of the test process ends it). The listener is bound before this returns.
pub fn serve(router: Router, config: Config, threads: usize) -> SocketAddr {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config)
        .threads(threads);
    let addr = server.local_addr();
    std::thread::Builder::new()
        .name(format!("server-{}", addr.port()))
        .spawn(move || {
            if let Err(e) = server.run(router) {
                panic!("server on {addr} stopped: {e}");
            }
        })
        .expect("spawn server thread");
    addr
}

/// A server running `run_until` in a background thread; closing `stop` shuts it down.
pub struct Stoppable {
    pub addr: SocketAddr,
    pub stop: smol::channel::Sender<()>,
    pub thread: JoinHandle<io::Result<()>>,
}

/// Like [`serve`], with `run_until` on a signal that completes when `stop` is closed (or a
/// message is sent on it).
pub fn serve_until(router: Router, config: Config, threads: usize) -> Stoppable {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config)
        .threads(threads);
    let addr = server.local_addr();
    let (stop, signal) = smol::channel::bounded::<()>(1);
    let thread = std::thread::Builder::new()
        .name(format!("server-{}", addr.port()))
        .spawn(move || {
            server.run_until(router, async move {
                let _ = signal.recv().await;
            })
        })
        .expect("spawn server thread");
    Stoppable { addr, stop, thread }
}

/// Polls `cond` every `every` until it holds (true) or `limit` has passed (false).
pub fn wait_for(limit: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    // The count bound is a second guard in case the clock misbehaves.
    let max_polls = (limit.as_micros() / every.as_micros().max(1)) as usize + 2;
    for _ in 0..max_polls {
        if cond() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(every);
    }
    cond()
}

/// How a read on a client socket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The server closed (FIN): read returned 0.
    Eof,
    /// The server reset the connection.
    Reset,
    /// Nothing arrived within the socket's read timeout.
    Timeout,
}

/// Reads until EOF, a reset, or the socket's read timeout; returns the bytes and how it ended.
/// At most `max_bytes` are kept and at most `limit` spent.
pub fn read_until_end(
    stream: &mut TcpStream,
    max_bytes: usize,
    limit: Duration,
) -> (Vec<u8>, ReadEnd) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while started.elapsed() < limit && out.len() <= max_bytes {
        match stream.read(&mut buf) {
            Ok(0) => return (out, ReadEnd::Eof),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return (out, ReadEnd::Reset);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return (out, ReadEnd::Timeout);
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }
    (out, ReadEnd::Timeout)
}

/// Open file descriptors of this process (the server runs in-process).
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// A seeded xorshift64* generator: deterministic, no crates.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Zero is the one state xorshift never leaves.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        assert!(lo <= hi);
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next_u64() % den < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `n` characters from `alphabet`.
    pub fn string_from(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect()
    }
}

/// Splits `len` into random piece lengths, each in `1..=max_piece`.
pub fn random_splits(rng: &mut Rng, len: usize, max_piece: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        let n = rng.range(1, max_piece.max(1)).min(left);
        out.push(n);
        left -= n;
    }
    out
}
