//! Servers for the tests: `router` on `127.0.0.1:0` with a [`Config`] and a thread count, on
//! a background thread, either forever ([`serve`], [`spawn`]) or until told to stop
//! ([`serve_until`], [`run_until`]).

use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use smolweb::{Config, Router, Server};

/// Runs `router` on a server with `threads` executor threads on `127.0.0.1:0`, forever (the
/// end of the test process ends it); returns its address.
///
/// The listener is bound before this returns, so connecting right away is never refused.
pub fn serve(router: Router, config: Config, threads: usize) -> SocketAddr {
    let server = bind(config, threads);
    let addr = server.local_addr();
    std::thread::Builder::new()
        .name(format!("smolweb-test-{}", addr.port()))
        .spawn(move || {
            if let Err(e) = server.run(router) {
                panic!("server on {addr} stopped: {e}");
            }
        })
        .expect("spawn server thread");
    addr
}

/// Runs `router` on a one-thread server with the default [`Config`] on `127.0.0.1:0`;
/// returns its address. Short for `serve(router, Config::default(), 1)`.
pub fn spawn(router: Router) -> SocketAddr {
    serve(router, Config::default(), 1)
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
    run_until(bind(config, threads), router)
}

/// Runs `router` on `server`, already bound and configured (say with
/// `Server::bind_per_core`), as [`serve_until`] does.
pub fn run_until(server: Server, router: Router) -> Stoppable {
    let addr = server.local_addr();
    let (stop, signal) = smol::channel::bounded::<()>(1);
    let thread = std::thread::Builder::new()
        .name(format!("smolweb-test-{}", addr.port()))
        .spawn(move || {
            server.run_until(router, async move {
                let _ = signal.recv().await;
            })
        })
        .expect("spawn server thread");
    Stoppable { addr, stop, thread }
}

/// A server on `127.0.0.1:0` with `config` and `threads`.
fn bind(config: Config, threads: usize) -> Server {
    Server::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config)
        .threads(threads)
}
