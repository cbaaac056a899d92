//! Graceful shutdown on Ctrl-C or SIGTERM.
//!
//! `/slow` takes five seconds. Start a slow request, then press Ctrl-C (or
//! `kill -TERM <pid>`): the server stops accepting at once (new connections are refused),
//! closes idle keep-alive connections, lets the slow request finish (up to
//! `Config::shutdown_timeout`), and exits.
//!
//! ```sh
//! cargo run --example graceful_shutdown
//! curl http://127.0.0.1:8080/slow &   # then press Ctrl-C in the server's terminal
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`).

mod support;

use std::time::Duration;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::{Config, Router};

async fn slow(_req: smolweb::Request) -> &'static str {
    async_io::Timer::after(Duration::from_secs(5)).await;
    "done, slowly\n"
}

const USAGE: support::Usage = support::Usage {
    name: "graceful_shutdown",
    args: "[ADDR]",
    about: "Graceful shutdown on ADDR (default 127.0.0.1:8080): open http://127.0.0.1:8080/slow
(five seconds), then press Ctrl-C or send SIGTERM: the slow request finishes, then it exits.",
};

fn main() {
    let args = USAGE.parse(1);
    let mut signals = Signals::new([Signal::Int, Signal::Term])
        .unwrap_or_else(|e| USAGE.refuse(format!("cannot watch for signals: {e}")));
    let config = Config {
        shutdown_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let server = USAGE
        .bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str))
        .config(config);
    println!(
        "listening on http://{} (pid {})",
        server.local_addr(),
        std::process::id()
    );

    let app = Router::new()
        .get("/", |_| async { "hello\n" })
        .get("/slow", slow);
    USAGE.exit(server.run_until(app, async move {
        if let Some(Ok(signal)) = signals.next().await {
            println!("{signal:?}: shutting down");
        }
    }));
    println!("all connections closed; bye");
}
