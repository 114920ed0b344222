//! Every module@version the traffic touched, with every request for it: proxy requests,
//! checksum lookups, the refused connections that came before them, redirect hops, and
//! the zip's hash when the hashing threads deliver it.

use super::connections::Connections;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::vocab::{url, Exchange, Kind, Ts, ZipHash};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

/// Records kept at most (module@version pairs); a capture touching more is summarised.
const MAX_MODULES: usize = 50_000;

pub type Key = (String, Option<String>);

#[derive(Debug, Default)]
pub struct Modules {
    pub records: BTreeMap<Key, ModuleRecord>,
    /// Records that did not fit (MAX_MODULES).
    pub dropped: u64,
    /// Zip exchanges whose hash has not arrived yet → their module record.
    zip_exchanges: HashMap<u64, Key>,
}

impl Modules {
    /// `proxy_at`: the proxy base URL to name for a server address (for refusals).
    pub fn apply(
        &mut self,
        ex: &Exchange,
        conns: &mut Connections,
        proxy_at: &dyn Fn(&SocketAddr) -> String,
    ) {
        let go = &ex.go;
        if !(go.kind.is_proxy_artifact() || go.kind == Kind::SumdbLookup) {
            return;
        }
        let Some(module) = go.module.clone() else {
            return;
        };
        let version = match go.kind {
            Kind::List | Kind::Latest => None,
            _ => go.version.clone(),
        };
        let refused = conns.take_refusal_before(ex.ts);
        let key = (module.clone(), version.clone());
        if !self.records.contains_key(&key) && self.records.len() >= MAX_MODULES {
            self.dropped += 1;
            return;
        }
        let rec = self
            .records
            .entry(key)
            .or_insert_with(|| ModuleRecord::new(module, version, ex.ts));
        if let Some((t, server)) = refused {
            rec.add(refused_attempt(go.kind, t, proxy_at(&server)));
        }
        match ex.redirect_of {
            Some(orig) => follow_redirect(rec, orig, ex),
            None => rec.add(Attempt::from_exchange(ex)),
        }
        match go.kind {
            Kind::Zip if ex.status == Some(200) => {
                rec.zip_bytes = Some(ex.resp_bytes);
                rec.zip_proxy = go.proxy.clone();
                let key = (rec.module.clone(), rec.version.clone());
                if self.zip_exchanges.len() < MAX_MODULES {
                    self.zip_exchanges.insert(ex.id, key);
                }
            }
            Kind::Mod if ex.status == Some(200) && ex.body.h1.is_some() => {
                rec.mod_h1 = ex.body.h1.clone();
            }
            _ => {}
        }
    }

    /// A zip's `h1:` arrived from the hashing threads.
    pub fn zip_hash(&mut self, h: &ZipHash) {
        let Some(key) = self.zip_exchanges.remove(&h.exchange) else {
            return;
        };
        if let Some(rec) = self.records.get_mut(&key) {
            if h.h1.is_some() {
                rec.zip_h1 = h.h1.clone();
            }
            rec.zip_hash_error = h.error.clone();
        }
    }
}

/// A connection refused just before a request: the same request, failing at the proxy
/// before (it never reached the wire, so it has no exchange).
fn refused_attempt(kind: Kind, ts: Ts, proxy: String) -> Attempt {
    Attempt {
        exchange: None,
        proxy: Some(proxy.into()),
        kind,
        status: None,
        error: Some(Arc::from("refused")),
        ttfb_ms: None,
        count: 1,
        total_ms: None,
        url: None,
        redirected_to: None,
        ts,
        bytes: 0,
        connection: None,
        setup: Default::default(),
        h2_reused: false,
    }
}

/// A redirect hop finishes the attempt that was redirected: its status, bytes and time
/// are what the go command got for that request.
fn follow_redirect(rec: &mut ModuleRecord, orig: u64, hop: &Exchange) {
    let Some(a) = rec.attempts.iter_mut().find(|a| a.exchange == Some(orig)) else {
        rec.add(Attempt::from_exchange(hop));
        return;
    };
    a.status = hop.status;
    a.error = hop.error.as_deref().map(Arc::from);
    a.bytes = hop.resp_bytes;
    a.total_ms = hop.last_byte_at.map(|t| t.ms_since(a.ts));
    a.redirected_to = hop
        .url
        .as_deref()
        .and_then(url::parse)
        .and_then(|u| url::authority(&u));
}
