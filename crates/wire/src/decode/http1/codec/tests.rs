use super::super::framing::Framing;
use super::super::head::*;
use super::*;

/// Feeds `input` in pieces of `step` bytes; returns what the reader said, with body
/// bytes joined.
fn read(role: Role, input: &[u8], step: usize) -> Vec<String> {
    let mut r = Reader::new(role);
    let mut out: Vec<String> = Vec::new();
    for piece in input.chunks(step) {
        let mut data = piece;
        loop {
            let (used, item) = r.next(Ts(0), data);
            data = &data[used..];
            match item {
                Some(Item::Head(h)) => {
                    out.push(format!("head {} {}{}", h.method, h.target, h.status));
                    r.expect(h.content_length.filter(|&n| n > 0).map(Framing::Length));
                    if h.content_length.unwrap_or(0) == 0 {
                        out.push("end".into());
                    }
                }
                Some(Item::Body(b)) => match out.last_mut() {
                    Some(l) if l.starts_with("body ") => l.push_str(&String::from_utf8_lossy(b)),
                    _ => out.push(format!("body {}", String::from_utf8_lossy(b))),
                },
                Some(Item::End) => out.push("end".into()),
                Some(Item::Start(_)) => {}
                Some(other) => out.push(format!("{other:?}")),
                None if data.is_empty() => break,
                None => {}
            }
            if data.is_empty() && !matches!(r.phase, Phase::Head) {
                // Let a pending End out (a body that ended with this piece).
                if let (0, Some(Item::End)) = r.next(Ts(0), &[]) {
                    out.push("end".into());
                }
                break;
            }
        }
    }
    out
}

#[test]
fn requests_split_anywhere() {
    let wire = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\n\r\n";
    for step in 1..wire.len() {
        assert_eq!(
            read(Role::Request, wire, step),
            [
                "head GET /a0",
                "end",
                "head POST /b0",
                "body xyz",
                "end",
                "head GET /c0",
                "end"
            ],
            "step {step}"
        );
    }
}

#[test]
fn garbage_is_unparsable_and_stops() {
    let mut r = Reader::new(Role::Response);
    let data = b"\x16\x03\x01 not http";
    assert!(matches!(r.next(Ts(0), data), (0, Some(Item::Start(_)))));
    assert!(matches!(
        r.next(Ts(0), data),
        (_, Some(Item::Unparsable(Unreadable::NotHttp)))
    ));
    assert!(r.is_stopped());
}

#[test]
fn resync_finds_the_next_response() {
    let mut r = Reader::resyncing(Role::Response);
    let data = b"tail of a body\r\nHTTP/1.1 404 Not Found\r\n\r\n";
    let (used, item) = r.next(Ts(0), data);
    assert!(matches!(item, Some(Item::Resynced)));
    assert_eq!(&data[used..used + 8], b"HTTP/1.1");
}
fn response(head: &str) -> Result<Head, Unreadable> {
    parse_head(head.as_bytes(), Role::Response, Ts(0))
}

fn framing_of(headers: &str) -> (Option<u64>, bool, Option<Malformed>) {
    let h = response(&format!("HTTP/1.1 200 OK\r\n{headers}\r\n")).unwrap();
    (h.content_length, h.chunked, h.malformed)
}

#[test]
fn any_number_of_headers() {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for i in 0..200 {
        head.push_str(&format!("X-Header-{i}: value {i}\r\n"));
    }
    head.push_str("Content-Type: text/plain\r\nContent-Length: 3\r\n\r\n");
    let h = response(&head).unwrap();
    assert_eq!((h.status, h.content_length), (200, Some(3)));
    assert_eq!(h.content_type.as_deref(), Some("text/plain"));
    // Requests too.
    let req = head.replace("HTTP/1.1 200 OK", "GET /x HTTP/1.1");
    let h = parse_head(req.as_bytes(), Role::Request, Ts(0)).unwrap();
    assert_eq!((h.method.as_str(), h.content_length), ("GET", Some(3)));
}

#[test]
fn obs_fold_is_joined_like_net_textproto() {
    let h = response(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain;  \r\n   charset=utf-8\r\n\tq=1\r\nContent-Length: 2\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        h.content_type.as_deref(),
        Some("text/plain; charset=utf-8 q=1")
    );
    assert_eq!(h.content_length, Some(2));
    // A folded framing header still counts.
    let h = response("HTTP/1.1 200 OK\nContent-Length:\n 7\n\n").unwrap();
    assert_eq!(h.content_length, Some(7));
    let req = "GET /x HTTP/1.1\r\nUser-Agent: a\r\n b\r\n\r\n";
    let h = parse_head(req.as_bytes(), Role::Request, Ts(0)).unwrap();
    assert_eq!(h.user_agent.as_deref(), Some("a b"));
}

#[test]
fn a_first_header_line_starting_with_whitespace_is_rejected() {
    assert_eq!(
        response("HTTP/1.1 200 OK\r\n Content-Length: 2\r\n\r\n"),
        Err(Unreadable::LeadingWhitespace)
    );
}

#[test]
fn content_length_as_net_http_reads_it() {
    assert_eq!(
        framing_of("Content-Length: 51\r\n"),
        (Some(51), false, None)
    );
    assert_eq!(framing_of("Content-Length:  51 \r\n").0, Some(51));
    // The same value twice is fine; two values are not.
    let twice = "Content-Length: 5\r\nContent-Length: 5\r\n";
    assert_eq!(framing_of(twice), (Some(5), false, None));
    let two = "Content-Length: 5\r\nContent-Length: 6\r\n";
    assert_eq!(framing_of(two).2, Some(Malformed::ConflictingLength));
    let bad = |v: &str| framing_of(&format!("Content-Length: {v}\r\n")).2;
    for v in ["+51", "-1", "0x10", "5 1", "5,5", "", "9223372036854775808"] {
        assert_eq!(bad(v), Some(Malformed::BadLength(v.into())), "{v:?}");
    }
    assert_eq!(bad("9223372036854775807"), None);
    assert_eq!(
        Malformed::BadLength("+51".into()).to_string(),
        "invalid Content-Length \"+51\""
    );
}

#[test]
fn transfer_encoding_as_net_http_reads_it() {
    assert_eq!(
        framing_of("Transfer-Encoding: chunked\r\n"),
        (None, true, None)
    );
    assert!(framing_of("Transfer-Encoding: Chunked\r\n").1);
    for v in ["xchunked", "gzip, chunked", "chunked, gzip", "identity"] {
        let (_, chunked, m) = framing_of(&format!("Transfer-Encoding: {v}\r\n"));
        assert!(!chunked, "{v}");
        assert_eq!(m, Some(Malformed::UnsupportedEncoding(v.into())));
    }
    let two = "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n";
    assert_eq!(framing_of(two).2, Some(Malformed::TooManyEncodings));
    // Chunked wins over a (valid) length; an invalid length is still an error.
    let both = "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n";
    assert!(framing_of(both).1);
    assert!(framing_of(both).2.is_none());
    let bad = "Content-Length: +9\r\nTransfer-Encoding: chunked\r\n";
    assert!(framing_of(bad).2.is_some());
    // HTTP/1.0 messages' Transfer-Encoding is ignored.
    let h = response("HTTP/1.0 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n").unwrap();
    assert_eq!((h.chunked, h.malformed), (false, None));
}

#[test]
fn a_head_too_large_is_skipped_and_the_next_message_found() {
    let mut r = Reader::new(Role::Response);
    let mut wire = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    wire.resize(MAX_HEAD + 100, b'a');
    wire.extend_from_slice(b"\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let mut items = Vec::new();
    for piece in wire.chunks(1448) {
        let mut data = piece;
        while !data.is_empty() {
            let (used, item) = r.next(Ts(0), data);
            data = &data[used..];
            match item {
                Some(Item::Unparsable(why)) => items.push(format!("unparsable {why}")),
                Some(Item::Head(h)) => items.push(format!("head {}", h.status)),
                _ => {}
            }
        }
    }
    assert_eq!(items, ["unparsable head larger than 64 KiB", "head 404"]);
    assert!(
        r.state_bytes() < 1024,
        "the big head's buffer is given back"
    );
}

#[test]
fn resync_scans_a_line_full_of_near_misses_once() {
    // Many " HTTP/1." on one line, then a real request line: found, in one pass.
    let mut data = b"x".repeat(10);
    for _ in 0..50_000 {
        data.extend_from_slice(b"a HTTP/1.1 ");
    }
    data.extend_from_slice(b"\nGET /next HTTP/1.1\r\n\r\n");
    let at = find_message_start(&data, Role::Request).unwrap();
    assert!(data[at..].starts_with(b"GET /next"));
    let lf_only = b"GET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\r\n\r\n";
    assert_eq!(head_end(lf_only), Some(25));
    assert_eq!(head_end(&lf_only[25..]), Some(19));
}

/// Feeds `data` whole, then a gap: what the gap says of the head being read.
fn cut(role: Role, data: &[u8]) -> GapOutcome {
    let mut r = Reader::new(role);
    let mut rest = data;
    while !rest.is_empty() {
        let (used, _) = r.next(Ts(7), rest);
        rest = &rest[used..];
    }
    r.gap(40)
}

#[test]
fn a_head_cut_by_a_snap_length_is_read_from_its_whole_lines() {
    let GapOutcome::LostHead(Some(h)) = cut(
        Role::Request,
        b"GET /m/@v/list HTTP/1.1\r\nHost: proxy:3000\r\nUser-Agent: GoComm",
    ) else {
        panic!("the request line and Host are whole");
    };
    assert_eq!(
        (h.method.as_str(), h.target.as_str()),
        ("GET", "/m/@v/list")
    );
    assert_eq!(h.host.as_deref(), Some("proxy:3000"));
    // The header cut in the middle is not read as a value.
    assert_eq!(h.user_agent, None);
    assert!(h.cut && h.request_body().is_none());
    let GapOutcome::LostHead(Some(h)) = cut(
        Role::Response,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9000\r\nContent-Ty",
    ) else {
        panic!("the status line is whole");
    };
    assert_eq!(h.status, 404);
    // Where the body ends is not trusted: the head's end is not known.
    assert_eq!(h.content_length, None);
    // A start line cut before its end says nothing.
    assert_eq!(
        cut(Role::Request, b"GET /m/@v/li"),
        GapOutcome::LostHead(None)
    );
}
