//! The README against the program: its option tables name exactly the options `--help`
//! shows, and every command in its code blocks that can run here runs (with the jq on this
//! machine: Debian's is 1.6, where `module` is a keyword) and succeeds.

// Linux only: its runner needs the Linux fixtures (can_run) (tests/common/fixture.rs).
#![cfg(target_os = "linux")]

mod common;

use common::fixture::{can_run, Need};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const README: &str = include_str!("../README.md");

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gomodwatch")
}

fn help(args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The long options (`--json`) and short ones (`-r`) a text names, in backticks or not.
fn flags(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    for (i, _) in text.match_indices('-') {
        // A flag starts a word: after a space, a backtick, a bracket or a line start.
        if i > 0 && !b"` [(|,\n".contains(&b[i - 1]) {
            continue;
        }
        let rest = &text[i..];
        let len = if let Some(long) = rest.strip_prefix("--") {
            2 + long
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(long.len())
        } else {
            match rest.as_bytes().get(1) {
                Some(c) if c.is_ascii_alphabetic() => {
                    // `-r` alone, not `-rf` or a negative number or `-x`-style words.
                    match rest.as_bytes().get(2) {
                        Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => continue,
                        _ => 2,
                    }
                }
                _ => continue,
            }
        };
        if len > 2 || (len == 2 && !rest.starts_with("--")) {
            out.insert(rest[..len].to_string());
        }
    }
    out
}

/// The first column of the markdown table whose header row starts with `header`.
fn table_first_column(header: &str) -> String {
    let start = README
        .find(header)
        .unwrap_or_else(|| panic!("README has a table starting {header:?}"));
    README[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The options of a --help text (its OPTIONS lines, not the words of its prose), each
/// with its other spelling (`-f`, `--filter`).
fn help_options(help: &str) -> Vec<BTreeSet<String>> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .map(|l| flags(l.split("  ").next().unwrap_or_default()))
        .filter(|f| !f.contains("--help") && !f.contains("--version"))
        .collect()
}

fn help_flags(help: &str) -> BTreeSet<String> {
    help_options(help).into_iter().flatten().collect()
}

/// The options of a --help text of which the README names no spelling.
fn undocumented(help: &str, readme: &BTreeSet<String>) -> Vec<String> {
    help_options(help)
        .into_iter()
        .filter(|o| o.is_disjoint(readme))
        .map(|o| o.into_iter().collect::<Vec<_>>().join(", "))
        .collect()
}

#[test]
fn readme_option_table_and_help_agree() {
    let table = flags(&table_first_column("| option | |"));
    let main_help = help(&[]);
    let main = help_flags(&main_help);
    let missing_in_help: Vec<_> = table.difference(&main).collect();
    assert!(
        missing_in_help.is_empty(),
        "the README's option table names {missing_in_help:?}, which `gomodwatch --help` does not"
    );
    // Every option --help shows is in the README: in the table, or (the fleet and
    // direct-fetch options) in the sections that explain them.
    let readme = flags(README);
    let missing = undocumented(&main_help, &readme);
    assert!(
        missing.is_empty(),
        "`gomodwatch --help` shows {missing:?}, which the README never names"
    );
    // `run` and `ca`: the options their --help shows are in the README too.
    for sub in [
        &["run"][..],
        &["compare"],
        &["ca", "init"],
        &["ca", "trust"],
        &["ca", "untrust"],
    ] {
        let missing = undocumented(&help(sub), &readme);
        assert!(
            missing.is_empty(),
            "`gomodwatch {} --help` shows {missing:?}, which the README never names",
            sub.join(" ")
        );
    }
    // The ca table's commands are the subcommands `ca --help` lists.
    let ca_table = table_first_column("| command | |");
    let ca_help = help(&["ca"]);
    for cmd in ["init", "path", "show", "trust", "untrust"] {
        assert!(
            ca_table.contains(&format!("ca {cmd}")),
            "README's ca table lacks {cmd}"
        );
        assert!(
            ca_help.lines().any(|l| l.trim_start().starts_with(cmd)),
            "`ca --help` lacks {cmd}"
        );
    }
}

/// What `--help` and the README each say about the same thing, where they disagreed once.
#[test]
fn help_and_readme_say_the_same_defaults() {
    let main = help(&[]);
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let main = flat(&main);
    let readme = flat(README);
    // The capture filter's default includes ICMP errors in both.
    assert!(main.contains("ICMP"), "--help's -f default omits ICMP");
    assert!(readme.contains("plus ICMP destination-unreachable"));
    // --force covers the same files in both.
    assert!(main.contains("-w, --har or --keylog"), "{main}");
    assert!(readme.contains("allow `-w`, `--har` or `--keylog` to replace"));
    // The default view: the TUI on a terminal, the report otherwise, in both.
    assert!(main.contains("the default when stdout is not a terminal"));
    assert!(
        readme.contains("opens the TUI when stdout is a terminal and prints the report otherwise")
    );
    let trust = flat(&help(&["ca", "trust"]));
    assert!(trust.contains("--apply"), "{trust}");
    assert!(trust.contains("login"), "{trust}");
}

/// A command line of a code block, with the reason it cannot run here if it cannot.
fn cannot_run_here(cmd: &str) -> Option<&'static str> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let first = words.first().copied().unwrap_or_default();
    if first == "sudo" {
        return Some("needs root and a live interface, and runs until stopped");
    }
    if first != "gomodwatch" {
        return Some("not a gomodwatch command (CI runs the install and test commands itself)");
    }
    if words
        .iter()
        .any(|w| *w == "-i" || *w == "--mitm" || *w == "run" || *w == "compare")
    {
        return Some("captures, proxies or drives a go command until stopped");
    }
    if cmd.contains("--push-metrics") {
        return Some("needs a Pushgateway");
    }
    // A file the reader has and this repository does not (`cap.pcap`).
    let missing = words
        .windows(2)
        .any(|w| ["-r", "--tls-keylog"].contains(&w[0]) && !Path::new(w[1]).exists());
    if missing {
        return Some("names a capture of yours");
    }
    None
}

/// The command lines of the README's code blocks (```sh fences, or indented four spaces
/// after a blank line; untagged fences are sample output and synopses), with `\`- and
/// `|`-continued lines joined and comments dropped.
fn code_commands() -> Vec<String> {
    let mut cmds = Vec::new();
    let mut fence: Option<bool> = None; // Some(runnable) inside a fence
    let mut in_indented = false;
    let mut prev_blank = true;
    let mut pending = String::new();
    for line in README.lines() {
        if let Some(tag) = line.strip_prefix("```") {
            fence = match fence {
                None => Some(tag.trim() == "sh"),
                Some(_) => None,
            };
            continue;
        }
        let code = match fence {
            Some(true) => Some(line),
            Some(false) => None,
            None => {
                in_indented = line.starts_with("    ") && (prev_blank || in_indented);
                in_indented.then(|| &line[4..])
            }
        };
        prev_blank = line.trim().is_empty();
        let Some(code) = code else { continue };
        let code = match code.find(" # ") {
            Some(i) => &code[..i],
            None => code,
        }
        .trim();
        if code.is_empty() || code.starts_with('#') {
            continue;
        }
        pending.push_str(code.trim_end_matches('\\'));
        pending.push(' ');
        if !(code.ends_with('\\') || code.ends_with('|')) {
            cmds.push(pending.trim().to_string());
            pending.clear();
        }
    }
    cmds
}

#[test]
fn every_readme_command_that_can_run_here_runs() {
    if !can_run(
        "every_readme_command_that_can_run_here_runs",
        &[Need::Program("jq")],
    ) {
        return;
    }
    let dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // --print-ca and friends write under $HOME: a fresh one.
    let home = std::env::temp_dir().join(format!("gmw-readme-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for cmd in code_commands() {
        if let Some(why) = cannot_run_here(&cmd) {
            skipped.push(format!("{cmd}  ({why})"));
            continue;
        }
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", &cmd])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("PATH", &path)
            .env("HOME", &home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README command failed ({}): {cmd}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let redirected = cmd.contains('>');
        assert!(
            redirected || !out.stdout.is_empty(),
            "README command printed nothing: {cmd}"
        );
        ran.push(cmd);
    }
    let _ = std::fs::remove_dir_all(&home);
    eprintln!("ran {} README commands:\n  {}", ran.len(), ran.join("\n  "));
    eprintln!("cannot run here:\n  {}", skipped.join("\n  "));
    // The replay, the jq pipeline and --print-ca at least.
    assert!(
        ran.iter().any(|c| c.contains("| jq")),
        "the jq example was not run: {ran:?}"
    );
    assert!(ran.len() >= 3, "only {ran:?} ran");
}
