//! [`Cidr`]: an address range written `10.0.0.0/8`, `fd00::/8`, or one address, and the
//! [`ProxyConfigError`] of one that does not parse.

use std::fmt;
use std::net::IpAddr;

/// A range of addresses: a network address and a prefix length. Its host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `127.0.0.1` (a `/32`), `::1` (a `/128`), `fd00::/8`.
    pub(crate) fn parse(entry: &str) -> Result<Cidr, ProxyConfigError> {
        let error = |kind| ProxyConfigError {
            entry: entry.to_owned(),
            kind,
        };
        let (addr, prefix) = match entry.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (entry.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| error(ErrorKind::Address))?;
        let network = network.to_canonical_v4_only();
        let max = max_prefix(network);
        let prefix = match prefix {
            None => max,
            // Digits only: `u8::from_str` would also take `+8`.
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| error(ErrorKind::Prefix))?
            }
            Some(_) => return Err(error(ErrorKind::Prefix)),
        };
        if prefix > max {
            return Err(error(ErrorKind::Prefix));
        }
        if bits(network) & !mask(prefix, max) != 0 {
            return Err(error(ErrorKind::HostBits));
        }
        Ok(Cidr { network, prefix })
    }

    /// True when `addr` is in the range. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as a
    /// dual-stack socket reports an IPv4 peer) counts as the IPv4 address it maps.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical_v4_only();
        if addr.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let max = max_prefix(addr);
        bits(addr) & mask(self.prefix, max) == bits(self.network)
    }
}

/// Only `::ffff:a.b.c.d` becomes IPv4; `::a.b.c.d` (deprecated "compatible") stays IPv6.
trait Canonical {
    fn to_canonical_v4_only(self) -> IpAddr;
}

impl Canonical for IpAddr {
    fn to_canonical_v4_only(self) -> IpAddr {
        match self {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(self, IpAddr::V4),
            v4 => v4,
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// The address as a number, IPv4 in the low 32 bits.
fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u32::from(v4).into(),
        IpAddr::V6(v6) => v6.into(),
    }
}

/// The network bits of a `/prefix` in an address `max` bits long.
fn mask(prefix: u8, max: u8) -> u128 {
    let all = if max == 32 {
        u32::MAX as u128
    } else {
        u128::MAX
    };
    if prefix == 0 {
        0
    } else {
        all & (all << (max - prefix))
    }
}

/// A trusted-proxy entry that is not an address or a range
/// ([`TrustedProxies::new`](super::TrustedProxies::new)).
///
/// ```
/// use smolweb::middleware::TrustedProxies;
/// let err = TrustedProxies::new(["10.0.0.0/33"]).unwrap_err();
/// assert_eq!(err.entry(), "10.0.0.0/33");
/// assert!(err.to_string().contains("prefix length"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfigError {
    entry: String,
    kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    Address,
    Prefix,
    HostBits,
}

impl ProxyConfigError {
    /// The entry as it was given.
    ///
    /// ```
    /// # use smolweb::middleware::TrustedProxies;
    /// assert_eq!(TrustedProxies::new(["localhost"]).unwrap_err().entry(), "localhost");
    /// ```
    pub fn entry(&self) -> &str {
        &self.entry
    }
}

impl fmt::Display for ProxyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = &self.entry;
        match self.kind {
            ErrorKind::Address => write!(
                f,
                "trusted proxy {entry:?} is not an IP address (nor ADDRESS/PREFIX)"
            ),
            ErrorKind::Prefix => write!(
                f,
                "trusted proxy {entry:?}: the prefix length must be 0-32 (IPv4) or 0-128 (IPv6)"
            ),
            ErrorKind::HostBits => write!(
                f,
                "trusted proxy {entry:?}: the address has bits set beyond its prefix \
                 (write the network address, e.g. 10.0.0.0/8)"
            ),
        }
    }
}

impl std::error::Error for ProxyConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_only() {
        let cases = [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("10.0.0.0/8", "::a01:203", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "203.0.113.7", true),
            ("0.0.0.0/0", "::1", false),
            ("192.168.1.0/24", "192.168.1.255", true),
            ("192.168.1.0/24", "192.168.2.0", false),
            ("192.168.1.128/25", "192.168.1.127", false),
            ("::1", "::1", true),
            ("::1", "::2", false),
            ("fd00::/8", "fd12:3456::1", true),
            ("fd00::/8", "fe80::1", false),
            ("fd00::/8", "10.0.0.1", false),
            ("::/0", "2001:db8::1", true),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::", false),
            ("::ffff:10.0.0.0/8", "10.2.3.4", true),
        ];
        for (range, addr, inside) in cases {
            let cidr = Cidr::parse(range).unwrap();
            assert_eq!(cidr.contains(ip(addr)), inside, "{range} {addr}");
        }
    }

    #[test]
    fn malformed_entries_are_refused_with_a_kind() {
        let cases = [
            ("", ErrorKind::Address),
            ("localhost", ErrorKind::Address),
            ("10.0.0/8", ErrorKind::Address),
            ("10.0.0.0/", ErrorKind::Prefix),
            ("10.0.0.0/33", ErrorKind::Prefix),
            ("10.0.0.0/+8", ErrorKind::Prefix),
            ("10.0.0.0/8/8", ErrorKind::Prefix),
            ("10.0.0.0/-1", ErrorKind::Prefix),
            ("::/129", ErrorKind::Prefix),
            ("10.0.0.1/8", ErrorKind::HostBits),
            ("fd00::1/8", ErrorKind::HostBits),
            ("[::1]", ErrorKind::Address),
            ("1.2.3.4:80", ErrorKind::Address),
        ];
        for (entry, kind) in cases {
            let err = Cidr::parse(entry).unwrap_err();
            assert_eq!((err.entry(), err.kind), (entry, kind), "{entry}");
        }
    }

    #[test]
    fn masks_at_the_edges() {
        assert_eq!(mask(0, 32), 0);
        assert_eq!(mask(32, 32), u32::MAX as u128);
        assert_eq!(mask(8, 32), 0xff00_0000);
        assert_eq!(mask(128, 128), u128::MAX);
        assert_eq!(mask(1, 128), 1 << 127);
    }
}
