//! [`OpaqueFields`]: header fields whose values hold obs-text, kept beside the request.
//!
//! RFC 9110 §5.5 allows bytes 0x80–0xFF (obs-text) in a field value, and browsers send them:
//! UTF-8 in a `Cookie` or a `User-Agent`, Latin-1 from older clients. http-types' values are
//! ASCII only, so such fields cannot go into its `Headers`; they are kept here, as received,
//! in the built request's extensions, where `Request::header` and `Request::header_bytes`
//! find them. What must stay true: a field is in exactly one of the two places.

use http_types::Request;

/// The fields of one request whose values are not ASCII: name and value as received, in the
/// order they came.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpaqueFields(Vec<(Box<str>, Box<[u8]>)>);

impl OpaqueFields {
    /// Keeps the fields of `fields` whose values are not ASCII in `request`, if there are any.
    pub(crate) fn keep(fields: &[httparse::Header<'_>], request: &mut Request) {
        let opaque: Vec<_> = fields
            .iter()
            .filter(|h| !h.value.is_ascii())
            .map(|h| (Box::from(h.name), Box::from(h.value)))
            .collect();
        if !opaque.is_empty() {
            request.ext_mut().insert(OpaqueFields(opaque));
        }
    }

    /// The first value of the field `name` (matched without regard to case) in `request`'s
    /// opaque fields, as received.
    pub(crate) fn get<'r>(request: &'r Request, name: &str) -> Option<&'r [u8]> {
        let OpaqueFields(fields) = request.ext().get::<OpaqueFields>()?;
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| &value[..])
    }
}
