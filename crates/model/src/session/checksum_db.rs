//! What the checksum database said: the hashes of every lookup seen, who answered each,
//! and which proxies said they mirror it (`sumdb/<name>/supported`).

use crate::gomod::sumdb::{lookup_lines, SumTable, Sums};
use gomodwatch_wire::vocab::{Exchange, Kind};
use std::collections::{BTreeMap, HashMap};

/// What the checksum database said about each module@version (lookups seen in the traffic).
#[derive(Debug, Default)]
pub struct ChecksumDb {
    sums: SumTable,
    /// Who answered each lookup (the base URL the lookup went to).
    source: HashMap<(String, String), String>,
    /// Checksum database names seen under each base (`/sumdb/<name>/`).
    names: BTreeMap<String, String>,
    /// `sumdb/<name>/supported` answers by proxy.
    pub supported: BTreeMap<String, Option<u16>>,
}

impl ChecksumDb {
    pub(crate) fn apply(&mut self, ex: &Exchange) {
        let go = &ex.go;
        if !go.kind.is_sumdb() {
            return;
        }
        if let (Some(base), Some(url)) = (&go.proxy, &ex.url) {
            if let Some(name) = url
                .split("/sumdb/")
                .nth(1)
                .and_then(|r| r.split('/').next())
            {
                self.names.insert(base.clone(), name.to_string());
            }
        }
        match go.kind {
            Kind::SumdbSupported => {
                if let Some(p) = &go.proxy {
                    self.supported.insert(p.clone(), ex.status);
                }
            }
            Kind::SumdbLookup if ex.status == Some(200) => {
                let Some(text) = &ex.body.text else { return };
                let lines = lookup_lines(text);
                self.sums.add_lines(lines);
                if let (Some(m), Some(v)) = (&go.module, &go.version) {
                    if SumTable::parse(lines).get(m, v).is_some() {
                        let base = go.proxy.clone().unwrap_or_default();
                        self.source.insert((m.clone(), v.clone()), base);
                    }
                }
            }
            _ => {}
        }
    }

    /// Forgets a module version's lookup (its module was folded): memory stays flat.
    pub(crate) fn forget(&mut self, module: &str, version: &str) {
        let key = (module.to_string(), version.to_string());
        self.sums.remove(&key.0, &key.1);
        self.source.remove(&key);
    }

    pub(crate) fn sums(&self, module: &str, version: &str) -> Option<&Sums> {
        self.sums.get(module, version)
    }

    /// The base URL that answered the lookup of this module version.
    pub(crate) fn source(&self, module: &str, version: &str) -> Option<&str> {
        self.source
            .get(&(module.to_string(), version.to_string()))
            .map(String::as_str)
    }

    /// Every base URL that answered a lookup.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &str> {
        self.source.values().map(String::as_str)
    }

    /// How to name the checksum database that answered through `base`: under a proxy
    /// (`<proxy>/sumdb/<name>/lookup/...`) or at its own URL.
    pub(crate) fn describe(&self, base: &str) -> String {
        let name = self
            .names
            .get(base)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if self.supported.contains_key(base) {
            format!("the checksum database{name} (via proxy {base})")
        } else {
            format!("the checksum database{name} at {base}")
        }
    }
}
