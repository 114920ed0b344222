//! docs/LIMITS.md names every bound with the text of the code that sets it: each row's
//! `source` cell (a file and a snippet) must still be true, so the page cannot drift from
//! the code.

use std::path::Path;

#[test]
fn every_limit_in_the_doc_is_the_one_in_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/LIMITS.md")).expect("docs/LIMITS.md");
    let mut checked = 0;
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let Some(source) = cells.last().map(|c| c.trim()) else {
            continue;
        };
        // `path` `snippet`
        let parts: Vec<&str> = source.split('`').collect();
        if parts.len() < 4 || !(parts[1].starts_with("src/") || parts[1].starts_with("crates/")) {
            continue;
        }
        let (file, snippet) = (parts[1], parts[3]);
        let code = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("{file} named in docs/LIMITS.md: {e}"));
        assert!(
            code.contains(snippet),
            "docs/LIMITS.md says {file} has `{snippet}`; it does not (update the page)"
        );
        checked += 1;
    }
    assert!(
        checked >= 25,
        "only {checked} limits found in docs/LIMITS.md"
    );
}
