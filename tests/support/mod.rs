//! The one helper module of the integration tests: servers on ephemeral ports, a strict raw
//! HTTP/1.1 client over `std::net::TcpStream` (strict enough to notice framing mistakes), the
//! parser of the responses it reads, bounded waits, and a seeded random number generator.
//!
//! Every read has a timeout and every loop a bound on both time and iterations, so a
//! misbehaving server fails a test instead of hanging it.
//!
//! - [`server`]: `serve`, `spawn` and the stoppable `serve_until` / `run_until`.
//! - [`client`]: sockets, [`Conn`], request builders and one-call exchanges, reading until
//!   the server ends a connection.
//! - [`response`]: [`RawResponse`] and the parser.
//! - [`storm`]: running a disconnect storm and checking the descriptors after it.
//! - [`tempdir`]: [`TempDir`], a directory removed on drop.
//! - [`curl`]: curl as a process, its `-si` output parsed.
//! - [`certs`]: a CA and certificates it signs, made with `openssl` at test time.
//! - [`tls`] (feature `tls`): a rustls client that trusts them.
//! - [`wait`]: the timeouts, `wait_for`, `fd_count`, `wait_for_exit`.
//! - [`example`]: running the examples as processes.
//! - [`rng`]: [`Rng`] and `random_splits`.
//! - [`vanish`] (Unix): SIGPIPE at its default action, and clients that go away.
// Each test binary uses a subset of these helpers (and of the re-exports below).
#![allow(dead_code, unused_imports)]

pub mod certs;
pub mod client;
pub mod curl;
pub mod example;
pub mod response;
pub mod rng;
pub mod server;
pub mod storm;
pub mod tempdir;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(unix)]
pub mod vanish;
pub mod wait;

pub use certs::{Certs, KeyForm};
#[cfg(unix)]
pub use client::connect_small_rcvbuf;
pub use client::{
    Conn, ReadEnd, call, connect, connect_with, get, is_closed, read_until_end, request, send_raw,
    try_get,
};
pub use curl::{CurlResponse, curl};
pub use example::{EXAMPLE_TIMEOUT, Example, example_binary};
pub use response::{RawResponse, contains, find, parse_all, preview};
pub use rng::{Rng, random_splits};
pub use server::{Stoppable, run_until, serve, serve_until, spawn};
pub use storm::{StormReport, storm};
pub use tempdir::TempDir;
#[cfg(unix)]
pub use vanish::{
    Gone, default_sigpipe, read_prefix, require_default_sigpipe, set_linger_zero,
    sigpipe_is_default, storm_size, vanish_now,
};
pub use wait::{DEADLINE, TIMEOUT, fd_count, wait_for, wait_for_exit};
