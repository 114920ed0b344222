//! The `go` object of an exchange event: what a request meant to the go command. The
//! vocabulary only names it; `gomod` fills it in (a codec never looks inside).

use serde::Serialize;

/// What a request was to the go command (docs/goproxy-protocol.md §1, §3, §5).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `@v/list`: the versions a proxy knows.
    List,
    /// `@latest`: the latest version when there is no list.
    Latest,
    /// `@v/VERSION.info`: a version's metadata.
    Info,
    /// `@v/VERSION.mod`: a version's go.mod.
    Mod,
    /// `@v/VERSION.zip`: a version's source.
    Zip,
    /// `/sumdb/NAME/supported`: does this proxy mirror the checksum database.
    SumdbSupported,
    /// `/lookup/MODULE@VERSION`: the checksum database's record.
    SumdbLookup,
    /// `/tile/...`: a tile of the checksum database's log.
    SumdbTile,
    /// `/latest`: the checksum database's signed tree head.
    SumdbLatest,
    /// `?go-get=1`: a direct fetch's discovery page.
    GoGet,
    /// Git smart HTTP (`info/refs`, `git-upload-pack`) of a direct fetch.
    Vcs,
    /// Anything else.
    #[default]
    Other,
}

impl Kind {
    /// The name the NDJSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::List => "list",
            Kind::Latest => "latest",
            Kind::Info => "info",
            Kind::Mod => "mod",
            Kind::Zip => "zip",
            Kind::SumdbSupported => "sumdb-supported",
            Kind::SumdbLookup => "sumdb-lookup",
            Kind::SumdbTile => "sumdb-tile",
            Kind::SumdbLatest => "sumdb-latest",
            Kind::GoGet => "go-get",
            Kind::Vcs => "vcs",
            Kind::Other => "other",
        }
    }

    /// A GOPROXY protocol request for one module (as opposed to the checksum DB etc.).
    pub fn is_proxy_artifact(self) -> bool {
        matches!(
            self,
            Kind::List | Kind::Latest | Kind::Info | Kind::Mod | Kind::Zip
        )
    }

    /// A request to the checksum database (directly or through a proxy).
    pub fn is_sumdb(self) -> bool {
        matches!(
            self,
            Kind::SumdbSupported | Kind::SumdbLookup | Kind::SumdbTile | Kind::SumdbLatest
        )
    }
}

/// The `go` object of an exchange event.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct GoRequest {
    /// What it was.
    pub kind: Kind,
    /// The proxy base URL (`scheme://host[:port][/prefix]`) it went to, for proxy and
    /// checksum database requests through one.
    pub proxy: Option<String>,
    /// The module path, decoded (`!b` → `B`).
    pub module: Option<String>,
    /// The version, decoded.
    pub version: Option<String>,
}
