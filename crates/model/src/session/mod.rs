//! The model every view reads, built from events only (captures and the MITM proxy feed
//! it alike). It is a set of small trackers, each applying the events it cares about to
//! its own state: connections and refusals, TLS servers seen from outside, the checksum
//! database, per-proxy statistics, modules, name lookups and TLS failures (network), and
//! the raw log. What they add up to — module verdicts, problems, the summary — is derived
//! on demand.

pub(crate) mod budget;
pub(crate) mod checksum_db;
pub(crate) mod config;
mod config_problems;
pub(crate) mod connections;
pub(crate) mod direct;
mod direct_views;
pub(crate) mod folded;
mod go_run;
pub(crate) mod judging;
pub(crate) mod latency;
pub(crate) mod log;
mod mitm_problems;
pub(crate) mod model;
pub(crate) mod module_views;
pub(crate) mod modules;
pub(crate) mod network;
mod network_problems;
pub(crate) mod path_timing;
mod problems;
pub(crate) mod proxies;
pub mod sink;
pub(crate) mod sumdb_reach;
mod timing_verdicts;
pub(crate) mod tls_servers;
pub(crate) mod view_cache;

pub use config::{ProxyEnv, SessionConfig, SourceStatus, TrustedRoots};
pub use judging::Judging;
pub use latency::Latencies;
pub use log::LogRow;
pub use model::Session;
pub use sink::{Control, Sink};
pub use tls_servers::TlsServer;
pub use view_cache::ViewCache;
