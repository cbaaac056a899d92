//! Hello, World: the smallest smolweb server.
//!
//! Serves `Hello, World!` at `/`. The address comes from the first argument (default
//! `127.0.0.1:8080`; `--help` lists the arguments); the number of executor threads from
//! `SMOLWEB_THREADS` (default: one per core). With `SMOLWEB_PER_CORE=1` every thread gets its
//! own `SO_REUSEPORT` listener and executor instead of sharing one (see
//! `Server::bind_per_core`).
//!
//! ```sh
//! cargo run --example hello
//! curl http://127.0.0.1:8080/
//! ```

mod support;

use smolweb::{Request, Router, Server};

async fn hello(_req: Request) -> &'static str {
    "Hello, World!"
}

const USAGE: support::Usage = support::Usage {
    name: "hello",
    args: "[ADDR]",
    about: "Serves `Hello, World!` at / on ADDR (default 127.0.0.1:8080): open
http://127.0.0.1:8080/. Threads: SMOLWEB_THREADS (default: one per core);
SMOLWEB_PER_CORE=1 gives each thread its own listener.",
};

fn main() {
    let args = USAGE.parse(1);
    let addr = args.first().map_or(support::DEFAULT_ADDR, String::as_str);
    let server = if std::env::var_os("SMOLWEB_PER_CORE").is_some_and(|v| v == "1") {
        Server::bind_per_core(addr).unwrap_or_else(|e| USAGE.refuse(e))
    } else {
        USAGE.bind(addr)
    };
    println!("listening on {}", support::url(&server));
    USAGE.exit(server.run(Router::new().get("/", hello)));
}
