//! Shared pieces of the smolweb benchmark harness: the hyper peer server, the smolweb router
//! it is compared with, in-process servers for the allocation counters, and a blocking
//! keep-alive client that does not allocate in its request loop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod client;
pub mod hyper_app;

/// smolweb's side of the comparison: `/` → "Hello, World!" (as `examples/hello.rs`) and, with
/// `files`, that directory under `/files/` (as `examples/file_server.rs`, and as hyper's peer
/// serves it).
pub fn smolweb_router(files: Option<&Path>) -> smolweb::Router {
    async fn hello(_req: smolweb::Request) -> &'static str {
        "Hello, World!"
    }
    let router = smolweb::Router::new().get("/", hello);
    match files {
        Some(dir) => router.get("/files/*path", smolweb::ServeDir::new(dir)),
        None => router,
    }
}

/// Runs [`smolweb_router`] on a thread of its own with one executor thread; its address.
pub fn spawn_smolweb(files: Option<&Path>) -> std::io::Result<SocketAddr> {
    let server = smolweb::Server::bind("127.0.0.1:0")?.threads(1);
    let addr = server.local_addr();
    let router = smolweb_router(files);
    std::thread::spawn(move || server.run(router));
    Ok(addr)
}

/// Runs hyper's peer (a current-thread tokio runtime) on a thread of its own; its address.
pub fn spawn_hyper(files: Option<&Path>) -> std::io::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let files = files.map(Path::to_path_buf);
    std::thread::spawn(move || {
        hyper_app::run_current_thread(any, files, move |a| {
            let _ = tx.send(a);
        })
    });
    rx.recv_timeout(Duration::from_secs(10))
        .map_err(|_| std::io::Error::other("hyper server did not start"))
}

/// A new temporary directory holding `4k.bin` (4,096 bytes), removed on drop.
pub struct TempFiles(PathBuf);

/// The path both servers serve [`TempFiles`]' file under.
pub const FILE_4K: &str = "/files/4k.bin";

impl TempFiles {
    pub fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("smolweb-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("4k.bin"), [b'x'; 4096])?;
        Ok(TempFiles(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
