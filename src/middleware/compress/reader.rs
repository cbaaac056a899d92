//! A body compressed as it is read: [`Compressing`], which flushes the compressor whenever
//! the body it reads has nothing more ready, so each chunk of a streamed body (an SSE event)
//! reaches the client decodable at once and nothing is buffered whole.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::{AsyncBufRead, AsyncRead};

use super::codec::Codec;
use crate::stream::give_out;

/// `inner` compressed by `codec`, as an `AsyncRead`.
pub(crate) struct Compressing<R> {
    inner: R,
    /// `None` once the stream is finished.
    codec: Option<Codec>,
    /// Compressed bytes not yet given out, from `at`.
    out: Vec<u8>,
    at: usize,
    /// Bytes were written to the codec since its last flush.
    unflushed: bool,
}

impl<R> Compressing<R> {
    pub(crate) fn new(inner: R, codec: Codec) -> Self {
        Compressing {
            inner,
            codec: Some(codec),
            out: Vec::new(),
            at: 0,
            unflushed: false,
        }
    }
}

impl<R: AsyncBufRead + Unpin> AsyncRead for Compressing<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Each pass gives out compressed bytes, ends the body, or moves input into the codec.
        loop {
            if let Some(n) = give_out(&this.out, &mut this.at, buf) {
                return Poll::Ready(Ok(n));
            }
            this.out.clear();
            this.at = 0;
            let Some(codec) = this.codec.as_mut() else {
                return Poll::Ready(Ok(0));
            };
            match Pin::new(&mut this.inner).poll_fill_buf(cx) {
                Poll::Ready(Ok([])) => {
                    if let Some(codec) = this.codec.take() {
                        codec.finish_into(&mut this.out)?;
                    }
                }
                Poll::Ready(Ok(input)) => {
                    let n = input.len();
                    codec.write(input)?;
                    Pin::new(&mut this.inner).consume(n);
                    this.unflushed = true;
                    codec.drain_into(&mut this.out);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                // Nothing more ready: what was written goes out now, decodable.
                Poll::Pending if this.unflushed => {
                    codec.flush()?;
                    this.unflushed = false;
                    codec.drain_into(&mut this.out);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
