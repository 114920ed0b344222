//! Numbers and strings as the views write them.

/// How much room a duration gets: the report spells units out (`1.23 s`, `12 ms`), the
/// TUI's columns are narrow (`1.2s`, `12ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// Units spelled out (`1.23 s`): the report.
    Wide,
    /// Short units (`1.2s`): the TUI's columns.
    Narrow,
}

/// A duration in milliseconds; `-` when unknown.
pub fn duration(ms: Option<f64>, width: Width) -> String {
    let Some(v) = ms else {
        return "-".into();
    };
    let sp = if width == Width::Wide { " " } else { "" };
    match width {
        Width::Wide if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        Width::Narrow if v >= 10_000.0 => format!("{:.0}s", v / 1000.0),
        Width::Narrow if v >= 1000.0 => format!("{:.1}s", v / 1000.0),
        _ if v >= 10.0 => format!("{v:.0}{sp}ms"),
        _ => format!("{v:.1}{sp}ms"),
    }
}

/// A size in bytes: `1.5 MiB` wide, `1.5M` narrow.
pub fn bytes(n: u64, width: Width) -> String {
    match width {
        Width::Wide => {
            const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
            let mut v = n as f64;
            let mut u = 0;
            while v >= 1024.0 && u + 1 < UNITS.len() {
                v /= 1024.0;
                u += 1;
            }
            if u == 0 {
                format!("{n} B")
            } else {
                format!("{v:.1} {}", UNITS[u])
            }
        }
        Width::Narrow => match n {
            n if n >= 10 << 20 => format!("{}M", n >> 20),
            n if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1 << 20) as f64),
            n if n >= 10 << 10 => format!("{}K", n >> 10),
            n if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
            n => format!("{n}B"),
        },
    }
}

/// A proxy base URL without its scheme, to save columns.
pub fn short_proxy(p: &str) -> &str {
    p.split_once("://").map_or(p, |(_, rest)| rest)
}

/// A string from the wire made safe for a terminal: control characters (C0, DEL, C1 —
/// escape sequences could retitle the terminal, hide text or move the cursor) are shown
/// escaped (`\x1b`, `\u{9b}`), and nothing else changes. Every module path, version, URL,
/// header or body excerpt passes through here before a view prints it.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            if (c as u32) < 0x100 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    // Bidirectional overrides can reorder what a line appears to say.
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_wide_and_narrow() {
        assert_eq!(duration(Some(1234.0), Width::Wide), "1.23 s");
        assert_eq!(duration(Some(1234.0), Width::Narrow), "1.2s");
        assert_eq!(duration(Some(12_345.0), Width::Narrow), "12s");
        assert_eq!(duration(Some(12.3), Width::Wide), "12 ms");
        assert_eq!(duration(Some(12.3), Width::Narrow), "12ms");
        assert_eq!(duration(Some(0.25), Width::Wide), "0.2 ms");
        assert_eq!(duration(None, Width::Narrow), "-");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(512, Width::Wide), "512 B");
        assert_eq!(bytes(1536, Width::Wide), "1.5 KiB");
        assert_eq!(bytes(1536, Width::Narrow), "1.5K");
        assert_eq!(bytes(20 << 20, Width::Narrow), "20M");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(sanitize("example.com/m"), "example.com/m");
        assert_eq!(
            sanitize("evil\u{1b}]0;pwned\u{7}/m"),
            "evil\\x1b]0;pwned\\x07/m"
        );
        assert_eq!(sanitize("a\u{9b}8m"), "a\\x9b8m");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("ünïcode ok"), "ünïcode ok");
    }
}
