//! What a server says before and around serving: `Server::bind`'s errors name the address
//! and the cause in one line, and a `ServeDir` whose root is wrong says so, once — when it is
//! made, and when its root goes away while serving — rather than answering 404 in silence.
//!
//! Logs are captured by a logger of this test binary's own; each test looks only at the
//! records that name its own temporary directory.

mod support;

use std::io;
use std::net::TcpListener;
use std::sync::Mutex;

use smolweb::{BindError, Router, ServeDir, Server};
use support::{TempDir, get};

/// Every `warn` and `info` record logged in this process, as text.
static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}", record.level(), record.args());
            RECORDS.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static LOGGER: Capture = Capture;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// The captured records that mention `text`.
fn records_naming(text: &str) -> Vec<String> {
    let records = RECORDS.lock().unwrap();
    records
        .iter()
        .filter(|r| r.contains(text))
        .cloned()
        .collect()
}

#[test]
fn bind_errors_name_the_address_and_the_cause() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    for err in [
        Server::bind(addr).unwrap_err(),
        Server::bind(addr.to_string()).unwrap_err(),
        Server::bind_per_core(addr).unwrap_err(),
    ] {
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(
            err.to_string(),
            format!("cannot listen on {addr}: address already in use")
        );
        let bind = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<BindError>())
            .expect("a BindError inside");
        assert_eq!(bind.addr(), addr.to_string());
        let source = std::error::Error::source(bind).expect("the system's error");
        assert!(
            source.to_string().to_lowercase().contains("in use"),
            "{source}"
        );
    }

    let err = Server::bind("127.0.0.1:notaport").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        "cannot listen on 127.0.0.1:notaport: invalid port"
    );
    let err = Server::bind("--help").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot listen on --help: not an address of the form HOST:PORT"
    );
}

#[test]
fn try_new_refuses_a_root_that_is_not_a_directory() {
    let dir = TempDir::new("startup-test");
    let missing = dir.0.join("pubilc");
    let err = ServeDir::try_new(&missing).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!("{}: no such directory", missing.display())
    );
    let root = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<smolweb::RootError>())
        .expect("a RootError inside");
    assert_eq!(root.root(), missing);

    let file = dir.0.join("passwd");
    std::fs::write(&file, "x").unwrap();
    let err = ServeDir::try_new(&file).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(
        err.to_string(),
        format!("{}: not a directory", file.display())
    );

    assert!(ServeDir::try_new(dir.text()).is_ok());
}

#[test]
fn a_missing_root_is_logged_once_when_made_not_per_request() {
    capture_logs();
    let dir = TempDir::new("startup-test");
    let missing = dir.0.join("pubilc");
    let missing_text = missing.to_str().unwrap().to_string();
    let addr = support::spawn(Router::new().get("/*path", ServeDir::new(&missing)));
    let logged = records_naming(&missing_text);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].starts_with("WARN ") && logged[0].contains(": no such directory"),
        "{logged:?}"
    );
    for _ in 0..3 {
        assert_eq!(get(addr, "/a.txt").status, 404);
    }
    assert_eq!(
        records_naming(&missing_text),
        logged,
        "nothing more per request"
    );

    // Made later, it is served (and that is said once).
    std::fs::create_dir(&missing).unwrap();
    std::fs::write(missing.join("a.txt"), "here").unwrap();
    let res = get(addr, "/a.txt");
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"here");
    let logged = records_naming(&missing_text);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(logged[1].starts_with("INFO ") && logged[1].contains("served again"));
}

#[test]
fn a_root_removed_while_serving_is_logged_once() {
    capture_logs();
    let dir = TempDir::new("startup-test");
    let root = dir.0.join("site");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.txt"), "here").unwrap();
    let root_text = root.to_str().unwrap().to_string();
    let addr = support::spawn(Router::new().get("/*path", ServeDir::new(&root)));
    assert_eq!(get(addr, "/a.txt").status, 200);
    assert!(records_naming(&root_text).is_empty());
    // A missing file under a good root is an ordinary 404: nothing is logged.
    assert_eq!(get(addr, "/nope.txt").status, 404);
    assert!(records_naming(&root_text).is_empty());

    std::fs::remove_dir_all(&root).unwrap();
    for _ in 0..3 {
        assert_eq!(get(addr, "/a.txt").status, 404);
    }
    let logged = records_naming(&root_text);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].starts_with("WARN ") && logged[0].contains(": no such directory"),
        "{logged:?}"
    );

    // Another directory in its place is not the one the server opened: that is said once too.
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.txt"), "new").unwrap();
    for _ in 0..3 {
        let status = get(addr, "/a.txt").status;
        if cfg!(target_os = "linux") {
            assert_eq!(status, 404);
        } else {
            assert_eq!(status, 200);
        }
    }
    let logged = records_naming(&root_text);
    if cfg!(target_os = "linux") {
        assert_eq!(logged.len(), 2, "{logged:?}");
        assert!(
            logged[1].contains("replaced by another directory"),
            "{logged:?}"
        );
    }
}
