//! Route patterns: their segments, parsed from `/users/:id/*rest`, and matched against
//! request paths.

use std::sync::Arc;

use crate::request::ParamValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Static(Box<str>),
    Param(Arc<str>),
    Wildcard(Arc<str>),
}

impl Segment {
    /// Lower is more specific.
    pub(super) fn rank(&self) -> u8 {
        match self {
            Segment::Static(_) => 0,
            Segment::Param(_) => 1,
            Segment::Wildcard(_) => 2,
        }
    }
}

/// Same segments, parameter names aside.
pub(super) fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Segment::Static(x), Segment::Static(y)) => x == y,
            _ => x.rank() == y.rank(),
        })
}

pub(super) fn parse_pattern(path: &str) -> Vec<Segment> {
    assert!(path.starts_with('/'), "route {path:?} must start with '/'");
    let parts: Vec<&str> = path[1..].split('/').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if let Some(name) = part.strip_prefix(':') {
                assert!(
                    !name.is_empty(),
                    "route {path:?} has a parameter without a name"
                );
                Segment::Param(name.into())
            } else if let Some(name) = part.strip_prefix('*') {
                assert!(
                    i == last,
                    "route {path:?}: a *wildcard must be the last segment"
                );
                assert!(
                    !name.is_empty(),
                    "route {path:?} has a wildcard without a name"
                );
                Segment::Wildcard(name.into())
            } else {
                Segment::Static((*part).into())
            }
        })
        .collect()
}

/// Matches `path` against `segments`; fills `params` when given. Allocates nothing itself.
pub(super) fn match_path(
    segments: &[Segment],
    path: &str,
    mut params: Option<&mut Vec<(Arc<str>, ParamValue)>>,
) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let mut pos = path.len() - rest.len();
    let mut exhausted = false;
    for segment in segments {
        if let Segment::Wildcard(name) = segment {
            if let Some(params) = params.as_mut() {
                params.push((
                    name.clone(),
                    ParamValue {
                        raw: pos..path.len(),
                        decoded: None,
                    },
                ));
            }
            return true;
        }
        if exhausted {
            return false;
        }
        let end = path[pos..].find('/').map_or(path.len(), |j| pos + j);
        let part = &path[pos..end];
        match segment {
            Segment::Static(s) if part != &**s => return false,
            Segment::Param(_) if part.is_empty() => return false,
            Segment::Param(name) => {
                if let Some(params) = params.as_mut() {
                    params.push((
                        name.clone(),
                        ParamValue {
                            raw: pos..end,
                            decoded: None,
                        },
                    ));
                }
            }
            _ => {}
        }
        if end == path.len() {
            exhausted = true;
            pos = path.len();
        } else {
            pos = end + 1;
        }
    }
    exhausted
}

/// Percent-decodes parameter values that need it. `false`: a malformed escape or bytes that
/// are not UTF-8, which the request gets a `400` for (rather than a raw value that could be
/// mistaken for the decoded value of another path).
pub(super) fn decode_params(path: &str, params: &mut [(Arc<str>, ParamValue)]) -> bool {
    for (_, value) in params.iter_mut() {
        let text = &path[value.raw.clone()];
        if text.contains('%') {
            match crate::percent::decode_utf8(text) {
                Some(decoded) => value.decoded = Some(decoded),
                None => return false,
            }
        }
    }
    true
}
