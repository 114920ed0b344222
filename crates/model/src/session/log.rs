//! The raw exchange log: the newest exchanges, what `tail -f` of the traffic would show.

use gomodwatch_wire::vocab::{Exchange, Kind, Ts};
use std::collections::VecDeque;

/// One line of the log.
#[derive(Debug, Clone)]
pub struct LogRow {
    /// The request's first byte.
    pub ts: Ts,
    /// The request method.
    pub method: Option<String>,
    /// The URL.
    pub url: Option<String>,
    /// The response status.
    pub status: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
    /// Time to first byte.
    pub ttfb_ms: Option<f64>,
    /// Time to last byte.
    pub total_ms: Option<f64>,
    /// Response body bytes.
    pub resp_bytes: u64,
    /// What it was to the go command.
    pub kind: Kind,
}

impl From<&Exchange> for LogRow {
    fn from(ex: &Exchange) -> Self {
        LogRow {
            ts: ex.ts,
            method: ex.method.clone(),
            url: ex.url.clone(),
            status: ex.status,
            error: ex.error.clone(),
            ttfb_ms: ex.timing.ttfb_ms,
            total_ms: ex.timing.total_ms,
            resp_bytes: ex.resp_bytes,
            kind: ex.go.kind,
        }
    }
}

/// A ring of the newest rows (capacity 0 keeps none: batch output has no log view).
#[derive(Debug, Default)]
pub struct ExchangeLog {
    capacity: usize,
    /// The newest rows, oldest first.
    pub rows: VecDeque<LogRow>,
    /// Exchanges ever logged (the first row is number `logged - rows.len()`).
    pub logged: u64,
}

impl ExchangeLog {
    pub(crate) fn new(capacity: usize) -> Self {
        ExchangeLog {
            capacity,
            ..Default::default()
        }
    }

    pub(crate) fn apply(&mut self, ex: &Exchange) {
        if self.capacity == 0 {
            return;
        }
        if self.rows.len() >= self.capacity {
            self.rows.pop_front();
        }
        self.rows.push_back(LogRow::from(ex));
        self.logged += 1;
    }
}
