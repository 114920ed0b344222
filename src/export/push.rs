//! `--push-metrics URL`: at the end of a run, the metrics go to a Prometheus Pushgateway,
//! the standard way for batch jobs (a CI step) to report: `PUT URL/metrics/job/NAME` with
//! the Prometheus text format, which replaces the job's group. Any mode ends with it, so a
//! replay, a live capture and a wrapped go command push the same way.

use super::metrics::Metrics;
use std::time::Duration;

/// Where a job's group lives. A job name that is not a plain path segment is sent in the
/// Pushgateway's base64 form (`job@base64/…`).
pub(crate) fn group_url(base: &str, job: &str) -> String {
    use base64::Engine;
    let base = base.trim_end_matches('/');
    let plain = !job.is_empty()
        && job
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    if plain {
        format!("{base}/metrics/job/{job}")
    } else {
        let enc = base64::engine::general_purpose::URL_SAFE.encode(job);
        format!("{base}/metrics/job@base64/{enc}")
    }
}

/// The metrics could not be pushed.
#[derive(Debug, thiserror::Error)]
#[error("pushing metrics to {url}: {error}")]
pub struct PushError {
    url: String,
    error: ureq::Error,
}

/// Pushes the metrics; the error says what failed, naming the URL.
pub fn push(base: &str, job: &str, metrics: &Metrics) -> Result<(), PushError> {
    let url = group_url(base, job);
    let body = metrics.encode(false);
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    agent
        .put(&url)
        .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .send(body)
        .map(|_| ())
        .map_err(|error| PushError { url, error })
}
