//! The go command's environment as far as module downloads go (GOPROXY, GOPRIVATE,
//! GONOPROXY, GONOSUMDB, GOINSECURE, GOSUMDB, GOFLAGS), and the rules it applies with it:
//! which modules skip the proxies, which skip the checksum database
//! (docs/goproxy-protocol.md §1.5, §4). Matching follows the go command's
//! `module.MatchPrefixPatterns` exactly, so a pattern is blamed only when go would match it.

use std::collections::BTreeMap;

/// The variables that decide how a module is fetched and verified.
pub const VARS: [&str; 7] = [
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOINSECURE",
    "GOSUMDB",
    "GOFLAGS",
];

/// Text that is not `go env -json` output.
#[derive(Debug, thiserror::Error)]
#[error("not go env -json output: {0}")]
pub struct NotGoEnvJson(String);

/// The go command's environment (only [`VARS`] are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoEnv {
    vars: BTreeMap<String, String>,
}

/// A rule of the environment that matched a module path: `GONOPROXY=*.test` and the one
/// comma-separated pattern of it that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The variable the go command read: `GONOPROXY`, or `GOPRIVATE` when GONOPROXY is
    /// empty (it defaults to GOPRIVATE).
    pub(crate) var: &'static str,
    /// The variable's whole value.
    pub(crate) value: String,
    /// The pattern in it that matched.
    pub(crate) pattern: String,
}

impl Rule {
    /// `GONOPROXY=*.test`, with a note when the variable is a default.
    pub(crate) fn describe(&self, defaulted_from: Option<&str>) -> String {
        match defaulted_from {
            Some(d) => format!("{}={} ({d} defaults to it)", self.var, self.value),
            None => format!("{}={}", self.var, self.value),
        }
    }
}

impl GoEnv {
    /// Sets a variable; names other than [`VARS`] are ignored (false).
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        match VARS.iter().find(|v| **v == key) {
            Some(k) => {
                self.vars.insert(k.to_string(), value.to_string());
                true
            }
            None => false,
        }
    }

    /// Reads `go env -json` output (an object of strings); other keys are skipped.
    pub fn from_json(text: &str) -> Result<GoEnv, NotGoEnvJson> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| NotGoEnvJson(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| NotGoEnvJson("not a JSON object".into()))?;
        let mut env = GoEnv::default();
        for (k, v) in obj {
            if let Some(s) = v.as_str() {
                env.set(k, s);
            }
        }
        Ok(env)
    }

    /// `KEY=VALUE` with KEY one of [`VARS`]: set (true). Anything else is left alone
    /// (false): it may name a file of `go env -json` output.
    pub fn set_assignment(&mut self, arg: &str) -> bool {
        match arg.split_once('=') {
            Some((k, v)) if VARS.contains(&k) => self.set(k, v),
            _ => false,
        }
    }

    /// Takes every variable `other` sets.
    pub fn extend(&mut self, other: GoEnv) {
        self.vars.extend(other.vars);
    }

    /// A variable's value; an unset one is empty, as the go command treats it.
    pub fn get(&self, key: &str) -> &str {
        self.vars.get(key).map_or("", String::as_str)
    }

    /// `envOr(key, GOPRIVATE)`: the go command treats an empty variable as unset.
    fn or_private(&self, key: &'static str) -> (&'static str, &str) {
        match self.get(key) {
            "" => ("GOPRIVATE", self.get("GOPRIVATE")),
            v => (key, v),
        }
    }

    fn rule(&self, key: &'static str, module: &str) -> Option<Rule> {
        let (var, value) = self.or_private(key);
        match_prefix_patterns(value, module).map(|pattern| Rule {
            var,
            value: value.to_string(),
            pattern: pattern.to_string(),
        })
    }

    /// The rule that makes the go command skip every proxy for `module` (GONOPROXY, or
    /// GOPRIVATE by default).
    pub(crate) fn noproxy(&self, module: &str) -> Option<Rule> {
        self.rule("GONOPROXY", module)
    }

    /// The rule that makes the go command skip the checksum database for `module`.
    pub(crate) fn nosumdb(&self, module: &str) -> Option<Rule> {
        self.rule("GONOSUMDB", module)
    }

    /// GOINSECURE's pattern for `module`: plain http and unverified certificates allowed.
    pub(crate) fn insecure(&self, module: &str) -> Option<Rule> {
        let value = self.get("GOINSECURE");
        match_prefix_patterns(value, module).map(|p| Rule {
            var: "GOINSECURE",
            value: value.to_string(),
            pattern: p.to_string(),
        })
    }

    /// GOSUMDB=off.
    pub(crate) fn sumdb_off(&self) -> bool {
        self.get("GOSUMDB").trim() == "off"
    }

    /// Where the go command asks the checksum database, when it asks one: GOSUMDB's URL
    /// (`name+key URL`), else `https://NAME` (`sum.golang.org` by default). The go command
    /// may ask through the proxy first (`/sumdb/NAME/supported`); this is where it goes
    /// when it goes directly.
    pub(crate) fn sumdb_url(&self) -> Option<String> {
        let v = self.get("GOSUMDB").trim();
        if v == "off" {
            return None;
        }
        let mut words = v.split_whitespace();
        let name = words.next().unwrap_or("sum.golang.org");
        let name = name.split('+').next().unwrap_or(name);
        Some(match words.next() {
            Some(url) if url.contains("://") => url.trim_end_matches('/').to_string(),
            Some(host) => format!("https://{}", host.trim_end_matches('/')),
            None => format!("https://{name}"),
        })
    }

    /// GOPROXY as set (the go command's default when empty).
    pub fn goproxy(&self) -> &str {
        match self.get("GOPROXY") {
            "" => "https://proxy.golang.org,direct",
            v => v,
        }
    }

    /// The proxies of GOPROXY, before any `direct` or `off`.
    pub(crate) fn proxies(&self) -> Vec<&str> {
        self.goproxy()
            .split([',', '|'])
            .map(str::trim)
            .take_while(|e| *e != "direct" && *e != "off")
            .filter(|e| !e.is_empty())
            .collect()
    }
}

/// The go command's `module.MatchPrefixPatterns`: does any comma-separated glob match a
/// prefix of `target` with as many path elements as the glob has? Returns the glob.
/// `*.test` matches `pub.test/humanize` (its first element), `git.test/a` matches
/// `git.test/a/b` but not `git.test/ab`.
pub(crate) fn match_prefix_patterns<'a>(globs: &'a str, target: &str) -> Option<&'a str> {
    for glob in globs.split(',') {
        let glob = glob.trim().trim_end_matches('/');
        if glob.is_empty() {
            continue;
        }
        // The target truncated at the glob's element count.
        let mut n = glob.matches('/').count();
        let mut prefix = target;
        for (i, b) in target.bytes().enumerate() {
            if b == b'/' {
                if n == 0 {
                    prefix = &target[..i];
                    break;
                }
                n -= 1;
            }
        }
        if n > 0 {
            continue;
        }
        if path_match(glob, prefix) {
            return Some(glob);
        }
    }
    None
}

/// Go's `path.Match`: `*` any run of non-`/` characters, `?` one non-`/` character,
/// `[...]` a class (ranges, `^` negation), `\` escapes. A malformed pattern matches nothing.
pub(crate) fn path_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_at(&p, &n)
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    let Some((&c, rest)) = p.split_first() else {
        return n.is_empty();
    };
    match c {
        '*' => (0..=n.len())
            .take_while(|&i| i == 0 || n[i - 1] != '/')
            .any(|i| matches_at(rest, &n[i..])),
        '?' => n.first().is_some_and(|&x| x != '/') && matches_at(rest, &n[1..]),
        '[' => {
            let Some((&x, nrest)) = n.split_first() else {
                return false;
            };
            match class(rest, x) {
                Some((ok, after)) => ok && x != '/' && matches_at(after, nrest),
                None => false,
            }
        }
        '\\' => match rest.split_first() {
            Some((&e, rest)) => n.first() == Some(&e) && matches_at(rest, &n[1..]),
            None => false,
        },
        _ => n.first() == Some(&c) && matches_at(rest, &n[1..]),
    }
}

/// A `[...]` class (after the `[`): whether `x` is in it, and the pattern after the `]`.
fn class(p: &[char], x: char) -> Option<(bool, &[char])> {
    let (negated, mut p) = match p.first() {
        Some('^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match p.first() {
            None => return None,
            Some(']') if !first => return Some((matched != negated, &p[1..])),
            _ => {}
        }
        first = false;
        let (lo, rest) = class_char(p)?;
        p = rest;
        let hi = if p.first() == Some(&'-') && p.get(1).is_some_and(|c| *c != ']') {
            let (hi, rest) = class_char(&p[1..])?;
            p = rest;
            hi
        } else {
            lo
        };
        if lo <= x && x <= hi {
            matched = true;
        }
    }
}

fn class_char(p: &[char]) -> Option<(char, &[char])> {
    match p {
        ['\\', c, rest @ ..] => Some((*c, rest)),
        [c, rest @ ..] if *c != '-' || !rest.is_empty() => Some((*c, rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_patterns_as_the_go_command() {
        // Cases from cmd/go/internal/module's TestMatchPrefixPatterns (golang.org/x/mod).
        let cases = [
            ("*/quote", "example.com/quote", true),
            ("*/quo", "example.com/quote", false),
            ("example.com", "example.com/quote", true),
            ("example.com/q", "example.com/quote", false),
            ("*.com", "example.com/quote", true),
            ("*.test", "pub.test/humanize", true),
            ("git.test", "git.test/errors", true),
            ("git.test", "git.testing/x", false),
            ("*github.com", "github.com/sirupsen/logrus", true),
            ("github.com/a*", "github.com/abc/d", true),
            ("github.com/a", "github.com", false),
            ("", "example.com", false),
            (",git.test,", "git.test/x", true),
            ("git.test/", "git.test/x", true),
            ("example.com/[a-c]*", "example.com/bq", true),
            ("example.com/[^a-c]*", "example.com/bq", false),
            ("example.com/?", "example.com/x/y", true),
            ("corp.example/*", "corp.example", false),
        ];
        for (globs, target, want) in cases {
            assert_eq!(
                match_prefix_patterns(globs, target).is_some(),
                want,
                "{globs} vs {target}"
            );
        }
    }

    #[test]
    fn sumdb_url_as_the_go_command_reads_gosumdb() {
        let mut env = GoEnv::default();
        assert_eq!(env.sumdb_url().as_deref(), Some("https://sum.golang.org"));
        env.set("GOSUMDB", "sum.test+abcd http://127.0.0.1:8081/");
        assert_eq!(env.sumdb_url().as_deref(), Some("http://127.0.0.1:8081"));
        env.set("GOSUMDB", "sum.golang.google.cn");
        assert_eq!(
            env.sumdb_url().as_deref(),
            Some("https://sum.golang.google.cn")
        );
        env.set("GOSUMDB", "off");
        assert_eq!(env.sumdb_url(), None);
    }

    #[test]
    fn defaults_follow_goprivate() {
        let mut env = GoEnv::default();
        env.set("GOPRIVATE", "git.test");
        let r = env.noproxy("git.test/errors").unwrap();
        assert_eq!((r.var, r.pattern.as_str()), ("GOPRIVATE", "git.test"));
        assert_eq!(env.nosumdb("git.test/errors").unwrap().var, "GOPRIVATE");
        env.set("GONOPROXY", "*.test");
        assert_eq!(env.noproxy("pub.test/x").unwrap().var, "GONOPROXY");
        assert!(env.noproxy("github.com/pkg/errors").is_none());
        assert!(!env.set("HOME", "/root"));
    }
}
