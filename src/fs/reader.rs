//! A [`FileBody`] read as an ordinary `http_types::Body`, for middleware that must see a
//! file's bytes (a compressor); and the public face of `FileBody`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::AsyncRead;
use http_types::Body;

use super::body::{FileBody, shrank};
use super::multipart::Segment;

impl FileBody {
    /// How many bytes the connection would send: the range's, or a multipart body's whole.
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
        self.total_len()
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.total_len() == 0
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
        let (len, chunk) = (self.total_len(), self.chunk);
        let reader = FileReader {
            segment: 0,
            within: 0,
            body: self,
        };
        let len = usize::try_from(len).ok();
        Body::from_reader(
            futures_lite::io::BufReader::with_capacity(chunk, reader),
            len,
        )
    }
}

/// The segments of a `FileBody`, read in order.
struct FileReader {
    body: FileBody,
    /// The segment being read, and how far into it.
    segment: usize,
    within: u64,
}

impl AsyncRead for FileReader {
    /// Reads inline, as the connection does: files in the page cache take microseconds.
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let Some(segment) = this.body.segments().nth(this.segment) else {
                return Poll::Ready(Ok(0));
            };
            let (n, len) = match segment {
                Segment::Bytes(bytes) => {
                    let rest = &bytes[this.within as usize..];
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    (n, bytes.len() as u64)
                }
                Segment::File { offset, len } => {
                    let left = len - this.within;
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = match want {
                        0 => 0,
                        _ => this.body.read_at(&mut buf[..want], offset + this.within)?,
                    };
                    if n == 0 && want > 0 {
                        return Poll::Ready(Err(shrank()));
                    }
                    (n, len)
                }
            };
            this.within += n as u64;
            if this.within == len {
                (this.segment, this.within) = (this.segment + 1, 0);
            }
            if n > 0 || buf.is_empty() {
                return Poll::Ready(Ok(n));
            }
        }
    }
}
