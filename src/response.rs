//! [`IntoResponse`]: what a handler may return, and the plain responses smolweb makes itself.

use http_types::headers::CONTENT_TYPE;
use http_types::{Body, Response, StatusCode};
use serde::Serialize;

use crate::fs::body::FileBody;
use crate::template::{self, TEXT};

/// Anything a handler can return.
///
/// Implemented for [`Response`], [`StatusCode`], `&'static str`, `String`, `Vec<u8>`,
/// [`Body`], `()`, [`Json`], `(StatusCode, T)` and `Result<T, E>` where `T` and `E` are
/// themselves `IntoResponse` (so `smolweb::Result<T>` works with `?`).
///
/// ```
/// use smolweb::{IntoResponse, StatusCode};
///
/// let res = (StatusCode::Created, "made it").into_response();
/// assert_eq!(res.status(), StatusCode::Created);
/// assert_eq!(res.len(), Some(7));
/// ```
pub trait IntoResponse {
    /// Converts `self` into a response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for StatusCode {
    /// An empty body (`content-length: 0`).
    fn into_response(self) -> Response {
        template::response(self)
    }
}

impl IntoResponse for () {
    /// `200 OK` with an empty body.
    fn into_response(self) -> Response {
        template::response(StatusCode::Ok)
    }
}

/// A response with `status`, `body` and a content type given as text.
///
/// The header is set before the body: otherwise http-types formats the body's `Mime` into a
/// new string for every response. Plain text, the most common type, starts from a template
/// that already holds the header (see `template.rs`).
pub(crate) fn typed_response(
    status: StatusCode,
    body: Body,
    content_type: &'static str,
) -> Response {
    let mut res = if content_type == TEXT {
        template::text(status)
    } else {
        let mut res = template::response(status);
        res.insert_header(CONTENT_TYPE, content_type);
        res
    };
    res.set_body(body);
    res
}

/// A plain-text response.
pub(crate) fn text_response(status: StatusCode, text: impl Into<String>) -> Response {
    typed_response(status, Body::from_string(text.into()), TEXT)
}

/// What an error response smolweb made says to the client, kept on the response so that an
/// application answering its errors as JSON ([`Router::json_errors`](crate::Router::json_errors))
/// can say the same in JSON. A response a handler built itself has none, and is left alone.
#[derive(Debug, Clone)]
pub(crate) struct ErrorText(pub(crate) String);

/// A plain-text error response saying `message`, marked as smolweb's own.
pub(crate) fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    let mut res = text_response(status, message.clone());
    res.ext_mut().insert(ErrorText(message));
    res
}

/// `res` as JSON (`{"error": "...", "status": 422}`) if it is one of smolweb's own error
/// responses; its other headers (`Allow`, say) are kept.
pub(crate) fn to_json_error(res: &mut Response) {
    if !res.status().is_client_error() && !res.status().is_server_error() {
        return;
    }
    let Some(ErrorText(message)) = res.ext().get::<ErrorText>() else {
        return;
    };
    let body = serde_json::json!({ "error": message, "status": u16::from(res.status()) });
    res.set_body(Body::from_string(body.to_string()));
    res.insert_header(CONTENT_TYPE, "application/json");
}

/// A response with `status` and its reason phrase as a plain-text body.
pub(crate) fn status_response(status: StatusCode) -> Response {
    let mut res = status.canonical_reason().into_response();
    res.set_status(status);
    if status.is_client_error() || status.is_server_error() {
        res.ext_mut()
            .insert(ErrorText(status.canonical_reason().to_owned()));
    }
    res
}

impl IntoResponse for &'static str {
    /// `text/plain;charset=utf-8`. The text is sent from where it is, not copied.
    fn into_response(self) -> Response {
        let reader = futures_lite::io::Cursor::new(self.as_bytes());
        let body = Body::from_reader(reader, Some(self.len()));
        typed_response(StatusCode::Ok, body, TEXT)
    }
}

impl IntoResponse for String {
    /// `text/plain;charset=utf-8`.
    fn into_response(self) -> Response {
        text_response(StatusCode::Ok, self)
    }
}

impl IntoResponse for Vec<u8> {
    /// `application/octet-stream`.
    fn into_response(self) -> Response {
        typed_response(
            StatusCode::Ok,
            Body::from_bytes(self),
            "application/octet-stream",
        )
    }
}

impl IntoResponse for Body {
    /// Content type from the body; streamed with chunked framing when its length is unknown.
    fn into_response(self) -> Response {
        let mut res = template::response(StatusCode::Ok);
        res.set_body(self);
        res
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut res = self.1.into_response();
        res.set_status(self.0);
        res
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(t) => t.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// A JSON body: serializes `T` as a response, with `content-type: application/json`.
///
/// To read JSON from a request use [`Request::body_json`](crate::Request::body_json).
///
/// ```
/// use smolweb::{IntoResponse, Json};
///
/// let res = Json(vec![1, 2, 3]).into_response();
/// assert_eq!(res.content_type().unwrap().essence(), "application/json");
/// assert_eq!(res.len(), Some(7));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    /// `500` (logged) if `T` fails to serialize.
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => {
                typed_response(StatusCode::Ok, Body::from_bytes(bytes), "application/json")
            }
            Err(e) => {
                log::error!("handler failed: {e}");
                status_response(StatusCode::InternalServerError)
            }
        }
    }
}

/// Reading a response's header as text, and reaching the file of a file response, the way [`Request::header`](crate::Request::header)
/// reads a request's: `Option<&str>`, the first value, the name matched without regard to
/// case. (http-types' own `Response::header` gives `Option<&HeaderValues>`; a method of this
/// trait cannot take that name, so it is `header_str`, which `Request` has too.)
///
/// ```
/// use smolweb::{Next, Request, Response, ResponseExt, Router};
///
/// async fn log_type(req: Request, next: Next) -> Response {
///     let asked = req.header_str("accept").unwrap_or("*/*").to_string();
///     let res = next.run(req).await;
///     println!("asked {asked}, got {:?}", res.header_str("content-type"));
///     res
/// }
/// let mut res = Response::new(smolweb::StatusCode::Ok);
/// res.insert_header("x-a", "b");
/// assert_eq!(res.header_str("X-A"), Some("b"));
/// # let _ = Router::new().middleware(log_type);
/// ```
pub trait ResponseExt {
    /// The first value of the header `name`, as text.
    fn header_str(&self, name: &str) -> Option<&str>;

    /// The file this response sends, if it is a file response ([`FileResponse`](crate::FileResponse),
    /// [`ServeDir`](crate::ServeDir)). Its `Body` is then empty: the connection sends the file
    /// itself.
    ///
    /// ```
    /// use smolweb::{IntoResponse, ResponseExt};
    /// assert!("not a file".into_response().file_body().is_none());
    /// ```
    fn file_body(&self) -> Option<&FileBody>;

    /// Takes the file out of a file response, so that a middleware can send something else
    /// made from it (read it with [`FileBody::into_body`]). The response then has an empty
    /// body until one is set.
    ///
    /// ```
    /// use smolweb::{FileResponse, IntoResponse, ResponseExt};
    ///
    /// # let dir = std::env::temp_dir().join(format!("smolweb-take-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("page.html");
    /// std::fs::write(&path, "<p>hi</p>")?;
    /// let mut res = FileResponse::open(&path)?.into_response();
    /// let file = res.take_file_body().unwrap();
    /// res.set_body(file.into_body()); // the same bytes, now readable by later middleware
    /// assert!(res.file_body().is_none());
    /// assert_eq!(res.len(), Some(9));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn take_file_body(&mut self) -> Option<FileBody>;
}

impl ResponseExt for Response {
    fn header_str(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, values)| values.as_str())
    }

    fn file_body(&self) -> Option<&FileBody> {
        self.ext().get::<FileBody>()
    }

    fn take_file_body(&mut self) -> Option<FileBody> {
        self.ext_mut().remove::<FileBody>()
    }
}
