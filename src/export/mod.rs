//! Views that write files, streams and metrics: NDJSON events (stdout or a rotating file),
//! the report, HAR, and Prometheus metrics (served and pushed).

pub mod har;
mod metric_families;
pub mod metrics;
mod metrics_budget;
pub mod ndjson;
pub mod push;
pub mod report;
mod report_direct;
mod report_modules;
pub mod rotate;
mod timing_metrics;
