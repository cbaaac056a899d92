//! [`TlsConfig`]: the certificate a TLS server presents, from PEM files or a rustls config,
//! and its reload without a restart.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::{self, ServerConfig};

/// The ALPN protocol a server offers: HTTP/1.1 only.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A TLS server's configuration: a certificate chain and its key (from PEM files), or a
/// `rustls::ServerConfig` of your own. Cheap to clone: clones share the configuration, so a
/// [`reload`](Self::reload) on one is seen by the server holding another.
///
/// New connections take the configuration current when they are accepted; connections
/// already open keep theirs.
///
/// ```no_run
/// use smolweb::tls::TlsConfig;
/// let tls = TlsConfig::from_pem_files("/etc/ssl/site/fullchain.pem", "/etc/ssl/site/key.pem")?;
/// // ... later, after the files were renewed (the https example does it on SIGHUP):
/// tls.reload()?;
/// # Ok::<(), smolweb::tls::TlsError>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Arc<ServerConfig>>,
    /// The certificate chain and key files, for a configuration made from them.
    files: Option<(PathBuf, PathBuf)>,
}

impl TlsConfig {
    /// Reads a certificate chain (PEM, the server's certificate first) and its private key
    /// (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC), and checks that they belong together. ALPN
    /// offers `http/1.1`.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let files = (cert_chain.as_ref().to_owned(), key.as_ref().to_owned());
        let config = load(&files.0, &files.1)?;
        Ok(TlsConfig {
            inner: Arc::new(Inner {
                current: RwLock::new(config),
                files: Some(files),
            }),
        })
    }

    /// A configuration built with rustls directly (several certificates chosen by SNI,
    /// client-certificate authentication, ...). `http/1.1` is offered with ALPN if the
    /// configuration names no protocol.
    ///
    /// ```
    /// use smolweb::tls::{TlsConfig, rustls};
    /// # fn resolver() -> std::sync::Arc<dyn rustls::server::ResolvesServerCert> {
    /// #     std::sync::Arc::new(rustls::server::ResolvesServerCertUsingSni::new())
    /// # }
    /// let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ServerConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_no_client_auth()
    ///     .with_cert_resolver(resolver());
    /// let tls = TlsConfig::from_rustls(std::sync::Arc::new(config));
    /// # let _ = tls;
    /// # Ok::<(), rustls::Error>(())
    /// ```
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        TlsConfig {
            inner: Arc::new(Inner {
                current: RwLock::new(with_alpn(config)),
                files: None,
            }),
        }
    }

    /// Reads the certificate and key files again; new connections use them from now on. On
    /// an error the configuration in use is kept. A configuration from
    /// [`from_rustls`](Self::from_rustls) has no files: replace it with
    /// [`replace`](Self::replace).
    pub fn reload(&self) -> Result<(), TlsError> {
        let Some((cert, key)) = &self.inner.files else {
            return Err(TlsError::NotFromFiles);
        };
        self.replace(load(cert, key)?);
        Ok(())
    }

    /// Puts `config` in place of the current configuration, for new connections.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        let config = with_alpn(config);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// The configuration a connection accepted now uses.
    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("files", &self.inner.files)
            .finish_non_exhaustive()
    }
}

/// `config`, offering `http/1.1` with ALPN if it offers nothing.
fn with_alpn(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if !config.alpn_protocols.is_empty() {
        return config;
    }
    let mut config = Arc::unwrap_or_clone(config);
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Arc::new(config)
}

/// A server configuration from a PEM certificate chain and key.
fn load(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let pem = read(cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: cert_path.to_owned(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert_path.to_owned(),
        });
    }
    let pem = read(key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey {
            path: key_path.to_owned(),
        },
        e => TlsError::Pem {
            path: key_path.to_owned(),
            reason: e.to_string(),
        },
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        // Checks that the key is the certificate's.
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    Ok(with_alpn(Arc::new(config)))
}

/// Why a TLS configuration could not be made.
///
/// ```
/// use smolweb::tls::{TlsConfig, TlsError};
/// let err = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
/// assert!(matches!(err, TlsError::Read { .. }));
/// assert!(err.to_string().contains("/nonexistent/cert.pem"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        source: io::Error,
    },
    /// A file is not valid PEM.
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate file holds no certificate.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key.
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the certificate or the key (a key that is not the certificate's, an
    /// unsupported key type).
    Rustls(rustls::Error),
    /// [`TlsConfig::reload`] on a configuration that was not made from files.
    NotFromFiles,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            TlsError::Pem { path, reason } => {
                write!(f, "{} is not valid PEM: {reason}", path.display())
            }
            TlsError::NoCertificate { path } => {
                write!(f, "{} holds no certificate", path.display())
            }
            TlsError::NoKey { path } => write!(f, "{} holds no private key", path.display()),
            TlsError::Rustls(e) => write!(f, "the certificate and key were refused: {e}"),
            TlsError::NotFromFiles => f.write_str("this TLS configuration has no files to reload"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Read { source, .. } => Some(source),
            TlsError::Rustls(e) => Some(e),
            _ => None,
        }
    }
}
