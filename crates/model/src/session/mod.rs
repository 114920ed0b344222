//! The model every view reads, built from events only (captures and the MITM proxy feed
//! it alike). It is a set of small trackers, each applying the events it cares about to
//! its own state: connections and refusals, TLS servers seen from outside, the checksum
//! database, per-proxy statistics, modules, name lookups and TLS failures (network), and
//! the raw log. What they add up to — module verdicts, problems, the summary — is derived
//! on demand.

pub mod checksum_db;
pub mod config;
pub mod connections;
pub mod direct;
mod direct_views;
pub mod folded;
pub mod judging;
pub mod latency;
pub mod log;
pub mod model;
pub mod module_views;
pub mod modules;
pub mod network;
mod network_problems;
mod problems;
pub mod proxies;
pub mod sink;
pub mod tls_servers;
pub mod view_cache;

pub use config::{ProxyEnv, SessionConfig, SourceStatus, TrustedRoots};
pub use judging::Judging;
pub use latency::Latencies;
pub use log::LogRow;
pub use model::Session;
pub use sink::{Control, Sink};
pub use tls_servers::TlsServer;
pub use view_cache::ViewCache;
