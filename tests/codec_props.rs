//! Property tests without extra crates: a seeded xorshift generator, hundreds of cases each.
//!
//! (a) Chunked round trip through the public `ChunkedDecoder`, fed in random pieces into
//!     random small output buffers.
//! (b) A request (or several, pipelined) written in random pieces through the in-memory
//!     transport gets byte-for-byte the response it gets written whole (the `date` line
//!     aside).

mod support;

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smolweb::h1::ChunkedDecoder;
use smolweb::{Request, Router, Service, memory};
use support::{Rng, random_splits};

// ---------------------------------------------------------------------------------------
// (a) Chunked round trip
// ---------------------------------------------------------------------------------------

const TOKEN: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const VCHAR: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t";

/// A chunk size in hex: random case, random leading zeros.
fn hex_size(rng: &mut Rng, n: usize) -> String {
    let mut s = format!("{n:x}");
    if rng.chance(1, 2) {
        s = s.to_uppercase();
    }
    let zeros = if rng.chance(1, 4) {
        rng.range(1, 20)
    } else {
        0
    };
    "0".repeat(zeros) + &s
}

/// A random chunk extension (possibly none): `;name`, `;name=token`, `;name="quoted"`, with
/// optional whitespace around the `;` as RFC 9112's BWS allows.
fn chunk_ext(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.range(0, 3) {
        if rng.chance(1, 4) {
            const BWS: [&str; 3] = [" ", "\t", "  "];
            s.push_str(BWS[rng.range(0, BWS.len() - 1)]);
        }
        s.push(';');
        if rng.chance(1, 4) {
            s.push(' ');
        }
        let name_len = rng.range(1, 8);
        s.push_str(&rng.string_from(TOKEN, name_len));
        match rng.range(0, 2) {
            0 => {}
            1 => {
                s.push('=');
                let n = rng.range(1, 8);
                s.push_str(&rng.string_from(TOKEN, n));
            }
            _ => {
                s.push_str("=\"");
                let n = rng.range(0, 12);
                // Quoted text: anything visible but `"` and `\`.
                let text: String = rng
                    .string_from(VCHAR, n)
                    .chars()
                    .filter(|c| *c != '"' && *c != '\\')
                    .collect();
                s.push_str(&text);
                s.push('"');
            }
        }
    }
    s
}

/// Encodes `body` in random chunks with random extensions and trailers.
fn encode_chunked(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let n = rng.range(1, 300).min(body.len() - at);
        out.extend_from_slice(hex_size(rng, n).as_bytes());
        out.extend_from_slice(chunk_ext(rng).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body[at..at + n]);
        out.extend_from_slice(b"\r\n");
        at += n;
    }
    out.extend_from_slice(hex_size(rng, 0).as_bytes());
    out.extend_from_slice(chunk_ext(rng).as_bytes());
    out.extend_from_slice(b"\r\n");
    for _ in 0..rng.range(0, 3) {
        let name_len = rng.range(1, 10);
        out.extend_from_slice(rng.string_from(TOKEN, name_len).as_bytes());
        out.push(b':');
        let value_len = rng.range(0, 20);
        out.extend_from_slice(rng.string_from(VCHAR, value_len).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Feeds `input` to a decoder in random pieces with random output room. Returns the body,
/// the bytes consumed, and whether the decoder said it was done.
fn decode_randomly(rng: &mut Rng, input: &[u8]) -> Result<(Vec<u8>, usize, bool), String> {
    let mut dec = ChunkedDecoder::new();
    let mut body = Vec::new();
    let mut used = 0;
    let mut out = [0u8; 64];
    let mut offset = 0;
    for piece in random_splits(rng, input.len(), 50) {
        let piece_bytes = &input[offset..offset + piece];
        offset += piece;
        let mut at = 0;
        // Each call consumes or produces at least one byte until the piece is used up or the
        // body ends: bounded by the piece's length plus the body's.
        for _ in 0..=(piece + input.len()) {
            if at == piece || dec.is_done() {
                break;
            }
            let room = rng.range(1, out.len());
            let (u, n) = dec
                .decode(&piece_bytes[at..], &mut out[..room])
                .map_err(|e| format!("{e} at byte {}", used))?;
            if u == 0 && n == 0 {
                return Err(format!("no progress at byte {used}"));
            }
            body.extend_from_slice(&out[..n]);
            at += u;
            used += u;
        }
        if dec.is_done() {
            break;
        }
    }
    Ok((body, used, dec.is_done()))
}

#[test]
fn chunked_round_trip_whatever_the_pieces() {
    let mut rng = Rng::new(0x5EED_C0DE);
    for case in 0..500 {
        let len = match rng.range(0, 9) {
            0 => 0,
            1..=6 => rng.range(1, 600),
            _ => rng.range(600, 5000),
        };
        let body = rng.bytes(len);
        let encoded = encode_chunked(&mut rng, &body);
        // What follows the body (a next request) must be left alone.
        let mut input = encoded.clone();
        input.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        let (decoded, used, done) = decode_randomly(&mut rng, &input).unwrap_or_else(|e| {
            panic!("case {case}: {e}\n{:?}", String::from_utf8_lossy(&encoded))
        });
        assert!(done, "case {case}: not done");
        assert_eq!(
            used,
            encoded.len(),
            "case {case}: consumed the wrong amount"
        );
        assert!(decoded == body, "case {case}: body differs");
    }
}

#[test]
fn done_decoder_consumes_nothing_more() {
    let mut rng = Rng::new(7);
    for case in 0..200 {
        let len = rng.range(0, 100);
        let body = rng.bytes(len);
        let encoded = encode_chunked(&mut rng, &body);
        let mut dec = ChunkedDecoder::new();
        let mut out = vec![0u8; body.len() + 1];
        let (used, n) = dec.decode(&encoded, &mut out).expect("valid encoding");
        assert_eq!((used, &out[..n]), (encoded.len(), &body[..]), "case {case}");
        assert!(dec.is_done());
        assert_eq!(
            dec.decode(b"5\r\nhello\r\n", &mut out),
            Ok((0, 0)),
            "case {case}"
        );
    }
}

#[test]
fn every_proper_prefix_is_incomplete_not_an_error() {
    let mut rng = Rng::new(0xF00D);
    for case in 0..300 {
        let len = rng.range(0, 200);
        let body = rng.bytes(len);
        let encoded = encode_chunked(&mut rng, &body);
        let cut = rng.range(0, encoded.len() - 1);
        let (decoded, used, done) = decode_randomly(&mut rng, &encoded[..cut])
            .unwrap_or_else(|e| panic!("case {case}, cut at {cut}: {e}"));
        assert!(
            !done,
            "case {case}: done after {cut} of {} bytes",
            encoded.len()
        );
        assert_eq!(used, cut, "case {case}");
        assert!(body.starts_with(&decoded), "case {case}");
    }
}

#[test]
fn decoded_output_never_exceeds_input() {
    // Random bytes, mostly invalid: whatever happens, no more body than input comes out,
    // and no more input is consumed than given.
    let mut rng = Rng::new(0xBAD);
    let alphabet = b"0123456789abcdefABCDEF;= \t\r\n\"xyz:";
    for _ in 0..500 {
        let len = rng.range(0, 200);
        let input: Vec<u8> = if rng.chance(1, 2) {
            rng.bytes(len)
        } else {
            (0..len).map(|_| *rng.pick(alphabet)).collect()
        };
        let mut dec = ChunkedDecoder::new();
        let (mut used, mut produced) = (0, 0);
        let mut out = [0u8; 7];
        for _ in 0..=input.len() {
            match dec.decode(&input[used..], &mut out) {
                Ok((u, n)) => {
                    used += u;
                    produced += n;
                    if u == 0 {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        assert!(used <= input.len());
        assert!(produced <= used);
    }
}

// ---------------------------------------------------------------------------------------
// (b) Requests split across reads
// ---------------------------------------------------------------------------------------

fn service() -> Service {
    Service::new(
        Router::new()
            .get("/", |_| async { "root" })
            .get("/hello/:name", |req: Request| async move {
                format!("hello {}", req.param("name").unwrap_or("?"))
            })
            .post("/echo", |mut req: Request| async move {
                let trailer_free = req.header("x-tag").unwrap_or("-").to_string();
                req.body_string()
                    .await
                    .map(|body| format!("{trailer_free}:{}:{body}", body.len()))
            })
            .post("/ignore", |_| async { "ignored" }),
    )
}

/// One random request; `last` asks to close, so the exchange ends.
fn random_request(rng: &mut Rng, last: bool) -> Vec<u8> {
    let close = if last { "Connection: close\r\n" } else { "" };
    let tag = format!("X-Tag: t{}\r\n", rng.range(0, 999));
    let alnum = b"abcdefghijklmnopqrstuvwxyz0123456789 -_.";
    match rng.range(0, 3) {
        0 => format!("GET / HTTP/1.1\r\nHost: x\r\n{close}\r\n").into_bytes(),
        1 => {
            let len = rng.range(1, 12);
            let name = rng.string_from(b"abcdefghij", len);
            format!("GET /hello/{name} HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n{close}\r\n")
                .into_bytes()
        }
        2 | 3 => {
            let target = if rng.chance(1, 4) { "/ignore" } else { "/echo" };
            let len = rng.range(0, 3000);
            let body = rng.string_from(alnum, len);
            let mut out = format!("POST {target} HTTP/1.1\r\nHost: x\r\n{tag}{close}").into_bytes();
            if rng.chance(1, 2) {
                out.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
                out.extend_from_slice(body.as_bytes());
            } else {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                out.extend_from_slice(&encode_chunked(rng, body.as_bytes()));
            }
            out
        }
        _ => unreachable!(),
    }
}

/// Serves one connection on the memory transport, writing `request` in `pieces` (each
/// written, flushed, and followed by a yield so the server may read it alone) then
/// half-closing, and reading the response concurrently until the server closes.
fn exchange(service: &Service, request: &[u8], pieces: &[usize]) -> Vec<u8> {
    let (client, server) = memory::pair();
    let (mut rd, mut wr) = futures_lite::io::split(client);
    let serve = service.serve_connection(server);
    let write = async {
        let mut at = 0;
        for &n in pieces {
            wr.write_all(&request[at..at + n])
                .await
                .expect("write piece");
            wr.flush().await.expect("flush");
            at += n;
            future::yield_now().await;
        }
        assert_eq!(at, request.len());
        // Done sending, as a client that half-closes: a server lingering to read what it
        // will not use sees the end at once.
        wr.close().await.expect("half-close");
    };
    let read = async {
        let mut response = Vec::new();
        rd.read_to_end(&mut response).await.expect("read response");
        response
    };
    let ((_, ()), response) = smol::block_on(future::zip(future::zip(serve, write), read));
    response
}

/// The response without its `date` line, which changes by the second.
fn without_date(response: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(response.len());
    let mut rest = response;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |i| i + 2);
        let line = &rest[..end];
        if !line.starts_with(b"date: ") {
            out.extend_from_slice(line);
        }
        rest = &rest[end..];
    }
    out
}

#[test]
fn requests_split_anywhere_get_the_same_responses() {
    let service = service();
    let mut rng = Rng::new(0xC0FFEE);
    for case in 0..300 {
        let count = rng.range(1, 3);
        let mut request = Vec::new();
        for i in 0..count {
            request.extend(random_request(&mut rng, i + 1 == count));
        }
        let whole = without_date(&exchange(&service, &request, &[request.len()]));
        assert!(
            whole.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "case {case}: {:?}",
            String::from_utf8_lossy(&whole)
        );
        let responses = whole.windows(9).filter(|w| w == b"HTTP/1.1 ").count();
        assert_eq!(
            responses,
            count,
            "case {case}: {:?}",
            String::from_utf8_lossy(&whole)
        );
        let max_piece = *rng.pick(&[1, 2, 3, 7, 16, 100, 1000]);
        let pieces = random_splits(&mut rng, request.len(), max_piece);
        let split = without_date(&exchange(&service, &request, &pieces));
        assert!(
            split == whole,
            "case {case} (pieces up to {max_piece}):\nwhole {:?}\nsplit {:?}\nrequest {:?}",
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(&split),
            String::from_utf8_lossy(&request)
        );
    }
}

#[test]
fn echoed_bodies_match_what_was_sent() {
    // The unsplit baseline itself is right: a body sent in any framing is echoed intact.
    let service = service();
    let mut rng = Rng::new(99);
    for case in 0..100 {
        let len = rng.range(0, 2000);
        let body = rng.string_from(b"abcdefghijklmnopqrstuvwxyz", len);
        let mut request =
            b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Tag: t\r\nConnection: close\r\n".to_vec();
        if rng.chance(1, 2) {
            request.extend_from_slice(format!("Content-Length: {len}\r\n\r\n{body}").as_bytes());
        } else {
            request.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            request.extend(encode_chunked(&mut rng, body.as_bytes()));
        }
        let pieces = random_splits(&mut rng, request.len(), 64);
        let response = exchange(&service, &request, &pieces);
        let expected = format!("t:{len}:{body}");
        assert!(
            response.ends_with(format!("\r\n\r\n{expected}").as_bytes()),
            "case {case}: {:?}",
            String::from_utf8_lossy(&response)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Known bug: unbounded chunk-size lines
// ---------------------------------------------------------------------------------------

/// Feeds `input` in 4 KiB pieces; `Err` if the decoder refused it, else whether it finished.
fn decode_in_pieces(input: &[u8]) -> Result<bool, smolweb::h1::ChunkError> {
    let mut dec = ChunkedDecoder::new();
    let mut out = [0u8; 64];
    for piece in input.chunks(4096) {
        let mut at = 0;
        for _ in 0..=piece.len() {
            if at == piece.len() || dec.is_done() {
                break;
            }
            let (used, _) = dec.decode(&piece[at..], &mut out)?;
            at += used;
        }
    }
    Ok(dec.is_done())
}

/// Extensions are capped at `MAX_CHUNK_EXT` per chunk, but the rest of a chunk-size line is
/// not: leading zeros do not count towards the 16-digit limit, and whitespace before `;`
/// (`State::SizeWs`) has no counter. A size line of a megabyte is accepted, so the framing
/// a server reads for one byte of body is unbounded.
#[test]
fn chunk_size_line_length_is_bounded() {
    let mut zeros = vec![b'0'; 1 << 20];
    zeros.extend_from_slice(b"1\r\nx\r\n0\r\n\r\n");
    let mut spaces = b"1".to_vec();
    spaces.extend(std::iter::repeat_n(b' ', 1 << 20));
    spaces.extend_from_slice(b";a\r\nx\r\n0\r\n\r\n");
    for (name, input) in [("leading zeros", zeros), ("whitespace", spaces)] {
        assert!(
            decode_in_pieces(&input).is_err(),
            "a 1 MiB chunk-size line of {name} was accepted"
        );
    }
}
