//! A static file server: serves a directory at the root of the site.
//!
//! `./some/dir/a/b.txt` is served at `/a/b.txt`; a directory serves its `index.html`.
//! Ranges, conditional requests (ETag, Last-Modified) and HEAD work; paths that try to leave
//! the directory are refused. Arguments: the address (default `127.0.0.1:8080`) and the
//! directory (default: the current one). Threads: `SMOLWEB_THREADS` (default: one per core).
//!
//! ```sh
//! cargo run --release --example file_server -- 127.0.0.1:8080 ./docs
//! curl -i http://127.0.0.1:8080/book.toml
//! curl -H 'Range: bytes=0-9' http://127.0.0.1:8080/book.toml
//! ```

use smolweb::{Router, ServeDir, Server};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let dir = args.next().unwrap_or_else(|| ".".into());
    let server = Server::bind(addr)?;
    println!("serving {dir} on http://{}", server.local_addr());
    server.run(Router::new().get("/*path", ServeDir::new(dir)))
}
