//! Which responses are worth compressing, by content type.

/// Whether a body of `content_type` (the `Content-Type` value, parameters included) shrinks
/// when compressed: text, JSON, XML, JavaScript, SVG, WebAssembly, server-sent events and the
/// uncompressed font formats. Images, audio, video, archives and anything unknown do not
/// (they are compressed already, or may be).
pub(crate) fn compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    match kind {
        "text" => true,
        "application" => {
            sub.ends_with("+json")
                || sub.ends_with("+xml")
                || matches!(
                    sub,
                    "json"
                        | "xml"
                        | "javascript"
                        | "x-javascript"
                        | "ecmascript"
                        | "wasm"
                        | "x-ndjson"
                        | "graphql-response+json"
                        | "manifest+json"
                        | "x-www-form-urlencoded"
                        | "vnd.ms-fontobject"
                        | "x-font-ttf"
                )
        }
        "image" => matches!(sub, "svg+xml" | "x-icon" | "vnd.microsoft.icon" | "bmp"),
        "font" => matches!(sub, "ttf" | "otf" | "eot"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::compressible;

    #[test]
    fn text_and_structured_data_compress_media_does_not() {
        for yes in [
            "text/html;charset=utf-8",
            "text/event-stream",
            "application/json",
            "application/problem+json",
            "Application/JSON; charset=utf-8",
            "application/atom+xml",
            "text/javascript;charset=utf-8",
            "application/wasm",
            "image/svg+xml",
            "font/ttf",
        ] {
            assert!(compressible(yes), "{yes}");
        }
        for no in [
            "image/png",
            "image/jpeg",
            "video/mp4",
            "audio/ogg",
            "application/zip",
            "application/gzip",
            "application/octet-stream",
            "font/woff2",
            "",
            "garbage",
        ] {
            assert!(!compressible(no), "{no}");
        }
    }
}
