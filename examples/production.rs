//! A file server set up for production: the files of DIR at `/`, request logging, metrics at
//! `/metrics` (Prometheus text), a health check at `/healthz` that fails while the server
//! drains, and a graceful stop on SIGTERM or Ctrl-C.
//!
//! ADDR is `HOST:PORT` or `unix:PATH` (a Unix-domain socket); with the `activation` feature a
//! socket passed by systemd (`LISTEN_FDS`) is used instead. On SIGTERM the health check
//! answers `503` for `DRAIN_SECS` seconds (default 2) while requests are still served, so a
//! load balancer sends new ones elsewhere; then the server stops accepting, lets downloads
//! finish (up to 30 s) and exits 0. Logs go to stderr (`RUST_LOG`-style level in
//! `SMOLWEB_LOG`, default `info`). `SMOLWEB_PER_CORE=1` gives each thread its own listener.
//!
//! With `--handoff PATH` the server listens for its successor on the Unix socket PATH: a new
//! process started with the same PATH takes the listening sockets over (every connection
//! waiting in their queues included), and the old one drains and exits 0 by itself — a
//! restart without a supervisor that refuses nothing. The first process binds ADDR.
//!
//! ```sh
//! cargo run --release --example production -- 127.0.0.1:8080 ./docs
//! curl http://127.0.0.1:8080/healthz
//! curl http://127.0.0.1:8080/metrics
//!
//! # a restart without a supervisor: the second takes over, the first exits 0
//! cargo run --release --example production -- 127.0.0.1:8080 ./docs --handoff /tmp/prod.sock &
//! cargo run --release --example production -- 127.0.0.1:8080 ./docs --handoff /tmp/prod.sock &
//! ```

mod support;

use std::time::Duration;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::{Config, Router, ServeDir, log_requests};

const USAGE: support::Usage = support::Usage {
    name: "production",
    args: "[ADDR] [DIR] [--handoff PATH]",
    about: "Serves DIR (default: the current directory) on ADDR (default 127.0.0.1:8080, or
unix:PATH), with request logs on stderr, /metrics and /healthz. SIGTERM or Ctrl-C: /healthz
fails for DRAIN_SECS (default 2), then a graceful stop. --handoff PATH: take the listening
sockets of the server running at PATH (it then drains and exits), or bind ADDR if none does;
listen at PATH for the next one. SMOLWEB_PER_CORE=1: a listener per thread.",
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
    let (args, options) = USAGE.parse_with(2, &["--handoff"]);
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
    let per_core = std::env::var_os("SMOLWEB_PER_CORE").is_some_and(|v| v == "1");
    let server = match &options[0] {
        Some(_) if addr.starts_with("unix:") => {
            USAGE.refuse("--handoff hands over TCP listeners: give ADDR as HOST:PORT")
        }
        Some(path) if per_core => smolweb::Server::handoff(path).bind_per_core(addr),
        Some(path) => smolweb::Server::handoff(path).bind(addr),
        None if per_core => smolweb::Server::bind_per_core(addr),
        None => Ok(USAGE.bind(addr)),
    };
    let server = server.unwrap_or_else(|e| USAGE.refuse(e)).config(Config {
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
