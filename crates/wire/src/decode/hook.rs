//! The one place where the protocol codecs ask the layer above about an exchange. The
//! codecs (HTTP/1, later HTTP/2 and tunnelled streams) know nothing of Go modules: they
//! hand each request and response head to an [`ExchangeHook`], which tags the exchange
//! and decides whether a response body is worth looking at. `gomod` implements it.

use crate::vocab::{BodyInfo, Event, Exchange, GoRequest};

/// What the hook says about a request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The exchange's `go` object.
    pub go: GoRequest,
    /// This request follows a redirect that exchange answered.
    pub redirect_of: Option<u64>,
}

/// Where a response body goes as it streams past. Bodies are never kept by the codecs.
pub trait BodySink {
    /// The next bytes of the body.
    fn feed(&mut self, data: &[u8]);
    /// Bytes of the body went missing (framing held, so the body goes on; it is fed no
    /// more). A sink that reports on the body (a zip's hash) says it was given up.
    fn gap(&mut self) {}
    /// The body ended; `complete` is false when bytes were missing or it was cut short.
    fn finish(self: Box<Self>, complete: bool) -> BodyInfo;
}

/// What the codecs ask of the layer above about each exchange (gomod's hook answers).
pub trait ExchangeHook {
    /// A request head was read (`ex` holds its URL, method, time and addresses).
    fn request(&mut self, ex: &Exchange) -> Tag;
    /// The final response head arrived (`ex` now has its status and `location`): a sink
    /// for its body, if the body matters.
    fn response(&mut self, ex: &Exchange) -> Option<Box<dyn BodySink>>;
    /// Events the hook produced on its own (results of work done off the decoding
    /// thread); with `finish`, waits for all outstanding work.
    fn poll(&mut self, finish: bool, out: &mut Vec<Event>);
}

/// A hook that tags nothing and reads no body: the codecs on their own (tests, fuzzing).
#[derive(Debug, Default)]
pub struct NoHook;

impl ExchangeHook for NoHook {
    fn request(&mut self, _: &Exchange) -> Tag {
        Tag::default()
    }

    fn response(&mut self, _: &Exchange) -> Option<Box<dyn BodySink>> {
        None
    }

    fn poll(&mut self, _: bool, _: &mut Vec<Event>) {}
}

/// A hook that keeps every response body as text (and says when one was incomplete), so
/// codec tests can see what was handed on.
#[cfg(test)]
pub(crate) struct KeepText;

#[cfg(test)]
struct Text(Vec<u8>);

#[cfg(test)]
impl BodySink for Text {
    fn feed(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data)
    }
    fn finish(self: Box<Self>, complete: bool) -> BodyInfo {
        BodyInfo {
            text: Some(String::from_utf8_lossy(&self.0).into_owned()),
            hash_error: (!complete).then(|| "incomplete".into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
impl ExchangeHook for KeepText {
    fn request(&mut self, _: &Exchange) -> Tag {
        Tag::default()
    }
    fn response(&mut self, _: &Exchange) -> Option<Box<dyn BodySink>> {
        Some(Box::new(Text(Vec::new())))
    }
    fn poll(&mut self, _: bool, _: &mut Vec<Event>) {}
}
