//! Direct fetches (docs/goproxy-protocol.md §4): what the `?go-get=1` discovery answered
//! (the `go-import` meta tag: root path, VCS, repository URL) and what each VCS request was
//! (git smart HTTP: `info/refs`, then `git-upload-pack` POSTs carrying protocol v2
//! `ls-refs` or `fetch`), read from URLs and the first bytes of response bodies.

/// One `<meta name="go-import" content="ROOT VCS REPO">` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoImport {
    pub(crate) root: String,
    pub(crate) vcs: String,
    pub(crate) repo: String,
}

/// What a discovery page said about an import path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Discovery {
    /// A tag whose root is the path or a prefix of it, as the go command picks it.
    Found(GoImport),
    /// Tags, none for this path: the go command fails with "no go-import meta tags
    /// (meta tag ROOT did not match import path PATH)".
    Mismatch(GoImport),
    /// No go-import tag at all.
    None,
}

/// Reads the go-import tags of a discovery page and picks the one for `path` the way
/// the go command does (`matchGoImport`: root equal to the path or a `/`-prefix of it).
pub(crate) fn discovery(html: &str, path: &str) -> Discovery {
    let tags = go_imports(html);
    let fits = |t: &&GoImport| {
        path == t.root
            || path
                .strip_prefix(t.root.as_str())
                .is_some_and(|r| r.starts_with('/'))
    };
    // `mod` tags name a module proxy; the go command prefers a VCS tag when both fit.
    let found = tags
        .iter()
        .filter(fits)
        .min_by_key(|t| t.vcs == "mod")
        .cloned();
    match (found, tags.into_iter().next()) {
        (Some(t), _) => Discovery::Found(t),
        (None, Some(t)) => Discovery::Mismatch(t),
        (None, None) => Discovery::None,
    }
}

fn go_imports(html: &str) -> Vec<GoImport> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<meta") {
        let start = at + i;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &html[start..end];
        at = end;
        if attr(tag, "name").as_deref() != Some("go-import") {
            continue;
        }
        let Some(content) = attr(tag, "content") else {
            continue;
        };
        let f: Vec<&str> = content.split_whitespace().collect();
        if let [root, vcs, repo] = f[..] {
            out.push(GoImport {
                root: root.to_string(),
                vcs: vcs.to_string(),
                repo: repo.to_string(),
            });
        }
        // The go command stops at </head> too, but a stray tag later is rare.
    }
    out
}

/// The value of `name="…"` (or single quotes) in a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let k = from + i;
        from = k + name.len();
        let before_ok = k == 0 || lower.as_bytes()[k - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let v_at = tag.len() - rest.len() + 1;
        let v = tag[v_at..].trim_start();
        let q = v.chars().next()?;
        if q == '"' || q == '\'' {
            let body = &v[1..];
            return Some(body[..body.find(q)?].to_string());
        }
        return Some(v.split_whitespace().next()?.to_string());
    }
    None
}

/// The discovery answer for one module path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiscoveryRecord {
    pub(crate) url: String,
    pub(crate) status: Option<u16>,
    /// The tag the go command used; `None` when none fit.
    pub(crate) found: Option<GoImport>,
    /// A tag whose root does not fit the path.
    pub(crate) mismatch: Option<GoImport>,
}

/// A VCS request: which system, the repository URL, and the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VcsRequest {
    pub(crate) vcs: &'static str,
    pub(crate) repo: String,
    pub(crate) step: &'static str,
}

/// What a request to a code host was. `head` is the start of a 200 response body (for
/// git's POSTs, which say `ls-refs` or `fetch` only in their pkt-lines).
pub(crate) fn vcs_request(url: &str, head: Option<&str>) -> Option<VcsRequest> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let req = |vcs, repo: &str, step| {
        Some(VcsRequest {
            vcs,
            repo: repo.to_string(),
            step,
        })
    };
    if let Some(repo) = base.strip_suffix("/info/refs") {
        return req("git", repo, "info/refs");
    }
    if let Some(repo) = base.strip_suffix("/git-upload-pack") {
        let step = head.and_then(upload_pack_answer).unwrap_or("upload-pack");
        return req("git", repo, step);
    }
    if let Some(cmd) = query.split('&').find_map(|kv| kv.strip_prefix("cmd=")) {
        let step = match cmd {
            "capabilities" => "capabilities",
            "lookup" | "listkeys" | "heads" | "branchmap" | "batch" => "lookup",
            "getbundle" | "changegroup" => "fetch",
            _ => "request",
        };
        return req("hg", base, step);
    }
    if let Some(i) = base.find("/!svn/") {
        return req("svn", &base[..i], "request");
    }
    if let Some(repo) = base.strip_suffix("/.bzr/smart") {
        return req("bzr", repo, "request");
    }
    if let Some(repo) = base.strip_suffix("/xfer") {
        return req("fossil", repo, "fetch");
    }
    None
}

/// A git v2 `git-upload-pack` answer: `ls-refs` lists `<oid> <ref>` lines; `fetch`
/// answers in sections (`acknowledgments`, `shallow-info`, `wanted-refs`, `packfile`).
fn upload_pack_answer(head: &str) -> Option<&'static str> {
    let first = pkt_lines(head).next()?;
    let first = first.trim_end();
    if matches!(
        first,
        "acknowledgments" | "shallow-info" | "wanted-refs" | "packfile" | "NAK"
    ) || first.starts_with("ACK ")
    {
        Some("fetch")
    } else if is_ref_line(first) {
        Some("ls-refs")
    } else {
        None
    }
}

fn is_ref_line(line: &str) -> bool {
    let oid = line.split(' ').next().unwrap_or("");
    (oid.len() == 40 || oid.len() == 64) && oid.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The payloads of pkt-lines (`0000` flush and `0001` delim skipped), up to damage.
pub(crate) fn pkt_lines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || loop {
        let len = usize::from_str_radix(rest.get(..4)?, 16).ok()?;
        if len < 4 {
            rest = &rest[4..];
            continue;
        }
        let line = rest.get(4..len)?;
        rest = &rest[len..];
        return Some(line);
    })
}

/// The tags an `ls-refs` answer lists (`refs/tags/v1.0.0`, peeled `^{}` forms folded).
pub(crate) fn listed_tags(head: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for line in pkt_lines(head).filter(|l| is_ref_line(l)) {
        let Some(name) = line.split(' ').nth(1) else {
            continue;
        };
        let name = name.trim_end().trim_end_matches("^{}");
        if let Some(t) = name.strip_prefix("refs/tags/") {
            if !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
    }
    tags
}

/// Refs listed by an `ls-refs` answer, tags or not.
pub(crate) fn listed_refs(head: &str) -> usize {
    pkt_lines(head).filter(|l| is_ref_line(l)).count()
}

/// The module path a repository URL stands for when no discovery was seen
/// (`https://github.com/a/b.git` → `github.com/a/b`, as the go command's static rules
/// for known hosts map it).
pub(crate) fn module_of_repo(repo: &str) -> String {
    let no_scheme = repo.split_once("://").map_or(repo, |(_, r)| r);
    let no_user = no_scheme
        .split_once('@')
        .filter(|(u, _)| !u.contains('/'))
        .map_or(no_scheme, |(_, r)| r);
    let trimmed = no_user.trim_end_matches('/');
    trimmed.strip_suffix(".git").unwrap_or(trimmed).to_string()
}

/// Hosts whose modules are public (the go command knows their repository layout without
/// discovery, docs/goproxy-protocol.md §4.1); a module on one sent direct by a pattern is
/// probably a misconfiguration.
pub(crate) fn public_host(module: &str) -> bool {
    const PUBLIC: [&str; 9] = [
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "golang.org",
        "google.golang.org",
        "gopkg.in",
        "go.googlesource.com",
        "launchpad.net",
        "git.apache.org",
    ];
    let host = module.split('/').next().unwrap_or("");
    PUBLIC.contains(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_matching_tag() {
        let page = r#"<html><head><meta name="go-import" content="git.test/errors git https://git.test/errors.git">
<meta name="go-source" content="git.test/errors _ _ _"></head></html>"#;
        assert_eq!(
            discovery(page, "git.test/errors/sub"),
            Discovery::Found(GoImport {
                root: "git.test/errors".into(),
                vcs: "git".into(),
                repo: "https://git.test/errors.git".into()
            })
        );
        assert!(matches!(
            discovery(page, "git.test/errorsx"),
            Discovery::Mismatch(_)
        ));
        assert_eq!(discovery("<html>404</html>", "x"), Discovery::None);
    }

    #[test]
    fn git_steps() {
        let ls = "003ed7f00fdfd780b278be539f01c6011ba298ada28c refs/tags/v0.9.1\n0000";
        let r = vcs_request("https://h/r.git/git-upload-pack", Some(ls)).unwrap();
        assert_eq!(
            (r.vcs, r.repo.as_str(), r.step),
            ("git", "https://h/r.git", "ls-refs")
        );
        assert_eq!(listed_tags(ls), vec!["v0.9.1".to_string()]);
        let fetch = "0011shallow-info\n";
        assert_eq!(
            vcs_request("https://h/r.git/git-upload-pack", Some(fetch))
                .unwrap()
                .step,
            "fetch"
        );
        let refs = vcs_request("http://h/r.git/info/refs?service=git-upload-pack", None);
        assert_eq!(refs.unwrap().step, "info/refs");
        assert_eq!(
            module_of_repo("https://git.test/errors.git"),
            "git.test/errors"
        );
    }
}
