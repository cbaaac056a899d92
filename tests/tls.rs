//! HTTPS (feature `tls`) with independent clients: curl and Python's `ssl` module, and a
//! rustls client for what they cannot show (the exact certificate presented, `close_notify`).
//! Certificates are made at test time with `openssl`. SIGPIPE is at its default action.

#![cfg(feature = "tls")]

mod support;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use smolweb::tls::{TlsConfig, TlsError};
use smolweb::{Config, Request, Router, ServeDir, Server};
use support::tls::{TlsConn, client_config};
use support::{Certs, Example, KeyForm, TempDir, require_default_sigpipe};

/// Bytes of the file the downloads fetch: several TLS records and file chunks.
const FILE_SIZE: usize = 3 * 1024 * 1024 + 7;

fn app(dir: &Path) -> Router {
    Router::new()
        .get("/", |_| async { "Hello, World!" })
        .get("/info", |req: Request| async move {
            let tls = req.tls().expect("a request over TLS knows it");
            format!(
                "{} {} alpn={} sni={} {}",
                req.url().scheme(),
                req.url().host_str().unwrap_or("?"),
                String::from_utf8_lossy(tls.alpn.as_deref().unwrap_or(b"-")),
                tls.server_name.as_deref().unwrap_or("-"),
                tls.version.as_deref().unwrap_or("-"),
            )
        })
        .get("/static/*path", ServeDir::new(dir))
}

/// A directory holding `big.bin` (`FILE_SIZE` pseudo-random bytes); returns it and them.
fn files() -> (TempDir, Vec<u8>) {
    let dir = TempDir::new("tls-files");
    let bytes = support::Rng::from_state(0x7e57).bytes(FILE_SIZE);
    std::fs::write(dir.path().join("big.bin"), &bytes).unwrap();
    (dir, bytes)
}

fn config() -> Config {
    Config {
        header_timeout: Duration::from_millis(800),
        keep_alive_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// An HTTPS server with `tls` on a loopback port, forever.
fn serve(tls: TlsConfig, dir: &Path) -> SocketAddr {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .threads(2)
        .config(config())
        .tls(tls);
    let addr = server.local_addr();
    let app = app(dir);
    std::thread::spawn(move || server.run(app).expect("server"));
    addr
}

/// Runs curl with `args`; its stdout, and stderr on failure.
fn curl(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl (apt install curl)");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `https://localhost:PORT{path}`.
fn url(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

#[test]
fn curl_gets_over_tls_with_keys_in_every_pem_form() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (dir, _) = files();
    for form in [KeyForm::Pkcs8, KeyForm::Rsa, KeyForm::Sec1] {
        let (cert, key) = certs.leaf(&format!("{form:?}"), form);
        let addr = serve(TlsConfig::from_pem_files(&cert, &key).unwrap(), dir.path());
        let ca = certs.ca.to_str().unwrap();
        let body = curl(&["--cacert", ca, &url(addr, "/")]).unwrap();
        assert_eq!(body, b"Hello, World!", "{form:?}");
        // The request knows it came over TLS, with what was negotiated.
        let info = curl(&["--cacert", ca, &url(addr, "/info")]).unwrap();
        let info = String::from_utf8(info).unwrap();
        assert!(
            info.starts_with("https localhost alpn=http/1.1 sni=localhost TLSv1_3"),
            "{form:?}: {info}"
        );
        // TLS 1.2 too.
        let tls12 = curl(&["--cacert", ca, "--tls-max", "1.2", &url(addr, "/info")]).unwrap();
        assert!(String::from_utf8(tls12).unwrap().ends_with("TLSv1_2"));
    }
}

#[test]
fn curl_reuses_a_keep_alive_session_and_downloads_a_file_byte_for_byte() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("leaf", KeyForm::Pkcs8);
    let (dir, bytes) = files();
    let addr = serve(TlsConfig::from_pem_files(&cert, &key).unwrap(), dir.path());
    let ca = certs.ca.to_str().unwrap();
    let out = dir.path().join("downloaded");
    let verbose = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20", "--verbose"])
        .args(["--cacert", ca, "-o", "/dev/null", &url(addr, "/")])
        .args(["-o", out.to_str().unwrap(), &url(addr, "/static/big.bin")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(verbose.status.success(), "{stderr}");
    assert!(
        stderr.contains("ALPN: server accepted http/1.1"),
        "{stderr}"
    );
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
    assert!(std::fs::read(&out).unwrap() == bytes, "the file differs");
    // A range over TLS as well.
    let part = curl(&[
        "--cacert",
        ca,
        "-r",
        "1000-1999",
        &url(addr, "/static/big.bin"),
    ])
    .unwrap();
    assert!(part == bytes[1000..2000]);
}

/// Python's `ssl` module: keep-alive requests, ALPN, a clean `close_notify` at the end, and a
/// client asking for a name the certificate does not hold.
#[test]
fn python_ssl_client() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("leaf", KeyForm::Pkcs8);
    let (dir, bytes) = files();
    let addr = serve(TlsConfig::from_pem_files(&cert, &key).unwrap(), dir.path());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls_client.py");
    let out = Command::new("python3")
        .args([script, &addr.port().to_string(), certs.ca.to_str().unwrap()])
        .arg(FILE_SIZE.to_string())
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "alpn http/1.1",
        "keep-alive: 3 responses on one session",
        "close_notify received",
        "wrong name refused by the client",
        "served after the refused name",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("file sha256 "))
        .expect("digest line");
    let expected = Command::new("sha256sum")
        .arg(dir.path().join("big.bin"))
        .output()
        .unwrap();
    let expected = String::from_utf8_lossy(&expected.stdout);
    assert!(expected.starts_with(digest), "{digest} vs {expected}");
    assert_eq!(bytes.len(), FILE_SIZE);
}

#[test]
fn a_session_ends_with_close_notify() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("leaf", KeyForm::Sec1);
    let (dir, _) = files();
    let addr = serve(TlsConfig::from_pem_files(&cert, &key).unwrap(), dir.path());
    let client = client_config(&certs.ca);
    // After a response that closes.
    let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
    let res = conn.get("/", "Connection: close\r\n");
    assert_eq!(res.text(), "Hello, World!");
    let rest = conn.read_to_close(Duration::from_secs(5));
    assert!(matches!(&rest, Ok(b) if b.is_empty()), "{rest:?}");
    // After a refused request (the head is malformed).
    let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
    conn.write(b"GET /a b HTTP/1.1\r\n");
    assert_eq!(conn.read_response().status, 400);
    assert!(conn.read_to_close(Duration::from_secs(5)).is_ok());
    // An idle keep-alive session closed at the keep-alive timeout (5 s here) is no
    // exception; nor is one closed at the header timeout before any request.
    let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
    let started = Instant::now();
    assert!(conn.read_to_close(Duration::from_secs(10)).is_ok());
    assert!(started.elapsed() >= Duration::from_millis(500));
}

/// A client that connects and sends nothing, or stops in the middle of its ClientHello, is
/// dropped after the header timeout (0.8 s here); plain HTTP gets a 400 at once.
#[test]
fn silent_stalled_and_plain_http_clients() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("leaf", KeyForm::Pkcs8);
    let (dir, _) = files();
    let addr = serve(TlsConfig::from_pem_files(&cert, &key).unwrap(), dir.path());
    let closed_after = |first_bytes: &[u8]| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(first_bytes).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            other => panic!("expected a close, got {other:?}"),
        }
        started.elapsed()
    };
    let silent = closed_after(b"");
    assert!(
        silent >= Duration::from_millis(600) && silent < Duration::from_secs(5),
        "{silent:?}"
    );
    // The first bytes of a TLS 1.2/1.3 ClientHello record, then nothing.
    let stalled = closed_after(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]);
    assert!(
        stalled >= Duration::from_millis(600) && stalled < Duration::from_secs(5),
        "{stalled:?}"
    );
    // Plain HTTP: a 400 saying so, at once, then a close.
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(500));
    // And the server still serves.
    let client = client_config(&certs.ca);
    let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
    assert_eq!(conn.get("/", "").text(), "Hello, World!");
}

/// The certificate a new session is given, as DER.
fn presented(addr: SocketAddr, certs: &Certs) -> (TlsConn, Vec<u8>) {
    let conn = TlsConn::connect(addr, &client_config(&certs.ca), "localhost").unwrap();
    let der = conn.stream.conn.peer_certificates().unwrap()[0].to_vec();
    (conn, der)
}

fn der_of(pem: &Path) -> Vec<u8> {
    use smolweb::tls::rustls::pki_types::CertificateDer;
    use smolweb::tls::rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(pem).unwrap().to_vec()
}

#[test]
fn reload_gives_new_sessions_the_new_certificate_and_keeps_open_ones() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (first, first_key) = certs.leaf("first", KeyForm::Pkcs8);
    let (second, second_key) = certs.leaf("second", KeyForm::Rsa);
    let live = TempDir::new("tls-live");
    let (cert, key) = (live.path().join("cert.pem"), live.path().join("key.pem"));
    std::fs::copy(&first, &cert).unwrap();
    std::fs::copy(&first_key, &key).unwrap();
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let (dir, _) = files();
    let addr = serve(tls.clone(), dir.path());
    let (mut open, der) = presented(addr, &certs);
    assert_eq!(der, der_of(&first));
    assert_eq!(open.get("/", "").text(), "Hello, World!");

    // Files replaced by a half-written pair: the reload fails and the old pair stays.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    assert!(tls.reload().is_err());
    assert_eq!(presented(addr, &certs).1, der_of(&first));

    std::fs::copy(&second, &cert).unwrap();
    std::fs::copy(&second_key, &key).unwrap();
    tls.reload().unwrap();
    assert_eq!(presented(addr, &certs).1, der_of(&second));
    // The session opened before still serves, on its own certificate.
    assert_eq!(open.get("/", "").text(), "Hello, World!");
    assert_eq!(
        open.stream.conn.peer_certificates().unwrap()[0].to_vec(),
        der_of(&first)
    );
}

#[test]
fn start_up_errors_name_the_problem() {
    let certs = Certs::new();
    let (cert, key) = certs.leaf("a", KeyForm::Pkcs8);
    let (_, other_key) = certs.leaf("b", KeyForm::Sec1);
    let missing = certs.dir.path().join("missing.pem");
    let e = TlsConfig::from_pem_files(&missing, &key).unwrap_err();
    assert!(matches!(e, TlsError::Read { .. }), "{e}");
    assert!(e.to_string().contains("missing.pem"), "{e}");
    // A key that is not the certificate's.
    let e = TlsConfig::from_pem_files(&cert, &other_key).unwrap_err();
    assert!(matches!(e, TlsError::Rustls(_)), "{e}");
    assert!(e.to_string().contains("refused"), "{e}");
    // An empty chain, and a key file holding no key (a certificate).
    let empty = certs.dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let e = TlsConfig::from_pem_files(&empty, &key).unwrap_err();
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
    let e = TlsConfig::from_pem_files(&cert, &cert).unwrap_err();
    assert!(matches!(e, TlsError::NoKey { .. }), "{e}");
}

/// `examples/https.rs`: HTTPS on the address it prints, files under `/static/`, and SIGHUP
/// reloads the certificate.
#[test]
fn the_https_example_serves_and_reloads_on_sighup() {
    require_default_sigpipe();
    let certs = Certs::new();
    let (first, first_key) = certs.leaf("first", KeyForm::Pkcs8);
    let (second, second_key) = certs.leaf("second", KeyForm::Pkcs8);
    let live = TempDir::new("tls-example");
    let (cert, key) = (live.path().join("cert.pem"), live.path().join("key.pem"));
    std::fs::copy(&first, &cert).unwrap();
    std::fs::copy(&first_key, &key).unwrap();
    let (dir, bytes) = files();
    let example = Example::start(
        "https",
        &[cert.to_str().unwrap(), key.to_str().unwrap(), dir.text()],
    );
    assert!(
        example.first_line.starts_with("serving on https://"),
        "{}",
        example.first_line
    );
    let addr = example.addr;
    let ca = certs.ca.to_str().unwrap();
    assert_eq!(
        curl(&["--cacert", ca, &url(addr, "/")]).unwrap(),
        b"Hello, World!"
    );
    assert!(curl(&["--cacert", ca, &url(addr, "/static/big.bin")]).unwrap() == bytes);
    assert_eq!(presented(addr, &certs).1, der_of(&first));
    std::fs::copy(&second, &cert).unwrap();
    std::fs::copy(&second_key, &key).unwrap();
    let pid = example.child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let reloaded = example
        .lines
        .recv_timeout(support::EXAMPLE_TIMEOUT)
        .expect("a line after SIGHUP");
    assert!(reloaded.contains("certificate reloaded"), "{reloaded}");
    assert_eq!(presented(addr, &certs).1, der_of(&second));
}

/// A certificate and its key as rustls holds them.
fn certified(cert: &Path, key: &Path) -> smolweb::tls::rustls::sign::CertifiedKey {
    use smolweb::tls::rustls::pki_types::pem::PemObject;
    use smolweb::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = smolweb::tls::rustls::crypto::ring::default_provider();
    smolweb::tls::rustls::sign::CertifiedKey::from_der(chain, key, &provider).unwrap()
}

/// A rustls configuration of the user's own through `TlsConfig::from_rustls`: two sites on
/// one port, each name given its own certificate (SNI); a name with none fails the handshake.
#[test]
fn several_certificates_chosen_by_sni() {
    use smolweb::tls::rustls::{self, server::ResolvesServerCertUsingSni};
    require_default_sigpipe();
    let certs = Certs::new();
    let (local, local_key) = certs.leaf("local", KeyForm::Pkcs8);
    let (other, other_key) = certs.leaf_for("other", KeyForm::Sec1, "DNS:other.test");
    let mut sni = ResolvesServerCertUsingSni::new();
    sni.add("localhost", certified(&local, &local_key)).unwrap();
    sni.add("other.test", certified(&other, &other_key))
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(std::sync::Arc::new(sni));
    let (dir, _) = files();
    let addr = serve(
        TlsConfig::from_rustls(std::sync::Arc::new(config)),
        dir.path(),
    );
    let client = client_config(&certs.ca);
    for (name, cert) in [("localhost", &local), ("other.test", &other)] {
        let mut conn = TlsConn::connect(addr, &client, name).unwrap();
        assert_eq!(
            conn.stream.conn.peer_certificates().unwrap()[0].to_vec(),
            der_of(cert)
        );
        let info = conn.get("/info", "").text().to_string();
        assert!(info.contains(&format!("sni={name}")), "{info}");
        // ALPN was added to the user's configuration, which named no protocol.
        assert!(info.contains("alpn=http/1.1"), "{info}");
    }
    assert!(TlsConn::connect(addr, &client, "unknown.test").is_err());
    let mut conn = TlsConn::connect(addr, &client, "localhost").unwrap();
    assert_eq!(conn.get("/", "").text(), "Hello, World!");
}

/// mTLS through `from_rustls`: a client without a certificate is refused in the handshake;
/// one with a certificate the CA signed gets in, and the handler sees its certificate.
#[test]
fn client_certificates_reach_the_handler() {
    use smolweb::tls::rustls::{self, server::WebPkiClientVerifier};
    require_default_sigpipe();
    let certs = Certs::new();
    let (cert, key) = certs.leaf("server", KeyForm::Pkcs8);
    let (client_cert, client_key) = certs.client("client");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der_of(&certs.ca).into()).unwrap();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(std::sync::Arc::new(roots), provider.clone())
            .build()
            .unwrap();
    let key_of = |k: &Path| {
        use smolweb::tls::rustls::pki_types::PrivateKeyDer;
        use smolweb::tls::rustls::pki_types::pem::PemObject;
        PrivateKeyDer::from_pem_file(k).unwrap()
    };
    let rustls_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![der_of(&cert).into()], key_of(&key))
        .unwrap();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config())
        .tls(TlsConfig::from_rustls(std::sync::Arc::new(rustls_config)));
    let addr = server.local_addr();
    let app = Router::new().get("/peer", |req: Request| async move {
        let tls = req.tls().expect("over TLS");
        let hex: String = tls.peer_certificates[0]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{} {hex}", tls.peer_certificates.len())
    });
    std::thread::spawn(move || server.run(app).expect("server"));

    // Without a certificate: refused (TLS 1.3 clients learn it on their first read).
    let refused = TlsConn::connect(addr, &client_config(&certs.ca), "localhost").map(|mut conn| {
        conn.write(b"GET /peer HTTP/1.1\r\nHost: localhost\r\n\r\n");
        conn.read_to_close(Duration::from_secs(5))
    });
    assert!(matches!(refused, Err(_) | Ok(Err(_))), "{refused:?}");
    let with_cert = support::tls::client_config_with_cert(&certs.ca, &client_cert, &client_key);
    let mut conn = TlsConn::connect(addr, &with_cert, "localhost").unwrap();
    let seen = conn.get("/peer", "").text().to_string();
    let hex: String = der_of(&client_cert)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(seen, format!("1 {hex}"));
}
