//! Adding a field name to a response's `Vary` (RFC 9110 §12.5.5) without losing what is
//! there: middleware that makes the answer depend on a request header says so here.

use http_types::Response;
use http_types::headers::VARY;

/// Adds `name` to `res`'s `Vary`, unless it (or `*`) is listed already.
pub(crate) fn add_vary(res: &mut Response, name: &str) {
    let listed = res.header(VARY).is_some_and(|values| {
        values.iter().any(|value| {
            value
                .as_str()
                .split(',')
                .map(str::trim)
                .any(|token| token == "*" || token.eq_ignore_ascii_case(name))
        })
    });
    if !listed {
        res.append_header(VARY, name);
    }
}

#[cfg(test)]
mod tests {
    use http_types::StatusCode;

    use super::*;

    #[test]
    fn appends_once_and_keeps_what_was_there() {
        let mut res = Response::new(StatusCode::Ok);
        add_vary(&mut res, "accept-encoding");
        add_vary(&mut res, "Accept-Encoding");
        assert_eq!(res[VARY].as_str(), "accept-encoding");
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header(VARY, "origin, cookie");
        add_vary(&mut res, "accept-encoding");
        add_vary(&mut res, "cookie");
        let all: Vec<_> = res[VARY].iter().map(|v| v.as_str().to_owned()).collect();
        assert_eq!(all, ["origin, cookie", "accept-encoding"]);
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header(VARY, "*");
        add_vary(&mut res, "origin");
        assert_eq!(res[VARY].as_str(), "*");
    }
}
