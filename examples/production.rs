//! A file server set up for production: the files of DIR at `/`, request logging, metrics at
//! `/metrics` (Prometheus text), a health check at `/healthz` that fails while the server
//! drains, and a graceful stop on SIGTERM or Ctrl-C.
//!
//! ADDR is `HOST:PORT` or `unix:PATH` (a Unix-domain socket); with the `activation` feature a
//! socket passed by systemd (`LISTEN_FDS`) is used instead. On SIGTERM the health check
//! answers `503` for `DRAIN_SECS` seconds (default 2) while requests are still served, so a
//! load balancer sends new ones elsewhere; then the server stops accepting, lets downloads
//! finish (up to 30 s) and exits 0. Logs go to stderr (`RUST_LOG`-style level in
//! `SMOLWEB_LOG`, default `info`).
//!
//! ```sh
//! cargo run --release --example production -- 127.0.0.1:8080 ./docs
//! curl http://127.0.0.1:8080/healthz
//! curl http://127.0.0.1:8080/metrics
//! ```

mod support;

use std::time::Duration;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::{Config, Router, ServeDir, log_requests};

const USAGE: support::Usage = support::Usage {
    name: "production",
    args: "[ADDR] [DIR]",
    about: "Serves DIR (default: the current directory) on ADDR (default 127.0.0.1:8080, or
unix:PATH), with request logs on stderr, /metrics and /healthz. SIGTERM or Ctrl-C: /healthz
fails for DRAIN_SECS (default 2), then a graceful stop.",
};

/// Log lines to stderr at the level `SMOLWEB_LOG` names.
struct Stderr(log::LevelFilter);

impl log::Log for Stderr {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.level() <= self.0
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}", record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

fn main() {
    let args = USAGE.parse(2);
    let addr = args.first().map_or(support::DEFAULT_ADDR, String::as_str);
    let dir = args.get(1).map_or(".", String::as_str);
    let level = std::env::var("SMOLWEB_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    let logger: &'static Stderr = Box::leak(Box::new(Stderr(level)));
    let _ = log::set_logger(logger).map(|()| log::set_max_level(level));
    let drain = std::env::var("DRAIN_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    let files = ServeDir::try_new(dir).unwrap_or_else(|e| USAGE.refuse(e));
    let mut signals = Signals::new([Signal::Int, Signal::Term])
        .unwrap_or_else(|e| USAGE.refuse(format!("cannot watch for signals: {e}")));
    let server = USAGE.bind(addr).config(Config {
        drain_delay: Duration::from_secs_f64(drain),
        ..Config::default()
    });
    let app = Router::new()
        .get("/metrics", server.metrics().handler())
        .get("/healthz", server.health().handler())
        .get("/*path", files)
        .middleware(log_requests);
    println!("serving {dir} on {}", support::url(&server));
    USAGE.exit(server.run_until(app, async move {
        if let Some(Ok(signal)) = signals.next().await {
            println!("{signal:?}: draining for {drain} s, then stopping");
        }
    }));
}
