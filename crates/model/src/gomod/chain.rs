//! The GOPROXY chain when nobody said what it is: inferred from the order in which the
//! traffic asked the proxies (docs/goproxy-protocol.md §1.4: every artifact walks the
//! list from the top; an error followed by another proxy means '|').

use super::goproxy::{ChainSource, GoproxyList};
use super::module::{Attempt, ModuleRecord};
use gomodwatch_wire::vocab::{Kind, Ts};
use std::collections::BTreeSet;

/// The chain the traffic walked, from every module's requests.
pub(crate) fn infer<'a>(records: impl Iterator<Item = &'a ModuleRecord>) -> Option<GoproxyList> {
    // Proxies in the order the walks visit them; an error followed by another proxy
    // means '|'. Everything is compared as &str: no copies of the attempts' strings.
    let mut order: Vec<&str> = Vec::new();
    let mut pipe: BTreeSet<&str> = BTreeSet::new();
    // Few proxies, many attempts: a small list beats hashing every attempt's string.
    let mut first_seen: Vec<(&str, Ts)> = Vec::new();
    for rec in records {
        for kind in [Kind::Info, Kind::Mod, Kind::Zip, Kind::List, Kind::Latest] {
            let mut prev: Option<&Attempt> = None;
            for a in rec.attempts_of(kind) {
                let Some(p) = a.proxy.as_deref() else {
                    continue;
                };
                match first_seen.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, t)) => *t = (*t).min(a.ts),
                    None => first_seen.push((p, a.ts)),
                }
                if let Some(b) = prev.filter(|b| !b.ok()) {
                    let q = b.proxy.as_deref().unwrap_or("");
                    if q != p {
                        if !b.not_found() {
                            pipe.insert(q);
                        }
                        match (
                            order.iter().position(|x| *x == q),
                            order.iter().position(|x| *x == p),
                        ) {
                            (None, None) => order.extend([q, p]),
                            (Some(_), None) => order.push(p),
                            (None, Some(j)) => order.insert(j, q),
                            _ => {}
                        }
                    }
                }
                prev = Some(a);
            }
        }
    }
    let mut by_time: Vec<(Ts, &str)> = first_seen.into_iter().map(|(p, t)| (t, p)).collect();
    by_time.sort();
    for (_, p) in by_time {
        if !order.contains(&p) {
            order.push(p);
        }
    }
    if order.is_empty() {
        return None;
    }
    let text: String = order
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let sep = if i + 1 == order.len() {
                ""
            } else if pipe.contains(p) {
                "|"
            } else {
                ","
            };
            format!("{p}{sep}")
        })
        .collect();
    Some(GoproxyList::parse(&text, ChainSource::Inferred))
}
