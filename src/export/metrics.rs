//! Prometheus metrics (`--metrics ADDR`, `--push-metrics URL`): a sink that keeps metric
//! families of the official `prometheus-client` crate up to date, and a small server
//! thread that encodes them when a scraper asks. The sink only bumps atomics on the
//! pump's thread; encoding happens on the server's thread (or at the end, for a push), so
//! serving never blocks decoding.
//!
//! Label values are bounded: proxies are the configured GOPROXY entries and the first
//! [`MAX_LABEL_VALUES`] others seen (the rest are `other`), endpoints likewise, and kinds,
//! statuses, outcomes and rcodes come from small vocabularies. Module paths are never
//! labels.

use super::metric_families::{Buckets, ProxyKind};
use super::metrics_budget::BudgetGauges;
use crate::present::{Event, Exchange, Outcome};
use crate::session::sink::Ending;
use crate::session::{Control, Session, Sink, ViewCache};
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Distinct proxies (besides the configured ones) and endpoints that get a label value of
/// their own; the rest are counted under `other`.
pub(crate) const MAX_LABEL_VALUES: usize = 32;
/// How often verdict-derived metrics (modules by outcome) are brought up to date while
/// traffic flows.
const SYNC_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    proxy: String,
    kind: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FallbackLabels {
    from: String,
    to: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnErrorLabels {
    endpoint: String,
    error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RcodeLabel {
    rcode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// The metric families. Shared (`Arc`) by the sink that updates them, the server thread
/// that encodes them, and the push at the end of a run.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    ttfb: Family<ProxyKind, Histogram, Buckets>,
    timing: super::timing_metrics::TimingMetrics,
    response_bytes: Family<ProxyKind, Counter>,
    fallbacks: Family<FallbackLabels, Counter>,
    modules: Family<OutcomeLabel, Counter>,
    checksum_mismatches: Counter,
    connection_errors: Family<ConnErrorLabels, Counter>,
    dns_failures: Family<RcodeLabel, Counter>,
    dropped: Counter,
    gaps: Counter,
    folded: Counter,
    budget: BudgetGauges,
}

/// Time-to-first-byte buckets around the SLO (seconds): from a sixteenth of it to 128
/// times it, densest near it.
pub(crate) fn ttfb_buckets(slo_ms: f64) -> Vec<f64> {
    [
        0.0625, 0.125, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 4.0, 8.0, 16.0, 64.0, 128.0,
    ]
    .iter()
    .map(|f| f * slo_ms / 1000.0)
    .collect()
}

impl Metrics {
    pub fn new(slo_ms: f64) -> Arc<Metrics> {
        let mut registry = Registry::default();
        let buckets = ttfb_buckets(slo_ms);
        let buckets = Buckets(Arc::new(buckets));
        let ttfb: Family<ProxyKind, Histogram, Buckets> =
            Family::new_with_constructor(buckets.clone());
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            ttfb,
            timing: super::timing_metrics::TimingMetrics::new(&buckets),
            response_bytes: Family::default(),
            fallbacks: Family::default(),
            modules: Family::default(),
            checksum_mismatches: Counter::default(),
            connection_errors: Family::default(),
            dns_failures: Family::default(),
            dropped: Counter::default(),
            gaps: Counter::default(),
            folded: Counter::default(),
            budget: BudgetGauges::default(),
        };
        registry.register(
            "gomodwatch_requests",
            "HTTP requests seen (a redirect is counted with the request that caused it)",
            m.requests.clone(),
        );
        registry.register(
            "gomodwatch_ttfb_seconds",
            "Time from the first request byte to the first response byte",
            m.ttfb.clone(),
        );
        m.timing.register(&mut registry);
        registry.register(
            "gomodwatch_response_bytes",
            "Response body bytes",
            m.response_bytes.clone(),
        );
        registry.register(
            "gomodwatch_fallbacks",
            "Requests that moved on to the next GOPROXY entry after a failure (reason: the status or error of the one before)",
            m.fallbacks.clone(),
        );
        registry.register(
            "gomodwatch_modules",
            "Module versions by verdict (a module whose verdict changes is counted under both)",
            m.modules.clone(),
        );
        registry.register(
            "gomodwatch_checksum_mismatches",
            "Module versions whose hashes differ from the checksum database or go.sum",
            m.checksum_mismatches.clone(),
        );
        registry.register(
            "gomodwatch_connection_errors",
            "TCP connections that failed, by error (refused, reset, no-answer, truncated, gap, tls, proxy, timeout, unreachable, one-way)",
            m.connection_errors.clone(),
        );
        registry.register(
            "gomodwatch_dns_failures",
            "DNS answers with an error rcode",
            m.dns_failures.clone(),
        );
        registry.register(
            "gomodwatch_dropped_packets",
            "Packets the capture lost (kernel and gomodwatch)",
            m.dropped.clone(),
        );
        registry.register(
            "gomodwatch_gaps",
            "Holes in TCP streams (bytes missing from the capture)",
            m.gaps.clone(),
        );
        registry.register(
            "gomodwatch_modules_folded",
            "Module versions folded out of memory past --max-modules (still counted)",
            m.folded.clone(),
        );
        m.budget.register(&mut registry);
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register(
            "gomodwatch_build_info",
            "The gomodwatch build (always 1)",
            build,
        );
        Arc::new(Metrics { registry, ..m })
    }

    /// The exposition: OpenMetrics text, or the Prometheus text format (0.0.4).
    pub(crate) fn encode(&self, openmetrics: bool) -> String {
        let mut om = String::with_capacity(8192);
        // Writing to a String cannot fail.
        let _ = encode_registry(&mut om, &self.registry);
        if openmetrics {
            let _ = encode_eof(&mut om);
            om
        } else {
            prometheus_text(&om)
        }
    }
}

/// The Prometheus text format from the crate's OpenMetrics text. They differ only where
/// a counter is declared: OpenMetrics names the family (`# TYPE x counter`, samples
/// `x_total`), the Prometheus format names the samples (`# TYPE x_total counter`). The
/// samples themselves are the crate's, unchanged.
fn prometheus_text(om: &str) -> String {
    let lines: Vec<&str> = om.lines().collect();
    let counters: HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(om.len() + 256);
    for l in lines {
        if l == "# EOF" || l.starts_with("# UNIT ") {
            continue;
        }
        let head = ["# HELP ", "# TYPE "]
            .into_iter()
            .find(|p| l.starts_with(p));
        match head {
            Some(p) => {
                let rest = &l[p.len()..];
                let name = rest.split(' ').next().unwrap_or("");
                out.push_str(p);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push_str(&rest[name.len()..]);
            }
            None => out.push_str(l),
        }
        out.push('\n');
    }
    out
}

/// Label values of one kind, bounded: the first `MAX_LABEL_VALUES` seen (after those
/// given up front) keep their name, the rest are `other`.
#[derive(Default)]
struct Bounded {
    known: HashSet<String>,
    extra: usize,
}

impl Bounded {
    fn value(&mut self, v: &str) -> String {
        if self.known.contains(v) {
            return v.to_string();
        }
        if self.extra < MAX_LABEL_VALUES {
            self.extra += 1;
            self.known.insert(v.to_string());
            return v.to_string();
        }
        "other".to_string()
    }
}

/// The sink that keeps the metrics up to date.
pub struct MetricsSink {
    metrics: Arc<Metrics>,
    proxies: Bounded,
    endpoints: Bounded,
    configured: bool,
    cache: ViewCache,
    last_sync: Option<Instant>,
    /// Session totals as last copied into counters (counters only go up by the difference).
    fallbacks: BTreeMap<(String, String, String), u64>,
    outcomes: BTreeMap<Outcome, u64>,
    dropped: u64,
    gaps: u64,
    folded: u64,
}

impl MetricsSink {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        MetricsSink {
            metrics,
            proxies: Bounded::default(),
            endpoints: Bounded::default(),
            configured: false,
            cache: ViewCache::new(false),
            last_sync: None,
            fallbacks: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            dropped: 0,
            gaps: 0,
            folded: 0,
        }
    }

    fn exchange(&mut self, ex: &Exchange) {
        if ex.redirect_of.is_some() {
            return;
        }
        let proxy = match ex.go.proxy.as_deref() {
            Some(p) => self.proxies.value(p),
            None => "none".to_string(),
        };
        let kind = ex.go.kind.as_str().to_string();
        let status = match (ex.status, ex.error.as_deref()) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => error_label(e).to_string(),
            (None, None) => "none".to_string(),
        };
        let m = &self.metrics;
        m.requests
            .get_or_create(&RequestLabels {
                proxy: proxy.clone(),
                kind: kind.clone(),
                status,
            })
            .inc();
        let pk = ProxyKind { proxy, kind };
        if let Some(t) = ex.timing.ttfb_ms {
            m.ttfb.get_or_create(&pk).observe(t / 1000.0);
        }
        m.timing.exchange(&pk, ex);
        m.response_bytes.get_or_create(&pk).inc_by(ex.resp_bytes);
    }

    /// Copies what the session derives (verdicts, fallbacks, losses) into counters.
    fn sync(&mut self, session: &Session) {
        self.last_sync = Some(Instant::now());
        let m = self.metrics.clone();
        // Totals per label set now, from the session's (bounded) map: several proxies may
        // share `other`.
        let mut now: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for (f, n) in &session.modules.fallbacks {
            let key = (
                self.proxies.value(&f.from),
                self.proxies.value(&f.to),
                f.reason.clone(),
            );
            *now.entry(key).or_default() += n;
        }
        for (key, n) in now {
            let before = self.fallbacks.insert(key.clone(), n).unwrap_or(0);
            if n > before {
                m.fallbacks
                    .get_or_create(&FallbackLabels {
                        from: key.0,
                        to: key.1,
                        reason: key.2,
                    })
                    .inc_by(n - before);
            }
        }
        if let Some(b) = session.budget() {
            let proxies = &mut self.proxies;
            m.budget.set(&b, &mut |p| proxies.value(p));
        }
        self.cache.update(session);
        let folded = &session.modules.folded;
        for o in [
            Outcome::Ok,
            Outcome::NotFound,
            Outcome::Incomplete,
            Outcome::Failed,
            Outcome::ChecksumMismatch,
        ] {
            let n = self.cache.count(o) + folded.count(o);
            // A verdict that changed (not found, then found) leaves the old one counted.
            let before = self.outcomes.get(&o).copied().unwrap_or(0);
            if n > before {
                self.outcomes.insert(o, n);
                m.modules
                    .get_or_create(&OutcomeLabel {
                        outcome: o.as_str().to_string(),
                    })
                    .inc_by(n - before);
                if o == Outcome::ChecksumMismatch {
                    m.checksum_mismatches.inc_by(n - before);
                }
            }
        }
        let s = &session.source;
        bump(&m.dropped, &mut self.dropped, s.dropped);
        bump(&m.gaps, &mut self.gaps, s.gaps);
        bump(&m.folded, &mut self.folded, folded.modules);
    }
}

fn bump(c: &Counter, seen: &mut u64, now: u64) {
    if now > *seen {
        c.inc_by(now - *seen);
        *seen = now;
    }
}

/// Exchange errors are a small vocabulary; anything else is `error`.
fn error_label(e: &str) -> &'static str {
    match e {
        "no-response" => "no-response",
        "reset" => "reset",
        "truncated" => "truncated",
        "incomplete" => "incomplete",
        "gap" => "gap",
        "malformed" => "malformed",
        "refused" => "refused",
        _ => "error",
    }
}

/// `None` is a query that was never answered.
fn rcode_name(rcode: Option<u8>) -> String {
    let Some(rcode) = rcode else {
        return "no_answer".into();
    };
    match rcode {
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n if n < 24 => n.to_string(),
        _ => "other".into(),
    }
}

impl Sink for MetricsSink {
    fn event(&mut self, ev: &Event, session: &Session) -> io::Result<()> {
        if !self.configured {
            self.configured = true;
            if let Some(l) = &session.config.goproxy {
                for e in &l.entries {
                    self.proxies.known.insert(e.url.clone());
                }
            }
        }
        match ev {
            Event::Exchange(ex) => self.exchange(ex),
            Event::Connection(c) => {
                if c.tcp
                    .as_deref()
                    .is_some_and(|t| t.retransmits + t.out_of_order > 0)
                {
                    if let Some(t) = c.tcp.as_deref() {
                        let endpoint = self.endpoints.value(&c.server.to_string());
                        self.metrics
                            .timing
                            .repairs(endpoint, t.retransmits, t.out_of_order);
                    }
                }
                if let Some(e) = c.error {
                    let error = serde_json::to_value(e)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "error".into());
                    let endpoint = self.endpoints.value(&c.server.to_string());
                    self.metrics
                        .connection_errors
                        .get_or_create(&ConnErrorLabels { endpoint, error })
                        .inc();
                }
            }
            Event::Dns(d) if d.rcode != Some(0) => {
                self.metrics
                    .dns_failures
                    .get_or_create(&RcodeLabel {
                        rcode: rcode_name(d.rcode),
                    })
                    .inc();
            }
            _ => {}
        }
        Ok(())
    }

    fn turn(&mut self, session: &Session) -> Control {
        if self.last_sync.is_none_or(|t| t.elapsed() >= SYNC_EVERY) {
            self.sync(session);
        }
        Control::Continue
    }

    fn finish(&mut self, end: &Ending<'_>) -> io::Result<()> {
        self.sync(end.session);
        Ok(())
    }
}

/// The `/metrics` endpoint: one thread, one request at a time, each answered from the
/// shared families (encoding takes their read locks only).
pub struct MetricsServer {
    pub addr: SocketAddr,
}

impl MetricsServer {
    /// Binds now (so a busy port is an error before the run starts) and serves on a
    /// thread of its own until the process exits.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    match conn {
                        Ok(c) => {
                            let _ = answer(c, &metrics);
                        }
                        // Out of file descriptors and the like: do not spin.
                        Err(_) => std::thread::sleep(Duration::from_millis(100)),
                    }
                }
            })?;
        Ok(MetricsServer { addr })
    }
}

/// Reads one request head and answers it; the connection is closed after.
fn answer(mut c: TcpStream, metrics: &Metrics) -> io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    c.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let (method, path, openmetrics) = loop {
        if len == buf.len() {
            return respond(
                &mut c,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"",
            );
        }
        let n = c.read(&mut buf[len..])?;
        if n == 0 {
            return Ok(());
        }
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(_)) => {
                let accept = req
                    .headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case("accept"))
                    .any(|h| {
                        String::from_utf8_lossy(h.value).contains("application/openmetrics-text")
                    });
                break (
                    req.method.unwrap_or("").to_string(),
                    req.path.unwrap_or("").to_string(),
                    accept,
                );
            }
            Ok(httparse::Status::Partial) => continue,
            Err(_) => return respond(&mut c, "400 Bad Request", "text/plain", b"bad request\n"),
        }
    };
    let path = path.split('?').next().unwrap_or("");
    if method != "GET" && method != "HEAD" {
        return respond(&mut c, "405 Method Not Allowed", "text/plain", b"");
    }
    match path {
        "/metrics" => {
            let body = metrics.encode(openmetrics);
            let ctype = if openmetrics {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            } else {
                "text/plain; version=0.0.4; charset=utf-8"
            };
            let body = if method == "HEAD" { "" } else { body.as_str() };
            respond(&mut c, "200 OK", ctype, body.as_bytes())
        }
        "/" => respond(
            &mut c,
            "200 OK",
            "text/plain; charset=utf-8",
            b"gomodwatch: metrics at /metrics\n",
        ),
        _ => respond(&mut c, "404 Not Found", "text/plain", b"not found\n"),
    }
}

fn respond(c: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes())?;
    c.write_all(body)?;
    c.flush()
}
