//! What a URL means to the go command (docs/goproxy-protocol.md §1.1, §3.3, §8.1): which kind of request,
//! against which proxy base, for which module and version.

use super::path;
pub use gomodwatch_wire::vocab::go::{GoRequest, Kind};
use gomodwatch_wire::vocab::url;

/// The parts of an absolute URL that classification needs.
struct Url<'a> {
    /// `scheme://host[:port]`, normal form.
    origin: &'a str,
    /// `host[:port]` as named.
    authority: &'a str,
    path: &'a str,
    query: &'a str,
}

#[cfg(test)]
/// Classifies an absolute URL. `bases` are proxy base URLs known from the configuration
/// (GOPROXY); when one is a prefix of the URL it decides where the module path starts.
pub(crate) fn classify(url: &str, bases: &[String]) -> GoRequest {
    classify_with(url, bases, &mut url::Origins::default())
}

/// [`classify`] with a cache of parsed origins (the decoder hook keeps one).
pub(crate) fn classify_with(url: &str, bases: &[String], origins: &mut url::Origins) -> GoRequest {
    let Some(parts) = url::split(url) else {
        return GoRequest::default();
    };
    let Some((origin, authority)) = origins.normal(parts.origin) else {
        return GoRequest::default();
    };
    let u = Url {
        origin,
        authority,
        path: parts.path,
        query: parts.query,
    };
    if u.query.split('&').any(|kv| kv == "go-get=1") {
        let module = path::percent_decode(u.path.trim_matches('/')).map(|p| {
            if p.is_empty() {
                u.authority.to_string()
            } else {
                format!("{}/{p}", u.authority)
            }
        });
        return GoRequest {
            kind: Kind::GoGet,
            module,
            ..Default::default()
        };
    }
    // Git smart HTTP, and the other systems' markers (Mercurial's `?cmd=`, Subversion's
    // `/!svn/`, Bazaar's smart server, Fossil's `/xfer`): the go command's direct mode.
    if u.path.ends_with("/info/refs")
        || u.path.ends_with("/git-upload-pack")
        || u.path.ends_with("/git-receive-pack")
        || u.query.split('&').any(|kv| kv.starts_with("cmd="))
        || find(u.path, "/!svn/").is_some()
        || u.path.ends_with("/.bzr/smart")
        || u.path.ends_with("/xfer")
    {
        return GoRequest {
            kind: Kind::Vcs,
            ..Default::default()
        };
    }
    if let Some(req) = sumdb(&u) {
        return req;
    }
    proxy_request(&u, bases).unwrap_or_default()
}

/// `haystack.find(needle)` without a searcher's set-up: this runs several times per
/// request (see `vocab::text`).
fn find(haystack: &str, needle: &str) -> Option<usize> {
    gomodwatch_wire::vocab::text::find_str(haystack, needle)
}

/// Checksum database paths: under a proxy (`<base>/sumdb/<name>/...`) or at the database's
/// own URL (`<base>/lookup/...`, `/tile/...`, `/latest`).
fn sumdb(u: &Url<'_>) -> Option<GoRequest> {
    let (base_path, rest) = if let Some(i) = find(u.path, "/sumdb/") {
        let after = &u.path[i + "/sumdb/".len()..];
        let name_end = after.find('/').unwrap_or(after.len());
        (&u.path[..i], &after[name_end..])
    } else {
        let i = ["/lookup/", "/tile/"]
            .iter()
            .filter_map(|m| find(u.path, m))
            .min()
            .or_else(|| u.path.strip_suffix("/latest").map(|p| p.len()))?;
        // A GOPROXY artifact path never contains these markers before "/@v/".
        if find(u.path, "/@v/").is_some() || u.path.ends_with("/@latest") {
            return None;
        }
        (&u.path[..i], &u.path[i..])
    };
    let mut req = GoRequest {
        proxy: Some(format!("{}{}", u.origin, base_path)),
        ..Default::default()
    };
    if rest == "/supported" {
        req.kind = Kind::SumdbSupported;
    } else if rest == "/latest" {
        req.kind = Kind::SumdbLatest;
    } else if let Some(mv) = rest.strip_prefix("/lookup/") {
        req.kind = Kind::SumdbLookup;
        // Lookups carry a literal `!` (docs/goproxy-protocol.md §1.2), but decode % as well to be safe.
        if let Some((m, v)) = mv.rsplit_once('@') {
            req.module = path::decode(m);
            req.version = path::decode(v);
        }
    } else if rest.starts_with("/tile/") {
        req.kind = Kind::SumdbTile;
    } else {
        return None;
    }
    Some(req)
}

fn proxy_request(u: &Url<'_>, bases: &[String]) -> Option<GoRequest> {
    let (mod_part, kind, version) = if let Some(i) = find(u.path, "/@v/") {
        let file = &u.path[i + 4..];
        let (kind, ver) = if file == "list" {
            (Kind::List, None)
        } else if let Some(v) = file.strip_suffix(".info") {
            (Kind::Info, Some(v))
        } else if let Some(v) = file.strip_suffix(".mod") {
            (Kind::Mod, Some(v))
        } else if let Some(v) = file.strip_suffix(".zip") {
            (Kind::Zip, Some(v))
        } else {
            return None;
        };
        (&u.path[..i], kind, ver)
    } else if let Some(p) = u.path.strip_suffix("/@latest") {
        (p, Kind::Latest, None)
    } else {
        return None;
    };
    // Where does the module path start? A configured base that prefixes the URL decides;
    // otherwise the first path element holding a dot (a module path's first element must).
    // Bases are in normal form (GoproxyList), and so is the origin here.
    let known = bases
        .iter()
        .map(|b| b.trim_end_matches('/'))
        .filter(|b| {
            b.strip_prefix(u.origin).is_some_and(|base_path| {
                mod_part.starts_with(base_path) && u.path[base_path.len()..].starts_with('/')
            })
        })
        .max_by_key(|b| b.len());
    let prefix_len = match known {
        Some(b) => b.len() - u.origin.len(),
        None => {
            let mut at = 0;
            let mut found = None;
            for elem in mod_part.split('/') {
                if elem.contains('.') {
                    found = Some(at);
                    break;
                }
                at += elem.len() + 1;
            }
            found.unwrap_or(0).saturating_sub(1)
        }
    };
    let prefix_len = prefix_len.min(mod_part.len());
    let module = mod_part[prefix_len..].trim_start_matches('/');
    Some(GoRequest {
        kind,
        proxy: Some(format!("{}{}", u.origin, &mod_part[..prefix_len])),
        module: path::decode(module),
        version: version.and_then(path::decode),
    })
}

#[cfg(test)]
mod tests;
