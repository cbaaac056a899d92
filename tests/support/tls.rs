//! A TLS client on rustls (the same crate, through `smolweb::tls::rustls`, but the client
//! side, which smolweb never uses) trusting a test CA: sessions over `std::net::TcpStream`
//! with read timeouts, and responses read with the strict parser of [`super::response`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smolweb::tls::rustls::pki_types::pem::PemObject;
use smolweb::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use smolweb::tls::rustls::{self, ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::response::{Parsed, RawResponse, parse_response, preview};
use super::wait::{DEADLINE, TIMEOUT};

/// A client configuration trusting the CA certificate at `ca`, offering `http/1.1` with ALPN.
pub fn client_config(ca: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// [`client_config`], presenting the client certificate `cert` with its key (mTLS).
pub fn client_config_with_cert(ca: &Path, cert: &Path, key: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(c.expect("CA PEM")).expect("CA certificate");
    }
    let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
        .expect("certificate file")
        .map(|c| c.expect("certificate PEM"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).expect("key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("client certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A TLS session to a test server.
pub struct TlsConn {
    pub stream: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
    eof: bool,
}

impl TlsConn {
    /// Connects to `addr` asking for `name` (SNI and the name checked in the certificate),
    /// and completes the handshake.
    pub fn connect(
        addr: SocketAddr,
        config: &Arc<ClientConfig>,
        name: &str,
    ) -> io::Result<TlsConn> {
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(TIMEOUT))?;
        tcp.set_write_timeout(Some(TIMEOUT))?;
        let name = ServerName::try_from(name.to_string()).map_err(io::Error::other)?;
        let conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(TlsConn {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("writing over TLS");
        self.stream.flush().expect("flushing TLS");
    }

    /// `GET target` with `extra` header lines, and its response.
    pub fn get(&mut self, target: &str, extra: &str) -> RawResponse {
        self.write(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n").as_bytes());
        self.read_response()
    }

    /// One read onto the buffer; 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                Ok(0)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) => Err(e),
        }
    }

    pub fn read_response(&mut self) -> RawResponse {
        let started = Instant::now();
        for _ in 0..100_000 {
            match parse_response(&self.buf, false, self.eof) {
                Ok(Parsed::Done(res, used)) => {
                    self.buf.drain(..used);
                    return res;
                }
                Ok(Parsed::Incomplete) if self.eof => {
                    panic!("closed mid-response: {}", preview(&self.buf))
                }
                Ok(Parsed::Incomplete) => {}
                Err(e) => panic!("{e}: {}", preview(&self.buf)),
            }
            assert!(started.elapsed() < DEADLINE, "response took too long");
            self.fill().expect("reading over TLS");
        }
        panic!("too many reads for one response")
    }

    /// Reads until the server ends the session: `Ok` with what came if it sent
    /// `close_notify` first, the error otherwise (rustls reports a close without it as
    /// `UnexpectedEof`).
    pub fn read_to_close(&mut self, within: Duration) -> io::Result<Vec<u8>> {
        let started = Instant::now();
        while !self.eof {
            if started.elapsed() > within {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.fill()?;
        }
        Ok(std::mem::take(&mut self.buf))
    }
}
