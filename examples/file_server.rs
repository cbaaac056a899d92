//! A static file server: serves a directory at the root of the site.
//!
//! `./some/dir/a/b.txt` is served at `/a/b.txt`; a directory serves its `index.html`.
//! Ranges, conditional requests (ETag, Last-Modified) and HEAD work; paths that try to leave
//! the directory are refused. Arguments: the address (default `127.0.0.1:8080`) and the
//! directory (default: the current one). Threads: `SMOLWEB_THREADS` (default: one per core).
//! SIGTERM or Ctrl-C stops it gracefully: no new connections, downloads in progress finish
//! (up to 30 s), exit status 0.
//!
//! Options:
//! - `--compress` compresses responses with brotli, zstd or gzip as the client accepts (needs
//!   the `compression` feature: `cargo run --features compression --example file_server`);
//! - `--precompressed` serves `name.br`, `name.zst` or `name.gz` beside `name` when the
//!   client accepts that coding;
//! - `--cache-control VALUE` sets `Cache-Control` on every file (`"public, max-age=3600"`).
//!
//! ```sh
//! cargo run --release --example file_server -- 127.0.0.1:8080 ./docs
//! curl -i http://127.0.0.1:8080/book.toml
//! curl -H 'Range: bytes=0-9' http://127.0.0.1:8080/book.toml
//! cargo run --release --features compression --example file_server -- \
//!     --compress --cache-control 'public, max-age=60' 127.0.0.1:8080 ./docs
//! curl -si --compressed http://127.0.0.1:8080/src/introduction.md | head -n 12
//! ```

mod support;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::{Router, ServeDir};

const USAGE: support::Usage = support::Usage {
    name: "file_server",
    args: "[ADDR] [DIR] [--compress] [--precompressed] [--cache-control VALUE]",
    about: "Serves the files under DIR (default: the current directory) on ADDR (default
127.0.0.1:8080): DIR/a/b.txt is http://127.0.0.1:8080/a/b.txt, a directory serves its
index.html. Threads: SMOLWEB_THREADS (default: one per core).

--compress         brotli, zstd or gzip as the client accepts (feature `compression`)
--precompressed    serve name.br / name.zst / name.gz beside name when accepted
--cache-control V  Cache-Control: V on every file",
};

fn main() {
    let (args, values, flags) =
        USAGE.parse_with_flags(2, &["--cache-control"], &["--compress", "--precompressed"]);
    let addr = args.first().map_or(support::DEFAULT_ADDR, String::as_str);
    let dir = args.get(1).map_or(".", String::as_str);
    // Checked before listening: a mistyped directory is a start-up error, not a site of 404s.
    let mut files = ServeDir::try_new(dir).unwrap_or_else(|e| USAGE.refuse(e));
    if flags[1] {
        files = files.precompressed();
    }
    if let Some(value) = &values[0] {
        files = files.cache_control(value);
    }
    let app = compress(Router::new().get("/*path", files), flags[0]);
    let mut signals = Signals::new([Signal::Int, Signal::Term])
        .unwrap_or_else(|e| USAGE.refuse(format!("cannot watch for signals: {e}")));
    let server = USAGE.bind(addr);
    println!("serving {dir} on {}", support::url(&server));
    // SIGTERM or Ctrl-C: stop accepting, let downloads finish (up to
    // `Config::shutdown_timeout`), exit 0.
    USAGE.exit(server.run_until(app, async move {
        if let Some(Ok(signal)) = signals.next().await {
            println!("{signal:?}: finishing the downloads in progress");
        }
    }));
}

/// `app` with the compression middleware if `on`; without the `compression` feature, `on` is
/// refused with the command that has it.
fn compress(app: Router, on: bool) -> Router {
    #[cfg(feature = "compression")]
    if on {
        return app.middleware(smolweb::middleware::Compression::new());
    }
    #[cfg(not(feature = "compression"))]
    if on {
        USAGE.refuse(
            "--compress needs the `compression` feature: \
             cargo run --features compression --example file_server -- --compress ...",
        );
    }
    app
}
