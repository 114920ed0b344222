//! What the verdicts consult besides the modules' own requests: the chain, the SLO,
//! go.sum, the checksum database, how the traffic ended and what was lost, the go
//! command's environment.

use super::checksum_db::ChecksumDb;
use crate::gomod::goenv::GoEnv;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::sumdb::SumTable;
use gomodwatch_wire::vocab::Ts;

/// What the verdicts consult besides the modules' own requests.
pub struct Judging<'a> {
    pub(crate) chain: Option<&'a GoproxyList>,
    pub(crate) slo_ms: f64,
    pub(crate) gosum: &'a SumTable,
    pub(crate) checksum_db: &'a ChecksumDb,
    /// The end of the traffic seen.
    pub(crate) end: Ts,
    /// Packets the capture lost.
    pub(crate) lost: u64,
    /// Those losses are the MITM tap's (see `JudgeCtx::lost_in_tap`).
    pub(crate) lost_in_tap: bool,
    /// The go command's environment, when known (`--go-env`, or `go env` live).
    pub(crate) env: Option<&'a GoEnv>,
    /// The checksum database could not be reached.
    pub(crate) sumdb_down: Option<crate::gomod::verdict::SumdbDown>,
    /// Redirect targets (origins) that refused connections, or never answered.
    pub(crate) redirects_down: Vec<(String, crate::gomod::cause::Cause)>,
    /// Names whose every lookup failed.
    pub(crate) unresolved: Vec<String>,
    /// In `run`: what the go command said and how it exited.
    pub(crate) go_run: Option<&'a crate::gomod::gosaid::GoRun>,
}
