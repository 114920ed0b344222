//! The raw exchange log: the newest exchanges, what `tail -f` of the traffic would show.

use gomodwatch_wire::vocab::{Exchange, Kind, Ts};
use std::collections::VecDeque;

/// One line of the log.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub ts: Ts,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ttfb_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub resp_bytes: u64,
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
