//! Adding field names to a response's `Vary` (RFC 9110 §12.5.5) without losing what is
//! there: middleware that makes the answer depend on a request header says so here.

use http_types::Response;
use http_types::headers::VARY;

/// Adds `names` to the response's `Vary`, keeping what it lists (and leaving `*` alone).
pub(crate) fn add_vary(res: &mut Response, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    let mut listed: Vec<String> = res
        .header("vary")
        .into_iter()
        .flat_map(|values| values.iter())
        .flat_map(|value| value.as_str().split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if listed.iter().any(|v| v == "*") {
        return;
    }
    for name in names {
        if !listed.iter().any(|v| v.eq_ignore_ascii_case(name)) {
            listed.push((*name).to_owned());
        }
    }
    res.insert_header(VARY, listed.join(", "));
}

#[cfg(test)]
mod tests {
    use http_types::StatusCode;

    use super::*;

    #[test]
    fn adds_once_and_keeps_what_was_there() {
        let mut res = Response::new(StatusCode::Ok);
        add_vary(&mut res, &["accept-encoding"]);
        add_vary(&mut res, &["Accept-Encoding"]);
        assert_eq!(res[VARY].as_str(), "accept-encoding");
        let mut res = Response::new(StatusCode::Ok);
        res.append_header(VARY, "origin, cookie");
        res.append_header(VARY, "accept-language");
        add_vary(&mut res, &["accept-encoding", "cookie"]);
        assert_eq!(
            res[VARY].as_str(),
            "origin, cookie, accept-language, accept-encoding"
        );
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header(VARY, "*");
        add_vary(&mut res, &["origin"]);
        assert_eq!(res[VARY].as_str(), "*");
    }
}
