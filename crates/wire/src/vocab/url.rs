//! URLs, read with the `url` crate. An exchange's URL is kept exactly as the client sent
//! it (docs/CONTRACT.md); these helpers parse it for its parts, compare URLs in the
//! crate's normal form (lowercase host, no default port), and hide credentials.

pub use url::{Host, Url};

/// An absolute URL cut into its origin (`scheme://authority`, as written), path and query
/// (as sent). The go command's request URLs come here once per request: the `url` crate's
/// full parse costs thousands of instructions per URL (its host processing), so the hot
/// path splits at the structural characters here, in this one place, and leaves what needs
/// real parsing — the origin's normal form — to [`Origins`], once per distinct origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// `scheme://authority`, as sent.
    pub origin: &'a str,
    /// The path, from its `/` (empty when there is none).
    pub path: &'a str,
    /// The query, without its `?` (empty when there is none).
    pub query: &'a str,
}

/// Splits a URL at its structural characters (see [`Split`]); `None` without `://`.
pub fn split(s: &str) -> Option<Split<'_>> {
    let after_scheme = super::text::find_str(s, "://")? + 3;
    let path_at = s[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(s.len(), |i| after_scheme + i);
    let rest = &s[path_at..];
    let rest = rest.split('#').next().unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(Split {
        origin: &s[..path_at],
        path,
        query,
    })
}

/// Origins in normal form (`scheme://host[:port]`, lowercase, no default port) and their
/// authority, parsed with the `url` crate once each.
#[derive(Debug, Default)]
pub struct Origins {
    cache: std::collections::HashMap<String, Option<(String, String)>>,
}

impl Origins {
    /// Distinct origins remembered; more are parsed every time.
    const MAX: usize = 4096;

    /// (origin in normal form, authority as named) of a `scheme://authority` string.
    pub fn normal(&mut self, raw_origin: &str) -> Option<(&str, &str)> {
        if !self.cache.contains_key(raw_origin) {
            if self.cache.len() >= Self::MAX {
                self.cache.clear();
            }
            let parsed = parse(raw_origin).map(|u| (origin(&u), authority(&u).unwrap_or_default()));
            self.cache.insert(raw_origin.to_string(), parsed);
        }
        self.cache
            .get(raw_origin)?
            .as_ref()
            .map(|(o, a)| (o.as_str(), a.as_str()))
    }
}

/// Parses an absolute URL.
pub fn parse(s: &str) -> Option<Url> {
    Url::parse(s).ok().filter(|u| u.has_host())
}

/// `scheme://host[:port]` in normal form.
pub(crate) fn origin(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
        (Some(h), None) => format!("{}://{h}", u.scheme()),
        _ => format!("{}:", u.scheme()),
    }
}

/// Could this URL's server be at `addr`? Same port, and the same address for a literal;
/// for a name, `domain` decides (whether the traffic resolved it elsewhere).
pub fn could_be_at(
    u: &Url,
    addr: &std::net::SocketAddr,
    domain: impl FnOnce(&str) -> bool,
) -> bool {
    u.port_or_known_default() == Some(addr.port())
        && match u.host() {
            Some(Host::Ipv4(ip)) => std::net::IpAddr::V4(ip) == addr.ip(),
            Some(Host::Ipv6(ip)) => std::net::IpAddr::V6(ip) == addr.ip(),
            Some(Host::Domain(d)) => domain(d),
            None => false,
        }
}

/// `host:port`, with the scheme's default port filled in: comparable with the socket
/// address a connection went to.
pub fn host_port(u: &Url) -> Option<String> {
    let host = u.host_str()?;
    let port = u.port_or_known_default()?;
    Some(format!("{host}:{port}"))
}

/// `host[:port]` as the URL names it (the port only when it is not the default).
pub fn authority(u: &Url) -> Option<String> {
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// The URL in normal form without credentials and without a trailing `/`: how configured
/// proxies and redirect targets are compared with the traffic (the go command sends
/// credentials as a header, never in the URL). Not a URL: returned as given.
pub fn normalize(s: &str) -> String {
    let Some(mut u) = parse(s) else {
        return s.to_string();
    };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let out = u.to_string();
    match out.strip_suffix('/') {
        Some(t) if u.query().is_none() && u.fragment().is_none() => t.to_string(),
        _ => out,
    }
}

/// The password of a URL replaced by `xxxxx`, as Go's `url.Redacted` does
/// (`https://user:secret@host/p` → `https://user:xxxxx@host/p`). A URL without a password
/// is returned exactly as given.
pub fn redact_password(s: &str) -> String {
    // Without an `@` in the authority there is no userinfo: skip parsing (every request
    // URL comes here, and `/@v/` is in most of their paths).
    if !split(s).is_some_and(|p| p.origin.contains('@')) {
        return s.to_string();
    }
    match parse(s) {
        Some(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("xxxxx"));
            let mut out = u.to_string();
            // The normal form adds a `/` path to `http://host:port`; keep what was written.
            if u.path() == "/" && !s.ends_with('/') && u.query().is_none() {
                out.pop();
            }
            out
        }
        _ => s.to_string(),
    }
}

/// A `Location` header resolved against the URL it answered.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    Some(parse(base)?.join(location).ok()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_only() {
        assert_eq!(
            redact_password("https://bob:s3cret@proxy.corp/p/@v/list"),
            "https://bob:xxxxx@proxy.corp/p/@v/list"
        );
        assert_eq!(redact_password("https://bob@h/x"), "https://bob@h/x");
        assert_eq!(redact_password("http://h/x@v1"), "http://h/x@v1");
        assert_eq!(redact_password("h:1"), "h:1");
        // Untouched, even where the normal form would differ.
        assert_eq!(redact_password("HTTP://H:80/%7e"), "HTTP://H:80/%7e");
    }

    #[test]
    fn normal_form_for_comparison() {
        assert_eq!(
            normalize("https://bob:pw@proxy.corp/x"),
            "https://proxy.corp/x"
        );
        assert_eq!(normalize("https://proxy.corp"), "https://proxy.corp");
        assert_eq!(
            normalize("HTTPS://Proxy.Corp:443/p/"),
            "https://proxy.corp/p"
        );
        assert_eq!(normalize("direct"), "direct");
    }

    #[test]
    fn resolves_location_forms() {
        let b = "http://a:3000/m/@v/v1.0.0.zip";
        let r = |l| resolve(b, l).unwrap();
        assert_eq!(r("https://s/x.zip?sig=1"), "https://s/x.zip?sig=1");
        assert_eq!(r("//s/x"), "http://s/x");
        assert_eq!(
            r("/other/m/@v/v1.0.0.zip"),
            "http://a:3000/other/m/@v/v1.0.0.zip"
        );
        assert_eq!(r("v1.0.1.zip"), "http://a:3000/m/@v/v1.0.1.zip");
    }

    #[test]
    fn parts() {
        let u = parse("https://goproxy.test:443/a").unwrap();
        assert_eq!(origin(&u), "https://goproxy.test");
        assert_eq!(host_port(&u).as_deref(), Some("goproxy.test:443"));
        let u = parse("http://[::1]:3000/a").unwrap();
        assert_eq!(origin(&u), "http://[::1]:3000");
        assert_eq!(host_port(&u).as_deref(), Some("[::1]:3000"));
    }
}
