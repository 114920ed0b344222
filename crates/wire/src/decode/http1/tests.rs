//! Parser cases the go command never produces (so no recording can show them):
//! pipelining, HEAD, interim responses, close-delimited bodies, a capture that begins
//! with a response, and a gap inside a body.

use super::*;
use crate::decode::context::Standalone;
use crate::decode::hook::KeepText;

/// (url, status, response bytes, error) of an exchange.
type Seen = (Option<String>, Option<u16>, u64, Option<String>);

/// (url, status, response bytes, error) of every exchange so far.
fn seen(h: &Standalone) -> Vec<Seen> {
    h.exchanges()
        .into_iter()
        .map(|x| (x.url.clone(), x.status, x.resp_bytes, x.error.clone()))
        .collect()
}

fn url(p: &str) -> Option<String> {
    Some(format!("http://h{p}"))
}

#[test]
fn pipelined_requests_pair_in_order() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    let reqs =
        b"GET /a/@v/list HTTP/1.1\r\nHost: h\r\n\r\nGET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n";
    p.client_data(Ts(1), reqs, &mut h.ctx());
    let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    // Split anywhere: the pairing must not depend on segment boundaries.
    p.server_data(Ts(2), &resps[..41], &mut h.ctx());
    p.server_data(Ts(3), &resps[41..], &mut h.ctx());
    assert_eq!(
        seen(&h),
        [
            (url("/a/@v/list"), Some(200), 3, None),
            (url("/b/@v/list"), Some(404), 0, None)
        ]
    );
}

#[test]
fn head_interim_and_close_delimited() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    p.client_data(
        Ts(1),
        b"HEAD /m/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    // A HEAD response announces a length but has no body.
    p.server_data(
        Ts(2),
        b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n",
        &mut h.ctx(),
    );
    p.client_data(
        Ts(3),
        b"GET /m/@v/v1.info HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
        &mut h.ctx(),
    );
    p.server_data(
        Ts(4),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n{\"Version\":",
        &mut h.ctx(),
    );
    p.server_data(Ts(5), b"\"v1\"}", &mut h.ctx());
    p.server_fin(Ts(6), &mut h.ctx());
    let ex = seen(&h);
    assert_eq!(ex[0], (url("/m/@v/v1.zip"), Some(200), 0, None));
    assert_eq!(ex[1], (url("/m/@v/v1.info"), Some(200), 16, None));
    match &h.out[1] {
        Event::Exchange(x) => {
            // Time to first byte counts from the interim response's first byte.
            assert_eq!(x.first_byte_at, Some(Ts(4)));
            assert_eq!(x.body.text.as_deref(), Some("{\"Version\":\"v1\"}"));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_capture_that_starts_with_a_response_resyncs() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::resyncing();
    // The tail of some earlier body, then a whole exchange.
    p.server_data(Ts(1), b"zip bytes of an earlier response", &mut h.ctx());
    p.client_data(
        Ts(2),
        b"est tail\r\n\r\nGET /x.com/m/@v/list HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    p.server_data(
        Ts(3),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv1",
        &mut h.ctx(),
    );
    assert_eq!(seen(&h), [(url("/x.com/m/@v/list"), Some(200), 2, None)]);
}

#[test]
fn a_gap_inside_a_body_keeps_framing() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    p.client_data(
        Ts(1),
        b"GET /a/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\nGET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    p.server_data(
        Ts(2),
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
        &mut h.ctx(),
    );
    p.server_gap(Ts(3), 5, &mut h.ctx());
    p.server_data(Ts(4), b"cde", &mut h.ctx());
    p.server_data(
        Ts(5),
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        &mut h.ctx(),
    );
    let ex = seen(&h);
    assert_eq!(
        ex[0],
        (url("/a/@v/v1.zip"), Some(200), 10, Some("gap".into()))
    );
    assert_eq!(ex[1], (url("/b/@v/list"), Some(200), 1, None));
}

#[test]
fn unanswered_and_reset() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    p.client_data(
        Ts(1),
        b"GET /a/@v/list HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    p.close(Close::Cut, Ts(9), &mut h.ctx());
    let mut q = Http1::new();
    q.client_data(
        Ts(1),
        b"GET /b/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    q.server_data(
        Ts(2),
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx",
        &mut h.ctx(),
    );
    q.close(Close::Reset, Ts(3), &mut h.ctx());
    let ex = seen(&h);
    assert_eq!(
        ex[0],
        (url("/a/@v/list"), None, 0, Some("no-response".into()))
    );
    assert_eq!(
        ex[1],
        (url("/b/@v/v1.zip"), Some(200), 2, Some("reset".into()))
    );
}

/// A gap swallowed a whole response: the next response must go to the request the
/// server had read when it answered, not to the oldest one waiting.
#[test]
fn after_a_lost_response_the_ack_pairs_the_next_one() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    let r1 = b"GET /a/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n";
    let r2 = b"GET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n";
    p.client_data(Ts(1), r1, &mut h.ctx());
    // The zip's whole response is lost (its head went missing in the gap).
    p.server_gap(Ts(2), 500, &mut h.ctx());
    p.client_data(Ts(3), r2, &mut h.ctx());
    // The next response acknowledges both requests: it answers the second.
    h.acked = Some((r1.len() + r2.len()) as u64);
    p.server_data(
        Ts(4),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv1",
        &mut h.ctx(),
    );
    let ex = seen(&h);
    assert_eq!(ex[0], (url("/a/@v/v1.zip"), None, 0, Some("gap".into())));
    assert_eq!(ex[1], (url("/b/@v/list"), Some(200), 2, None));
}
/// The bound on requests waiting: past it requests are reported at once as dropped,
/// their responses are read past, and pairing stays right for the rest.
#[test]
fn pipelined_requests_past_the_bound_are_dropped_and_counted() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    let n = MAX_PENDING + 6;
    let mut reqs = Vec::new();
    for i in 0..n {
        reqs.extend_from_slice(format!("GET /r{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    }
    p.client_data(Ts(1), &reqs, &mut h.ctx());
    // The six past the bound are already out, with their error.
    let ex = seen(&h);
    assert_eq!(ex.len(), 6);
    assert_eq!(
        ex[0],
        (
            url(&format!("/r{MAX_PENDING}")),
            None,
            0,
            Some(DROPPED.into())
        )
    );
    assert_eq!(h.stats.requests_dropped, 6);
    assert!(p.state_bytes() > MAX_PENDING * std::mem::size_of::<Pending>());
    // A request arriving now waits behind the dropped ones, so it is dropped too.
    p.client_data(
        Ts(2),
        b"GET /late HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    assert_eq!(seen(&h).len(), 7);
    // Every response, in order: the first MAX_PENDING answer the kept requests.
    let mut resps = Vec::new();
    for i in 0..n + 1 {
        resps.extend_from_slice(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", i % 10).as_bytes(),
        );
        resps.extend(std::iter::repeat_n(b'x', i % 10));
    }
    p.server_data(Ts(3), &resps, &mut h.ctx());
    let ex = seen(&h);
    assert_eq!(ex.len(), n + 1);
    for (i, e) in ex[7..].iter().enumerate() {
        assert_eq!(
            *e,
            (url(&format!("/r{i}")), Some(200), (i % 10) as u64, None)
        );
    }
    // The burst's queue was given back.
    assert!(p.state_bytes() < 4096, "{}", p.state_bytes());
    // The connection is back to normal.
    p.client_data(
        Ts(4),
        b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut h.ctx(),
    );
    p.server_data(
        Ts(5),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        &mut h.ctx(),
    );
    assert_eq!(
        seen(&h).last().unwrap(),
        &(url("/after"), Some(404), 0, None)
    );
}

/// Framing net/http rejects gives the exchange an error (not "no-response"), and the
/// next response on the connection is still read.
#[test]
fn malformed_responses_are_errors_not_silence() {
    let cases = [
        (
            "Content-Length: 2\r\nContent-Length: 3",
            "malformed: conflicting Content-Length",
        ),
        (
            "Content-Length: +51",
            "malformed: invalid Content-Length \"+51\"",
        ),
        (
            "Transfer-Encoding: xchunked",
            "malformed: unsupported Transfer-Encoding \"xchunked\"",
        ),
    ];
    for (headers, error) in cases {
        let mut h = Standalone::new(Box::new(KeepText));
        let mut p = Http1::new();
        let two = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        p.client_data(Ts(1), two, &mut h.ctx());
        let resp = format!("HTTP/1.1 200 OK\r\n{headers}\r\n\r\nab\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        p.server_data(Ts(2), resp.as_bytes(), &mut h.ctx());
        p.close(Close::Cut, Ts(3), &mut h.ctx());
        assert_eq!(
            seen(&h),
            [
                (url("/a"), None, 0, Some(error.into())),
                (url("/b"), Some(404), 0, None)
            ],
            "{headers}"
        );
        assert_eq!(h.stats.malformed, 1);
    }
    // Not HTTP at all: the request was answered with something net/http rejects.
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    p.client_data(Ts(1), b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &mut h.ctx());
    p.server_data(Ts(2), b"\x15\x03\x03\x00\x02\x02\x46", &mut h.ctx());
    p.close(Close::Cut, Ts(3), &mut h.ctx());
    assert_eq!(
        seen(&h),
        [(
            url("/a"),
            None,
            0,
            Some("malformed: not an HTTP/1.x response".into())
        )]
    );
}

#[test]
fn a_malformed_request_says_so() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    let req = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxyGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    p.client_data(Ts(1), req, &mut h.ctx());
    p.server_data(
        Ts(2),
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        &mut h.ctx(),
    );
    let ex = seen(&h);
    assert_eq!(
        ex[0],
        (
            url("/a"),
            Some(400),
            0,
            Some("malformed request: conflicting Content-Length".into())
        )
    );
}

#[test]
fn an_evicted_connection_does_not_claim_the_server_never_answered() {
    let mut h = Standalone::new(Box::new(KeepText));
    let mut p = Http1::new();
    p.client_data(Ts(1), b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &mut h.ctx());
    p.close(Close::Evicted, Ts(2), &mut h.ctx());
    assert_eq!(seen(&h), [(url("/a"), None, 0, Some(EVICTED.into()))]);
}
