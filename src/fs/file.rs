//! [`FileResponse`]: one open file as a response, with its validators and ranges.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_types::headers::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED, VARY,
};
use http_types::{Method, Response, StatusCode};

use super::body::{FILE_CHUNK, FileBody};
use super::mime::content_type;
use super::multipart::Parts;
use super::open::open_nonblocking;
use super::range::{Ranges, parse_ranges};
use crate::coding::Coding;
use crate::h1::date;
use crate::request::Request;
use crate::response::IntoResponse;
use crate::template;

/// One file as a response, with `Content-Type`, `Content-Length`, `Last-Modified`, `ETag` and
/// `Accept-Ranges`; [`respond_to`](Self::respond_to) also answers `Range`, `If-Range`,
/// `If-None-Match` and `If-Modified-Since`.
///
/// ```no_run
/// use smolweb::{FileResponse, Request, Response, Result, Router};
///
/// async fn report(req: Request) -> Result<Response> {
///     Ok(FileResponse::open("reports/latest.pdf")?.respond_to(&req))
/// }
/// let app = Router::new().get("/report", report);
/// # let _ = app;
/// ```
#[derive(Debug)]
pub struct FileResponse {
    file: std::fs::File,
    len: u64,
    modified: Option<SystemTime>,
    mime: &'static str,
    chunk: usize,
    cache_control: Option<String>,
    /// The coding the file's bytes are in (a precompressed sibling), if any.
    encoding: Option<Coding>,
    /// Whether the answer depended on `Accept-Encoding` (`Vary: Accept-Encoding`).
    vary_encoding: bool,
}

impl FileResponse {
    /// Opens a file (one `open`, one `fstat`). Anything but a regular file (a directory, a
    /// device) is refused with `NotFound`.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let file = open_nonblocking(path)?;
        let meta = file.metadata()?;
        Self::from_open(file, &meta, path)
    }

    pub(crate) fn from_open(
        file: std::fs::File,
        meta: &std::fs::Metadata,
        path: &Path,
    ) -> io::Result<Self> {
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "not a regular file",
            ));
        }
        let mime = content_type(path);
        Ok(FileResponse {
            file,
            len: meta.len(),
            modified: meta.modified().ok(),
            mime,
            chunk: FILE_CHUNK,
            cache_control: None,
            encoding: None,
            vary_encoding: false,
        })
    }

    /// A file whose bytes are `encoding` of the representation, sent with that
    /// `Content-Encoding` (a precompressed sibling such as `app.js.br`).
    pub(crate) fn encoded(mut self, encoding: Option<Coding>, vary: bool) -> Self {
        self.encoding = encoding;
        self.vary_encoding = vary;
        self
    }

    /// Sets `Cache-Control` on the response (also on its `304`s, as RFC 9110 §15.4.5 asks):
    /// `"max-age=31536000, immutable"` for fingerprinted assets, `"no-cache"` for a page
    /// that must be revalidated each time.
    ///
    /// **Default:** none (caches then use heuristics on `Last-Modified`).
    ///
    /// ```no_run
    /// use smolweb::{FileResponse, Request, Response, Result};
    ///
    /// async fn app_shell(req: Request) -> Result<Response> {
    ///     Ok(FileResponse::open("dist/index.html")?.cache_control("no-cache").respond_to(&req))
    /// }
    /// # let _ = smolweb::Router::new().get("/", app_shell);
    /// ```
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Sets the chunk size (at least 1 byte).
    ///
    /// **Default:** [`FILE_CHUNK`] (64 KiB). **Unit:** bytes.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// The strong validator: file length and modification time (RFC 9110 §8.8.3).
    fn etag(&self) -> String {
        use std::fmt::Write;
        let (secs, nanos) = self
            .modified_since_epoch()
            .map_or((0, 0), |d| (d.as_secs(), d.subsec_nanos()));
        // Room for the longest (three 16-digit numbers), so it is written without growing.
        let mut etag = String::with_capacity(52);
        let _ = write!(etag, "\"{:x}-{secs:x}.{nanos:x}\"", self.len);
        etag
    }

    fn modified_since_epoch(&self) -> Option<Duration> {
        self.modified?.duration_since(UNIX_EPOCH).ok()
    }

    fn base_response(&self, status: StatusCode, etag: &str) -> Response {
        // Header names as http-types' constants: a name given as text is lowercased into a
        // new `String` on every insert.
        let mut res = template::file_response(status);
        res.insert_header(ETAG, etag);
        if let Some(value) = &self.cache_control {
            res.insert_header(CACHE_CONTROL, value.as_str());
        }
        if let Some(coding) = self.encoding {
            res.insert_header(CONTENT_ENCODING, coding.token());
        }
        if self.vary_encoding {
            res.insert_header(VARY, "accept-encoding");
        }
        if let Some(modified) = self.modified_since_epoch() {
            let date = date::format(modified.as_secs());
            res.insert_header(
                LAST_MODIFIED,
                std::str::from_utf8(&date).unwrap_or_default(),
            );
        }
        res
    }

    fn with_body(self, mut res: Response, offset: u64, len: u64) -> Response {
        res.insert_header(CONTENT_TYPE, self.mime);
        let body = FileBody::range(self.file, self.len, (offset, len), self.chunk);
        res.ext_mut().insert(body);
        res
    }

    /// `res` with a `multipart/byteranges` body of `ranges` (sorted, two or more).
    fn with_parts(self, mut res: Response, ranges: &[(u64, u64)]) -> Response {
        let (parts, content_type) = Parts::new(self.mime, self.len, ranges);
        res.insert_header(CONTENT_TYPE, content_type);
        res.ext_mut()
            .insert(FileBody::parts(self.file, self.len, parts, self.chunk));
        res
    }

    /// The response to `req`: `304` when a conditional says the client's copy is current,
    /// `206` for satisfiable ranges, `416` when none is satisfiable, else `200`.
    ///
    /// Several ranges (`bytes=0-9,500-509`) are sorted, and those that overlap or are at most
    /// 80 bytes apart merged; one left is a plain `206`, more a `206` with a
    /// `multipart/byteranges` body, each part with the file's `Content-Type` and its own
    /// `Content-Range`. Ranges that do not overlap the file are dropped (`416` when none is
    /// left). The whole file is sent (`200`), as RFC 9110 §14.2 allows, for a malformed
    /// `Range`, for more than 16 ranges, and for ranges that add up to more than the file.
    ///
    /// ```
    /// use smolweb::{FileResponse, Request, Router, StatusCode, test::TestClient};
    ///
    /// # let dir = std::env::temp_dir().join(format!("smolweb-doc-ranges-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("digits.txt");
    /// std::fs::write(&path, "0123456789".repeat(100)).unwrap();
    /// let app = Router::new().get("/digits", move |req: Request| {
    ///     let file = FileResponse::open(&path);
    ///     async move { file.map(|f| f.respond_to(&req)).map_err(smolweb::Error::from) }
    /// });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     let res = client.get("/digits").header("range", "bytes=0-2,500-502").send().await;
    ///     assert_eq!(res.status(), StatusCode::PartialContent);
    ///     let content_type = res.header("content-type").unwrap().to_string();
    ///     let boundary = content_type.strip_prefix("multipart/byteranges; boundary=").unwrap();
    ///     let body = res.text().await;
    ///     assert!(body.starts_with(&format!("--{boundary}\r\n")));
    ///     assert!(body.contains("Content-Range: bytes 0-2/1000\r\n\r\n012\r\n"));
    ///     assert!(body.ends_with(&format!("bytes 500-502/1000\r\n\r\n012\r\n--{boundary}--\r\n")));
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn respond_to(self, req: &Request) -> Response {
        let etag = self.etag();
        let method = req.method();
        if (method == Method::Get || method == Method::Head) && self.not_modified(req, &etag) {
            return self.base_response(StatusCode::NotModified, &etag);
        }
        let range = req
            .header("range")
            .filter(|_| self.if_range_holds(req, &etag));
        match range.map(|r| parse_ranges(r, self.len)) {
            Some(Ranges::One(start, end)) => {
                let mut res = self.base_response(StatusCode::PartialContent, &etag);
                res.insert_header(CONTENT_RANGE, format!("bytes {start}-{end}/{}", self.len));
                self.with_body(res, start, end - start + 1)
            }
            Some(Ranges::Several(ranges)) => {
                let res = self.base_response(StatusCode::PartialContent, &etag);
                self.with_parts(res, &ranges)
            }
            Some(Ranges::Unsatisfiable) => {
                let mut res = self.base_response(StatusCode::RequestedRangeNotSatisfiable, &etag);
                res.insert_header(CONTENT_RANGE, format!("bytes */{}", self.len));
                res
            }
            // No Range, or one to ignore: the whole file.
            Some(Ranges::Ignored) | None => {
                let res = self.base_response(StatusCode::Ok, &etag);
                let len = self.len;
                self.with_body(res, 0, len)
            }
        }
    }

    /// RFC 9110 §13.1.2–§13.1.3: If-None-Match (weak comparison, `*`), else If-Modified-Since.
    fn not_modified(&self, req: &Request, etag: &str) -> bool {
        if let Some(inm) = req.header("if-none-match") {
            return inm
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || weak_eq(tag, etag));
        }
        match (
            req.header("if-modified-since").and_then(date::parse),
            self.modified_since_epoch(),
        ) {
            (Some(since), Some(modified)) => modified.as_secs() <= since,
            _ => false,
        }
    }

    /// RFC 9110 §13.1.5: a Range applies only if If-Range (when present) still holds, by
    /// strong comparison of the entity tag or exact match of the date.
    fn if_range_holds(&self, req: &Request, etag: &str) -> bool {
        match req.header("if-range").map(str::trim) {
            None => true,
            Some(tag) if tag.starts_with('"') => tag == etag,
            Some(tag) if tag.starts_with("W/") => false,
            Some(date) => match (date::parse(date), self.modified_since_epoch()) {
                (Some(d), Some(m)) => d == m.as_secs(),
                _ => false,
            },
        }
    }
}

impl IntoResponse for FileResponse {
    /// The whole file with `200` (no request to read conditionals from: see
    /// [`FileResponse::respond_to`]).
    fn into_response(self) -> Response {
        let etag = self.etag();
        let res = self.base_response(StatusCode::Ok, &etag);
        let len = self.len;
        self.with_body(res, 0, len)
    }
}

/// Weak comparison of entity tags (RFC 9110 §8.8.3.2).
fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}
