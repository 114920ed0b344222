//! Module path and version escaping, reversed exactly as the go command applies it
//! (docs/goproxy-protocol.md §1.2): the wire shows `url.PathEscape` of the case-escaped path, so `%21`
//! is undone first, then `!x` becomes `X`.

/// Decodes `%XX` sequences. `None` for a malformed sequence or a result that is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Undoes case-escaping (`!b` → `B`). `None` when the escaped form is invalid: an uppercase
/// letter (escaping would have replaced it) or a `!` not followed by a lowercase letter.
pub(crate) fn unescape_case(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if bang {
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// Percent-decoding then case-unescaping: from a URL path segment to a module path or
/// version as the user wrote it.
pub(crate) fn decode(s: &str) -> Option<String> {
    unescape_case(&percent_decode(s)?)
}

/// The case-escaping the go command applies (`module.EscapePath`), for building URLs and
/// module cache paths.
pub(crate) fn escape_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_wire_forms() {
        assert_eq!(
            decode("github.com/%21burnt%21sushi/toml").as_deref(),
            Some("github.com/BurntSushi/toml")
        );
        assert_eq!(
            decode("github.com/!burnt!sushi/toml").as_deref(),
            Some("github.com/BurntSushi/toml")
        );
        assert_eq!(decode("v1.0.0-%21r%21c1").as_deref(), Some("v1.0.0-RC1"));
    }

    #[test]
    fn rejects_invalid_escapes() {
        assert_eq!(decode("github.com/Foo/bar"), None);
        assert_eq!(decode("example.com/!1"), None);
        assert_eq!(decode("example.com/a!"), None);
        assert_eq!(decode("bad%2"), None);
    }

    #[test]
    fn escape_round_trips() {
        let p = "github.com/Azure/azure-sdk-for-go";
        assert_eq!(escape_case(p), "github.com/!azure/azure-sdk-for-go");
        assert_eq!(unescape_case(&escape_case(p)).as_deref(), Some(p));
    }
}
