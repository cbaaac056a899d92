//! A static file server: serves a directory at the root of the site.
//!
//! `./some/dir/a/b.txt` is served at `/a/b.txt`; a directory serves its `index.html`.
//! Ranges, conditional requests (ETag, Last-Modified) and HEAD work; paths that try to leave
//! the directory are refused. Arguments: the address (default `127.0.0.1:8080`) and the
//! directory (default: the current one). Threads: `SMOLWEB_THREADS` (default: one per core).
//! SIGTERM or Ctrl-C stops it gracefully: no new connections, downloads in progress finish
//! (up to 30 s), exit status 0.
//!
//! ```sh
//! cargo run --release --example file_server -- 127.0.0.1:8080 ./docs
//! curl -i http://127.0.0.1:8080/book.toml
//! curl -H 'Range: bytes=0-9' http://127.0.0.1:8080/book.toml
//! ```

mod support;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::{Router, ServeDir};

const USAGE: support::Usage = support::Usage {
    name: "file_server",
    args: "[ADDR] [DIR]",
    about: "Serves the files under DIR (default: the current directory) on ADDR (default
127.0.0.1:8080): DIR/a/b.txt is http://127.0.0.1:8080/a/b.txt, a directory serves its
index.html. Threads: SMOLWEB_THREADS (default: one per core).",
};

fn main() {
    let args = USAGE.parse(2);
    let addr = args.first().map_or(support::DEFAULT_ADDR, String::as_str);
    let dir = args.get(1).map_or(".", String::as_str);
    // Checked before listening: a mistyped directory is a start-up error, not a site of 404s.
    let files = ServeDir::try_new(dir).unwrap_or_else(|e| USAGE.refuse(e));
    let mut signals = Signals::new([Signal::Int, Signal::Term])
        .unwrap_or_else(|e| USAGE.refuse(format!("cannot watch for signals: {e}")));
    let server = USAGE.bind(addr);
    println!("serving {dir} on {}", support::url(&server));
    // SIGTERM or Ctrl-C: stop accepting, let downloads finish (up to
    // `Config::shutdown_timeout`), exit 0.
    USAGE.exit(
        server.run_until(Router::new().get("/*path", files), async move {
            if let Some(Ok(signal)) = signals.next().await {
                println!("{signal:?}: finishing the downloads in progress");
            }
        }),
    );
}
