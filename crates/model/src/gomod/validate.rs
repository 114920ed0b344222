//! What the go command checks in an answer before it uses it (cmd/go/internal/modfetch
//! proxy.go): a 200 is not enough. `.info` and `@latest` must be JSON
//! (`invalid response from proxy ...: invalid character '<'` otherwise); a `.mod` must
//! declare the module it was asked for (modload's goModSummary: `parsing go.mod: module
//! declares its path as: X but was required as: Y`, X empty when there is no module line,
//! as for an HTML page, which ParseLax otherwise lets through); the zip's own
//! checks are the hasher's (gomod::h1). Only what the decoder kept whole is judged: a body
//! past the text cap, or one not seen in full, is not called invalid.

use gomodwatch_wire::vocab::event::Exchange;
use gomodwatch_wire::vocab::Kind;

/// `Some(is_html)` when a 200 answer's body is one the go command rejects.
pub(crate) fn unusable_body(ex: &Exchange) -> Option<bool> {
    if ex.status != Some(200) || ex.error.is_some() {
        return None;
    }
    let text = ex.body.text.as_deref()?;
    match ex.go.kind {
        Kind::Info | Kind::Latest => {
            let asked = (ex.go.kind == Kind::Info)
                .then_some(ex.go.version.as_deref())
                .flatten()
                .filter(|v| is_canonical(v));
            (!is_rev_info(text, asked)).then(|| is_html(text, ex))
        }
        Kind::Mod => {
            let asked = ex.go.module.as_deref()?;
            (declared_module(text) != Some(asked)).then(|| is_html(text, ex))
        }
        _ => None,
    }
}

/// The path a go.mod's `module` directive declares (`module path`, `module "path"`, or the
/// one-line block `module (path)` split over lines), as modfile reads it; `None` without one.
/// A lax reading on purpose: only the module line decides what the go command does next.
fn declared_module(text: &str) -> Option<&str> {
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if in_block {
            match line {
                "" => continue,
                ")" => return None,
                path => return Some(unquote(path)),
            }
        }
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.len() == line.len() - "module".len() && !rest.starts_with('(') {
            continue; // `modules`, `moduleX`: another word
        }
        match rest.strip_prefix('(').map(str::trim) {
            Some("") => in_block = true,
            Some(inner) => return Some(unquote(inner.trim_end_matches(')').trim())),
            None if rest.is_empty() => return None,
            None => return Some(unquote(rest.split_whitespace().next().unwrap_or(""))),
        }
    }
    None
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('`').and_then(|s| s.strip_suffix('`')))
        .unwrap_or(s)
}

/// Go unmarshals the body into its RevInfo (anything but a JSON object fails), and for a
/// canonical version asked for, the Version in it must be that one ("proxy returned info
/// for version X instead of requested version").
fn is_rev_info(text: &str, asked: Option<&str>) -> bool {
    let Ok(serde_json::Value::Object(info)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return false;
    };
    asked.is_none_or(|v| info.get("Version").and_then(|x| x.as_str()) == Some(v))
}

/// A version as the go command writes it after resolving a query (`v1.2.3`,
/// `v0.0.0-2020...-abcdef`, `v2.0.0+incompatible`): only then does it compare.
fn is_canonical(v: &str) -> bool {
    v.starts_with('v') && v.matches('.').count() >= 2 && !v.contains('/')
}

fn is_html(text: &str, ex: &Exchange) -> bool {
    ex.content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"))
        || text.trim_start().starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::{declared_module, is_rev_info};

    #[test]
    fn a_go_mod_declares_its_module() {
        let m = "// comment\nmodule github.com/a/b // trailing\n\ngo 1.21\n";
        assert_eq!(declared_module(m), Some("github.com/a/b"));
        assert_eq!(declared_module("module \"x.org/q\"\n"), Some("x.org/q"));
        assert_eq!(
            declared_module("module (\n  x.org/blk\n)\n"),
            Some("x.org/blk")
        );
        assert_eq!(declared_module("module (x.org/one)\n"), Some("x.org/one"));
        assert_eq!(declared_module("modules x\ngo 1.2\n"), None);
        assert_eq!(declared_module("go 1.21\nrequire a v1.0.0\n"), None);
        assert_eq!(declared_module("<!DOCTYPE html><html>blocked</html>"), None);
        assert_eq!(declared_module("\tmodule\tx.org/tab\n"), Some("x.org/tab"));
    }

    #[test]
    fn rev_info_is_any_json_object() {
        let info = r#"{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}"#;
        assert!(is_rev_info(info, Some("v1.0.0")));
        assert!(!is_rev_info(info, Some("v1.0.1")));
        assert!(is_rev_info("{}\n", None));
        assert!(!is_rev_info("{}\n", Some("v1.0.0")));
        assert!(!is_rev_info("<!DOCTYPE html><html>blocked</html>", None));
        assert!(!is_rev_info("[1]", None));
        assert!(!is_rev_info("", None));
    }
}
