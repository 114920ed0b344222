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
    pub chain: Option<&'a GoproxyList>,
    pub slo_ms: f64,
    pub gosum: &'a SumTable,
    pub checksum_db: &'a ChecksumDb,
    /// The end of the traffic seen.
    pub end: Ts,
    /// Packets the capture lost.
    pub lost: u64,
    /// Those losses are the MITM tap's (see `JudgeCtx::lost_in_tap`).
    pub lost_in_tap: bool,
    /// The go command's environment, when known (`--go-env`, or `go env` live).
    pub env: Option<&'a GoEnv>,
}
