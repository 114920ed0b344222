//! Redirects stay attached to the request that caused them (reference §8.7): a proxy that
//! sends a `.zip` to storage (proxy.golang.org → storage.googleapis.com, Athens in
//! redirect mode) still served that zip, and the hop's body is the zip to hash.

use crate::gomod::classify::GoRequest;
use std::collections::{HashMap, VecDeque};

const MAX_PENDING: usize = 1024;

#[derive(Default)]
pub struct Redirects {
    by_url: HashMap<String, (GoRequest, u64)>,
    order: VecDeque<String>,
}

impl Redirects {
    /// Exchange `id` (a request of kind `go`) was redirected to `location`, resolved
    /// against the request's `url`.
    pub fn remember(&mut self, url: &str, location: &str, go: &GoRequest, id: u64) {
        // Requests never carry userinfo in their URL, so neither may the key.
        let target = crate::vocab::redact::strip_userinfo(&resolve(url, location));
        if self.order.len() >= MAX_PENDING {
            if let Some(old) = self.order.pop_front() {
                self.by_url.remove(&old);
            }
        }
        self.order.push_back(target.clone());
        self.by_url.insert(target, (go.clone(), id));
    }

    /// If `url` is where an earlier request was sent, what that request was.
    pub fn take(&mut self, url: &str) -> Option<(GoRequest, u64)> {
        self.by_url.remove(url)
    }
}

/// Resolves a Location header against the URL it answered (absolute, scheme-relative,
/// absolute-path, or relative-path forms).
pub fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let scheme = &base[..scheme_end.saturating_sub(3)];
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let origin = &base[..path_start];
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = base[path_start..].split('?').next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{origin}{dir}/{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_location_forms() {
        let b = "http://a:3000/m/@v/v1.0.0.zip";
        assert_eq!(resolve(b, "https://s/x.zip?sig=1"), "https://s/x.zip?sig=1");
        assert_eq!(resolve(b, "//s/x"), "http://s/x");
        assert_eq!(
            resolve(b, "/other/m/@v/v1.0.0.zip"),
            "http://a:3000/other/m/@v/v1.0.0.zip"
        );
        assert_eq!(resolve(b, "v1.0.1.zip"), "http://a:3000/m/@v/v1.0.1.zip");
    }
}
