//! Content codings (RFC 9110 §8.4.1) and the negotiation of one by `Accept-Encoding`
//! (§12.5.3), shared by the compression middleware and `ServeDir`'s precompressed files.

/// A content coding smolweb can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Zstd,
    Gzip,
}

impl Coding {
    /// The token in `Content-Encoding`.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The file name suffix of a precompressed sibling (`app.js.br`).
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }

    /// Which coding `token` names (`x-gzip` is `gzip`, RFC 9110 §8.4.1.3).
    fn from_token(token: &str) -> Option<Self> {
        [
            ("br", Coding::Brotli),
            ("zstd", Coding::Zstd),
            ("gzip", Coding::Gzip),
            ("x-gzip", Coding::Gzip),
        ]
        .into_iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name))
        .map(|(_, coding)| coding)
    }
}

/// What an `Accept-Encoding` header accepts: a weight per coding, in thousandths
/// (`q=0.5` is 500; 0 means refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// Brotli, zstd, gzip, in `Coding` order.
    codings: [u16; 3],
    identity: u16,
}

impl Accepted {
    /// Reads `header`. No header means the client said nothing, which is taken as identity
    /// only: compressing for a client that did not ask is a risk with no gain.
    pub(crate) fn parse(header: Option<&str>) -> Self {
        // Identity not listed is acceptable but never preferred to a coding the client lists
        // (RFC 9110 §12.5.3 gives it no weight of its own).
        let mut accepted = Accepted {
            codings: [0; 3],
            identity: 1,
        };
        let Some(header) = header else {
            return accepted;
        };
        let (mut listed, mut identity_listed, mut star) = ([false; 3], false, None);
        for item in header.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            if token.is_empty() {
                continue;
            }
            let Some(q) = weight(parts) else { continue };
            if token == "*" {
                star = Some(q);
            } else if token.eq_ignore_ascii_case("identity") {
                (accepted.identity, identity_listed) = (q, true);
            } else if let Some(coding) = Coding::from_token(token) {
                let i = coding as usize;
                // `gzip` and `x-gzip` both listed: the better weight counts.
                accepted.codings[i] = if listed[i] {
                    accepted.codings[i].max(q)
                } else {
                    q
                };
                listed[i] = true;
            }
        }
        if let Some(q) = star {
            for (i, weight) in accepted.codings.iter_mut().enumerate() {
                if !listed[i] {
                    *weight = q;
                }
            }
            if !identity_listed {
                accepted.identity = q;
            }
        }
        accepted
    }

    /// The coding to send, of those `offered` (in the server's order of preference): the
    /// highest weight above 0, ties going to the earlier offered; `None` for identity,
    /// also when identity weighs more than every offered coding.
    pub(crate) fn best(&self, offered: &[Coding]) -> Option<Coding> {
        let mut best: Option<(Coding, u16)> = None;
        for &coding in offered {
            let q = self.codings[coding as usize];
            if q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((coding, q));
            }
        }
        best.filter(|&(_, q)| q >= self.identity)
            .map(|(coding, _)| coding)
    }

    /// The weight of `coding`.
    pub(crate) fn weight(&self, coding: Coding) -> u16 {
        self.codings[coding as usize]
    }
}

/// The `q` parameter of one element, in thousandths (1000 without one); `None` for a
/// malformed weight, which makes the element ignored.
fn weight<'a>(params: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut q = 1000;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        q = parse_q(value.trim())?;
    }
    Some(q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coding::*;

    const ALL: &[Coding] = &[Brotli, Zstd, Gzip];

    fn best(header: &str) -> Option<Coding> {
        Accepted::parse(Some(header)).best(ALL)
    }

    #[test]
    fn negotiates_by_weight_then_preference() {
        assert_eq!(best("gzip, deflate, br, zstd"), Some(Brotli));
        assert_eq!(best("gzip, deflate"), Some(Gzip));
        assert_eq!(best("x-gzip"), Some(Gzip));
        assert_eq!(best("GZIP;Q=0.5, br;q=0.4"), Some(Gzip));
        assert_eq!(best("br;q=0, gzip"), Some(Gzip));
        assert_eq!(best("zstd;q=1.0, br;q=0.999"), Some(Zstd));
        assert_eq!(best("*"), Some(Brotli));
        assert_eq!(best("*;q=0.5, br;q=0"), Some(Zstd));
        assert_eq!(best("deflate"), None);
        assert_eq!(best(""), None);
        assert_eq!(best("identity"), None);
        assert_eq!(best("gzip;q=0"), None);
        // Identity preferred over every offered coding.
        assert_eq!(best("gzip;q=0.5, identity"), None);
        assert_eq!(best("gzip;q=0.5, *;q=0.1"), Some(Gzip));
        assert_eq!(Accepted::parse(None).best(ALL), None);
        assert_eq!(
            Accepted::parse(Some("gzip")).best(&[Brotli, Zstd]),
            None,
            "only what is offered"
        );
    }

    #[test]
    fn malformed_weights_drop_their_element() {
        for bad in [
            "gzip;q=2",
            "gzip;q=1.5",
            "gzip;q=0.1234",
            "gzip;q=",
            "gzip;q=-1",
            "gzip;q",
        ] {
            assert_eq!(best(bad), None, "{bad}");
        }
        assert_eq!(best("gzip;q=x, br"), Some(Brotli));
        assert_eq!(best("gzip;level=9"), Some(Gzip));
        assert_eq!(best(" , ,gzip ,"), Some(Gzip));
    }

    #[test]
    fn identity_can_be_refused() {
        let a = Accepted::parse(Some("identity;q=0, gzip;q=0.2"));
        assert_eq!(a.identity, 0);
        assert_eq!(a.best(ALL), Some(Gzip));
        let a = Accepted::parse(Some("*;q=0"));
        assert_eq!((a.identity, a.best(ALL)), (0, None));
        assert_eq!(Accepted::parse(Some("br;q=0.3")).weight(Brotli), 300);
    }
}
