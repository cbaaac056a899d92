//! Streamed uploads: a request body written to a file as it arrives, with a size limit.
//!
//! * `PUT /upload/:name` (or `POST`) streams the body into `<temp dir>/<name>` with
//!   `Request::take_body()` and `futures_lite::io::copy` into a `smol::fs::File`, never holding
//!   more than a buffer of it in memory. Past `MAX_UPLOAD` (1 MiB) it stops, deletes the partial
//!   file and answers `413`; a `Content-Length` over the limit is refused before a byte is read.
//! * `GET /files/*path` serves what was uploaded, with `ServeDir`. Beside it, a
//!   `PUT /files/:name` would not take its GETs: the router answers from the most specific
//!   pattern that has a handler for the method, so `GET /files/a.txt` still reaches the
//!   wildcard (see the routing chapter).
//!
//! The limit here is the handler's own. `Config::max_streamed_body_bytes` is a server-wide
//! alternative: set it and a too-large body fails with `io::ErrorKind::FileTooLarge` instead.
//!
//! ```sh
//! cargo run --example upload
//! curl -T Cargo.toml http://127.0.0.1:8080/upload/Cargo.toml       # 201
//! curl http://127.0.0.1:8080/files/Cargo.toml
//! head -c 2000000 /dev/zero | curl -i -T - http://127.0.0.1:8080/upload/big.bin  # 413
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`). Files go to a new
//! directory under the system's temp dir, printed at start-up.

mod support;

use std::io;
use std::path::PathBuf;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use smolweb::{Error, Request, Result, Router, ServeDir, StatusCode};

/// Largest upload accepted, in bytes.
const MAX_UPLOAD: u64 = 1024 * 1024;

/// Where uploads go.
struct UploadDir(PathBuf);

fn too_large() -> Error {
    Error::new(
        StatusCode::PayloadTooLarge,
        format!("uploads are limited to {MAX_UPLOAD} bytes\n"),
    )
}

/// A file name we are willing to create: letters, digits, `.`, `_`, `-`; not starting with `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What a failed copy means for the client (reads fail with these kinds; a failed write is a 500).
fn body_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut => Error::new(StatusCode::RequestTimeout, "upload stalled\n"),
        io::ErrorKind::FileTooLarge => too_large(),
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            Error::new(StatusCode::BadRequest, "malformed or truncated upload\n")
        }
        _ => Error::from_source(StatusCode::InternalServerError, e),
    }
}

async fn upload(mut req: Request) -> Result<(StatusCode, String)> {
    let name = req.param("name").unwrap_or_default().to_owned();
    if !valid_name(&name) {
        return Err(Error::new(StatusCode::BadRequest, "bad file name\n"));
    }
    // Refuse what announces itself as too large before reading any of it.
    let announced = req
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > MAX_UPLOAD) {
        return Err(too_large());
    }

    let dir = &req.state::<UploadDir>().0;
    let (path, partial) = (dir.join(&name), dir.join(format!(".{name}.partial")));
    let mut file = smol::fs::File::create(&partial).await?;
    // Copy at most one byte more than allowed: that byte tells "too large" from "just fits".
    let body = req.take_body().take(MAX_UPLOAD + 1);
    let outcome = match futures_lite::io::copy(body, &mut file).await {
        Ok(n) if n > MAX_UPLOAD => Err(too_large()),
        // smol::fs::File writes in the background: flush to see the last write's result.
        Ok(n) => file.flush().await.map(|()| n).map_err(Error::from),
        Err(e) => Err(body_error(e)),
    };
    drop(file);
    let written = match outcome {
        Ok(n) => n,
        Err(e) => {
            let _ = smol::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    smol::fs::rename(&partial, &path).await?;
    Ok((
        StatusCode::Created,
        format!("stored {written} bytes as /files/{name}\n"),
    ))
}

const USAGE: support::Usage = support::Usage {
    name: "upload",
    args: "[ADDR]",
    about: "Streamed uploads on ADDR (default 127.0.0.1:8080): PUT a file to
http://127.0.0.1:8080/upload/NAME (at most 1 MiB), then GET http://127.0.0.1:8080/files/NAME.
Files go to a new directory under the system's temp dir.",
};

fn main() {
    let args = USAGE.parse(1);
    let server = USAGE.bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str));
    let dir = std::env::temp_dir().join(format!("smolweb-upload-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        USAGE.refuse(format!("cannot make {}: {e}", dir.display()));
    }

    let app = Router::new()
        .put("/upload/:name", upload)
        .post("/upload/:name", upload)
        .get("/files/*path", ServeDir::new(&dir))
        .with_state(UploadDir(dir.clone()));

    println!(
        "listening on http://{} (uploads go to {})",
        server.local_addr(),
        dir.display()
    );
    USAGE.exit(server.run(app));
}
