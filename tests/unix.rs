//! HTTP over a Unix-domain socket (`Server::bind_unix`): curl as the client, the peer's
//! credentials, the stale-socket rules, the file removed at shutdown, and clients vanishing
//! mid-download with SIGPIPE at its default action.

#![cfg(unix)]

mod support;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;
use std::time::Duration;

use smolweb::{Request, Router, ServeDir, Server};
use support::{TempDir, fd_count, require_default_sigpipe, wait_for};

/// The tests here run one at a time: the vanishing test counts the process's descriptors.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn app(dir: &std::path::Path) -> Router {
    Router::new()
        .get("/", |_| async { "Hello over a Unix socket" })
        .get("/whoami", |req: Request| async move {
            let c = req
                .peer_credentials()
                .expect("credentials over a Unix socket");
            format!("pid={} uid={} gid={}", c.pid, c.uid, c.gid)
        })
        .get("/files/*path", ServeDir::new(dir))
}

fn curl(socket: &std::path::Path, path: &str) -> String {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--unix-socket",
        ])
        .arg(socket)
        .arg(format!("http://localhost{path}"))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn curl_over_a_unix_socket_with_peer_credentials() {
    let _serial = one_at_a_time();
    require_default_sigpipe();
    let dir = TempDir::new("unix");
    let path = dir.path().join("app.sock");
    let server = Server::bind_unix(&path).unwrap().threads(1);
    let app = app(dir.path());
    std::thread::spawn(move || server.run(app));
    assert_eq!(curl(&path, "/"), "Hello over a Unix socket");
    let whoami = curl(&path, "/whoami");
    let uid = unsafe { libc::getuid() };
    assert!(whoami.contains(&format!(" uid={uid} ")), "{whoami}");
    let pid: u32 = whoami
        .split_whitespace()
        .find_map(|w| w.strip_prefix("pid="))
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        pid,
        std::process::id(),
        "the client's pid, not the server's"
    );
}

#[test]
fn stale_live_and_foreign_files_at_the_path() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("unix-stale");
    // A socket file whose server is gone is replaced.
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let server = Server::bind_unix(&stale).expect("a stale socket is replaced");
    // One a server listens on is refused.
    let err = Server::bind_unix(&stale).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    drop(server);
    // Any other file is left alone.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    let err = Server::bind_unix(&file).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

#[test]
fn the_socket_file_is_removed_at_shutdown() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("unix-stop");
    let path = dir.path().join("app.sock");
    let server = Server::bind_unix(&path).unwrap().threads(1);
    let stoppable = support::run_until(server, Router::new().get("/", |_| async { "up" }));
    assert_eq!(curl(&path, "/"), "up");
    drop(stoppable.stop);
    stoppable.thread.join().unwrap().unwrap();
    assert!(!path.exists(), "the socket file is still there");
}

#[test]
fn clients_vanishing_mid_download_over_a_unix_socket() {
    let _serial = one_at_a_time();
    require_default_sigpipe();
    let dir = TempDir::new("unix-vanish");
    std::fs::write(dir.path().join("big.bin"), vec![9u8; 4 << 20]).unwrap();
    let path = dir.path().join("app.sock");
    let server = Server::bind_unix(&path).unwrap().threads(2);
    let app = app(dir.path());
    std::thread::spawn(move || server.run(app));
    assert_eq!(curl(&path, "/"), "Hello over a Unix socket");
    std::thread::sleep(Duration::from_millis(100));
    let before = fd_count();
    for i in 0..200 {
        let mut s = UnixStream::connect(&path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = vec![0u8; 1 + i * 997 % 65536];
        let _ = s.read(&mut buf);
        drop(s); // gone with most of the file unread
    }
    // Alive, still serving, and every connection's descriptors given back.
    assert_eq!(curl(&path, "/"), "Hello over a Unix socket");
    let settled = wait_for(Duration::from_secs(10), Duration::from_millis(20), || {
        fd_count() <= before
    });
    assert!(
        settled,
        "descriptors: {before} before, {} after",
        fd_count()
    );
}

/// The examples take `unix:PATH` for their address: `hello` on a Unix socket, reached with
/// curl.
#[test]
fn the_hello_example_on_a_unix_socket() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("unix-hello");
    let path = dir.path().join("hello.sock");
    let mut child = Command::new(support::example_binary("hello"))
        .arg(format!("unix:{}", path.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the hello example");
    let up = wait_for(Duration::from_secs(20), Duration::from_millis(20), || {
        path.exists()
    });
    let answer = if up { curl(&path, "/") } else { String::new() };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer, "Hello, World!");
}
