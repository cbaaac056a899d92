//! The disconnect storm over TLS: clients that vanish mid-file (RST or FIN, after a random
//! prefix of a decrypted 8 MiB download), right after their request, or after pipelining
//! several, in a process whose SIGPIPE is at its default action. The server must live on,
//! still serve the file byte for byte, and give back every descriptor.
//!
//! Every TLS record the server writes leaves through `socket.rs`'s `send(MSG_NOSIGNAL)`,
//! including the `close_notify` it sends to a client that has already gone. Clients resume
//! sessions (TLS 1.3 tickets) as browsers do, so most handshakes are short.
//!
//! `SMOLWEB_TLS_STORM` sets the number of clients (default 2,000); `.ci/run` runs more in
//! release mode and prints the figures.

#![cfg(feature = "tls")]

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smolweb::tls::TlsConfig;
use smolweb::{Router, ServeDir, Server};
use support::tls::{TlsConn, client_config};
use support::{
    Certs, KeyForm, Rng, TempDir, require_default_sigpipe, set_linger_zero, storm, storm_size,
};

const FILE_SIZE: usize = 8 * 1024 * 1024 + 123;
const REQUEST: &[u8] = b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[derive(Default)]
struct Counts {
    rst: AtomicU64,
    fin: AtomicU64,
    after_request: AtomicU64,
    pipelined: AtomicU64,
    bytes: AtomicU64,
}

/// Reads up to `n` decrypted bytes (or until the session fails); returns how many came.
fn read_prefix(conn: &mut TlsConn, n: u64) -> u64 {
    let mut buf = [0u8; 16 * 1024];
    let mut got = 0u64;
    while got < n {
        let want = buf.len().min((n - got) as usize);
        match conn.stream.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k as u64,
        }
    }
    got
}

#[test]
fn tls_disconnect_storm_with_default_sigpipe() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("storm", KeyForm::Pkcs8);
    let dir = TempDir::new("tls-storm");
    let contents = Rng::from_state(0x5eed).bytes(FILE_SIZE);
    std::fs::write(dir.path().join("big.bin"), &contents).unwrap();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .threads(2)
        .tls(TlsConfig::from_pem_files(&cert, &key).unwrap());
    let addr = server.local_addr();
    let app = Router::new().get("/*path", ServeDir::new(dir.path()));
    std::thread::spawn(move || server.run(app).expect("server"));
    let client = client_config(&certs.ca);

    let download = |addr: SocketAddr| {
        let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
        conn.get("/big.bin", "Connection: close\r\n").body
    };
    assert!(download(addr) == contents);
    std::thread::sleep(Duration::from_millis(200));

    let clients = storm_size("SMOLWEB_TLS_STORM", 2_000);
    let counts = Arc::new(Counts::default());
    let report = {
        let (client, counts) = (client.clone(), counts.clone());
        storm(clients, 16, 0x7157, move |rng: &mut Rng| {
            let Ok(mut conn) = TlsConn::connect(addr, &client, "localhost") else {
                return;
            };
            let prefix = if rng.below(10) == 0 {
                rng.below(FILE_SIZE as u64)
            } else {
                rng.below(256 * 1024)
            };
            let c = &*counts;
            match rng.below(10) {
                0 => {
                    let _ = conn.stream.write_all(REQUEST);
                    let _ = conn.stream.flush();
                    if rng.below(2) == 0 {
                        set_linger_zero(&conn.stream.sock);
                    }
                    c.after_request.fetch_add(1, Ordering::Relaxed);
                }
                1 => {
                    let _ = conn
                        .stream
                        .write_all(&REQUEST.repeat(2 + rng.below(4) as usize));
                    let _ = conn.stream.flush();
                    let got = read_prefix(&mut conn, prefix / 4);
                    c.bytes.fetch_add(got, Ordering::Relaxed);
                    set_linger_zero(&conn.stream.sock);
                    c.pipelined.fetch_add(1, Ordering::Relaxed);
                }
                k => {
                    let _ = conn.stream.write_all(REQUEST);
                    let _ = conn.stream.flush();
                    let got = read_prefix(&mut conn, prefix);
                    c.bytes.fetch_add(got, Ordering::Relaxed);
                    if k % 2 == 0 {
                        set_linger_zero(&conn.stream.sock);
                        c.rst.fetch_add(1, Ordering::Relaxed);
                    } else {
                        let _ = conn.stream.sock.shutdown(std::net::Shutdown::Both);
                        c.fin.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    // Alive (the server is this process), and still serving the file byte for byte.
    assert!(
        download(addr) == contents,
        "the file differs after the storm"
    );
    let c = &*counts;
    println!(
        "tls storm: {} clients in {:.2} s ({:.0}/s); {} RST and {} FIN after a prefix, {} right \
         after the request, {} pipelined; {:.1} MiB decrypted by clients; fds before {} after {}",
        report.clients,
        report.elapsed.as_secs_f64(),
        report.clients as f64 / report.elapsed.as_secs_f64(),
        c.rst.load(Ordering::Relaxed),
        c.fin.load(Ordering::Relaxed),
        c.after_request.load(Ordering::Relaxed),
        c.pipelined.load(Ordering::Relaxed),
        c.bytes.load(Ordering::Relaxed) as f64 / 1048576.0,
        report.fds_before,
        report.fds_after,
    );
    assert!(
        report.settled,
        "descriptors leaked: {} before, {} after",
        report.fds_before, report.fds_after
    );
    assert!(c.rst.load(Ordering::Relaxed) > 0 && c.fin.load(Ordering::Relaxed) > 0);
}
