//! The firewall rules that feed `--mitm ADDR --transparent`, printed for the user to add
//! (gomodwatch never changes the firewall itself) and to remove afterwards.

use std::net::SocketAddr;

/// The rules to redirect HTTPS to the proxy at `addr`, for this machine and for traffic
/// routed through it, and how to remove them.
pub(crate) fn text(addr: SocketAddr) -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let port = addr.port();
    let ipt = if addr.is_ipv6() {
        "ip6tables"
    } else {
        "iptables"
    };
    format!(
        "gomodwatch: redirect HTTPS to it (as root; gomodwatch does not touch the firewall):\n\
         \x20 connections from this machine (gomodwatch's own, uid {uid}, are left alone, or they would loop back;\n\
         \x20 the proxy must listen on 127.0.0.1 or 0.0.0.0 for these):\n\
         \x20   {ipt} -t nat -A OUTPUT -p tcp --dport 443 -m owner ! --uid-owner {uid} -j REDIRECT --to-ports {port}\n\
         \x20 connections from other hosts or network namespaces routed through this one (IFACE: where they\n\
         \x20 arrive; REDIRECT sends them to IFACE's own address, so listen there):\n\
         \x20   {ipt} -t nat -A PREROUTING -i IFACE -p tcp --dport 443 -j REDIRECT --to-ports {port}\n\
         \x20 another port (a GOPROXY on :3443): the same with --dport 3443. Remove them afterwards with the\n\
         \x20 same lines, -D instead of -A. Clients must trust gomodwatch's CA (gomodwatch ca trust).\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rules_name_the_port_and_exclude_our_own_user() {
        let t = super::text("127.0.0.1:8443".parse().unwrap());
        assert!(t.contains("-j REDIRECT --to-ports 8443"));
        assert!(t.contains("! --uid-owner "));
        assert!(t.contains("-A PREROUTING -i IFACE -p tcp --dport 443"));
        assert!(super::text("[::1]:8443".parse().unwrap()).contains("ip6tables -t nat"));
    }
}
