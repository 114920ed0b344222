//! What the go command checks in an answer before it uses it (cmd/go/internal/modfetch
//! proxy.go): a 200 is not enough. `.info` and `@latest` must be JSON
//! (`invalid response from proxy ...: invalid character '<'` otherwise); the zip's own
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
        _ => None,
    }
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
    use super::is_rev_info;

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
