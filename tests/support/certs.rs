//! Certificates made at test time with the `openssl` command: a CA, and end-entity
//! certificates it signs (`basicConstraints=critical,CA:FALSE`, as rustls requires of a leaf)
//! for `localhost` and `127.0.0.1`, with keys in the three PEM forms a server reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tempdir::TempDir;

/// A CA and what it signed, in a directory removed on drop.
pub struct Certs {
    pub dir: TempDir,
    /// The CA certificate: what clients trust (`curl --cacert`, Python's `cafile`).
    pub ca: PathBuf,
    ca_key: PathBuf,
}

/// The PEM forms of a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// `BEGIN PRIVATE KEY`, an EC P-256 key.
    Pkcs8,
    /// `BEGIN RSA PRIVATE KEY` (PKCS#1), a 2048-bit RSA key.
    Rsa,
    /// `BEGIN EC PRIVATE KEY` (SEC1), an EC P-256 key.
    Sec1,
}

/// Runs `openssl` with `args` in `dir`; panics with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (apt install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Certs {
    /// A new CA.
    pub fn new() -> Certs {
        let dir = TempDir::new("certs");
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=smolweb test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca.pem",
            ],
        );
        Certs {
            ca: dir.path().join("ca.pem"),
            ca_key: dir.path().join("ca-key.pem"),
            dir,
        }
    }

    /// A certificate for `localhost` and `127.0.0.1` signed by the CA, its key in `form`,
    /// as `NAME.pem` and `NAME-key.pem`; returns (certificate chain, key).
    pub fn leaf(&self, name: &str, form: KeyForm) -> (PathBuf, PathBuf) {
        self.leaf_for(name, form, "DNS:localhost,IP:127.0.0.1")
    }

    /// A client certificate (extended key usage `clientAuth`) for mTLS, signed by the CA.
    pub fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        self.signed(name, KeyForm::Pkcs8, "DNS:client.test", "clientAuth")
    }

    /// [`leaf`](Self::leaf) for the subject alternative names `san`.
    pub fn leaf_for(&self, name: &str, form: KeyForm, san: &str) -> (PathBuf, PathBuf) {
        self.signed(name, form, san, "serverAuth")
    }

    fn signed(&self, name: &str, form: KeyForm, san: &str, usage: &str) -> (PathBuf, PathBuf) {
        let dir = self.dir.path();
        let key = format!("{name}-key.pem");
        match form {
            KeyForm::Pkcs8 => openssl(
                dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    &key,
                ],
            ),
            KeyForm::Rsa => openssl(dir, &["genrsa", "-traditional", "-out", &key, "2048"]),
            KeyForm::Sec1 => openssl(
                dir,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    &key,
                ],
            ),
        }
        let csr = format!("{name}.csr");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                "/CN=localhost",
                "-out",
                &csr,
            ],
        );
        let ext = format!("{name}.ext");
        std::fs::write(
            dir.join(&ext),
            format!(
                "basicConstraints=critical,CA:FALSE\nsubjectAltName={san}\n\
                 keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage={usage}\n"
            ),
        )
        .unwrap();
        let cert = format!("{name}.pem");
        let (ca, ca_key) = (self.ca.to_str().unwrap(), self.ca_key.to_str().unwrap());
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                ca,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &cert,
            ],
        );
        (dir.join(cert), dir.join(key))
    }
}
