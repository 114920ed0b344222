//! What the go command said: its error lines (`go: MODULE@VERSION: ...`, `verifying
//! MODULE@VERSION: ...`) and exit status, read by `gomodwatch run` from the child it runs.
//! The go command is the oracle: a module it failed on is not `ok`, whatever the traffic
//! seemed to say, and a run it completed has no ERROR.

use super::cause::Cause;
use gomodwatch_wire::vocab::Ts;
use std::sync::Mutex;

/// Error lines kept (a run failing on thousands of modules tells the first ones).
const MAX_LINES: usize = 4_096;

/// One error line of the go command about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoSaid {
    /// `module@version` as the go command wrote it.
    pub subject: String,
    /// The whole line.
    pub line: String,
    /// Its class, when the text says (docs/GO-ERRORS.md).
    pub cause: Option<Cause>,
}

/// What the go command said while it ran, filled by the thread reading its stderr and by
/// whoever waits for it; read by the verdicts.
#[derive(Debug, Default)]
pub struct GoRun {
    said: Mutex<Vec<GoSaid>>,
    exit: Mutex<Option<i32>>,
    /// When it started and when it exited (the clock of the MITM's timestamps).
    lifetime: Mutex<(Option<Ts>, Option<Ts>)>,
    asked: Vec<String>,
}

impl GoRun {
    /// A run of the go command with these arguments (after the program's name): the
    /// `module@version` arguments are what it was asked for.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Self {
        GoRun {
            asked: args
                .iter()
                .map(AsRef::as_ref)
                .filter(|a| is_module_query(a))
                .take(MAX_LINES)
                .map(str::to_string)
                .collect(),
            ..Default::default()
        }
    }

    /// The `module@version` arguments it was given, in order.
    pub fn asked(&self) -> &[String] {
        &self.asked
    }

    /// One line of the go command's stderr.
    pub fn line(&self, line: &str) {
        if let Some(s) = parse_line(line) {
            let mut said = self.said.lock().unwrap_or_else(|p| p.into_inner());
            if said.len() < MAX_LINES && !said.iter().any(|x| x.subject == s.subject) {
                said.push(s);
            }
        }
    }

    /// The go command exited with this status (128+N for a signal).
    pub fn exited(&self, code: i32) {
        *self.exit.lock().unwrap_or_else(|p| p.into_inner()) = Some(code);
    }

    /// It started at `at`.
    pub fn started(&self, at: Ts) {
        self.lifetime.lock().unwrap_or_else(|p| p.into_inner()).0 = Some(at);
    }

    /// It was seen to have exited at `at`.
    pub fn ended(&self, at: Ts) {
        self.lifetime.lock().unwrap_or_else(|p| p.into_inner()).1 = Some(at);
    }

    /// When it started and when it exited, as far as known.
    pub fn lifetime(&self) -> (Option<Ts>, Option<Ts>) {
        *self.lifetime.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Its exit status, once it has exited.
    pub fn exit(&self) -> Option<i32> {
        *self.exit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What it said about `module@version`.
    pub fn about(&self, subject: &str) -> Option<GoSaid> {
        let said = self.said.lock().unwrap_or_else(|p| p.into_inner());
        said.iter().find(|s| s.subject == subject).cloned()
    }

    /// Everything it said about modules, in order.
    pub fn all(&self) -> Vec<GoSaid> {
        self.said.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `example.com/a@v1.2.3` (or `@latest`, `@master`): a module path with a dot in its first
/// element, then a query; not a flag, a file or a package pattern (`./...`).
fn is_module_query(arg: &str) -> bool {
    let Some((path, query)) = arg.split_once('@') else {
        return false;
    };
    let first = path.split('/').next().unwrap_or("");
    !arg.starts_with('-')
        && !path.starts_with('.')
        && first.contains('.')
        && !query.is_empty()
        && !query.contains(['@', ' '])
}

/// A module error line: `go: M@V: ...`, `verifying M@V: ...`, `go: verifying M@V: ...`,
/// `go: downloading`-style progress lines are not errors.
pub fn parse_line(line: &str) -> Option<GoSaid> {
    let line = line.trim_end();
    let rest = line.strip_prefix("go: ").unwrap_or(line);
    let rest = rest.strip_prefix("verifying ").unwrap_or(rest);
    let (subject, text) = rest.split_once(": ")?;
    // `A@v requires B@v: parsing go.mod: ...`: the error is B's.
    let subject = subject
        .rsplit_once(" requires ")
        .map_or(subject, |(_, b)| b);
    let subject = subject.trim_end_matches("/go.mod");
    let (module, version) = subject.split_once('@')?;
    if module.is_empty() || version.is_empty() || subject.contains(' ') {
        return None;
    }
    Some(GoSaid {
        subject: subject.to_string(),
        line: line.to_string(),
        cause: classify(text),
    })
}

/// The class of an error text, from the words cmd/go, net, crypto/x509 and the checksum
/// database client use (docs/GO-ERRORS.md).
pub fn classify(text: &str) -> Option<Cause> {
    let has = |s: &str| text.contains(s);
    Some(if has("checksum mismatch") || has("SECURITY ERROR") {
        Cause::Checksum
    } else if has("proxyconnect") {
        if has("Proxy Authentication Required") || has(" 407") {
            Cause::Credentials
        } else {
            Cause::Proxy
        }
    } else if has("x509:") || has("certificate") {
        Cause::TlsTrust
    } else if has("tls:") {
        Cause::Tls
    } else if has("connection refused") || has("no route to host") {
        Cause::Refused
    } else if has("i/o timeout") || has("deadline exceeded") || has("timed out") {
        Cause::Timeout
    } else if has("no such host") || has("server misbehaving") {
        Cause::Dns
    } else if has("invalid response")
        || has("invalid character")
        || has("malformed")
        || has("parsing go.mod")
        || has("module declares its path as")
    {
        Cause::InvalidResponse
    } else if has("connection reset") || has("unexpected EOF") {
        Cause::Reset
    } else if has("401 Unauthorized")
        || has("403 Forbidden")
        || has("terminal prompts disabled")
        || has("refusing to pass credentials")
        || has("Proxy Authentication Required")
    {
        Cause::Credentials
    } else if has("module lookup disabled") {
        Cause::Disabled
    } else if has("404 Not Found") || has("410 Gone") || has("unknown revision") {
        Cause::NotFound
    } else if let Some(code) = status_in(text) {
        Cause::of_status(code)
    } else if has("zip:") || has("not a valid zip") || has("unzip") {
        Cause::InvalidResponse
    } else {
        return None;
    })
}

/// An HTTP status as the go command quotes it (`: 502 Bad Gateway`).
fn status_in(text: &str) -> Option<u16> {
    text.split(": ").find_map(|part| {
        let code = part.get(..3)?;
        let rest = part.get(3..)?;
        (rest.starts_with(' ') && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| code.parse().ok())
            .flatten()
            .filter(|c| (400..600).contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_arguments_are_what_it_was_asked_for() {
        let run = GoRun::new(&[
            "get",
            "-x",
            "github.com/a/b@v1.0.0",
            "example.com/c@latest",
            "./...",
            "-ldflags=-X a@b",
            "golang.org/x/mod",
            "local@v1",
        ]);
        assert_eq!(
            run.asked(),
            ["github.com/a/b@v1.0.0", "example.com/c@latest"]
        );
    }

    /// Lines as go 1.27 prints them (tests/matrix recordings).
    #[test]
    fn reads_the_go_commands_lines() {
        let cases = [
            (
                "go: example.com/a@v1.0.0: reading http://127.0.0.1:3000/example.com/a/@v/v1.0.0.info: 500 Internal Server Error",
                "example.com/a@v1.0.0",
                Some(Cause::Http5xx),
            ),
            (
                "go: example.com/a@v1.0.0: invalid response from proxy \"http://127.0.0.1:3000\": invalid character '<' looking for beginning of value",
                "example.com/a@v1.0.0",
                Some(Cause::InvalidResponse),
            ),
            (
                "verifying example.com/a@v1.0.0/go.mod: example.com/a@v1.0.0/go.mod: Get \"http://127.0.0.1:9/lookup/example.com/a@v1.0.0\": dial tcp 127.0.0.1:9: connect: connection refused",
                "example.com/a@v1.0.0",
                Some(Cause::Refused),
            ),
            (
                "go: example.com/a@v1.0.0: reading https://p.test/example.com/a/@v/v1.0.0.info: 401 Unauthorized",
                "example.com/a@v1.0.0",
                Some(Cause::Credentials),
            ),
            (
                "go: example.com/a@v1.0.0: Get \"https://p.test/example.com/a/@v/v1.0.0.info\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
                "example.com/a@v1.0.0",
                Some(Cause::TlsTrust),
            ),
            (
                "go: example.com/a@v1.0.0: Get \"https://p.test/x\": dial tcp: lookup p.test on 10.0.0.1:53: no such host",
                "example.com/a@v1.0.0",
                Some(Cause::Dns),
            ),
        ];
        for (line, subject, cause) in cases {
            let s = parse_line(line).unwrap_or_else(|| panic!("not read: {line}"));
            assert_eq!(s.subject, subject, "{line}");
            assert_eq!(s.cause, cause, "{line}");
        }
        assert_eq!(parse_line("go: downloading example.com/a v1.0.0"), None);
        assert_eq!(parse_line("go: added example.com/a v1.0.0"), None);
    }

    /// docs/GO-ERRORS.md: every row's text is read as its class.
    #[test]
    fn the_documented_texts_are_read_as_their_class() {
        let doc = include_str!("../../../../docs/GO-ERRORS.md");
        let mut rows = 0;
        for line in doc.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split(" | ").collect();
            let class = cells[0].trim_start_matches("| ").trim_matches('`');
            let text = cells[1].trim_matches('`');
            let said = parse_line(text).unwrap_or_else(|| panic!("not a module line: {text}"));
            assert_eq!(said.cause.map(Cause::as_str), Some(class), "{text}");
            rows += 1;
        }
        assert!(rows >= 14, "the table has {rows} rows");
    }

    #[test]
    fn keeps_one_line_per_module_and_the_exit() {
        let run = GoRun::default();
        run.line("go: m.test/a@v1.0.0: reading http://p/m.test/a/@v/v1.0.0.mod: 410 Gone");
        run.line("go: m.test/a@v1.0.0: reading http://q/m.test/a/@v/v1.0.0.mod: 404 Not Found");
        run.exited(1);
        assert_eq!(run.all().len(), 1);
        assert_eq!(
            run.about("m.test/a@v1.0.0").unwrap().cause,
            Some(Cause::NotFound)
        );
        assert_eq!(run.exit(), Some(1));
    }
}
