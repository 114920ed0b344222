//! The tracker on hand-built frames: pairing on a multiplexed connection, timing and reuse,
//! body sinks per stream, RST_STREAM and GOAWAY as exchange errors, limits and gaps.
//! (The codec's own cases and real go-command streams are in tests/http2_codec/.)
use super::*;
use crate::decode::context::Standalone;
use crate::decode::hook::KeepText;
use crate::vocab::Setup;

/// A connection through the MITM (conn 7, https), its setup known.
fn harness() -> Standalone {
    let mut h = Standalone::new(Box::new(KeepText));
    h.conn_id = 7;
    h.client = "127.0.0.1:40000".parse().unwrap();
    h.server = "127.0.0.1:443".parse().unwrap();
    h.scheme = "https";
    h.source = crate::vocab::Source::Mitm;
    h.setup = Setup {
        dns_ms: Some(1.0),
        connect_ms: Some(2.0),
        tls_ms: Some(3.0),
        path: None,
    };
    h
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// HPACK literal without indexing, new name (strings shorter than 127 bytes).
fn lit(name: &str, value: &str) -> Vec<u8> {
    let mut v = vec![0, name.len() as u8];
    v.extend_from_slice(name.as_bytes());
    v.push(value.len() as u8);
    v.extend_from_slice(value.as_bytes());
    v
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const GOAWAY: u8 = 7;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

fn get(stream: u32, path: &str) -> Vec<u8> {
    let block = [
        lit(":method", "GET"),
        lit(":scheme", "https"),
        lit(":authority", "goproxy.test"),
        lit(":path", path),
        lit("user-agent", "GoCommand/1"),
    ]
    .concat();
    frame(HEADERS, END_HEADERS | END_STREAM, stream, &block)
}

fn status(stream: u32, code: u16, end: bool) -> Vec<u8> {
    let flags = END_HEADERS | if end { END_STREAM } else { 0 };
    frame(HEADERS, flags, stream, &lit(":status", &code.to_string()))
}

fn start(h: &mut Standalone, c: &mut Http2) {
    let up = [&PREFACE[..], &frame(SETTINGS, 0, 0, &[])].concat();
    c.client_data(Ts(0), &up, &mut h.ctx());
    c.server_data(Ts(0), &frame(SETTINGS, 0, 0, &[]), &mut h.ctx());
}

#[test]
fn multiplexed_streams_pair_time_and_keep_their_bodies_apart() {
    let mut h = harness();
    let mut c = Http2::default();
    start(&mut h, &mut c);
    let ms = 1_000_000;
    c.client_data(Ts(10 * ms), &get(1, "/m/@v/v1.zip"), &mut h.ctx());
    c.client_data(Ts(11 * ms), &get(3, "/m/@v/v1.info"), &mut h.ctx());
    // Interleaved answers: the info is complete before the zip.
    let down = [
        status(1, 200, false),
        frame(DATA, 0, 1, b"PK.."),
        status(3, 404, false),
        frame(DATA, END_STREAM, 3, b"not found"),
    ]
    .concat();
    c.server_data(Ts(20 * ms), &down, &mut h.ctx());
    c.server_data(
        Ts(30 * ms),
        &frame(DATA, END_STREAM, 1, b"rest"),
        &mut h.ctx(),
    );
    let ex = h.exchanges();
    assert_eq!(ex.len(), 2);
    let (info, zip) = (ex[0], ex[1]);
    assert_eq!(
        info.url.as_deref(),
        Some("https://goproxy.test/m/@v/v1.info")
    );
    assert_eq!(info.status, Some(404));
    assert_eq!(info.http_version.as_deref(), Some("HTTP/2"));
    assert_eq!(info.body.text.as_deref(), Some("not found"));
    assert_eq!(zip.status, Some(200));
    assert_eq!(zip.resp_bytes, 8);
    assert_eq!(zip.body.text.as_deref(), Some("PK..rest"));
    assert_eq!(zip.user_agent.as_deref(), Some("GoCommand/1"));
    assert!(zip.error.is_none() && info.error.is_none());
    // The first stream paid for the connection; the second shows it reused.
    assert_eq!(zip.timing.ttfb_ms, Some(10.0));
    assert_eq!(zip.timing.total_ms, Some(20.0));
    assert_eq!(zip.timing.transfer_ms, Some(10.0));
    assert_eq!(
        (zip.timing.dns_ms, zip.timing.tls_ms, zip.timing.reused),
        (Some(1.0), Some(3.0), false)
    );
    assert_eq!(
        (
            info.timing.dns_ms,
            info.timing.connect_ms,
            info.timing.reused
        ),
        (Some(0.0), Some(0.0), true)
    );
    assert_eq!(info.timing.ttfb_ms, Some(9.0));
}

#[test]
fn rst_stream_and_goaway_are_exchange_errors() {
    let mut h = harness();
    let mut c = Http2::default();
    start(&mut h, &mut c);
    c.client_data(Ts(1), &get(1, "/a/@v/v1.zip"), &mut h.ctx());
    c.client_data(Ts(2), &get(3, "/b/@v/v1.zip"), &mut h.ctx());
    c.client_data(Ts(3), &get(5, "/c/@v/v1.zip"), &mut h.ctx());
    let down = [
        status(1, 200, false),
        frame(DATA, 0, 1, b"PK"),
        frame(RST_STREAM, 0, 1, &2u32.to_be_bytes()),
        status(3, 200, false),
        frame(DATA, 0, 3, b"PK"),
    ]
    .concat();
    c.server_data(Ts(4), &down, &mut h.ctx());
    // GOAWAY: stream 3 was the last one processed; 5 never was.
    let mut goaway = 3u32.to_be_bytes().to_vec();
    goaway.extend_from_slice(&2u32.to_be_bytes());
    goaway.extend_from_slice(b"going away");
    c.server_data(Ts(5), &frame(GOAWAY, 0, 0, &goaway), &mut h.ctx());
    c.close(false, Ts(6), &mut h.ctx());
    let ex: Vec<(Option<&str>, Option<&str>, Option<&str>)> = h
        .exchanges()
        .iter()
        .map(|x| {
            (
                x.url.as_deref().and_then(|u| u.split('/').nth(3)),
                x.error.as_deref(),
                x.body.hash_error.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ex,
        [
            (
                Some("a"),
                Some("stream reset: INTERNAL_ERROR"),
                Some("incomplete")
            ),
            (Some("c"), Some("goaway: INTERNAL_ERROR (going away)"), None),
            (
                Some("b"),
                Some("goaway: INTERNAL_ERROR (going away)"),
                Some("incomplete")
            ),
        ]
    );
}

#[test]
fn limits_drop_streams_and_count_them() {
    let mut h = harness();
    let mut c = Http2::new(Limits {
        max_streams: 1,
        ..Limits::default()
    });
    start(&mut h, &mut c);
    c.client_data(Ts(1), &get(1, "/a/@v/list"), &mut h.ctx());
    c.client_data(Ts(2), &get(3, "/b/@v/list"), &mut h.ctx());
    assert_eq!(c.open_streams(), 1);
    assert_eq!(c.counters().streams_dropped, 1);
    c.server_data(Ts(3), &status(1, 200, true), &mut h.ctx());
    c.server_data(Ts(3), &status(3, 200, true), &mut h.ctx());
    let ex = h.exchanges();
    assert_eq!(ex.len(), 1, "the dropped stream is counted, not reported");
    assert_eq!(ex[0].status, Some(200));
}

#[test]
fn a_gap_in_the_server_stream_ends_open_exchanges() {
    let mut h = harness();
    let mut c = Http2::default();
    start(&mut h, &mut c);
    c.client_data(Ts(1), &get(1, "/a/@v/v1.zip"), &mut h.ctx());
    c.server_data(Ts(2), &status(1, 200, false), &mut h.ctx());
    c.gap(Dir::Down, Ts(3), 1000, &mut h.ctx());
    // Nothing after the gap is decoded.
    c.server_data(Ts(4), &frame(DATA, END_STREAM, 1, b"x"), &mut h.ctx());
    let ex = h.exchanges();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].error.as_deref(), Some("gap"));
    assert_eq!(ex[0].body.hash_error.as_deref(), Some("incomplete"));
}

/// Two requests (a zip on stream 1, a .mod on 3); the zip's 200 and the first 10 bytes of
/// a 100-byte DATA frame (returned whole) have arrived.
fn zip_body_begun() -> (Standalone, Http2, Vec<u8>) {
    let mut h = harness();
    let mut c = Http2::default();
    start(&mut h, &mut c);
    c.client_data(
        Ts(1),
        &[get(1, "/a/@v/v1.zip"), get(3, "/a/@v/v1.mod")].concat(),
        &mut h.ctx(),
    );
    c.server_data(Ts(2), &status(1, 200, false), &mut h.ctx());
    let body = frame(DATA, 0, 1, &[b'z'; 100]);
    c.server_data(Ts(3), &body[..9 + 10], &mut h.ctx());
    (h, c, body)
}

/// What a tap that drops body bytes only (the MITM's, when decoding falls behind), or a
/// capture that lost a segment inside a large body, leaves: a hole inside a DATA payload.
/// That body is given up; framing and HPACK hold, so the connection goes on decoding.
#[test]
fn a_gap_inside_a_data_payload_costs_that_body_only() {
    let (mut h, mut c, body) = zip_body_begun();
    c.gap(Dir::Down, Ts(4), 80, &mut h.ctx());
    c.server_data(Ts(5), &body[9 + 90..], &mut h.ctx());
    // A padded frame: its pad length octet arrives, the data and part of the padding not.
    let mut padded = vec![4];
    padded.extend_from_slice(b"tail");
    padded.extend_from_slice(&[0; 4]);
    let padded = frame(DATA, END_STREAM | 0x8, 1, &padded);
    c.server_data(Ts(6), &padded[..10], &mut h.ctx());
    c.gap(Dir::Down, Ts(7), 6, &mut h.ctx());
    assert_eq!(h.exchanges().len(), 1, "its last data byte ends the stream");
    c.server_data(Ts(8), &padded[16..], &mut h.ctx());
    c.server_data(Ts(9), &status(3, 200, false), &mut h.ctx());
    c.server_data(
        Ts(10),
        &frame(DATA, END_STREAM, 3, b"module a\n"),
        &mut h.ctx(),
    );
    let ex = h.exchanges();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].status, Some(200));
    assert_eq!(ex[0].error.as_deref(), Some("gap"));
    assert_eq!(ex[0].resp_bytes, 104, "missing bytes are still counted");
    assert_eq!(ex[0].last_byte_at, Some(Ts(7)));
    assert_eq!(
        ex[0].body.text.as_deref(),
        Some("zzzzzzzzzz"),
        "not fed after the hole"
    );
    assert_eq!(ex[0].body.hash_error.as_deref(), Some("incomplete"));
    assert_eq!(ex[1].status, Some(200));
    assert_eq!(ex[1].error, None);
    assert_eq!(ex[1].body.text.as_deref(), Some("module a\n"));
    assert_eq!(c.counters().data_bytes_missed, 84);
    assert_eq!(c.counters().broken, 0);
}

/// A gap that reaches past the payload took a frame header with it: that direction is
/// lost, as for any other gap.
#[test]
fn a_gap_reaching_past_a_data_payload_loses_the_direction() {
    let (mut h, mut c, _) = zip_body_begun();
    c.gap(Dir::Down, Ts(4), 91, &mut h.ctx());
    c.server_data(Ts(5), &status(3, 200, true), &mut h.ctx());
    let ex = h.exchanges();
    assert_eq!(ex.len(), 2);
    assert!(
        ex.iter().all(|e| e.error.as_deref() == Some("gap")),
        "{ex:?}"
    );
    assert_eq!(ex[1].status, None, "nothing after the gap is decoded");
    assert_eq!(c.counters().broken, 1);
}

#[test]
fn the_preface_is_recognised_from_its_first_bytes() {
    assert!(looks_like_preface(PREFACE));
    assert!(looks_like_preface(b"PRI * HT"));
    assert!(!looks_like_preface(b"PRI"));
    assert!(!looks_like_preface(b"GET / HTTP/1.1\r\n"));
}

#[test]
fn a_client_cancelling_an_answered_stream_is_not_an_error() {
    let mut h = harness();
    let mut c = Http2::default();
    start(&mut h, &mut c);
    c.client_data(Ts(1), &get(1, "/a/@v/v1.info"), &mut h.ctx());
    c.client_data(Ts(2), &get(3, "/b/@v/v1.zip"), &mut h.ctx());
    c.server_data(Ts(3), &status(1, 404, false), &mut h.ctx());
    // The go command reads the 404's head and cancels its body; it gives up on the zip
    // before any answer.
    let cancel = 8u32.to_be_bytes();
    c.client_data(Ts(4), &frame(RST_STREAM, 0, 1, &cancel), &mut h.ctx());
    c.client_data(Ts(5), &frame(RST_STREAM, 0, 3, &cancel), &mut h.ctx());
    let ex = h.exchanges();
    assert_eq!((ex[0].status, ex[0].error.as_deref()), (Some(404), None));
    // The body was not seen in full.
    assert_eq!(ex[0].body.hash_error.as_deref(), Some("incomplete"));
    assert_eq!(
        (ex[1].status, ex[1].error.as_deref()),
        (None, Some("stream reset by client: CANCEL"))
    );
}
