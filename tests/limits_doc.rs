//! docs/LIMITS.md names every bound with the text of the code that sets it: each row's
//! `source` cell (a file and one or more snippets) must still be in the code, the row's
//! `value` must be what those snippets evaluate to (the n-th quantity of the value cell
//! against the n-th snippet: `8 MiB` against `8 << 20`, `300 s` against
//! `Duration::from_secs(300)` or `300 * 1_000_000_000` nanoseconds), and every `MAX_*`
//! constant of the sources must have its row, so the page cannot drift from the code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One table row of the page that names a source.
struct Row {
    line: String,
    value: String,
    file: String,
    snippets: Vec<String>,
}

fn rows(doc: &str) -> Vec<Row> {
    let mut out = Vec::new();
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let Some(source) = cells.last().map(|c| c.trim()) else {
            continue;
        };
        // `path` `snippet` [`snippet` ...]
        let parts: Vec<&str> = source.split('`').collect();
        if parts.len() < 4 || !(parts[1].starts_with("src/") || parts[1].starts_with("crates/")) {
            continue;
        }
        out.push(Row {
            line: line.to_string(),
            value: cells[1].trim().to_string(),
            file: parts[1].to_string(),
            snippets: parts[3..]
                .iter()
                .step_by(2)
                .map(|s| s.to_string())
                .collect(),
        });
    }
    out
}

/// The quantities of a value cell, in order, in bytes, seconds or plain counts: "32 768",
/// "8 MiB", "300 s of capture time", "256 (32 in MITM), 64 KiB or more each".
fn quantities(value: &str) -> Vec<(f64, Unit)> {
    // Backquoted text (`--max-modules`) names options, not values.
    let plain: String = value.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = plain
        .split(|c: char| c.is_whitespace() || "(),;".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !words[i].bytes().all(|b| b.is_ascii_digit()) {
            i += 1;
            continue;
        }
        // Digits grouped by threes with spaces: "32 768", "100 000".
        let mut digits = words[i].to_string();
        i += 1;
        while i < words.len() && words[i].len() == 3 && words[i].bytes().all(|b| b.is_ascii_digit())
        {
            digits.push_str(words[i]);
            i += 1;
        }
        let n: f64 = digits.parse().expect("digits");
        let (n, unit) = match words.get(i).copied() {
            Some("KiB") => (n * 1024.0, Unit::Bytes),
            Some("MiB") => (n * 1048576.0, Unit::Bytes),
            Some("GiB") => (n * 1073741824.0, Unit::Bytes),
            Some("s") => (n, Unit::Seconds),
            Some("ms") => (n / 1000.0, Unit::Seconds),
            _ => (n, Unit::Plain),
        };
        out.push((n, unit));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Plain,
    Bytes,
    Seconds,
}

/// What a snippet sets, as the value column would say it: the expression after its `=`
/// (a `const`) or its `:` (a field), `Duration::from_secs(N)` in seconds, a name ending in
/// `_ns` converted to seconds.
fn snippet_value(snippet: &str) -> Option<(f64, Unit)> {
    let (name, expr) = if let Some((lhs, rhs)) = snippet.split_once('=') {
        (lhs, rhs)
    } else {
        snippet.split_once(':')?
    };
    let expr = expr.trim().trim_end_matches([';', ',']).trim();
    if let Some(secs) = expr
        .strip_prefix("Duration::from_secs(")
        .and_then(|e| e.strip_suffix(')'))
    {
        return Some((eval(secs)?, Unit::Seconds));
    }
    let v = eval(expr)?;
    if name.trim().ends_with("_ns") {
        return Some((v / 1e9, Unit::Seconds));
    }
    Some((v, Unit::Plain))
}

/// Evaluates integer literals with `_`, `( )`, `*`, `+` and `<<`, with Rust's precedence
/// (`*` over `+` over `<<`); anything else is not a value (None).
fn eval(expr: &str) -> Option<f64> {
    let tokens: Vec<String> = {
        let mut t = Vec::new();
        let mut chars = expr.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                ' ' => {}
                '0'..='9' => {
                    let mut n = c.to_string();
                    while let Some(&d) = chars.peek() {
                        if d.is_ascii_digit() || d == '_' {
                            n.push(d);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    // A type suffix (`500u64`) or `as u64` is not part of the value.
                    t.push(n.replace('_', ""));
                }
                '<' if chars.next_if_eq(&'<').is_some() => t.push("<<".into()),
                '*' | '+' | '(' | ')' => t.push(c.to_string()),
                _ => return None,
            }
        }
        t
    };
    let mut pos = 0;
    let v = shift(&tokens, &mut pos)?;
    (pos == tokens.len()).then_some(v as f64)
}

fn shift(t: &[String], pos: &mut usize) -> Option<u128> {
    let mut v = sum(t, pos)?;
    while t.get(*pos).is_some_and(|s| s == "<<") {
        *pos += 1;
        v = v.checked_shl(u32::try_from(sum(t, pos)?).ok()?)?;
    }
    Some(v)
}

fn sum(t: &[String], pos: &mut usize) -> Option<u128> {
    let mut v = product(t, pos)?;
    while t.get(*pos).is_some_and(|s| s == "+") {
        *pos += 1;
        v = v.checked_add(product(t, pos)?)?;
    }
    Some(v)
}

fn product(t: &[String], pos: &mut usize) -> Option<u128> {
    let mut v = atom(t, pos)?;
    while t.get(*pos).is_some_and(|s| s == "*") {
        *pos += 1;
        v = v.checked_mul(atom(t, pos)?)?;
    }
    Some(v)
}

fn atom(t: &[String], pos: &mut usize) -> Option<u128> {
    let tok = t.get(*pos)?;
    *pos += 1;
    if tok == "(" {
        let v = shift(t, pos)?;
        (t.get(*pos)? == ")").then_some(())?;
        *pos += 1;
        return Some(v);
    }
    tok.parse().ok()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/LIMITS.md")).expect("docs/LIMITS.md")
}

#[test]
fn every_limit_in_the_doc_is_the_one_in_the_code() {
    let mut checked = 0;
    for row in rows(&doc()) {
        let code = std::fs::read_to_string(root().join(&row.file))
            .unwrap_or_else(|e| panic!("{} named in docs/LIMITS.md: {e}", row.file));
        let said = quantities(&row.value);
        for (i, snippet) in row.snippets.iter().enumerate() {
            assert!(
                code.contains(snippet.as_str()),
                "docs/LIMITS.md says {} has `{snippet}`; it does not (update the page)",
                row.file
            );
            let (set, unit) = snippet_value(snippet).unwrap_or_else(|| {
                panic!("docs/LIMITS.md: `{snippet}` sets no value this test can read")
            });
            let Some(&(doc_value, doc_unit)) = said.get(i) else {
                panic!(
                    "docs/LIMITS.md: no {}th value in `{}` for `{snippet}`:\n{}",
                    i + 1,
                    row.value,
                    row.line
                );
            };
            // A count or a size: the code's number is plain; a time: both in seconds.
            let unit_ok = match unit {
                Unit::Seconds => doc_unit == Unit::Seconds,
                _ => doc_unit != Unit::Seconds,
            };
            assert!(
                unit_ok && doc_value == set,
                "docs/LIMITS.md says {} ({:?}) where {} sets `{snippet}` = {set} ({unit:?}):\n{}",
                doc_value,
                doc_unit,
                row.file,
                row.line
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 45,
        "only {checked} limits found in docs/LIMITS.md"
    );
}

/// Every `MAX_*` constant of the sources (src/, crates/*/src/, tests aside) has a row in
/// docs/LIMITS.md whose source is its file and names its `const`.
#[test]
fn every_max_constant_is_documented() {
    let documented: BTreeSet<(String, String)> = rows(&doc())
        .into_iter()
        .flat_map(|r| {
            let file = r.file.clone();
            r.snippets.into_iter().filter_map(move |s| {
                let name = s
                    .split("const ")
                    .nth(1)?
                    .split(':')
                    .next()?
                    .trim()
                    .to_string();
                Some((file.clone(), name))
            })
        })
        .collect();
    let mut dirs = vec![root().join("src")];
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/") {
        dirs.push(krate.expect("crates/ entry").path().join("src"));
    }
    let mut found = 0;
    let mut missing = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path: PathBuf = entry.expect("source entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "tests" {
                    dirs.push(path);
                }
                continue;
            }
            if !name.ends_with(".rs") || name == "tests.rs" {
                continue;
            }
            let rel = path
                .strip_prefix(root())
                .expect("under the root")
                .to_str()
                .expect("utf-8 path")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read source");
            for line in text.lines() {
                let Some(rest) = line.trim_start().split("const MAX_").nth(1) else {
                    continue;
                };
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let constant = format!("MAX_{}", rest.split(':').next().unwrap_or("").trim());
                found += 1;
                if !documented.contains(&(rel.clone(), constant.clone())) {
                    missing.push(format!("{rel} {constant}"));
                }
            }
        }
    }
    assert!(found >= 30, "only {found} MAX_* constants found");
    assert!(
        missing.is_empty(),
        "MAX_* constants without a row in docs/LIMITS.md (the limit, its value, what \
         happens when it is reached, where it is counted, and `file` `const ...` as its \
         source):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_value_parser_reads_the_page_s_forms() {
    assert_eq!(quantities("32 768"), [(32768.0, Unit::Plain)]);
    assert_eq!(
        quantities("256 (32 in MITM), 64 KiB or more each"),
        [
            (256.0, Unit::Plain),
            (32.0, Unit::Plain),
            (65536.0, Unit::Bytes)
        ]
    );
    assert_eq!(
        quantities("10 000 (`--max-modules`)"),
        [(10000.0, Unit::Plain)]
    );
    assert_eq!(
        quantities("300 s of capture time")[0],
        (300.0, Unit::Seconds)
    );
    assert_eq!(
        snippet_value("idle_timeout_ns: 300 * 1_000_000_000"),
        Some((300.0, Unit::Seconds))
    );
    assert_eq!(
        snippet_value("const MAX_RECORD: usize = (1 << 14) + 256;"),
        Some((16640.0, Unit::Plain))
    );
    assert_eq!(
        snippet_value("const X: u64 = 500 << 20;"),
        Some((524288000.0, Unit::Plain))
    );
    assert_eq!(
        snippet_value("first_byte: Duration::from_secs(300)"),
        Some((300.0, Unit::Seconds))
    );
    assert_eq!(snippet_value("const X: usize = foo();"), None);
}
