//! Socket activation (feature `activation`) and a restart under load with no refused
//! connection: this test plays the supervisor (systemd's part). It binds the listening
//! socket itself and passes it to each server process as fd 3 with `LISTEN_FDS=1`; while a
//! client sends requests without a pause, a second process starts on the same socket, the
//! first gets SIGTERM (it stops accepting, finishes what it was doing, exits 0), and every
//! request must succeed. Connections wait in the socket's queue, which the supervisor keeps
//! open, so none is refused in between.

#![cfg(feature = "activation")]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{TempDir, require_default_sigpipe, wait_for, wait_for_exit};

/// Starts `examples/file_server` on `listener`, passed as fd 3 (LISTEN_FDS=1).
fn start(listener: &TcpListener, dir: &TempDir) -> Child {
    let fd = listener.as_raw_fd();
    let mut command = Command::new(support::example_binary("file_server"));
    command
        .args(["127.0.0.1:1", dir.text()])
        .env("LISTEN_FDS", "1")
        .env_remove("LISTEN_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // In the child, between fork and exec: the socket becomes fd 3, inherited, as systemd
    // passes it.
    unsafe {
        command.pre_exec(move || {
            // dup2 onto itself would leave close-on-exec set: clear it instead.
            let done = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if done == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().expect("start file_server")
}

#[test]
fn a_restart_on_a_passed_socket_refuses_nothing() {
    require_default_sigpipe();
    let dir = TempDir::new("activation");
    std::fs::write(dir.path().join("a.txt"), "served").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();

    let mut first = start(&listener, &dir);
    assert!(
        wait_for(Duration::from_secs(20), Duration::from_millis(20), || {
            support::try_get(addr, "/a.txt").is_some_and(|r| r.status == 200)
        }),
        "the first server does not answer"
    );

    // A client that never pauses, each request on a new connection.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let client = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
                match support::try_get(addr, "/a.txt") {
                    Some(res) if res.status == 200 && res.body == b"served" => {
                        ok.fetch_add(1, Ordering::SeqCst)
                    }
                    _ => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let second = start(&listener, &dir);
    std::thread::sleep(Duration::from_millis(300));
    // The first process drains and exits.
    assert_eq!(unsafe { libc::kill(first.id() as i32, libc::SIGTERM) }, 0);
    let status = wait_for_exit(&mut first, Duration::from_secs(30));
    assert!(status.success(), "the first server ended with {status:?}");
    let served_before = ok.load(Ordering::SeqCst);
    // The second serves alone for a while.
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    client.join().unwrap();
    let mut second = second;
    let _ = second.kill();
    let _ = second.wait();
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    eprintln!("restart under load: {ok} requests served, {failed} failed");
    assert_eq!(failed, 0, "requests failed across the restart");
    assert!(
        ok > served_before,
        "nothing served after the first process left"
    );
    assert!(ok >= 100, "only {ok} requests");
}
