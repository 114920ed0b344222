//! The `go` object of an exchange event: what a request meant to the go command. The
//! vocabulary only names it; `gomod` fills it in (a codec never looks inside).

use serde::Serialize;

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    List,
    Latest,
    Info,
    Mod,
    Zip,
    SumdbSupported,
    SumdbLookup,
    SumdbTile,
    SumdbLatest,
    GoGet,
    Vcs,
    #[default]
    Other,
}

impl Kind {
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
    pub kind: Kind,
    pub proxy: Option<String>,
    pub module: Option<String>,
    pub version: Option<String>,
}
