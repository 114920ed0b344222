//! Usage errors in one line (docs/CONTRACT.md: "one clear line on stderr"). clap prints an
//! error as several lines: the `error:` line, sometimes a `tip:`, the usage and "For more
//! information, try '--help'". Here they become one: clap's error line, its tip if it has
//! one, and where the help is for the (sub)command that was being parsed.

use crate::cli::Cli;
use clap::CommandFactory;

/// The one line for a clap error about `args` (the whole command line); `None` for what is
/// not an error (`--help`, `--version`), which clap prints as it does.
pub(crate) fn one_line<S: AsRef<std::ffi::OsStr>>(e: &clap::Error, args: &[S]) -> Option<String> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    // Plain text: the styles are dropped by to_string().
    Some(squeeze(&e.render().to_string(), &command_path(args)))
}

/// `gomodwatch ca trust` for `gomodwatch --ca-dir d ca trust --keychain x`: the subcommands
/// named on the command line, whose --help is the one to read.
fn command_path<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let mut cmd = Cli::command();
    let mut path = vec!["gomodwatch".to_string()];
    for a in args.iter().skip(1) {
        let a = a.as_ref().to_string_lossy();
        if a == "--" {
            break;
        }
        let Some(sub) = cmd.find_subcommand(a.as_ref()).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path.join(" ")
}

/// clap's rendered error as one line, with where the help is.
fn squeeze(text: &str, command: &str) -> String {
    let mut error = String::new();
    let mut tip = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage: ") || line.starts_with("For more information") {
            // The usage (one or more lines) closes the error.
            break;
        } else if let Some(rest) = line.strip_prefix("error: ") {
            error = rest.to_string();
        } else if let Some(rest) = line.strip_prefix("tip: ") {
            tip = format!("; {rest}");
        } else if !line.is_empty() {
            // The rest of the error ("[possible values: ...]"), on lines of its own.
            if !error.is_empty() {
                error.push(' ');
            }
            error.push_str(line);
        }
    }
    format!("error: {error}{tip} (see `{command} --help`)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn line(args: &[&str]) -> String {
        let e = Cli::try_parse_from(args).expect_err("a usage error");
        one_line(&e, args).expect("an error, not help")
    }

    #[test]
    fn every_kind_of_usage_error_is_one_line_with_a_hint() {
        let cases = [
            (
                &["gomodwatch", "--slo", "abc"][..],
                "error: invalid value 'abc' for '--slo <MS>': must be a positive number of \
                 milliseconds (see `gomodwatch --help`)",
            ),
            (
                &["gomodwatch", "--no-such-flag"][..],
                "error: unexpected argument '--no-such-flag' found (see `gomodwatch --help`)",
            ),
            (
                &["gomodwatch", "run"][..],
                "error: the following required arguments were not provided: <COMMAND>... (see \
                 `gomodwatch run --help`)",
            ),
            (
                &[
                    "gomodwatch",
                    "ca",
                    "--ca-dir",
                    "run",
                    "trust",
                    "--keychain",
                    "nope",
                ][..],
                "error: invalid value 'nope' for '--keychain <KEYCHAIN>' [possible values: \
                 system, login] (see `gomodwatch ca trust --help`)",
            ),
            (
                &["gomodwatch", "-r", "x.pcap", "--json", "--report"][..],
                "error: the argument '--json' cannot be used with '--report' (see `gomodwatch \
                 --help`)",
            ),
        ];
        let cases = cases.into_iter().chain([(
            &["gomodwatch", "run", "--slo", "0", "--", "go", "ca"][..],
            "error: invalid value '0' for '--slo <MS>': must be a positive number of \
             milliseconds (see `gomodwatch run --help`)",
        )]);
        for (args, want) in cases {
            let got = line(args);
            assert!(!got.contains('\n'), "{got}");
            assert_eq!(got, want, "{args:?}");
        }
    }

    /// A misspelt option of `run` is a usage error, not the command to run (`gomodwatch run
    /// --jsno -- go ...` once tried to execute `--jsno`); the child's own options still pass,
    /// after its name or after `--`.
    #[test]
    fn run_options_are_checked_and_the_childs_are_passed_on() {
        assert_eq!(
            line(&["gomodwatch", "run", "--bogus", "go", "version"]),
            "error: unexpected argument '--bogus' found; to pass '--bogus' as a value, use \
             '-- --bogus' (see `gomodwatch run --help`)"
        );
        for (args, child) in [
            (
                &["gomodwatch", "run", "go", "mod", "download", "-x", "--json"][..],
                5,
            ),
            (&["gomodwatch", "run", "--json", "--", "go", "-x"][..], 2),
            (&["gomodwatch", "run", "--", "--bogus"][..], 1),
        ] {
            let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let Some(crate::cli::Command::Run(run)) = cli.command else {
                panic!("{args:?}: not run");
            };
            let got: Vec<_> = run.command.iter().map(|a| a.to_str().unwrap()).collect();
            assert_eq!(got, args[args.len() - child..], "{args:?}");
        }
    }

    #[test]
    fn help_and_version_are_not_errors() {
        for args in [
            &["gomodwatch", "--help"][..],
            &["gomodwatch", "--version"][..],
        ] {
            let e = Cli::try_parse_from(args).expect_err("help exits through an Err");
            assert_eq!(one_line(&e, args), None, "{args:?}");
        }
    }
}
