//! `--har FILE`: HAR 1.2 of the exchanges with their timings, for a browser's network
//! panel. Written as the exchanges arrive (no history kept), closed at the end.

use crate::present::{Event, Exchange};
use crate::session::sink::Ending;
use crate::session::{Session, Sink};
use serde_json::{json, Value};
use std::io::{self, Write};

pub struct HarWriter<W: Write> {
    out: W,
    entries: u64,
    closed: bool,
}

impl<W: Write> HarWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        let creator = json!({"name": "gomodwatch", "version": env!("CARGO_PKG_VERSION")});
        write!(
            out,
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{creator},\"pages\":[],\"entries\":["
        )?;
        Ok(HarWriter {
            out,
            entries: 0,
            closed: false,
        })
    }

    pub(crate) fn entry(&mut self, ex: &Exchange) -> io::Result<()> {
        let Some(url) = &ex.url else {
            // A response whose request the capture missed has no URL to show.
            return Ok(());
        };
        if self.entries > 0 {
            self.out.write_all(b",\n")?;
        } else {
            self.out.write_all(b"\n")?;
        }
        self.entries += 1;
        serde_json::to_writer(&mut self.out, &entry(ex, url)).map_err(io::Error::other)
    }

    /// Closes the JSON document (once).
    pub(crate) fn close(&mut self) -> io::Result<()> {
        if !std::mem::replace(&mut self.closed, true) {
            self.out.write_all(b"\n]}}\n")?;
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for HarWriter<W> {
    fn event(&mut self, ev: &Event, _: &Session) -> io::Result<()> {
        match ev {
            Event::Exchange(ex) => self.entry(ex),
            _ => Ok(()),
        }
    }

    fn finish(&mut self, _: &Ending<'_>) -> io::Result<()> {
        self.close()
    }
}

fn header(name: &str, value: &Option<String>) -> Option<Value> {
    value.as_ref().map(|v| json!({"name": name, "value": v}))
}

fn query_string(url: &str) -> Vec<Value> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            json!({"name": k, "value": v})
        })
        .collect()
}

fn entry(ex: &Exchange, url: &str) -> Value {
    let version = ex.http_version.clone().unwrap_or_else(|| "HTTP/1.1".into());
    let ttfb = ex.timing.ttfb_ms;
    let total = ex.timing.total_ms;
    // HAR's wait is up to the first response byte, receive the rest; a request that was
    // never answered waited for as long as we know.
    let wait = ttfb.or(total).unwrap_or(0.0);
    let receive = match (ttfb, total) {
        (Some(f), Some(t)) => (t - f).max(0.0),
        _ => 0.0,
    };
    let opt = |v: Option<f64>| v.unwrap_or(-1.0);
    let (dns, connect, ssl) = (ex.setup.dns_ms, ex.setup.connect_ms, ex.setup.tls_ms);
    // connect includes ssl (HAR 1.2 §timings).
    let connect = match (connect, ssl) {
        (Some(c), Some(s)) => Some(c + s),
        (c, _) => c,
    };
    let time = [dns, connect].iter().flatten().sum::<f64>() + wait + receive;
    let req_headers: Vec<Value> = [header("User-Agent", &ex.user_agent)]
        .into_iter()
        .flatten()
        .collect();
    let resp_headers: Vec<Value> = [
        header("Content-Type", &ex.content_type),
        header("Location", &ex.location),
    ]
    .into_iter()
    .flatten()
    .collect();
    let status = ex.status.unwrap_or(0);
    let mut e = json!({
        "startedDateTime": ex.ts.to_string(),
        "time": round3(time),
        "request": {
            "method": ex.method.clone().unwrap_or_else(|| "GET".into()),
            "url": url,
            "httpVersion": version,
            "cookies": [],
            "headers": req_headers,
            "queryString": query_string(url),
            "headersSize": -1,
            "bodySize": ex.req_bytes,
        },
        "response": {
            "status": status,
            "statusText": reason(status),
            "httpVersion": version,
            "cookies": [],
            "headers": resp_headers,
            "content": {
                "size": ex.resp_bytes,
                "mimeType": ex.content_type.clone().unwrap_or_else(|| "x-unknown".into()),
            },
            "redirectURL": ex.location.clone().unwrap_or_default(),
            "headersSize": -1,
            "bodySize": ex.resp_bytes,
        },
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": round3(opt(dns)),
            "connect": round3(opt(connect)),
            "ssl": round3(opt(ssl)),
            "send": 0,
            "wait": round3(wait),
            "receive": round3(receive),
        },
        "connection": ex.connection.to_string(),
        "_go": ex.go,
        "_error": ex.error,
    });
    if let Some(server) = ex.server {
        e["serverIPAddress"] = json!(server.ip().to_string());
    }
    let mut comment = ex.go.kind.as_str().to_string();
    if let (Some(m), v) = (&ex.go.module, &ex.go.version) {
        comment.push(' ');
        comment.push_str(m);
        if let Some(v) = v {
            comment.push('@');
            comment.push_str(v);
        }
    }
    if let Some(err) = &ex.error {
        comment.push_str(" (");
        comment.push_str(err);
        comment.push(')');
    }
    e["comment"] = json!(comment);
    e
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn reason(status: u16) -> &'static str {
    match status {
        0 => "",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}
