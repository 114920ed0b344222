//! What every view shares: the output records (the `module` and `summary` events, which
//! the report and the TUI draw too), how durations, sizes and attempts are written, and
//! the one sanitiser that strings from the wire pass through before a terminal sees them.
//! Views import this module and `session`, nothing lower: what they need from below is
//! re-exported here.

pub mod attempt;
pub mod budget;
pub mod format;
pub(crate) mod records;

pub use crate::gomod::goproxy::{ChainSource, GoproxyList};
pub use crate::gomod::module::{walks, Attempt};
pub use crate::gomod::verdict::{artifact_name, Outcome, Problem, Severity};
pub use budget::{Budget, BudgetProxy, PathStep};
pub use format::{sanitize, Width};
pub use gomodwatch_wire::vocab::{Event, Exchange, Kind, Ts};
pub use records::{LimitCounts, ModuleView, ProxySummary, ServedBy, Summary};

/// Artifacts in the order a lookup touches them, as views list them.
pub const ARTIFACTS: [Kind; 6] = crate::gomod::module::ModuleRecord::ARTIFACTS;
