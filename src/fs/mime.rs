//! Content types by file name extension.

use std::path::Path;

/// The media type for a file name's extension (case-insensitive); `application/octet-stream`
/// when unknown. Text types say `charset=utf-8`.
pub(crate) fn content_type(path: &Path) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension_in_any_case() {
        let of = |name: &str| content_type(Path::new(name));
        assert_eq!(of("a/font.WOFF2"), "font/woff2");
        assert_eq!(of("x.Html"), "text/html;charset=utf-8");
        assert_eq!(of("notes.backup"), "application/octet-stream");
        assert_eq!(of("x."), "application/octet-stream");
        assert_eq!(of("Makefile"), "application/octet-stream");
    }
}
