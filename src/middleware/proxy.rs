//! [`TrustedProxies`]: behind a reverse proxy, the client's address, scheme and host from
//! the proxy's forwarding headers, believed only when the peer is one of the proxies.

use std::net::IpAddr;

use http_types::Url;

use super::cidr::{Cidr, ProxyConfigError};
use super::forwarded::{Hop, Node, list, parse_forwarded, x_forwarded_node};
use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;

/// Middleware for an application behind reverse proxies: when the direct peer
/// ([`Request::peer_addr`]) is one of the configured addresses or ranges, it reads the
/// forwarding headers the proxy set and makes them the request's own:
///
/// * [`Request::remote_addr`] gives the client's address;
/// * [`Request::url`] has the scheme (`https`) and the host the client used;
/// * [`Request::via_trusted_proxy`] is true (and [`RequestId`](super::RequestId) takes the
///   proxy's `X-Request-Id`).
///
/// `Forwarded` (RFC 7239) is read when present, else `X-Forwarded-For`,
/// `X-Forwarded-Proto` and `X-Forwarded-Host`. The client is found by walking the chain
/// of addresses from the right (the hop nearest this server), passing over addresses that
/// are themselves trusted proxies: the first other entry is the client. A client can put
/// whatever it likes on the left of the chain; it cannot get past the entry its first
/// trusted proxy appended. When every entry is trusted, the leftmost is the client. When
/// the entry reached is `unknown`, obfuscated or not an address, the client's address is
/// not known and [`remote_addr`](Request::remote_addr) stays the peer's.
///
/// From a peer that is not trusted, all these headers are ignored. A `Forwarded` field
/// that does not parse is ignored whole (scheme and host stay as received), and
/// `X-Forwarded-*` are then not read either: a proxy that writes `Forwarded` may pass a
/// client's `X-Forwarded-For` through untouched. For the same reason, configure each proxy
/// to strip or overwrite the header it does not write itself.
///
/// Add it first (outermost) on the top-level router, so that everything after it sees the
/// forwarded values. The `Host` header itself is left as received.
///
/// ```
/// use smolweb::{middleware::TrustedProxies, Request, Router, test::TestClient};
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8", "fd00::/8"])?;
/// let app = Router::new()
///     .get("/", |req: Request| async move {
///         format!("{} {:?}", req.url(), req.remote_addr())
///     })
///     .middleware(proxies);
/// smol::block_on(async {
///     let client = TestClient::new(app).peer_addr("10.0.0.2:41000".parse().unwrap());
///     let res = client
///         .get("/")
///         .header("forwarded", r#"for=198.51.100.7;proto=https;host=shop.example, for=10.0.0.9"#)
///         .send()
///         .await;
///     assert_eq!(res.text().await, "https://shop.example/ Some(198.51.100.7)");
/// });
/// # Ok::<(), smolweb::middleware::ProxyConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    ranges: Vec<Cidr>,
}

impl TrustedProxies {
    /// Trusts the peers in `entries`: addresses (`127.0.0.1`, `::1`) and ranges
    /// (`10.0.0.0/8`, `fd00::/8`). An entry that is neither, or a range whose address has
    /// bits set beyond its prefix (`10.0.0.1/8`), is an error. An empty list trusts no one.
    ///
    /// ```
    /// use smolweb::middleware::TrustedProxies;
    /// assert!(TrustedProxies::new(["127.0.0.1", "::1", "10.0.0.0/8"]).is_ok());
    /// assert!(TrustedProxies::new(["10.0.0.0/8", "10.0.0.0/40"]).is_err());
    /// ```
    pub fn new<I>(entries: I) -> Result<Self, ProxyConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let ranges = entries
            .into_iter()
            .map(|entry| Cidr::parse(entry.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { ranges })
    }

    /// True when `addr` is one of the trusted addresses or in one of the ranges (an
    /// IPv4-mapped IPv6 address counts as the IPv4 address it maps).
    ///
    /// ```
    /// use smolweb::middleware::TrustedProxies;
    /// let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
    /// assert!(proxies.is_trusted("10.1.2.3".parse().unwrap()));
    /// assert!(proxies.is_trusted("::ffff:10.1.2.3".parse().unwrap()));
    /// assert!(!proxies.is_trusted("127.0.0.1".parse().unwrap()));
    /// ```
    pub fn is_trusted(&self, addr: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(addr))
    }

    /// Applies the forwarding headers to `req` if its peer is trusted.
    fn establish(&self, req: &mut Request) {
        let Some(peer) = req.peer_addr() else {
            return;
        };
        if !self.is_trusted(peer.ip()) {
            return;
        }
        let forwarded = self.read(req);
        req.set_proxied(forwarded.client);
        if forwarded.proto.is_some() || forwarded.host.is_some() {
            let url = req.url();
            if let Some(url) = forwarded_url(url, forwarded.proto, forwarded.host.as_deref()) {
                *req.as_http_mut().url_mut() = url;
            }
        }
    }

    /// What the headers of a request from a trusted peer say.
    fn read(&self, req: &Request) -> Forwarded {
        let headers = req.headers();
        let values = |name: &str| {
            headers
                .get(name)
                .map(|values| values.iter().map(|v| v.as_str()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let fields = values("forwarded");
        if !fields.is_empty() {
            let Ok(hops) = parse_forwarded(fields) else {
                return Forwarded::default();
            };
            let nodes: Vec<Node> = hops.iter().map(|hop| hop.node).collect();
            let Some(at) = self.client_index(&nodes) else {
                return Forwarded::default();
            };
            let Hop { node, proto, host } = hops[at].clone();
            return Forwarded {
                client: ip(node),
                proto,
                host,
            };
        }
        let fors = values("x-forwarded-for");
        let chain: Vec<Node> = list(fors).into_iter().map(x_forwarded_node).collect();
        let at = self.client_index(&chain);
        // A value per hop when every proxy appended one: the client's hop's. Otherwise
        // the last, which the peer (trusted) set.
        let pick = |name: &str| {
            let entries = list(values(name));
            let aligned = at.filter(|_| entries.len() == chain.len());
            aligned
                .and_then(|at| entries.get(at))
                .or(entries.last())
                .map(|entry| entry.to_string())
        };
        Forwarded {
            client: at.and_then(|at| ip(chain[at])),
            proto: pick("x-forwarded-proto"),
            host: pick("x-forwarded-host"),
        }
    }

    /// The index of the client in a chain of nodes (the rightmost nearest): the rightmost
    /// entry that is not a trusted address, or the leftmost if all are. `None` for none.
    fn client_index(&self, chain: &[Node]) -> Option<usize> {
        let mut at = None;
        for (i, node) in chain.iter().enumerate().rev() {
            at = Some(i);
            match node {
                Node::Ip(addr) if self.is_trusted(*addr) => continue,
                _ => break,
            }
        }
        at
    }
}

impl Middleware for TrustedProxies {
    fn handle(&self, mut req: Request, next: Next) -> BoxFuture<crate::Response> {
        self.establish(&mut req);
        next.run(req)
    }
}

/// What the forwarding headers of a trusted peer's request said.
#[derive(Debug, Default)]
struct Forwarded {
    client: Option<IpAddr>,
    proto: Option<String>,
    host: Option<String>,
}

fn ip(node: Node) -> Option<IpAddr> {
    match node {
        Node::Ip(addr) => Some(addr),
        _ => None,
    }
}

/// `url` with the forwarded scheme (`http` or `https`; anything else is ignored) and host
/// (`name`, `name:port`, `[v6]:port`; anything that is not a URL authority with no user
/// info is ignored). `None` when nothing changes.
fn forwarded_url(url: &Url, proto: Option<String>, host: Option<&str>) -> Option<Url> {
    let mut out = url.clone();
    if let Some(proto) = proto.map(|p| p.to_ascii_lowercase()) {
        if proto == "http" || proto == "https" {
            // Between special schemes this cannot fail; a default port is dropped.
            let _ = out.set_scheme(&proto);
        }
    }
    if let Some(authority) = host.and_then(|h| parse_authority(out.scheme(), h)) {
        let (host, port) = authority;
        if out.set_host(Some(&host)).is_ok() {
            let _ = out.set_port(port);
        }
    }
    (out != *url).then_some(out)
}

/// `host[:port]` as a URL would have it, or `None` if it is not one.
fn parse_authority(scheme: &str, text: &str) -> Option<(String, Option<u16>)> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~:[]".contains(&b);
    if text.is_empty() || !text.bytes().all(plain) {
        return None;
    }
    let parsed = Url::parse(&format!("{scheme}://{text}/")).ok()?;
    let host = parsed.host_str()?.to_owned();
    Some((host, parsed.port()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::new(entries).unwrap()
    }

    fn x(chain: &str) -> Vec<Node> {
        list([chain]).into_iter().map(x_forwarded_node).collect()
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_entry() {
        let p = proxies(&["10.0.0.0/8", "::1"]);
        let at = |chain: &str| p.client_index(&x(chain));
        assert_eq!(at("203.0.113.7"), Some(0));
        assert_eq!(at("1.1.1.1, 203.0.113.7"), Some(1)); // 1.1.1.1 is the client's lie
        assert_eq!(at("203.0.113.7, 10.0.0.5, ::1"), Some(0));
        assert_eq!(at("10.0.0.4, 10.0.0.5"), Some(0)); // all trusted: the leftmost
        assert_eq!(at("203.0.113.7, unknown, 10.0.0.5"), Some(1));
        assert_eq!(at("203.0.113.7, garbage, 10.0.0.5"), Some(1));
        assert_eq!(at(""), None);
    }

    #[test]
    fn forwarded_urls() {
        let url = Url::parse("http://internal:8080/a?b=1").unwrap();
        let https = |host: Option<&str>| {
            forwarded_url(&url, Some("HTTPS".into()), host).map(|u| u.to_string())
        };
        assert_eq!(https(None).as_deref(), Some("https://internal:8080/a?b=1"));
        assert_eq!(
            https(Some("shop.example")).as_deref(),
            Some("https://shop.example/a?b=1")
        );
        assert_eq!(
            https(Some("shop.example:8443")).as_deref(),
            Some("https://shop.example:8443/a?b=1")
        );
        assert_eq!(
            https(Some("[2001:db8::1]:443")).as_deref(),
            Some("https://[2001:db8::1]/a?b=1")
        );
        for bad in ["evil@shop.example", "a/b", "", "a b", "x:notaport"] {
            assert_eq!(
                https(Some(bad)).as_deref(),
                Some("https://internal:8080/a?b=1"),
                "{bad}"
            );
        }
        assert_eq!(forwarded_url(&url, Some("ftp".into()), None), None);
        assert_eq!(forwarded_url(&url, Some("http".into()), None), None);
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> Request {
        let url = Url::parse("http://internal/p").unwrap();
        let mut http = crate::http::Request::new(Method::Get, url);
        for (name, value) in headers {
            http.append_header(*name, *value);
        }
        let remote = crate::transport::Remote {
            peer: Some(peer.parse().unwrap()),
            ..Default::default()
        };
        Request::new(
            crate::h1::message::Message::Built(Box::new(http)),
            remote,
            1024,
        )
    }

    fn apply(p: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> (String, String, bool) {
        let mut req = request(peer, headers);
        p.establish(&mut req);
        let addr = req.remote_addr().map(|a| a.to_string()).unwrap_or_default();
        (addr, req.url().to_string(), req.via_trusted_proxy())
    }

    #[test]
    fn headers_count_only_from_trusted_peers() {
        let p = proxies(&["10.0.0.0/8"]);
        let xff = [
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ];
        let (addr, url, via) = apply(&p, "10.0.0.1:5000", &xff);
        assert_eq!(
            (addr.as_str(), url.as_str(), via),
            ("203.0.113.7", "https://internal/p", true)
        );
        let (addr, url, via) = apply(&p, "192.0.2.1:5000", &xff);
        assert_eq!(
            (addr.as_str(), url.as_str(), via),
            ("192.0.2.1", "http://internal/p", false)
        );
    }

    #[test]
    fn forwarded_wins_and_a_malformed_one_counts_for_nothing() {
        let p = proxies(&["10.0.0.0/8"]);
        let both = [
            ("forwarded", "for=198.51.100.1;proto=https"),
            ("x-forwarded-for", "203.0.113.7"),
        ];
        assert_eq!(apply(&p, "10.0.0.1:1", &both).0, "198.51.100.1");
        let broken = [
            ("forwarded", r#"for="198.51.100.1;proto=https"#),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ];
        let (addr, url, via) = apply(&p, "10.0.0.1:1", &broken);
        assert_eq!(
            (addr.as_str(), url.as_str(), via),
            ("10.0.0.1", "http://internal/p", true)
        );
    }

    #[test]
    fn several_fields_and_aligned_values() {
        let p = proxies(&["10.0.0.0/8"]);
        // Two fields make one chain; the proto of the client's own hop is the one used.
        let headers = [
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-for", "10.0.0.3"),
            ("x-forwarded-proto", "http, https, http"),
            ("x-forwarded-host", "shop.example"),
        ];
        let (addr, url, _) = apply(&p, "10.0.0.1:1", &headers);
        assert_eq!(
            (addr.as_str(), url.as_str()),
            ("203.0.113.7", "https://shop.example/p")
        );
        // Not one per hop: the last (set by the peer) is used.
        let headers = [
            ("x-forwarded-for", "203.0.113.7, 10.0.0.3"),
            ("x-forwarded-proto", "https"),
        ];
        assert_eq!(apply(&p, "10.0.0.1:1", &headers).1, "https://internal/p");
        // Only a proto: the client is unknown, the peer's address stays.
        let headers = [("x-forwarded-proto", "https")];
        let (addr, url, _) = apply(&p, "10.0.0.1:1", &headers);
        assert_eq!(
            (addr.as_str(), url.as_str()),
            ("10.0.0.1", "https://internal/p")
        );
        // Forwarded: IPv6 in brackets, `unknown` on the way.
        let headers = [(
            "forwarded",
            r#"for="[2001:db8::7]:4711", for=unknown, for=10.0.0.2"#,
        )];
        assert_eq!(apply(&p, "10.0.0.1:1", &headers).0, "10.0.0.1");
        let headers = [(
            "forwarded",
            r#"for="[2001:db8::7]:4711";host="a.example:81""#,
        )];
        let (addr, url, _) = apply(&p, "[::ffff:10.0.0.1]:1", &headers);
        assert_eq!(
            (addr.as_str(), url.as_str()),
            ("2001:db8::7", "http://a.example:81/p")
        );
    }
}
