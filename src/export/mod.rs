//! Views that write files or streams: NDJSON events (more arrive with later issues).

pub mod har;
pub mod ndjson;
pub mod report;
