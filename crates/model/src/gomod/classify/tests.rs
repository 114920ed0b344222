use super::*;

fn c(url: &str) -> (Kind, Option<String>, Option<String>, Option<String>) {
    let r = classify(url, &[]);
    (r.kind, r.proxy, r.module, r.version)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn proxy_artifacts() {
    assert_eq!(
        c("http://127.0.0.1:3000/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info"),
        (
            Kind::Info,
            s("http://127.0.0.1:3000"),
            s("github.com/BurntSushi/toml"),
            s("v1.2.0")
        )
    );
    assert_eq!(
        c("https://proxy.golang.org/golang.org/x/sync/@v/list").0,
        Kind::List
    );
    assert_eq!(
        c("https://h/goproxy/example.com/a/@latest"),
        (
            Kind::Latest,
            s("https://h/goproxy"),
            s("example.com/a"),
            None
        )
    );
    assert_eq!(
        c("http://h:1/example.com/a/@v/v1.0.0-%21r%21c1.zip"),
        (
            Kind::Zip,
            s("http://h:1"),
            s("example.com/a"),
            s("v1.0.0-RC1")
        )
    );
}

#[test]
fn configured_base_wins_over_heuristic() {
    let bases = vec!["https://h/mirror.v2/".to_string()];
    let r = classify("https://h/mirror.v2/example.com/a/@v/v1.0.0.mod", &bases);
    assert_eq!(r.proxy.as_deref(), Some("https://h/mirror.v2"));
    assert_eq!(r.module.as_deref(), Some("example.com/a"));
}

#[test]
fn checksum_database() {
    assert_eq!(
        c("http://127.0.0.1:3000/sumdb/sum.test/lookup/example.com/!upper@v1.0.0"),
        (
            Kind::SumdbLookup,
            s("http://127.0.0.1:3000"),
            s("example.com/Upper"),
            s("v1.0.0")
        )
    );
    assert_eq!(
        c("https://proxy.golang.org/sumdb/sum.golang.org/supported").0,
        Kind::SumdbSupported
    );
    assert_eq!(
        c("https://sum.golang.org/tile/8/1/488.p/229"),
        (Kind::SumdbTile, s("https://sum.golang.org"), None, None)
    );
    assert_eq!(c("https://sum.golang.org/latest").0, Kind::SumdbLatest);
}

#[test]
fn direct_mode_and_other() {
    assert_eq!(
        c("https://golang.org/x/net?go-get=1"),
        (Kind::GoGet, None, s("golang.org/x/net"), None)
    );
    assert_eq!(
        c("https://github.com/a/b/info/refs?service=git-upload-pack").0,
        Kind::Vcs
    );
    assert_eq!(c("http://127.0.0.1:3000/healthz").0, Kind::Other);
    assert_eq!(c("not a url").0, Kind::Other);
}

#[test]
fn invalid_escape_keeps_kind_but_no_module() {
    let r = classify("http://h/github.com/Foo/bar/@v/v1.0.0.info", &[]);
    assert_eq!((r.kind, r.module), (Kind::Info, None));
}
