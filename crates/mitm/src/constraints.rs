//! X.509 name constraints of the local CA (`gomodwatch ca init --permit ...`). A constrained
//! CA cannot certify other names even if its key leaks to a client that trusts it; the
//! proxy reads the permitted names back from the certificate (the one source of truth) and
//! refuses to intercept anything else instead of minting a leaf the client would reject.

use rcgen::{CidrSubnet, GeneralSubtree, NameConstraints};

/// The constraints for `permit`: those DNS names and their subdomains, and no IP address
/// at all (with only DNS subtrees an IP address would be unconstrained, RFC 5280 §4.2.1.10).
pub(crate) fn for_names(permit: &[String]) -> NameConstraints {
    NameConstraints {
        permitted_subtrees: permit
            .iter()
            .map(|n| GeneralSubtree::DnsName(n.clone()))
            .collect(),
        excluded_subtrees: vec![
            GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([0; 4], 0)),
            GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix([0; 16], 0)),
        ],
    }
}

/// The permitted DNS names of a CA certificate (DER); `None` when it is unconstrained.
pub(crate) fn permitted(ca_der: &[u8]) -> Option<Vec<String>> {
    let (_, cert) = x509_parser::parse_x509_certificate(ca_der).ok()?;
    let nc = cert.name_constraints().ok()??;
    let names = nc
        .value
        .permitted_subtrees
        .as_ref()?
        .iter()
        .filter_map(|s| match s.base {
            x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    Some(names)
}

/// Whether `host` is within `permit` (a name equal to one, or below it), as a client
/// checks a DNS name constraint. IP addresses never are.
pub(crate) fn allows(permit: &[String], host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    permit.iter().any(|p| {
        let p = p.trim_start_matches('.');
        host == p || host.strip_suffix(p).is_some_and(|rest| rest.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_subdomains_only() {
        let p = vec!["proxy.golang.org".to_string(), "goproxy.cn".to_string()];
        assert!(allows(&p, "proxy.golang.org"));
        assert!(allows(&p, "PROXY.golang.org."));
        assert!(allows(&p, "a.goproxy.cn"));
        assert!(!allows(&p, "evilgoproxy.cn"));
        assert!(!allows(&p, "golang.org"));
        assert!(!allows(&p, "127.0.0.1"));
    }
}
