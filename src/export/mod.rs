//! Views that write files or streams: NDJSON events (more arrive with later issues).

pub mod ndjson;
