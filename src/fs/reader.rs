//! A [`FileBody`] read as an ordinary `http_types::Body`, for middleware that must see a
//! file's bytes (a compressor); and the public face of `FileBody`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::AsyncRead;
use http_types::Body;

use super::body::{FileBody, shrank};

impl FileBody {
    /// How many bytes the connection would send: the length of the range.
    ///
    /// ```
    /// use smolweb::{FileResponse, IntoResponse, ResponseExt};
    ///
    /// # let dir = std::env::temp_dir().join(format!("smolweb-len-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("a.txt");
    /// std::fs::write(&path, "twelve bytes")?;
    /// let res = FileResponse::open(&path)?.into_response();
    /// assert_eq!(res.file_body().map(|f| f.len()), Some(12));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The same bytes as an `http_types::Body` of known length, read from the file in
    /// chunks (positioned reads, one chunk of memory) as the body is read. This is how a
    /// middleware that transforms bodies (compression) reads a file: take the `FileBody`
    /// out of the response with
    /// [`ResponseExt::take_file_body`](crate::ResponseExt::take_file_body), and set what it
    /// makes of this body as the response's body.
    ///
    /// ```
    /// use smolweb::{FileResponse, IntoResponse, ResponseExt};
    ///
    /// # let dir = std::env::temp_dir().join(format!("smolweb-into-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("a.txt");
    /// std::fs::write(&path, "from the file")?;
    /// let mut res = FileResponse::open(&path)?.into_response();
    /// let file = res.take_file_body().expect("a file response");
    /// let text = smol::block_on(file.into_body().into_string()).unwrap();
    /// assert_eq!(text, "from the file");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_body(self) -> Body {
        let (len, chunk) = (self.len, self.chunk);
        let reader = FileReader {
            pos: self.offset,
            left: self.len,
            body: self,
        };
        let len = usize::try_from(len).ok();
        Body::from_reader(
            futures_lite::io::BufReader::with_capacity(chunk, reader),
            len,
        )
    }
}

/// The range of a `FileBody`, read in order.
struct FileReader {
    body: FileBody,
    /// The next byte to read, and how many are left.
    pos: u64,
    left: u64,
}

impl AsyncRead for FileReader {
    /// Reads inline, as the connection does: files in the page cache take microseconds.
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.left == 0 || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let want = buf
            .len()
            .min(usize::try_from(this.left).unwrap_or(usize::MAX));
        let n = this.body.read_at(&mut buf[..want], this.pos)?;
        if n == 0 {
            return Poll::Ready(Err(shrank()));
        }
        this.pos += n as u64;
        this.left -= n as u64;
        Poll::Ready(Ok(n))
    }
}
