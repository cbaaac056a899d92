//! Handler errors: a status for the client, the cause kept for the log.

use std::borrow::Cow;
use std::fmt;

use http_types::{Response, StatusCode};

use crate::response::{IntoResponse, error_response};

/// An error a handler returns: becomes a response with its status and a short message.
///
/// Any `std::error::Error` converts into it with `?`, as a `500 Internal Server Error` whose
/// body says only that (an `io::Error` of kind `NotFound`, `PermissionDenied` or
/// `FileTooLarge` becomes `404`, `403` or `413`); the cause is logged, never sent. Errors
/// meant for the client are made with [`Error::new`].
///
/// `Error` does not implement `std::error::Error` itself (that would conflict with the
/// conversion from every error), so it cannot travel inside a `Box<dyn Error>`.
///
/// ```
/// use smolweb::{Error, Request, Result, StatusCode};
///
/// async fn parse_id(req: Request) -> Result<String> {
///     let id: u64 = req
///         .param("id")
///         .and_then(|s| s.parse().ok())
///         .ok_or_else(|| Error::new(StatusCode::BadRequest, "id must be a number"))?;
///     let contents = std::fs::read_to_string(format!("/srv/ids/{id}"))?; // NotFound → 404, else 500
///     Ok(contents)
/// }
/// # let _ = parse_id;
/// ```
pub struct Error {
    status: StatusCode,
    message: Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// `std::result::Result` with [`Error`] as the error.
pub type Result<T = Response, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error whose `message` is meant for the client, sent as the plain-text body.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            status,
            message: message.into(),
            source: None,
        }
    }

    /// A server-side failure: the client sees `status` and its reason phrase; `source` goes to
    /// the log only.
    pub fn from_source(
        status: StatusCode,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error {
            status,
            message: Cow::Borrowed(status.canonical_reason()),
            source: Some(source.into()),
        }
    }

    /// The status the response will carry.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message the client will see.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    /// `500`, except for the `std::io::Error`s that name a client-visible condition:
    /// `NotFound` → `404`, `PermissionDenied` → `403`, `FileTooLarge` → `413`.
    fn from(e: E) -> Self {
        let kind = (&e as &dyn std::any::Any)
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind);
        let status = match kind {
            Some(std::io::ErrorKind::NotFound) => StatusCode::NotFound,
            Some(std::io::ErrorKind::PermissionDenied) => StatusCode::Forbidden,
            Some(std::io::ErrorKind::FileTooLarge) => StatusCode::PayloadTooLarge,
            _ => StatusCode::InternalServerError,
        };
        Error::from_source(status, e)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &u16::from(self.status))
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", u16::from(self.status), self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            if self.status.is_server_error() {
                log::error!("handler failed: {source}");
            } else {
                log::debug!("request failed: {source}");
            }
        }
        error_response(self.status, self.message.into_owned())
    }
}
