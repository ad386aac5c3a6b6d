//! Who may place calls: an allowlist of source addresses (IPs and CIDR ranges), for a trunk
//! or PBX that sends from known hosts.

use std::net::IpAddr;

/// An IP network (`10.0.0.0/8`, `::1/128`) or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Option<IpNet> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (
                a.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u32) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let ((net, width), (candidate, cwidth)) = (bits(self.addr), bits(ip));
        if width != cwidth {
            return false;
        }
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix))
        };
        net & mask == candidate & mask
    }
}

/// The allowlist; empty allows everyone.
#[derive(Debug, Clone, Default)]
pub struct Allowlist(Vec<IpNet>);

impl Allowlist {
    /// Entries that do not parse are skipped (the configuration check reports them).
    pub fn new(entries: &[String]) -> Allowlist {
        Allowlist(entries.iter().filter_map(|e| IpNet::parse(e)).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        ip.is_some_and(|ip| self.0.iter().any(|net| net.contains(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        assert!(!net.contains(ip("fe80::1")));
        assert!(IpNet::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("::1/128").unwrap().contains(ip("::1")));
        assert_eq!(IpNet::parse("10.0.0.0/33"), None);
        assert_eq!(IpNet::parse("example.com"), None);
    }

    #[test]
    fn an_empty_list_allows_all_and_a_list_only_its_own() {
        assert!(Allowlist::default().allows(None));
        let list = Allowlist::new(&["192.168.0.0/24".into()]);
        assert!(list.allows(Some(ip("192.168.0.7"))));
        assert!(!list.allows(Some(ip("192.168.1.7"))));
        assert!(!list.allows(None));
    }
}
