//! The GOPROXY list as the go command reads it (docs/goproxy-protocol.md §1.4): entries split on `,` or
//! `|`, where the separator *after* an entry decides whether an error there falls back
//! (`|`) or stops the walk (`,`; only 404/410 move on).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EntryKind {
    Proxy,
    Direct,
    Off,
}

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Base URL without a trailing `/` ("direct"/"off" for those entries).
    pub url: String,
    pub(crate) kind: EntryKind,
    /// The separator after this entry was `|`: any error falls back to the next entry.
    pub fallback_on_error: bool,
}

/// Where the configured chain came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainSource {
    /// `--goproxy`
    Flag,
    /// `go env -json` on this machine.
    GoEnv,
    /// Guessed from the order in which the traffic asked proxies.
    Inferred,
}

/// A GOPROXY chain, parsed as the go command reads it (docs/goproxy-protocol.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoproxyList {
    /// The entries, in order (nothing after `off` or after the last `direct` counts).
    pub entries: Vec<Entry>,
    /// Where the chain came from.
    pub source: ChainSource,
}

impl GoproxyList {
    /// Parses a GOPROXY value. Entries after `direct` or `off` are ignored, as the go
    /// command does; a bare host gets `https://`.
    pub fn parse(value: &str, source: ChainSource) -> GoproxyList {
        let mut entries = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let (item, sep, tail) = match rest.find([',', '|']) {
                Some(i) => (&rest[..i], rest.as_bytes()[i], &rest[i + 1..]),
                None => (rest, b',', ""),
            };
            rest = tail;
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let kind = match item {
                "direct" => EntryKind::Direct,
                "off" => EntryKind::Off,
                _ => EntryKind::Proxy,
            };
            let url = if kind == EntryKind::Proxy && !item.contains("://") {
                format!("https://{item}")
            } else {
                item.to_string()
            };
            // Credentials in GOPROXY are never shown, and traffic never carries them in
            // the URL: keep the entry without them, in the form traffic is compared in.
            let url = gomodwatch_wire::vocab::url::normalize(&url);
            let terminal = kind != EntryKind::Proxy;
            entries.push(Entry {
                url: url.trim_end_matches('/').to_string(),
                kind,
                fallback_on_error: sep == b'|',
            });
            if terminal {
                break;
            }
        }
        GoproxyList { entries, source }
    }

    /// Position of a proxy base URL in the list.
    pub(crate) fn position(&self, base: &str) -> Option<usize> {
        let base = base.trim_end_matches('/');
        self.entries.iter().position(|e| e.url == base)
    }

    /// Base URLs of the real proxies, for URL classification.
    pub fn proxy_bases(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Proxy)
            .map(|e| e.url.clone())
            .collect()
    }

    /// The list written back in GOPROXY syntax.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (i, e) in self.entries.iter().enumerate() {
            s.push_str(&e.url);
            if i + 1 < self.entries.len() {
                s.push(if e.fallback_on_error { '|' } else { ',' });
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_belong_to_the_entry_before_them() {
        let l = GoproxyList::parse(
            "http://a:1|http://b:2/, goproxy.cn,direct,http://ignored",
            ChainSource::Flag,
        );
        let urls: Vec<_> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            ["http://a:1", "http://b:2", "https://goproxy.cn", "direct"]
        );
        let fb: Vec<_> = l.entries.iter().map(|e| e.fallback_on_error).collect();
        assert_eq!(fb, [true, false, false, false]);
        assert_eq!(l.position("http://b:2/"), Some(1));
        assert_eq!(l.proxy_bases().len(), 3);
        assert_eq!(
            l.display(),
            "http://a:1|http://b:2,https://goproxy.cn,direct"
        );
    }
}
