//! [`Compression`]: response bodies compressed with brotli, zstd or gzip, as the request's
//! `Accept-Encoding` asks (feature `compression`).
//!
//! | file | what it is |
//! | --- | --- |
//! | `mod.rs` | `Compression`: its settings, and which responses it compresses |
//! | `types.rs` | which content types are worth compressing |
//! | `codec.rs` | one compressor whatever the coding, over flate2, brotli and zstd |
//! | `reader.rs` | a body compressed as it is read, flushed whenever its source waits |

mod codec;
mod reader;
mod types;

use http_types::headers::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
};
use http_types::{Body, Method, Response, StatusCode};

use self::codec::{Codec, Levels};
use self::reader::Compressing;
use super::vary::add_vary;
use crate::coding::{Accepted, Coding};
use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;
use crate::response::ResponseExt;

/// The codings on offer, in the order preferred when the client weighs them alike.
const PREFERENCE: [Coding; 3] = [Coding::Brotli, Coding::Zstd, Coding::Gzip];

/// Bodies of known length up to this size are compressed whole, in one call, and sent with a
/// `Content-Length`; longer ones and bodies of unknown length are compressed as they are
/// sent (chunked framing), one read of memory at a time.
///
/// **Default:** 256 KiB. **Unit:** bytes.
pub const COMPRESS_WHOLE_MAX: u64 = 256 * 1024;

/// Compresses response bodies with brotli, zstd or gzip, chosen by the request's
/// `Accept-Encoding` (weights honoured, `identity;q=0` and `*` understood; when weights tie,
/// brotli, then zstd, then gzip). Feature `compression`: adds flate2, brotli and zstd.
///
/// A response is sent as it was when compressing it would be wrong or useless:
///
/// * the request is `HEAD` or has a `Range`, or the status is `206`, `204`, `304` or 1xx;
/// * the response has a `Content-Encoding` already (a precompressed file) or
///   `Cache-Control: no-transform`;
/// * its `Content-Type` is not a compressible one (text, JSON, XML, JavaScript, SVG,
///   WebAssembly, event streams: images, archives, video, audio and unknown types are not);
/// * its body's length is known and under [`min_size`](Self::min_size);
/// * the client accepts no coding this middleware offers.
///
/// Every response that passes through gets `Vary: Accept-Encoding`, compressed or not, so
/// that caches keep the variants apart. A compressed response loses its `Content-Length`
/// (unless compressed whole, see [`COMPRESS_WHOLE_MAX`]) and its `Accept-Ranges`, and its
/// strong `ETag` becomes weak (`W/"…"`): the bytes differ from the identity variant's.
///
/// Streamed bodies ([`body_from_stream`](crate::body_from_stream),
/// [`Sse`](crate::sse::Sse)) are compressed chunk by chunk: whenever the stream has nothing
/// more ready, the compressor is flushed, so every event reaches the client at once. File
/// bodies ([`FileResponse`](crate::FileResponse), [`ServeDir`](crate::ServeDir)) are read
/// through [`FileBody::into_body`](crate::FileBody::into_body) and compressed like any body.
///
/// ```
/// use smolweb::{Router, middleware::Compression, test::TestClient};
///
/// let big = "compressible text ".repeat(100);
/// let app = Router::new()
///     .get("/", move |_| { let big = big.clone(); async move { big } })
///     .middleware(Compression::new());
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     let res = client.get("/").header("accept-encoding", "gzip, br").send().await;
///     assert_eq!(res.header("content-encoding"), Some("br"));
///     assert_eq!(res.header("vary"), Some("accept-encoding"));
///     assert!(res.bytes().await.len() < 100);
///     let plain = client.get("/").send().await;
///     assert_eq!(plain.header("content-encoding"), None);
///     assert_eq!(plain.text().await.len(), 1800);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Compression {
    /// Which of brotli, zstd and gzip (in that order) are offered: `Copy`, so that the
    /// middleware's clone per request allocates nothing.
    offered: [bool; 3],
    levels: Levels,
    min_size: u64,
    compressible: fn(&str) -> bool,
}

impl Default for Compression {
    fn default() -> Self {
        Self::new()
    }
}

impl Compression {
    /// Brotli, zstd and gzip at their defaults.
    pub fn new() -> Self {
        Compression {
            offered: [true; 3],
            levels: Levels {
                gzip: 6,
                brotli: 4,
                zstd: 3,
            },
            min_size: 1024,
            compressible: types::compressible,
        }
    }

    /// Bodies of known length shorter than this are sent as they are (compression would not
    /// win back its header and the client's work).
    ///
    /// **Default:** 1024. **Unit:** bytes.
    ///
    /// ```
    /// let compression = smolweb::middleware::Compression::new().min_size(256);
    /// # let _ = compression;
    /// ```
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }

    /// The gzip level, 0 (stored) to 9 (smallest).
    ///
    /// **Default:** 6 (zlib's own default).
    ///
    /// ```
    /// let compression = smolweb::middleware::Compression::new().gzip_level(1);
    /// # let _ = compression;
    /// ```
    pub fn gzip_level(mut self, level: u32) -> Self {
        self.levels.gzip = level.min(9);
        self
    }

    /// The brotli quality, 0 to 11. 11 is for compressing files ahead of time; responses
    /// made per request want a low one.
    ///
    /// **Default:** 4.
    ///
    /// ```
    /// let compression = smolweb::middleware::Compression::new().brotli_quality(5);
    /// # let _ = compression;
    /// ```
    pub fn brotli_quality(mut self, quality: u32) -> Self {
        self.levels.brotli = quality.min(11);
        self
    }

    /// The zstd level, 1 to 22.
    ///
    /// **Default:** 3 (zstd's own default).
    ///
    /// ```
    /// let compression = smolweb::middleware::Compression::new().zstd_level(6);
    /// # let _ = compression;
    /// ```
    pub fn zstd_level(mut self, level: i32) -> Self {
        self.levels.zstd = level.clamp(1, 22);
        self
    }

    /// Offers gzip only (or none, with `false`, together with the other switches).
    ///
    /// **Default:** brotli, zstd and gzip are all offered.
    ///
    /// ```
    /// // gzip and brotli, no zstd:
    /// let compression = smolweb::middleware::Compression::new().zstd(false);
    /// # let _ = compression;
    /// ```
    pub fn gzip(self, on: bool) -> Self {
        self.offer(Coding::Gzip, on)
    }

    /// Offers brotli or not. **Default:** offered.
    ///
    /// ```
    /// let gzip_only = smolweb::middleware::Compression::new().brotli(false).zstd(false);
    /// # let _ = gzip_only;
    /// ```
    pub fn brotli(self, on: bool) -> Self {
        self.offer(Coding::Brotli, on)
    }

    /// Offers zstd or not. **Default:** offered.
    ///
    /// ```
    /// let compression = smolweb::middleware::Compression::new().zstd(false);
    /// # let _ = compression;
    /// ```
    pub fn zstd(self, on: bool) -> Self {
        self.offer(Coding::Zstd, on)
    }

    fn offer(mut self, coding: Coding, on: bool) -> Self {
        if let Some(i) = PREFERENCE.iter().position(|&c| c == coding) {
            self.offered[i] = on;
        }
        self
    }

    /// Which content types are compressed: `predicate` gets the `Content-Type` value.
    ///
    /// **Default:** text, JSON, XML, JavaScript, SVG, WebAssembly, event streams and the
    /// uncompressed font formats.
    ///
    /// ```
    /// let only_json = smolweb::middleware::Compression::new()
    ///     .content_types(|content_type| content_type.starts_with("application/json"));
    /// # let _ = only_json;
    /// ```
    pub fn content_types(mut self, predicate: fn(&str) -> bool) -> Self {
        self.compressible = predicate;
        self
    }

    /// The coding for `res`, or `None` to send it as it is (see the type's docs).
    fn choose(&self, accepted: &Accepted, res: &Response) -> Option<Coding> {
        let status = res.status();
        if status == StatusCode::PartialContent || !crate::h1::encode::status_has_body(status) {
            return None;
        }
        if res.header(CONTENT_ENCODING).is_some()
            || res
                .header_str(CACHE_CONTROL.as_str())
                .is_some_and(|v| v.to_ascii_lowercase().contains("no-transform"))
        {
            return None;
        }
        if !res
            .header_str(CONTENT_TYPE.as_str())
            .is_some_and(self.compressible)
        {
            return None;
        }
        let len = match res.file_body() {
            Some(file) => Some(file.len()),
            None => res.len().map(|n| n as u64),
        };
        if len.is_some_and(|len| len < self.min_size) {
            return None;
        }
        let mut offered = [Coding::Gzip; 3];
        let mut n = 0;
        for (&coding, _) in PREFERENCE.iter().zip(self.offered).filter(|(_, on)| *on) {
            offered[n] = coding;
            n += 1;
        }
        accepted.best(&offered[..n])
    }

    async fn compress(&self, req: Request, next: Next) -> Response {
        let skip = req.method() == Method::Head || req.header("range").is_some();
        let accepted = Accepted::parse(req.header("accept-encoding"));
        let mut res = next.run(req).await;
        if res.status().is_informational() {
            return res;
        }
        add_vary(&mut res, &["accept-encoding"]);
        let Some(coding) = (!skip).then(|| self.choose(&accepted, &res)).flatten() else {
            return res;
        };
        match self.encode(&mut res, coding).await {
            Ok(()) => res,
            Err(e) => {
                log::warn!("compressing a response failed: {e}");
                crate::response::status_response(StatusCode::InternalServerError)
            }
        }
    }

    /// Replaces `res`'s body with its compressed form and says so in its headers.
    async fn encode(&self, res: &mut Response, coding: Coding) -> std::io::Result<()> {
        use futures_lite::AsyncReadExt;
        let body = match res.take_file_body() {
            Some(file) => file.into_body(),
            None => res.take_body(),
        };
        let len = body.len().map(|n| n as u64);
        let compressed = match len {
            Some(len) if len <= COMPRESS_WHOLE_MAX => {
                let mut whole = Vec::with_capacity(len as usize);
                body.take(len).read_to_end(&mut whole).await?;
                Body::from(Codec::compress_all(coding, self.levels, &whole)?)
            }
            _ => {
                let reader = Compressing::new(body, Codec::new(coding, self.levels, len)?);
                Body::from_reader(futures_lite::io::BufReader::new(reader), None)
            }
        };
        res.remove_header(CONTENT_LENGTH);
        res.remove_header(ACCEPT_RANGES);
        res.insert_header(CONTENT_ENCODING, coding.token());
        if let Some(etag) = res.header_str(ETAG.as_str()).filter(|e| e.starts_with('"')) {
            let weak = format!("W/{etag}");
            res.insert_header(ETAG, weak);
        }
        res.set_body(compressed);
        Ok(())
    }
}

impl Middleware for Compression {
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let this = self.clone();
        Box::pin(async move { this.compress(req, next).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(len: usize) -> Response {
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header("content-type", "text/plain");
        res.set_body("x".repeat(len));
        res
    }

    #[test]
    fn only_codings_on_offer_are_chosen() {
        let all = Accepted::parse(Some("br, zstd, gzip"));
        let res = text(2000);
        assert_eq!(Compression::new().choose(&all, &res), Some(Coding::Brotli));
        let no_br = Compression::new().brotli(false);
        assert_eq!(no_br.choose(&all, &res), Some(Coding::Zstd));
        let gzip_only = no_br.zstd(false);
        assert_eq!(gzip_only.choose(&all, &res), Some(Coding::Gzip));
        assert_eq!(gzip_only.gzip(false).choose(&all, &res), None);
        // Taken off and put back: the order of preference holds.
        let back = Compression::new().brotli(false).brotli(true);
        assert_eq!(back.choose(&all, &res), Some(Coding::Brotli));
        assert_eq!(
            Compression::new().choose(&all, &text(100)),
            None,
            "under min_size"
        );
    }
}
