//! Server-side request forgery protection for client-supplied custom hosts.
//!
//! A `custom_host` sent by a client may not point at private, link-local, metadata or other
//! internal addresses unless the operator lists it in `server.trusted_hosts` (loopback is trusted
//! by default, so local model servers work out of the box). Hosts set in the server's own
//! config file are trusted as they are.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::Uri;

/// One `trusted_hosts` entry: an exact host, a `*.suffix` wildcard, or an IP network in CIDR form.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trusted {
    Host(String),
    Suffix(String),
    Net(IpAddr, u8),
}

/// The operator's list of hosts a client's `custom_host` may name despite being internal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHosts(Vec<Trusted>);

/// The default list: loopback only.
pub const DEFAULT_TRUSTED_HOSTS: &[&str] = &["localhost", "*.localhost", "127.0.0.0/8", "::1"];

impl Default for TrustedHosts {
    fn default() -> Self {
        // The defaults are valid entries.
        TrustedHosts::parse(DEFAULT_TRUSTED_HOSTS.iter().copied()).unwrap_or(TrustedHosts(vec![]))
    }
}

impl TrustedHosts {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut out = Vec::new();
        for e in entries {
            let e = e.trim().to_ascii_lowercase();
            if let Some(suffix) = e.strip_prefix("*.") {
                out.push(Trusted::Suffix(format!(".{suffix}")));
            } else if let Some((ip, bits)) = e.split_once('/') {
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| format!("`{e}` is not a CIDR network"))?;
                let bits: u8 = bits
                    .parse()
                    .map_err(|_| format!("`{e}` has a bad prefix length"))?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                if bits > max {
                    return Err(format!("`{e}` has a prefix length over {max}"));
                }
                out.push(Trusted::Net(ip, bits));
            } else if e.is_empty() {
                return Err("empty trusted host".into());
            } else {
                out.push(Trusted::Host(e.trim_matches(['[', ']']).to_owned()));
            }
        }
        Ok(TrustedHosts(out))
    }

    /// Whether `host` (lower case, no trailing dot) is on the trusted list by name (an exact
    /// entry or a `*.suffix` one); such a host may resolve to any address.
    pub fn trusts_name(&self, host: &str) -> bool {
        self.0.iter().any(|t| match t {
            Trusted::Host(h) => h == host,
            Trusted::Suffix(s) => host.ends_with(s.as_str()),
            Trusted::Net(..) => false,
        })
    }

    /// Whether `ip` is on the trusted list (by address or network).
    pub fn trusts_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|t| match t {
            Trusted::Host(h) => h.parse::<IpAddr>().ok().map(canonical) == Some(ip),
            Trusted::Net(net, bits) => in_network(ip, *net, *bits),
            Trusted::Suffix(_) => false,
        })
    }
}

/// What a custom host still needs before it may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCheck {
    /// Safe as it is (trusted, or a public IP literal).
    Allowed,
    /// A public-looking name: its resolved addresses must be checked with [`ip_is_internal`].
    Resolve { host: String, port: u16 },
}

/// Checks that `url` is an absolute http(s) URL without credentials or query.
pub fn validate_base_url(url: &str) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("`{url}` is not a valid URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("`{url}` must be an http:// or https:// URL"));
    }
    match uri.authority() {
        None => Err(format!("`{url}` has no host")),
        Some(a) if a.as_str().contains('@') => {
            Err("a base URL must not contain credentials".into())
        }
        Some(_) if uri.query().is_some() => {
            Err("a base URL must not contain a query string".into())
        }
        Some(_) => Ok(()),
    }
}

/// Validates a client-supplied custom host URL.
pub fn check_custom_host(url: &str, trusted: &TrustedHosts) -> Result<HostCheck, String> {
    validate_base_url(url)?;
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("`{url}` is not a valid URL"))?;
    let scheme = uri.scheme_str().unwrap_or("");
    let authority = uri
        .authority()
        .ok_or_else(|| "custom host has no host".to_owned())?;
    let host = authority
        .host()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let port = authority
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    if let Ok(ip) = host.parse::<IpAddr>() {
        if trusted.trusts_ip(ip) || !ip_is_internal(ip) {
            return Ok(HostCheck::Allowed);
        }
        return Err(format!(
            "custom host `{host}` is an internal address; add it to server.trusted_hosts to allow it"
        ));
    }
    if trusted.trusts_name(&host) {
        return Ok(HostCheck::Allowed);
    }
    const INTERNAL_SUFFIXES: &[&str] = &[
        ".local",
        ".localhost",
        ".internal",
        ".lan",
        ".home",
        ".corp",
        ".intranet",
        ".localdomain",
    ];
    if host == "localhost"
        || !host.contains('.')
        || INTERNAL_SUFFIXES.iter().any(|s| host.ends_with(s))
    {
        return Err(format!(
            "custom host `{host}` is an internal name; add it to server.trusted_hosts to allow it"
        ));
    }
    Ok(HostCheck::Resolve { host, port })
}

/// Private, loopback, link-local (incl. cloud metadata), CGNAT, multicast, reserved and
/// unspecified addresses.
pub fn ip_is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => v4_internal(v4),
        IpAddr::V6(v6) => v6_internal(v6),
    }
}

fn v4_internal(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0)
        || (a == 198 && (b == 18 || b == 19))
}

fn v6_internal(ip: Ipv6Addr) -> bool {
    let seg0 = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg0 & 0xfe00) == 0xfc00
        || (seg0 & 0xffc0) == 0xfe80
        || (seg0 & 0xffc0) == 0xfec0
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<HostCheck, String> {
        check_custom_host(url, &TrustedHosts::default())
    }

    #[test]
    fn loopback_is_trusted_by_default() {
        assert_eq!(check("http://127.0.0.1:9100/v1"), Ok(HostCheck::Allowed));
        assert_eq!(check("http://127.5.0.1/v1"), Ok(HostCheck::Allowed));
        assert_eq!(check("http://localhost:11434"), Ok(HostCheck::Allowed));
        assert_eq!(check("http://[::1]:8000/v1"), Ok(HostCheck::Allowed));
    }

    #[test]
    fn internal_addresses_and_names_are_refused() {
        for url in [
            "http://10.0.0.1/v1",
            "http://192.168.1.10",
            "http://172.20.0.1",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.1.1",
            "http://0.0.0.0",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://[::ffff:10.0.0.1]",
            "http://metadata.google.internal",
            "http://printer.local",
            "http://intranet",
        ] {
            assert!(check(url).is_err(), "{url} should be refused");
        }
    }

    #[test]
    fn malformed_urls_and_credentials_are_refused() {
        assert!(check("ftp://example.com").is_err());
        assert!(check("not a url").is_err());
        assert!(check("http://user:pw@example.com").is_err());
    }

    #[test]
    fn public_names_need_resolution_and_public_ips_pass() {
        assert_eq!(
            check("https://api.example.com/v1"),
            Ok(HostCheck::Resolve {
                host: "api.example.com".into(),
                port: 443
            })
        );
        assert_eq!(check("http://8.8.8.8/v1"), Ok(HostCheck::Allowed));
    }

    #[test]
    fn operator_can_trust_networks_and_suffixes() {
        let t = TrustedHosts::parse(["10.1.0.0/16", "*.corp", "gpu-box"]).unwrap();
        assert_eq!(
            check_custom_host("http://10.1.2.3", &t),
            Ok(HostCheck::Allowed)
        );
        assert!(check_custom_host("http://10.2.0.1", &t).is_err());
        assert_eq!(
            check_custom_host("http://llm.corp", &t),
            Ok(HostCheck::Allowed)
        );
        assert_eq!(
            check_custom_host("http://gpu-box:8000", &t),
            Ok(HostCheck::Allowed)
        );
        assert!(TrustedHosts::parse(["1.2.3.4/40"]).is_err());
    }
}
