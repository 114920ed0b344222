//! What the crates cannot say about the layers (docs/ARCHITECTURE.md). Between crates the
//! compiler enforces the direction: `gomodwatch-wire` depends on no other crate of ours,
//! `gomodwatch-model` and `gomodwatch-mitm` on the wire only, the binary on all three.
//! Inside a crate it cannot, so every source file is parsed here (syn: grouped imports,
//! `super::super::` paths, paths in code as well as in `use`, comments ignored) and checked:
//! * a layer imports only the layers below it (`vocab` nothing else of the wire, `gomod`
//!   nothing of `session`, the views nothing of the decoders);
//! * no two files of a crate import each other, directly or around a loop (a parent module
//!   that uses a child, and a child that uses what the parent defines, are a loop too);
//! * no source file outside tests is longer than 600 lines.
//!
//! Test code (`#[cfg(test)]` modules and the `tests.rs` files they name) is left out: tests
//! may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// A crate of the workspace: where its root file is, and which of its top-level modules
/// may import which (a layer may always import itself; one not listed may import anything).
struct CrateSpec {
    root: &'static str,
    layers: &'static [(&'static str, &'static [&'static str])],
}

const CRATES: &[CrateSpec] = &[
    CrateSpec {
        root: "crates/wire/src/lib.rs",
        layers: &[
            ("vocab", &[]),
            ("file", &["vocab"]),
            ("writer", &["vocab"]),
            ("decode", &["vocab"]),
        ],
    },
    CrateSpec {
        root: "crates/model/src/lib.rs",
        layers: &[
            ("vocab", &[]),
            ("decode", &["vocab"]),
            ("gomod", &["vocab", "decode"]),
            ("present", &["vocab", "gomod"]),
            ("session", &["vocab", "gomod", "present"]),
        ],
    },
    CrateSpec {
        root: "crates/mitm/src/lib.rs",
        layers: &[],
    },
    CrateSpec {
        root: "src/lib.rs",
        layers: &[
            // The binary's sources (live capture) are beside the wire's readers.
            ("source", &["vocab", "file", "writer", "mitm"]),
            // The views see the model and what it presents, never the decoders.
            ("ui", &["session", "present"]),
            ("export", &["session", "present"]),
        ],
    },
    CrateSpec {
        root: "src/main.rs",
        layers: &[],
    },
];

/// Every layer's name: the top-level modules of the crates (`crate::X` and
/// `gomodwatch_wire::X` alike name the layer X).
const KNOWN_LAYERS: &[&str] = &[
    "vocab", "decode", "file", "writer", "gomod", "present", "session", "source", "mitm", "ui",
    "export", "pipeline", "fuzzing",
];

/// The crates of the workspace, by the name code uses for them.
const WORKSPACE_CRATES: &[&str] = &[
    "gomodwatch_wire",
    "gomodwatch_model",
    "gomodwatch_mitm",
    "gomodwatch",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// One source file of a crate: its module path from the crate root, and what it refers to.
struct File {
    path: PathBuf,
    module: Vec<String>,
    /// Paths the file names (in `use` and in code), each with the module it is named from
    /// (a file's inline modules name things from inside themselves).
    refs: Vec<(Vec<String>, Vec<String>)>,
    /// Inline modules (their full module paths), not test ones.
    inline: Vec<Vec<String>>,
    /// Child modules declared `mod x;` (their full module paths and files).
    children: Vec<(Vec<String>, PathBuf)>,
}

/// Walks a file's items, keeping track of inline modules, skipping test code.
struct Collector<'a> {
    dir: &'a Path,
    /// Directory for the children of the module being walked.
    child_dir: PathBuf,
    module: Vec<String>,
    out: &'a mut File,
}

impl Collector<'_> {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.out.refs.push((self.module.clone(), full));
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.out.refs.push((self.module.clone(), full));
            }
            syn::UseTree::Glob(_) => self.out.refs.push((self.module.clone(), prefix.clone())),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if is_cfg_test(&m.attrs) {
            return;
        }
        let name = m.ident.to_string();
        let mut module = self.module.clone();
        module.push(name.clone());
        match &m.content {
            None => {
                let dir = &self.child_dir;
                let file = [
                    dir.join(format!("{name}.rs")),
                    dir.join(&name).join("mod.rs"),
                ]
                .into_iter()
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("{}: no file for mod {name}", self.dir.display()));
                self.out.children.push((module, file));
            }
            Some((_, items)) => {
                self.out.inline.push(module.clone());
                let saved = std::mem::replace(&mut self.module, module);
                let saved_dir = self.child_dir.clone();
                self.child_dir = self.child_dir.join(&name);
                for item in items {
                    self.visit_item(item);
                }
                self.module = saved;
                self.child_dir = saved_dir;
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !is_cfg_test(&i.attrs) {
            syn::visit::visit_item_impl(self, i);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_cfg_test(&u.attrs) {
            let mut prefix = Vec::new();
            if u.leading_colon.is_some() {
                prefix.push("::".to_string());
            }
            self.use_tree(&mut prefix, &u.tree);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let segs = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.out.refs.push((self.module.clone(), segs));
        }
        syn::visit::visit_path(self, p);
    }
}

/// Every non-test file of the crate whose root is `root`, by walking `mod` declarations.
fn crate_files(root: &Path) -> Vec<File> {
    let mut files = Vec::new();
    let mut todo = vec![(Vec::<String>::new(), root.to_path_buf())];
    while let Some((module, path)) = todo.pop() {
        let text = std::fs::read_to_string(&path).unwrap();
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: cannot parse: {e}", path.display()));
        let dir = path.parent().unwrap();
        // foo.rs keeps its children in foo/; lib.rs, main.rs and mod.rs beside them.
        let name = path.file_stem().unwrap().to_str().unwrap();
        let child_dir = if module.is_empty() || name == "mod" {
            dir.to_path_buf()
        } else {
            dir.join(name)
        };
        let mut file = File {
            path: path.clone(),
            module: module.clone(),
            refs: Vec::new(),
            inline: Vec::new(),
            children: Vec::new(),
        };
        let mut c = Collector {
            dir,
            child_dir,
            module,
            out: &mut file,
        };
        c.visit_file(&ast);
        todo.extend(file.children.iter().cloned());
        files.push(file);
    }
    files
}

/// The module a path names, made absolute (`crate::`, `super::`, `self::`, a child module
/// of `from`), or `None` for an outside crate or a name imported earlier. Outside crates of
/// the workspace come back as `["<crate>", ...]`.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut base: Vec<String> = from.to_vec();
    let mut rest = path;
    match first.as_str() {
        "crate" => {
            base.clear();
            rest = &path[1..];
        }
        "self" => rest = &path[1..],
        "super" => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            if rest.first().is_some_and(|s| s == "self") {
                rest = &rest[1..];
            }
        }
        "::" => return resolve(from, &path[1..], &BTreeSet::new()),
        name if WORKSPACE_CRATES.contains(&name) => {
            let mut out = vec![format!("<{name}>")];
            out.extend(path[1..].iter().take(1).cloned());
            return Some(out);
        }
        name => {
            let mut child = from.to_vec();
            child.push(name.to_string());
            if !modules.contains(&child) {
                return None;
            }
        }
    }
    base.extend(rest.iter().cloned());
    // The longest prefix that is a module.
    while !modules.contains(&base) {
        base.pop()?;
    }
    Some(base)
}

/// Strongly connected components of more than one node (Tarjan).
fn cycles(graph: &BTreeMap<usize, BTreeSet<usize>>, n: usize) -> Vec<Vec<usize>> {
    struct T<'a> {
        g: &'a BTreeMap<usize, BTreeSet<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn go(t: &mut T<'_>, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in t.g.get(&v).into_iter().flatten() {
            match t.index[w] {
                None => {
                    go(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(i) if t.on[w] => t.low[v] = t.low[v].min(i),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            go(&mut t, v);
        }
    }
    t.out
}

struct Analysis {
    files: Vec<File>,
    /// For each file, the modules (absolute, or `<crate>` + top-level module) it names.
    targets: Vec<BTreeSet<Vec<String>>>,
    /// Module path → the file that holds it.
    owner: BTreeMap<Vec<String>, usize>,
}

fn analyse(spec: &CrateSpec) -> Analysis {
    let files = crate_files(&manifest_dir().join(spec.root));
    let mut owner = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        owner.insert(f.module.clone(), i);
        for m in &f.inline {
            owner.insert(m.clone(), i);
        }
    }
    let modules: BTreeSet<Vec<String>> = owner.keys().cloned().collect();
    let targets = files
        .iter()
        .map(|f| {
            f.refs
                .iter()
                .filter_map(|(from, path)| resolve(from, path, &modules))
                .collect()
        })
        .collect();
    Analysis {
        files,
        targets,
        owner,
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(manifest_dir())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[test]
fn layers_import_only_the_layers_below() {
    let mut violations = Vec::new();
    let mut checked = 0;
    for spec in CRATES {
        let a = analyse(spec);
        for (f, targets) in a.files.iter().zip(&a.targets) {
            let Some(layer) = f.module.first() else {
                continue;
            };
            let Some((_, allowed)) = spec.layers.iter().find(|(l, _)| l == layer) else {
                continue;
            };
            checked += 1;
            for t in targets {
                // `crate::X` and `gomodwatch_wire::X` alike name the layer X.
                let named = match t.first() {
                    Some(c) if c.starts_with('<') => t.get(1),
                    _ => t.first(),
                };
                let Some(named) = named else { continue };
                if named != layer
                    && !allowed.contains(&named.as_str())
                    && KNOWN_LAYERS.contains(&named.as_str())
                {
                    violations.push(format!(
                        "{} ({layer}) imports {}",
                        rel(&f.path),
                        t.join("::")
                    ));
                }
            }
        }
    }
    assert!(checked > 80, "only {checked} files checked");
    assert!(
        violations.is_empty(),
        "imports that go up:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_files_import_each_other() {
    let mut found = Vec::new();
    for spec in CRATES {
        let a = analyse(spec);
        let mut graph: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for (i, targets) in a.targets.iter().enumerate() {
            for t in targets {
                if let Some(&j) = a.owner.get(t) {
                    if j != i {
                        graph.entry(i).or_default().insert(j);
                    }
                }
            }
        }
        for comp in cycles(&graph, a.files.len()) {
            let mut names: Vec<String> = comp.iter().map(|&i| rel(&a.files[i].path)).collect();
            names.sort();
            let mut lines = vec![names.join(" ↔ ")];
            // What each file of the loop names of the others, to show where to cut it.
            for &i in &comp {
                let f = &a.files[i];
                let modules: BTreeSet<Vec<String>> = a.owner.keys().cloned().collect();
                let mut named = BTreeSet::new();
                for (from, path) in &f.refs {
                    let Some(t) = resolve(from, path, &modules) else {
                        continue;
                    };
                    if let Some(&j) = a.owner.get(&t) {
                        if j != i && comp.contains(&j) {
                            named.insert(format!(
                                "{} ({})",
                                rel(&a.files[j].path),
                                path.join("::")
                            ));
                        }
                    }
                }
                for n in named {
                    lines.push(format!("    {} → {n}", rel(&f.path)));
                }
            }
            found.push(lines.join("\n"));
        }
    }
    assert!(
        found.is_empty(),
        "files that import each other (move what they share into a file of its own):\n{}",
        found.join("\n")
    );
}

/// Every `.rs` file under the crates' source folders is reached from a crate root, so none
/// escapes the checks above.
#[test]
fn every_source_file_is_checked() {
    let mut reached = BTreeSet::new();
    for spec in CRATES {
        reached.extend(analyse(spec).files.into_iter().map(|f| f.path));
    }
    let mut missed = Vec::new();
    for dir in source_dirs() {
        for f in rust_files(&dir) {
            if !reached.contains(&f) && !is_test_file(&f) {
                missed.push(rel(&f));
            }
        }
    }
    assert!(missed.is_empty(), "files no crate root reaches: {missed:?}");
}

fn source_dirs() -> Vec<PathBuf> {
    let root = manifest_dir();
    let mut dirs = vec![root.join("src")];
    for e in std::fs::read_dir(root.join("crates")).unwrap() {
        dirs.push(e.unwrap().path().join("src"));
    }
    dirs
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file of tests beside the code it tests (`foo/tests.rs`, `#[cfg(test)] mod tests;`).
fn is_test_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "tests.rs")
        || p.components().any(|c| c.as_os_str() == "tests")
}

/// The size rule of the issue that made the crates (issue 23): small files. Tests are not
/// counted (`tests.rs` files and folders named `tests`).
#[test]
fn no_source_file_above_600_lines() {
    let mut long = Vec::new();
    for dir in source_dirs() {
        for f in rust_files(&dir) {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            if lines > 600 && !is_test_file(&f) {
                long.push(format!("{} ({lines} lines)", rel(&f)));
            }
        }
    }
    assert!(
        long.is_empty(),
        "source files above 600 lines:\n{}",
        long.join("\n")
    );
}

/// docs/ARCHITECTURE.md's "where a change goes" has a table per crate (`### crates/wire`,
/// ..., `### src`) that names every source file of it: one added or removed shows here.
#[test]
fn the_architecture_page_lists_every_source_file() {
    let doc = std::fs::read_to_string(manifest_dir().join("docs/ARCHITECTURE.md")).unwrap();
    let mut problems = Vec::new();
    for (heading, dir, roots) in [
        (
            "### crates/wire",
            "crates/wire/src",
            &["crates/wire/src/lib.rs"][..],
        ),
        (
            "### crates/model",
            "crates/model/src",
            &["crates/model/src/lib.rs"][..],
        ),
        (
            "### crates/mitm",
            "crates/mitm/src",
            &["crates/mitm/src/lib.rs"][..],
        ),
        ("### src", "src", &["src/lib.rs", "src/main.rs"][..]),
    ] {
        let Some(at) = doc.find(heading) else {
            problems.push(format!("no section {heading:?}"));
            continue;
        };
        let section = &doc[at + heading.len()..];
        let section = &section[..section.find("\n#").unwrap_or(section.len())];
        let listed: BTreeSet<String> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect();
        let base = manifest_dir().join(dir);
        let mut files = BTreeSet::new();
        for root in roots {
            let spec = CrateSpec { root, layers: &[] };
            for f in analyse(&spec).files {
                files.insert(f.path.strip_prefix(&base).unwrap().display().to_string());
            }
        }
        for f in files.difference(&listed) {
            problems.push(format!("{dir}/{f} is not in the table under {heading:?}"));
        }
        for f in listed.difference(&files) {
            problems.push(format!(
                "{dir}/{f} is in the table under {heading:?} but is no source file"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
}
