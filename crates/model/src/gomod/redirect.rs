//! Redirects stay attached to the request that caused them (docs/goproxy-protocol.md §8.7): a proxy that
//! sends a `.zip` to storage (proxy.golang.org → storage.googleapis.com, Athens in
//! redirect mode) still served that zip, and the hop's body is the zip to hash.

use gomodwatch_wire::vocab::{url, GoRequest};
use std::collections::{HashMap, VecDeque};

const MAX_PENDING: usize = 1024;

#[derive(Default)]
pub(crate) struct Redirects {
    by_url: HashMap<String, (GoRequest, u64)>,
    order: VecDeque<String>,
}

impl Redirects {
    /// Exchange `id` (a request of kind `go`) was redirected to `location`, resolved
    /// against the request's `url`.
    pub(crate) fn remember(&mut self, url: &str, location: &str, go: &GoRequest, id: u64) {
        // Compared in normal form without credentials: requests never carry them.
        let Some(target) = url::resolve(url, location).map(|t| url::normalize(&t)) else {
            return;
        };
        if self.order.len() >= MAX_PENDING {
            if let Some(old) = self.order.pop_front() {
                self.by_url.remove(&old);
            }
        }
        self.order.push_back(target.clone());
        self.by_url.insert(target, (go.clone(), id));
    }

    /// If `url` is where an earlier request was sent, what that request was.
    pub(crate) fn take(&mut self, url: &str) -> Option<(GoRequest, u64)> {
        if self.by_url.is_empty() {
            return None;
        }
        self.by_url.remove(&url::normalize(url))
    }
}
