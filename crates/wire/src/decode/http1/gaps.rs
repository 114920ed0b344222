//! Lost bytes on an HTTP/1 connection: a gap in a body or a head, heads cut short by a
//! snap length (read from their first lines), and the re-pairing of responses by the
//! server's acknowledgments after lost packets.

use super::codec::GapOutcome;
use super::head::Head;
use super::{emit, Http1};
use crate::decode::context::ConnCtx;
use crate::vocab::Ts;

impl Http1 {
    pub(crate) fn client_gap(&mut self, len: u64, ctx: &mut ConnCtx<'_>) {
        self.up_off += len;
        let in_body = self.up.in_body();
        match self.up.gap(len) {
            GapOutcome::LostBody => {
                if let Some(p) = self.open_request() {
                    p.ex.missing_bytes += len;
                }
                self.end_request_body()
            }
            GapOutcome::Absorbed if in_body => {
                if let Some(p) = self.open_request() {
                    p.ex.missing_bytes += len;
                }
            }
            // A head cut short (a snap length): its start line and first headers are
            // enough for an exchange; the rest of it is counted as missing.
            GapOutcome::LostHead(Some(h)) if !h.method.is_empty() => {
                self.request(*h, ctx);
                if let Some(p) = self.pending.back_mut() {
                    p.ex.missing_bytes += len;
                    p.req_open = false;
                }
            }
            _ => {}
        }
    }

    pub(crate) fn server_gap(&mut self, ts: Ts, len: u64, ctx: &mut ConnCtx<'_>) {
        let in_body = self.down.in_body();
        if in_body {
            if let Some(p) = self.pending.front_mut() {
                p.gap = true;
                p.ex.resp_bytes += len;
            }
        }
        if in_body {
            if let Some(p) = self.pending.front_mut() {
                p.ex.missing_bytes += len;
            }
        }
        match self.down.gap(len) {
            GapOutcome::Absorbed => {}
            // A head cut short (a snap length): its status line says the answer; where its
            // body ends is unknown, so the next response is looked for.
            GapOutcome::LostHead(Some(h)) if !h.is_interim() && h.status != 101 => {
                self.cut_response(*h, len, ctx);
                self.complete_response(ts, Some("gap"), ctx)
            }
            // The body or the head of this response is partly lost: it belongs to the
            // front request.
            GapOutcome::LostBody | GapOutcome::LostHead(_) => {
                self.complete_response(ts, Some("gap"), ctx)
            }
            GapOutcome::Elsewhere => {}
        }
    }

    /// The front request's answer, of which only the first lines were captured.
    fn cut_response(&mut self, h: Head, missing: u64, ctx: &mut ConnCtx<'_>) {
        let Some(p) = self.pending.front_mut().filter(|p| !p.placeholder) else {
            return;
        };
        p.ex.status = Some(h.status);
        p.ex.location = h.location.as_deref().map(|l| ctx.redact(l));
        p.ex.content_type = h.content_type;
        p.ex.http_version
            .get_or_insert_with(|| format!("HTTP/1.{}", h.minor));
        p.ex.missing_bytes += missing;
    }

    /// After lost bytes, the next response may not answer the oldest request: the server's
    /// acknowledgment says which requests it had read. A response answers the newest of
    /// those (the go command does not pipeline); older ones lost their answers in the gap.
    pub(super) fn drop_lost_responses(&mut self, ctx: &mut ConnCtx<'_>) {
        let Some(acked) = ctx.acked else { return };
        while self.pending.len() > 1 && self.pending[1].req_off < acked {
            if let Some(p) = self.pop() {
                emit(p, None, Some("gap"), ctx);
            }
        }
    }
}
