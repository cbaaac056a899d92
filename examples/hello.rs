//! Hello, World: the smallest smolweb server.
//!
//! Serves `Hello, World!` at `/`. The address comes from the first argument
//! (default `127.0.0.1:8080`); the number of executor threads from `SMOLWEB_THREADS`
//! (default: one per core). With `SMOLWEB_PER_CORE=1` every thread gets its own
//! `SO_REUSEPORT` listener and executor instead of sharing one (see `Server::bind_per_core`).
//!
//! ```sh
//! cargo run --example hello
//! curl http://127.0.0.1:8080/
//! ```

use smolweb::{Request, Router, Server};

async fn hello(_req: Request) -> &'static str {
    "Hello, World!"
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let server = if std::env::var_os("SMOLWEB_PER_CORE").is_some_and(|v| v == "1") {
        Server::bind_per_core(addr)?
    } else {
        Server::bind(addr)?
    };
    println!("listening on http://{}", server.local_addr());
    server.run(Router::new().get("/", hello))
}
