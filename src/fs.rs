//! Files as responses: [`FileResponse`] for one file, [`ServeDir`] for a directory tree.
//!
//! # How a file is sent
//!
//! A file response carries a `FileBody` (the open file, the byte range, the chunk size) in the
//! response's extensions instead of an `http_types::Body`, so the connection reaches the file
//! directly: it reads a chunk with a positioned read (`pread`) into the connection's write
//! buffer, right behind the response head, and sends it with `send(MSG_NOSIGNAL)` through the
//! socket module; then the next chunk into the same buffer. A small file therefore costs one
//! `open`, one `fstat`, one `pread` and one `send`; a large one holds one chunk of memory
//! (64 KiB by default) however large it is. If the client goes away, the send fails with
//! `EPIPE`/`ECONNRESET`, the connection ends, and the file and buffer are dropped at once.
//!
//! Opening, `fstat` and reads run inline on the executor thread, as nginx does: for files in
//! the page cache they take microseconds, and a hop to a thread pool per read would cost more
//! than the read. Storage that can stall for long (network file systems) is better served by
//! a dedicated server.
//!
//! Middleware sees a file response with an empty `Body` (`res.len() == Some(0)`); the
//! `content-length` sent is the file's.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_types::headers::{
    ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderName, LAST_MODIFIED,
};
use http_types::{Method, StatusCode};

use crate::handler::{BoxFuture, FutureSlot, Handler};
use crate::router::status_response;
use crate::transport::send_all;
use crate::{IntoResponse, Request, Response, Transport};

/// Default size of the chunks a file is read and sent in.
///
/// **Default:** 64 KiB. **Unit:** bytes.
pub const FILE_CHUNK: usize = 64 * 1024;

/// The part of a file a response sends; the connection writes it (see the module docs).
pub(crate) struct FileBody {
    file: std::fs::File,
    offset: u64,
    len: u64,
    chunk: usize,
}

impl FileBody {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Sends the range after the head already in `out`. A range larger than one chunk goes
    /// out without copying where the socket module can do that (`socket::send_file`);
    /// otherwise, and for what it leaves, in chunks copied through `out`.
    pub(crate) async fn send<T: Transport>(
        mut self,
        transport: &T,
        out: &mut Vec<u8>,
        timeout: Duration,
    ) -> io::Result<()> {
        if self.len > self.chunk as u64 {
            let (file, offset, len) = (&self.file, &mut self.offset, &mut self.len);
            if crate::socket::send_file(transport, out, file, offset, len, timeout).await? {
                return Ok(());
            }
        }
        self.send_copied(transport, out, timeout).await
    }

    /// Sends the range in chunks after the head already in `out`, reusing `out` throughout.
    async fn send_copied<T: Transport>(
        self,
        transport: &T,
        out: &mut Vec<u8>,
        timeout: Duration,
    ) -> io::Result<()> {
        let head = out.len();
        let first = usize::try_from(self.len)
            .unwrap_or(usize::MAX)
            .min(self.chunk);
        out.resize(head + first, 0);
        let (mut pos, mut left, mut filled) = (self.offset, self.len, head);
        loop {
            while left > 0 && filled < out.len() {
                let want = (out.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = read_at(&self.file, &mut out[filled..filled + want], pos)?;
                if n == 0 {
                    return Err(shrank());
                }
                (filled, pos, left) = (filled + n, pos + n as u64, left - n as u64);
            }
            send_all(transport, &out[..filled], timeout).await?;
            filled = 0;
            if left == 0 {
                return Ok(());
            }
        }
    }
}

/// The file shrank under us: the length sent is now a lie, so the connection must end rather
/// than pad the body with anything.
pub(crate) fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being sent")
}

/// Opens for reading without ever waiting in `open` itself: a FIFO (or device) put in a
/// served directory would otherwise block the executor thread until a writer appears. It is
/// then refused as not a regular file. Regular files ignore `O_NONBLOCK`.
fn open_nonblocking(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NONBLOCK.bits() as i32,
    );
    options.open(path)
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    loop {
        match std::os::unix::fs::FileExt::read_at(file, buf, pos) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

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

    fn from_open(file: std::fs::File, meta: &std::fs::Metadata, path: &Path) -> io::Result<Self> {
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
        })
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
        let mut res = file_template().clone();
        res.set_status(status);
        res.insert_header(ETAG, etag);
        if let Some(modified) = self.modified_since_epoch() {
            let date = crate::h1::format_date(modified.as_secs());
            res.insert_header(
                LAST_MODIFIED,
                std::str::from_utf8(&date).unwrap_or_default(),
            );
        }
        res
    }

    fn with_body(self, mut res: Response, offset: u64, len: u64) -> Response {
        res.insert_header(CONTENT_TYPE, self.mime);
        res.ext_mut().insert(FileBody {
            file: self.file,
            offset,
            len,
            chunk: self.chunk,
        });
        res
    }

    /// The response to `req`: `304` when a conditional says the client's copy is current,
    /// `206` for a satisfiable single `Range`, `416` for an unsatisfiable one, else `200`.
    ///
    /// Several ranges in one `Range` header are answered with the whole file (`200`), which
    /// RFC 9110 §14.2 allows; it spares a multipart encoder and a class of amplification.
    pub fn respond_to(self, req: &Request) -> Response {
        let etag = self.etag();
        let method = req.method();
        if (method == Method::Get || method == Method::Head) && self.not_modified(req, &etag) {
            return self.base_response(StatusCode::NotModified, &etag);
        }
        let range = req
            .header("range")
            .filter(|_| self.if_range_holds(req, &etag));
        match range.map(|r| parse_range(r, self.len)) {
            Some(Some(ByteRange::Satisfiable(start, end))) => {
                let mut res = self.base_response(StatusCode::PartialContent, &etag);
                res.insert_header(CONTENT_RANGE, format!("bytes {start}-{end}/{}", self.len));
                self.with_body(res, start, end - start + 1)
            }
            Some(Some(ByteRange::Unsatisfiable)) => {
                let mut res = self.base_response(StatusCode::RequestedRangeNotSatisfiable, &etag);
                res.insert_header(CONTENT_RANGE, format!("bytes */{}", self.len));
                res
            }
            // No Range, a malformed one, or several: the whole file.
            Some(None) | None => {
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
            req.header("if-modified-since").and_then(parse_http_date),
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
            Some(date) => match (parse_http_date(date), self.modified_since_epoch()) {
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

/// What every file response starts from: `accept-ranges: bytes`, and room in the header map
/// for the headers a file response adds, so that adding them does not grow it. (Names are
/// given as http-types' constants: a name given as text is copied to lowercase each time.)
fn file_template() -> &'static Response {
    static TEMPLATE: std::sync::OnceLock<Response> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut res = crate::response::new_response(StatusCode::Ok);
        let added: [HeaderName; 4] = [ETAG, LAST_MODIFIED, CONTENT_TYPE, CONTENT_RANGE];
        // A map keeps its capacity when entries are removed, and a clone copies it.
        for name in &added {
            res.insert_header(name, "");
        }
        for name in &added {
            res.remove_header(name);
        }
        res.insert_header(ACCEPT_RANGES, "bytes");
        res
    })
}

/// The media type for a file name's extension (case-insensitive); `application/octet-stream`
/// when unknown. Text types say `charset=utf-8`.
fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    // Lowercased on the stack: every extension below is at most 5 bytes.
    let mut lower = [0u8; 5];
    let Some(lower) = lower.get_mut(..ext.len()) else {
        return "application/octet-stream";
    };
    lower.copy_from_slice(ext.as_bytes());
    lower.make_ascii_lowercase();
    match &*lower {
        b"html" | b"htm" => "text/html;charset=utf-8",
        b"css" => "text/css;charset=utf-8",
        b"js" | b"mjs" => "text/javascript;charset=utf-8",
        b"json" | b"map" => "application/json",
        b"txt" | b"text" => "text/plain;charset=utf-8",
        b"md" => "text/markdown;charset=utf-8",
        b"csv" => "text/csv;charset=utf-8",
        b"xml" => "application/xml",
        b"svg" => "image/svg+xml",
        b"png" => "image/png",
        b"jpg" | b"jpeg" => "image/jpeg",
        b"gif" => "image/gif",
        b"webp" => "image/webp",
        b"avif" => "image/avif",
        b"ico" => "image/x-icon",
        b"wasm" => "application/wasm",
        b"pdf" => "application/pdf",
        b"zip" => "application/zip",
        b"gz" => "application/gzip",
        b"tar" => "application/x-tar",
        b"woff" => "font/woff",
        b"woff2" => "font/woff2",
        b"ttf" => "font/ttf",
        b"otf" => "font/otf",
        b"mp3" => "audio/mpeg",
        b"ogg" => "audio/ogg",
        b"wav" => "audio/wav",
        b"mp4" => "video/mp4",
        b"webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    /// First and last byte, inclusive.
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range (RFC 9110 §14.1.2). `None`: malformed or several ranges, so the Range
/// header is ignored.
fn parse_range(header: &str, len: u64) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| crate::h1::head::parse_length(s.as_bytes());
    if first.is_empty() {
        // Suffix: the last n bytes.
        let n = digits(last)?;
        return Some(if n == 0 || len == 0 {
            ByteRange::Unsatisfiable
        } else {
            ByteRange::Satisfiable(len - n.min(len), len - 1)
        });
    }
    let start = digits(first)?;
    let end = if last.is_empty() {
        u64::MAX
    } else {
        digits(last)?
    };
    if end < start {
        return None;
    }
    if start >= len {
        return Some(ByteRange::Unsatisfiable);
    }
    Some(ByteRange::Satisfiable(start, end.min(len - 1)))
}

/// Seconds since the epoch from an IMF-fixdate (the only format we send; obsolete formats are
/// treated as absent, which makes the condition false: a full response, never a wrong `304`).
fn parse_http_date(s: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.trim().as_bytes();
    if b.len() != 29 || &b[25..] != b" GMT" || b[3] != b',' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> { crate::h1::head::parse_length(&b[r]) };
    let day = num(5..7)?;
    let month = MONTHS.iter().position(|m| m.as_bytes() == &b[8..11])? as u64 + 1;
    let year = num(12..16)?;
    let (h, m, sec) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    // Days from civil (inverse of h1::civil_from_days), Howard Hinnant's algorithm.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// Serves the files under a directory, on a route ending in a wildcard:
///
/// ```no_run
/// use smolweb::{Router, ServeDir};
/// let app = Router::new().get("/static/*path", ServeDir::new("./public"));
/// # let _ = app;
/// ```
///
/// `GET /static/css/site.css` sends `./public/css/site.css`. The wildcard (or, on a route
/// without one, the whole path) is split on `/` and each segment percent-decoded once;
/// a segment that is `.` or `..`, or decodes to one containing `/`, `\`, NUL, or that looks
/// like a drive (`C:`), is refused with `400`. The file is then opened so that nothing outside
/// the root can be reached, else `404`: on Linux with one `openat2(RESOLVE_BENEATH)` from a
/// handle on the root (the kernel refuses any step out of it); where that refuses an absolute
/// symlink, or elsewhere, by canonicalizing the path (following every symlink) and requiring
/// it to lie under the canonicalized root. A symlink pointing outside the root is never
/// followed out; one pointing elsewhere inside it is served. A directory serves its `index.html` (a
/// path without the trailing `/` is first redirected to `./name/`, a relative reference),
/// else `404`; there are no listings. Missing files are `404`, unreadable ones `403`.
#[derive(Debug, Clone)]
pub struct ServeDir {
    root: Arc<Path>,
    /// `root` canonicalized, if it existed when the `ServeDir` was made.
    canonical: Option<Arc<Path>>,
    /// `root` opened as a directory handle, for `openat2(RESOLVE_BENEATH)` (Linux).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    dir: Option<Arc<rustix::fd::OwnedFd>>,
    chunk: usize,
}

impl ServeDir {
    /// Serves `root`. It is canonicalized and opened now if it exists (looked up on each
    /// request otherwise).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root: Arc<Path> = root.into().into();
        let canonical = std::fs::canonicalize(&root).ok().map(Arc::from);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let dir = {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::open(&*root, flags, Mode::empty())
                .ok()
                .map(Arc::new)
        };
        ServeDir {
            root,
            canonical,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            dir,
            chunk: FILE_CHUNK,
        }
    }

    /// Sets the chunk size files are sent in.
    ///
    /// **Default:** [`FILE_CHUNK`] (64 KiB). **Unit:** bytes.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// The relative path a request names, or the status refusing it. Borrowed from `raw` when
    /// it is one as it stands: no escapes and no empty segments.
    fn relative_path(raw: &str) -> Result<Cow<'_, Path>, StatusCode> {
        let mut as_sent = true;
        for segment in raw.split('/') {
            as_sent &= !segment.is_empty() && matches!(Self::segment(segment)?, Cow::Borrowed(_));
        }
        if as_sent {
            return Ok(Cow::Borrowed(Path::new(raw)));
        }
        let mut rel = PathBuf::new();
        for segment in raw.split('/').filter(|s| !s.is_empty()) {
            rel.push(&*Self::segment(segment)?);
        }
        Ok(Cow::Owned(rel))
    }

    /// One segment of a request's path, decoded; `400` for one that could step out of the
    /// root or name something else than a file in it.
    fn segment(segment: &str) -> Result<Cow<'_, str>, StatusCode> {
        let text = match crate::percent::decode(segment).ok_or(StatusCode::BadRequest)? {
            Cow::Borrowed(bytes) => {
                Cow::Borrowed(std::str::from_utf8(bytes).map_err(|_| StatusCode::BadRequest)?)
            }
            Cow::Owned(bytes) => {
                Cow::Owned(String::from_utf8(bytes).map_err(|_| StatusCode::BadRequest)?)
            }
        };
        let bad = text == "."
            || text == ".."
            || text.bytes().any(|b| matches!(b, b'/' | b'\\' | 0))
            || (text.len() >= 2
                && text.as_bytes()[1] == b':'
                && text.as_bytes()[0].is_ascii_alphabetic());
        if bad {
            return Err(StatusCode::BadRequest);
        }
        Ok(text)
    }

    fn serve(&self, req: &Request) -> Response {
        let raw = req.raw_wildcard().unwrap_or_else(|| req.path());
        let rel = match Self::relative_path(raw) {
            Ok(rel) => rel,
            Err(status) => return status_response(status),
        };
        let opened = self.open_beneath(&rel).and_then(|file| {
            let meta = file.metadata()?;
            if !meta.is_dir() {
                return FileResponse::from_open(file, &meta, &rel).map(Ok);
            }
            if !req.path().ends_with('/') {
                return Ok(Err(redirect_to_directory(req)));
            }
            let index = rel.join("index.html");
            let file = self.open_beneath(&index)?;
            let meta = file.metadata()?;
            FileResponse::from_open(file, &meta, &index).map(Ok)
        });
        match opened {
            Ok(Ok(file)) => file.chunk_size(self.chunk).respond_to(req),
            Ok(Err(redirect)) => redirect,
            Err(e) => io_error_response(&e),
        }
    }

    /// Opens `rel` under the root, never anything outside it, however symlinks point.
    ///
    /// On Linux one `openat2(RESOLVE_BENEATH)` from the root's directory handle does the whole
    /// walk in the kernel, refusing any step out of the root. When it refuses (`EXDEV`: an
    /// absolute symlink, or one leading out) or is unavailable, the path is canonicalized
    /// (every symlink followed) and must still lie under the canonical root.
    fn open_beneath(&self, rel: &Path) -> io::Result<std::fs::File> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(dir) = &self.dir {
            use rustix::fs::{Mode, OFlags, ResolveFlags};
            use rustix::io::Errno;
            let path = if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            };
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&**dir, path, flags, Mode::empty(), resolve) {
                Ok(fd) => return Ok(std::fs::File::from(fd)),
                Err(Errno::XDEV | Errno::NOSYS | Errno::LOOP | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let root = match &self.canonical {
            Some(root) => PathBuf::from(&**root),
            None => std::fs::canonicalize(&self.root)?,
        };
        let full = std::fs::canonicalize(root.join(rel))?;
        if !full.starts_with(&root) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "path resolves outside the root",
            ));
        }
        open_nonblocking(&full)
    }
}

/// The redirect from a directory's path to the same path with a trailing `/`, so relative
/// links in its index resolve. A relative reference (`./name/`): never an absolute or
/// protocol-relative URL that a path like `//evil.example` could turn into an open redirect.
fn redirect_to_directory(req: &Request) -> Response {
    let name = req.path().rsplit('/').next().unwrap_or_default();
    let query = req.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut res = crate::response::new_response(StatusCode::MovedPermanently);
    res.insert_header("location", format!("./{name}/{query}"));
    res
}

fn io_error_response(e: &io::Error) -> Response {
    let status = match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename => {
            StatusCode::NotFound
        }
        io::ErrorKind::PermissionDenied => StatusCode::Forbidden,
        _ if rustix::io::Errno::from_io_error(e) == Some(rustix::io::Errno::LOOP) => {
            StatusCode::NotFound
        }
        _ => {
            log::warn!("serving a file failed: {e}");
            StatusCode::InternalServerError
        }
    };
    status_response(status)
}

impl Handler for ServeDir {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let res = self.serve(&req);
        Box::pin(std::future::ready(res))
    }

    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        slot.put(std::future::ready(self.serve(&req)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_ranges() {
        use ByteRange::*;
        assert_eq!(parse_range("bytes=0-499", 1000), Some(Satisfiable(0, 499)));
        assert_eq!(parse_range("bytes=500-", 1000), Some(Satisfiable(500, 999)));
        assert_eq!(parse_range("bytes=-200", 1000), Some(Satisfiable(800, 999)));
        assert_eq!(parse_range("bytes=-2000", 1000), Some(Satisfiable(0, 999)));
        assert_eq!(
            parse_range("bytes=900-5000", 1000),
            Some(Satisfiable(900, 999))
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 1000), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-0", 0), Some(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=+1-2", 1000), None);
    }

    #[test]
    fn content_types_by_extension_in_any_case() {
        let of = |name: &str| content_type(Path::new(name));
        assert_eq!(of("a/font.WOFF2"), "font/woff2");
        assert_eq!(of("x.Html"), "text/html;charset=utf-8");
        assert_eq!(of("notes.backup"), "application/octet-stream");
        assert_eq!(of("x."), "application/octet-stream");
        assert_eq!(of("Makefile"), "application/octet-stream");
    }

    #[test]
    fn parses_what_it_formats() {
        for secs in [0, 784_111_777, 951_782_400, 1_764_000_000] {
            let text = crate::h1::format_date(secs);
            assert_eq!(
                parse_http_date(std::str::from_utf8(&text).unwrap()),
                Some(secs)
            );
        }
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }

    #[test]
    fn refuses_escaping_segments() {
        for bad in [
            "..", "a/../b", "%2e%2e", "%2E%2e/x", "a%2fb", "a%5cb", "a%00", "C:", "c:%5cwin",
            "%zz", "%",
        ] {
            assert!(ServeDir::relative_path(bad).is_err(), "accepted {bad}");
        }
        let rel = |raw| ServeDir::relative_path(raw).map(Cow::into_owned);
        assert_eq!(rel("a//b/c.txt"), Ok(PathBuf::from("a/b/c.txt")));
        assert_eq!(rel("with%20space"), Ok(PathBuf::from("with space")));
        assert_eq!(rel("a/b%20c/d"), Ok(PathBuf::from("a/b c/d")));
        assert_eq!(rel("/a/b/"), Ok(PathBuf::from("a/b")));
        assert_eq!(rel(""), Ok(PathBuf::new()));
        // As sent: borrowed, not copied.
        assert!(matches!(
            ServeDir::relative_path("a/b.txt"),
            Ok(Cow::Borrowed(_))
        ));
    }
}
