//! [`ServeDir`]: the files under a directory, on a route.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::Relaxed;

use http_types::{Response, StatusCode};

use super::body::FILE_CHUNK;
use super::file::FileResponse;
use super::open::Beneath;
use super::precompressed;
use crate::coding::{Accepted, Coding};
use crate::handler::{BoxFuture, Handler};
use crate::request::Request;
use crate::response::status_response;
use crate::slot::FutureSlot;
use crate::startup::RootError;
use crate::template;

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
///
/// A root that is missing, not a directory or unreadable is logged (`warn`) once when it is
/// found so, at [`new`](Self::new) or by a request, and again only when its problem changes
/// or after it was served well in between; [`try_new`](Self::try_new) makes it an error
/// instead.
#[derive(Debug, Clone)]
pub struct ServeDir {
    root: Beneath,
    chunk: usize,
    /// The codings of precompressed siblings looked for; empty: none.
    precompressed: &'static [Coding],
    cache_control: Option<CachePolicy>,
    /// While the root is known to be unservable, which problem it has (`RootError::code`;
    /// 0 while it is well): each problem is logged once, not per request.
    root_down: Arc<AtomicU8>,
}

impl ServeDir {
    /// Serves `root`. It is canonicalized and opened now if it exists (looked up on each
    /// request otherwise, so a root made after start is served). A root that is missing or
    /// not a directory is logged now, with `warn`: every request gets `404` until it is there.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let dir = Self::unchecked(root.into());
        if let Err(e) = RootError::check(dir.root.path()) {
            log::warn!("ServeDir: {e}: every request gets 404 until it is there");
            dir.root_down.store(e.code(), Relaxed);
        }
        dir
    }

    /// Serves `root`, which must be a directory this process can read: otherwise an
    /// `io::Error` (`NotFound`, `NotADirectory`, ...) carrying a [`RootError`] whose one-line
    /// `Display` names the root and the problem. For a start-up check:
    ///
    /// ```
    /// use smolweb::{Router, ServeDir};
    ///
    /// let err = ServeDir::try_new("/no/such/dir").unwrap_err();
    /// assert_eq!(err.to_string(), "/no/such/dir: no such directory");
    /// let app = Router::new().get("/*path", ServeDir::try_new(std::env::temp_dir())?);
    /// # let _ = app;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        RootError::check(&root).map_err(RootError::into_io)?;
        Ok(Self::unchecked(root))
    }

    fn unchecked(root: PathBuf) -> Self {
        let root: Arc<Path> = root.into();
        ServeDir {
            root: Beneath::new(root),
            chunk: FILE_CHUNK,
            precompressed: &[],
            cache_control: None,
            root_down: Arc::default(),
        }
    }

    /// Sets the chunk size files are sent in.
    ///
    /// **Default:** [`FILE_CHUNK`] (64 KiB). **Unit:** bytes.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// Serves precompressed siblings: for `app.js`, the file `app.js.br`, `app.js.zst` or
    /// `app.js.gz` beside it when the request's `Accept-Encoding` accepts that coding (the
    /// heaviest `q` first; brotli, then zstd, then gzip when they weigh alike), as nginx's
    /// `gzip_static` and `brotli_static` do. The response has the original's `Content-Type`,
    /// `Content-Encoding` of the sibling, the sibling's own `ETag` and `Last-Modified`, and
    /// ranges over the encoded bytes; every response from this directory (also the
    /// uncompressed ones) says `Vary: Accept-Encoding`. A sibling is opened beneath the root
    /// like any file; one that is missing costs one failed `open` per accepted coding.
    ///
    /// **Default:** off. Make the siblings at build time (`gzip -k`, `brotli -k`, `zstd`),
    /// with the same modification time as the original or later.
    ///
    /// ```
    /// use smolweb::{Router, ServeDir, test::TestClient};
    ///
    /// # let root = std::env::temp_dir().join(format!("smolweb-pre-{}", std::process::id()));
    /// # std::fs::create_dir_all(&root)?;
    /// std::fs::write(root.join("app.js"), "console.log('hi')")?;
    /// std::fs::write(root.join("app.js.gz"), b"\x1f\x8b...made by gzip -k")?;
    /// let app = Router::new().get("/*path", ServeDir::new(&root).precompressed());
    /// smol::block_on(async {
    ///     let res = TestClient::new(app).get("/app.js").header("accept-encoding", "gzip").send().await;
    ///     assert_eq!(res.header("content-encoding"), Some("gzip"));
    ///     assert_eq!(res.header("content-type"), Some("text/javascript;charset=utf-8"));
    ///     assert_eq!(res.header("vary"), Some("accept-encoding"));
    /// });
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn precompressed(mut self) -> Self {
        self.precompressed = precompressed::ALL;
        self
    }

    /// Sets `Cache-Control` on every file this serves (and its `304`s), e.g.
    /// `"public, max-age=3600"`. For a value that depends on the file, see
    /// [`cache_control_by`](Self::cache_control_by).
    ///
    /// **Default:** none (caches then use heuristics on `Last-Modified`).
    ///
    /// ```
    /// # let _ = smolweb::Router::new().get("/*path",
    /// smolweb::ServeDir::new("./public").cache_control("public, max-age=3600")
    /// # );
    /// ```
    pub fn cache_control(self, value: &str) -> Self {
        let value = value.to_owned();
        self.cache_control_by(move |_| Some(value.clone()))
    }

    /// Sets `Cache-Control` per file: `policy` gets the served file's path relative to the
    /// root (`index.html` for a directory) and gives the value, or `None` for none. The usual
    /// policy for a built front end: fingerprinted assets forever, the pages revalidated.
    ///
    /// **Default:** none.
    ///
    /// ```
    /// use smolweb::ServeDir;
    ///
    /// let assets = ServeDir::new("./dist").cache_control_by(|path| {
    ///     let fingerprinted = path.starts_with("assets");
    ///     Some(if fingerprinted { "public, max-age=31536000, immutable" } else { "no-cache" }.into())
    /// });
    /// # let _ = smolweb::Router::new().get("/*path", assets);
    /// ```
    pub fn cache_control_by(
        mut self,
        policy: impl Fn(&Path) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.cache_control = Some(CachePolicy(Arc::new(policy)));
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
        let opened = self.root.open(&rel).and_then(|file| {
            let meta = file.metadata()?;
            if !meta.is_dir() {
                return self.file_response(req, file, &meta, &rel).map(Ok);
            }
            if !req.path().ends_with('/') {
                return Ok(Err(redirect_to_directory(req)));
            }
            let index = rel.join("index.html");
            let file = self.root.open(&index)?;
            let meta = file.metadata()?;
            self.file_response(req, file, &meta, &index).map(Ok)
        });
        match opened {
            Ok(Ok(file)) => {
                self.root_is_up();
                file.chunk_size(self.chunk).respond_to(req)
            }
            Ok(Err(redirect)) => redirect,
            Err(e) => {
                self.check_root_after(&e);
                io_error_response(&e)
            }
        }
    }

    /// The response for the file at `path` (opened as `file`), or for its precompressed
    /// sibling, with the cache policy applied.
    fn file_response(
        &self,
        req: &Request,
        file: std::fs::File,
        meta: &std::fs::Metadata,
        path: &Path,
    ) -> io::Result<FileResponse> {
        let mut response = if self.precompressed.is_empty() {
            FileResponse::from_open(file, meta, path)?
        } else {
            let accepted = Accepted::parse(req.header("accept-encoding"));
            // The original is checked first: a directory or device keeps its answer.
            let original = FileResponse::from_open(file, meta, path)?;
            match precompressed::open_sibling(&self.root, path, &accepted, self.precompressed) {
                Some((file, meta, coding)) => {
                    FileResponse::from_open(file, &meta, path)?.encoded(Some(coding), true)
                }
                None => original.encoded(None, true),
            }
        };
        if let Some(value) = self.cache_control.as_ref().and_then(|p| (p.0)(path)) {
            response = response.cache_control(value);
        }
        Ok(response)
    }

    /// A request's file could not be opened: if the root itself is the reason, log it once.
    fn check_root_after(&self, e: &io::Error) {
        use io::ErrorKind::*;
        if !matches!(e.kind(), NotFound | PermissionDenied | NotADirectory) {
            return;
        }
        let path = self.root.path();
        let health = RootError::check(path).and_then(|()| match self.root.replaced() {
            true => Err(RootError::replaced(path)),
            false => Ok(()),
        });
        match health {
            Err(problem) if self.root_down.swap(problem.code(), Relaxed) != problem.code() => {
                log::warn!("ServeDir: {problem}: requests get 404 until it is back");
            }
            Err(_) => {}
            Ok(()) => self.root_is_up(),
        }
    }

    /// The root served (or checked) well: a later problem is news again.
    fn root_is_up(&self) {
        if self.root_down.load(Relaxed) != 0 && self.root_down.swap(0, Relaxed) != 0 {
            log::info!("ServeDir: {} is served again", self.root.path().display());
        }
    }
}

/// A `Cache-Control` value per served path.
#[derive(Clone)]
struct CachePolicy(Arc<PolicyFn>);

/// What a `CachePolicy` calls: the served path in, the header's value out.
type PolicyFn = dyn Fn(&Path) -> Option<String> + Send + Sync;

impl std::fmt::Debug for CachePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachePolicy(..)")
    }
}

/// The redirect from a directory's path to the same path with a trailing `/`, so relative
/// links in its index resolve. A relative reference (`./name/`): never an absolute or
/// protocol-relative URL that a path like `//evil.example` could turn into an open redirect.
fn redirect_to_directory(req: &Request) -> Response {
    let name = req.path().rsplit('/').next().unwrap_or_default();
    let query = req.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut res = template::response(StatusCode::MovedPermanently);
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
