//! go.sum lines, as they appear in go.sum files and in checksum database lookup records
//! (docs/goproxy-protocol.md §3.3): `<path> <version>[/go.mod] h1:<base64>`.

use std::collections::HashMap;

/// The two hashes known for one module version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// `h1:` of the module zip.
    pub(crate) zip: Option<String>,
    /// `h1:` of its go.mod.
    pub(crate) gomod: Option<String>,
}

/// Hashes by (module, version).
#[derive(Debug, Clone, Default)]
pub struct SumTable(HashMap<(String, String), Sums>);

impl SumTable {
    /// Reads go.sum syntax; lines that are not go.sum lines are skipped.
    pub fn parse(text: &str) -> SumTable {
        let mut t = SumTable::default();
        t.add_lines(text);
        t
    }

    /// Adds the lines of more go.sum text.
    pub fn add_lines(&mut self, text: &str) {
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(path), Some(ver), Some(hash), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            if !hash.starts_with("h1:") {
                continue;
            }
            let (ver, is_mod) = match ver.strip_suffix("/go.mod") {
                Some(v) => (v, true),
                None => (ver, false),
            };
            let e = self
                .0
                .entry((path.to_string(), ver.to_string()))
                .or_default();
            let slot = if is_mod { &mut e.gomod } else { &mut e.zip };
            *slot = Some(hash.to_string());
        }
    }

    /// The hashes for `module@version`, if any.
    pub fn get(&self, module: &str, version: &str) -> Option<&Sums> {
        self.0.get(&(module.to_string(), version.to_string()))
    }

    pub(crate) fn remove(&mut self, module: &str, version: &str) {
        self.0.remove(&(module.to_string(), version.to_string()));
    }

    /// module@version pairs with a hash.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No hash at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The go.sum lines of a lookup response: the record text runs from after the record id
/// up to the blank line that precedes the signed tree note.
pub fn lookup_lines(body: &str) -> &str {
    let body = body.split_once('\n').map_or("", |(_, rest)| rest);
    body.split("\n\n").next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lookup_records() {
        let body = "0\nexample.com/a v1.0.0 h1:n+H0uc3zfTmpVyeufnS+LZGJT8EqSJUxqAm3toShRsA=\n\
                    example.com/a v1.0.0/go.mod h1:e534OPVK3ECUsUYWvEYbfM3gwYembXKopuIaFhIrlTI=\n\
                    \ngo.sum database tree\n1\nrjjLtpf7/xZnfN8t42AOxPjQaD8zzxEsBS4QcOyTd8Y=\n\n\
                    — sum.test x8O/DLuc+7kb7zqSDxdbkoR0N/jFBDcIU6L5EZRIFtTovqgDv8uiAKAL6/lkUa/UW=\n";
        let t = SumTable::parse(lookup_lines(body));
        let s = t.get("example.com/a", "v1.0.0").unwrap();
        assert_eq!(
            s.zip.as_deref(),
            Some("h1:n+H0uc3zfTmpVyeufnS+LZGJT8EqSJUxqAm3toShRsA=")
        );
        assert!(s.gomod.as_deref().unwrap().starts_with("h1:e534"));
        assert_eq!(t.len(), 1);
    }
}
