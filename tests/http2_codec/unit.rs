//! Hand-built frames against the public API.

use super::h2common::*;
use gomodwatch::decode::http2::codec::{error_code_name, Dir, Event, H2Conn, Limits, Ts, PREFACE};

use Dir::{Down, Up};

fn others(v: &[Rec]) -> Vec<&str> {
    v.iter()
        .filter_map(|r| match r {
            Rec::Other(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

fn data_of(v: &[Rec], stream: u32, dir: Dir) -> Vec<u8> {
    v.iter()
        .flat_map(|r| match r {
            Rec::Data {
                stream: s,
                dir: d,
                data,
                ..
            } if *s == stream && *d == dir => data.clone(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn detect_needs_the_preface() {
    assert!(H2Conn::detect(&client_start()));
    assert!(!H2Conn::detect(b"GET / HTTP/1.1\r\n\r\n"));
    assert!(!H2Conn::detect(&PREFACE[..10]));
    assert!(!H2Conn::detect(b""));
}

#[test]
fn preface_and_settings() {
    let (v, c) = run(
        Limits::default(),
        &[
            (Up, &client_start()),
            (Down, &server_start()),
            (Up, &frame(SETTINGS, ACK, 0, &[])),
        ],
    );
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(c.counters().frames, 4);
    assert!(!c.is_broken(Up) && !c.is_broken(Down));
    // A client that doesn't start with the preface.
    let (v, c) = run(Limits::default(), &[(Up, &settings(&[]))]);
    assert!(c.is_broken(Up));
    assert!(others(&v)[0].contains("preface"), "{v:?}");
}

/// A GET with a 200 response whose body comes in three DATA frames, one
/// padded, plus PING/WINDOW_UPDATE/PRIORITY noise and an unknown frame.
fn get_exchange() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let body: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let up = [
        client_start(),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &get_block("example.test", "/m/@v/v1.0.0.zip"),
        ),
        frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]),
        frame(PING, 0, 0, &[1; 8]),
    ]
    .concat();
    let mut padded = vec![5u8];
    padded.extend_from_slice(&body[100..200]);
    padded.extend_from_slice(&[0; 5]);
    let down = [
        server_start(),
        frame(
            HEADERS,
            END_HEADERS,
            1,
            &status_block(
                200,
                &[
                    ("content-length", "300"),
                    ("content-type", "application/zip"),
                ],
            ),
        ),
        frame(DATA, 0, 1, &body[..100]),
        frame(0xfa, 0, 0, b"unknown frame type"),
        frame(DATA, PADDED, 1, &padded),
        frame(PRIORITY, 0, 3, &[0, 0, 0, 1, 16]),
        frame(DATA, END_STREAM, 1, &body[200..]),
    ]
    .concat();
    (up, down, body)
}

#[test]
fn get_split_at_every_byte_boundary() {
    let (up, down, body) = get_exchange();
    let (whole, c) = run(Limits::default(), &[(Up, &up), (Down, &down)]);
    let whole = merge(whole);
    assert_eq!(c.open_streams(), 0);
    assert_eq!(c.counters().unknown_frames, 1);
    assert_eq!(data_of(&whole, 1, Down), body);
    let o = others(&whole);
    assert_eq!(o.len(), 2, "{whole:?}");
    assert!(o[0].starts_with("Request { stream: 1, ts: Ts(0), method: \"GET\", scheme: \"https\", authority: \"example.test\", path: \"/m/@v/v1.0.0.zip\", headers: [(\"user-agent\", \"test/1\")], end_stream: true"), "{}", o[0]);
    assert!(
        o[1].contains("status: 200") && o[1].contains("content-length"),
        "{}",
        o[1]
    );
    assert!(matches!(
        whole.last(),
        Some(Rec::Data {
            end_stream: true,
            ..
        })
    ));

    for k in 0..=down.len() {
        let (v, _) = run(
            Limits::default(),
            &[(Up, &up), (Down, &down[..k]), (Down, &down[k..])],
        );
        assert_eq!(
            merge(v.iter().map(|r| strip_ts(r.clone())).collect()),
            strip_all(&whole),
            "split at {k}"
        );
    }
    for k in 0..=up.len() {
        let (v, _) = run(
            Limits::default(),
            &[(Up, &up[..k]), (Up, &up[k..]), (Down, &down)],
        );
        assert_eq!(
            merge(v.into_iter().map(strip_ts).collect()),
            strip_all(&whole),
            "split at {k}"
        );
    }
    // Byte by byte: DATA comes out in one-byte pieces.
    let mut script: Vec<(Dir, &[u8])> = up.chunks(1).map(|b| (Up, b)).collect();
    script.extend(down.chunks(1).map(|b| (Down, b)));
    let (v, _) = run(Limits::default(), &script);
    assert!(v.iter().filter(|r| matches!(r, Rec::Data { .. })).count() >= 300);
    assert_eq!(
        merge(v.into_iter().map(strip_ts).collect()),
        strip_all(&whole)
    );
}

/// Timestamps differ with chunking (each chunk gets its own); drop them.
fn strip_ts(r: Rec) -> Rec {
    match r {
        Rec::Other(s) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("ts: Ts(") {
                out.push_str(&rest[..i]);
                let after = &rest[i..];
                let j = after.find(')').unwrap();
                rest = &after[j + 1..];
            }
            out.push_str(rest);
            Rec::Other(out)
        }
        d => d,
    }
}

fn strip_all(v: &[Rec]) -> Vec<Rec> {
    v.iter().cloned().map(strip_ts).collect()
}

#[test]
fn zero_copy_data_pieces() {
    let (up, down, _) = get_exchange();
    let mut c = H2Conn::new(Limits::default());
    c.feed(Up, Ts(1), &up, &mut |_| {});
    let mut ptrs = Vec::new();
    c.feed(Down, Ts(2), &down, &mut |e| {
        if let Event::Data { data, .. } = e {
            ptrs.push(data.as_ptr());
        }
    });
    let range = down.as_ptr_range();
    assert_eq!(ptrs.len(), 3);
    assert!(
        ptrs.iter().all(|p| range.contains(p)),
        "Data must point into the fed chunk"
    );
}

#[test]
fn continuation_assembles_the_block() {
    let block = get_block("example.test", "/continued");
    let (a, rest) = block.split_at(5);
    let (b, c) = rest.split_at(7);
    let up = [
        client_start(),
        frame(HEADERS, END_STREAM, 1, a),
        frame(CONTINUATION, 0, 1, b),
        frame(CONTINUATION, END_HEADERS, 1, c),
    ]
    .concat();
    // The HEADERS frame starts at byte 45 of chunk 0 and ends in chunk 1:
    // the request's ts is its first byte's.
    let (v, conn) = run(Limits::default(), &[(Up, &up[..50]), (Up, &up[50..])]);
    let o = others(&v);
    assert_eq!(o.len(), 1, "{v:?}");
    assert!(
        o[0].contains("path: \"/continued\"")
            && o[0].contains("ts: Ts(0)")
            && o[0].contains("end_stream: true")
    );
    assert!(!conn.is_broken(Up));

    // Anything but the CONTINUATION in between is a protocol error.
    let up = [
        client_start(),
        frame(HEADERS, 0, 1, a),
        frame(PING, 0, 0, &[0; 8]),
    ]
    .concat();
    let (v, conn) = run(Limits::default(), &[(Up, &up)]);
    assert!(
        conn.is_broken(Up) && others(&v)[0].contains("CONTINUATION"),
        "{v:?}"
    );
    // A CONTINUATION of another stream too.
    let up = [
        client_start(),
        frame(HEADERS, 0, 1, a),
        frame(CONTINUATION, END_HEADERS, 3, b),
    ]
    .concat();
    assert!(run(Limits::default(), &[(Up, &up)]).1.is_broken(Up));
    // And one out of the blue.
    let up = [client_start(), frame(CONTINUATION, END_HEADERS, 1, b)].concat();
    assert!(run(Limits::default(), &[(Up, &up)]).1.is_broken(Up));
}

#[test]
fn padding_and_priority() {
    let block = get_block("example.test", "/padded");
    let mut p = vec![3u8, 0x80, 0, 0, 0, 200];
    p.extend_from_slice(&block);
    p.extend_from_slice(&[0; 3]);
    let up = [
        client_start(),
        frame(HEADERS, END_HEADERS | PADDED | PRIO, 1, &p),
    ]
    .concat();
    // DATA all padding with END_STREAM, and a DATA with an impossible pad.
    let down = [
        server_start(),
        frame(HEADERS, END_HEADERS, 1, &status_block(200, &[])),
        frame(DATA, PADDED, 1, &[200, 1, 2]),
        frame(DATA, PADDED, 1, &[2, b'o', b'k', 0, 0]),
        frame(DATA, PADDED | END_STREAM, 1, &[3, 0, 0, 0]),
    ]
    .concat();
    let (v, c) = run(Limits::default(), &[(Up, &up), (Down, &down)]);
    let v = merge(v);
    assert!(others(&v)[0].contains("path: \"/padded\""), "{v:?}");
    assert_eq!(data_of(&v, 1, Down), b"ok");
    assert!(matches!(
        v.last(),
        Some(Rec::Data {
            end_stream: true,
            ..
        })
    ));
    assert_eq!(c.counters().malformed_frames, 1);
    assert!(!c.is_broken(Down));

    // Bad padding in HEADERS loses the block, so HPACK sync: broken.
    let up = [
        client_start(),
        frame(HEADERS, END_HEADERS | PADDED, 1, &[50, 0x82]),
    ]
    .concat();
    let (v, c) = run(Limits::default(), &[(Up, &up)]);
    assert!(
        c.is_broken(Up) && others(&v)[0].contains("padding"),
        "{v:?}"
    );
}

#[test]
fn rst_stream_mid_body() {
    let up = [
        client_start(),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &get_block("a.test", "/big.zip"),
        ),
    ]
    .concat();
    let down = [
        server_start(),
        frame(
            HEADERS,
            END_HEADERS,
            1,
            &status_block(200, &[("content-length", "100000")]),
        ),
        frame(DATA, 0, 1, &[7; 1000]),
        frame(RST_STREAM, 0, 1, &2u32.to_be_bytes()),
        frame(DATA, 0, 1, &[7; 10]), // late frame on the reset stream: ignored
    ]
    .concat();
    let mut c = H2Conn::new(Limits::default());
    let mut ev = Vec::new();
    c.feed(Up, Ts(10), &up, &mut |e| ev.push(rec(e)));
    c.feed(Down, Ts(20), &down, &mut |e| {
        if let Event::Reset {
            stream,
            dir,
            ts,
            code,
        } = e
        {
            assert_eq!(
                (stream, dir, ts, error_code_name(code)),
                (1, Down, Ts(20), "INTERNAL_ERROR")
            );
        }
        ev.push(rec(e))
    });
    assert!(others(&ev).iter().any(|s| s.starts_with("Reset")));
    assert_eq!(data_of(&ev, 1, Down).len(), 1000);
    assert_eq!(c.counters().ignored_frames, 1);
    let mut unfinished = 0;
    c.close(Ts(30), &mut |_| unfinished += 1);
    assert_eq!(unfinished, 0);
}

#[test]
fn goaway() {
    let mut p = 5u32.to_be_bytes().to_vec();
    p.extend_from_slice(&0xbu32.to_be_bytes());
    p.extend_from_slice(&[b'x'; 1000]);
    let down = [server_start(), frame(GOAWAY, 0, 0, &p)].concat();
    let mut c = H2Conn::new(Limits::default());
    let mut seen = false;
    c.feed(Down, Ts(5), &down, &mut |e| {
        if let Event::GoAway {
            dir,
            ts,
            last_stream,
            code,
            debug,
        } = e
        {
            assert_eq!(
                (dir, ts, last_stream, error_code_name(code), debug.len()),
                (Down, Ts(5), 5, "ENHANCE_YOUR_CALM", 256)
            );
            seen = true;
        }
    });
    assert!(seen);
    // A truncated GOAWAY is counted, framing holds.
    let (_, c) = run(
        Limits::default(),
        &[(
            Down,
            &[server_start(), frame(GOAWAY, 0, 0, &[0; 4]), server_start()].concat(),
        )],
    );
    assert_eq!(c.counters().malformed_frames, 1);
    assert!(!c.is_broken(Down));
}

#[test]
fn hpack_dynamic_table_across_requests() {
    // Request 1 adds :authority, :path and a header to the table; request 3
    // refers to them by index only (62 = newest).
    let b1 = [
        idx(2),
        idx(7),
        lit_idx(":authority", "proxy.test"),
        lit_idx(":path", "/a/@v/list"),
        lit_idx("x-go", "1"),
    ]
    .concat();
    let b3 = [idx(2), idx(7), idx(64), idx(63), idx(62)].concat();
    let up = [
        client_start(),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &b1),
        frame(HEADERS, END_HEADERS | END_STREAM, 3, &b3),
    ]
    .concat();
    let down = [
        server_start(),
        frame(
            HEADERS,
            END_HEADERS,
            1,
            &[
                lit_idx(":status", "404"),
                lit_idx("content-type", "text/plain"),
            ]
            .concat(),
        ),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            3,
            &[idx(63), idx(62)].concat(),
        ),
    ]
    .concat();
    let (v, c) = run(Limits::default(), &[(Up, &up), (Down, &down)]);
    let o = others(&v);
    assert!(
        o[1].contains("stream: 3")
            && o[1].contains(
                "authority: \"proxy.test\", path: \"/a/@v/list\", headers: [(\"x-go\", \"1\")]"
            ),
        "{o:?}"
    );
    assert!(
        o[3].contains("stream: 3") && o[3].contains("status: 404") && o[3].contains("text/plain"),
        "{o:?}"
    );
    assert_eq!(c.open_streams(), 1); // stream 1: response without END_STREAM
}

#[test]
fn table_size_update_and_settings() {
    // The server allows 8192 (SETTINGS in Down), the client ACKs, the
    // client's encoder grows its table to 8192: within the setting.
    let up = [
        client_start(),
        frame(SETTINGS, ACK, 0, &[]),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &[vec![0x3f, 0xe1, 0x3f], get_block("a", "/1")].concat(),
        ),
    ]
    .concat();
    let down = settings(&[(1, 8192)]);
    let (_, c) = run(Limits::default(), &[(Down, &down), (Up, &up)]);
    assert_eq!(c.counters().hpack_size_over_setting, 0);
    // Without the setting it's accepted but counted.
    let (v, c) = run(Limits::default(), &[(Up, &up)]);
    assert_eq!(c.counters().hpack_size_over_setting, 1);
    assert!(others(&v)[0].contains("path: \"/1\""));
    // Above our cap: the direction breaks.
    let small = Limits {
        max_dynamic_table: 4096,
        ..Limits::default()
    };
    let (v, c) = run(small, &[(Down, &down), (Up, &up)]);
    assert!(c.is_broken(Up) && others(&v)[0].contains("HPACK"), "{v:?}");
}

#[test]
fn too_many_streams_are_dropped() {
    let limits = Limits {
        max_streams: 2,
        ..Limits::default()
    };
    let mut up = client_start();
    for id in [1u32, 3, 5] {
        up.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &get_block("a", &format!("/{id}")),
        ));
    }
    let mut down = server_start();
    for id in [1u32, 3, 5] {
        down.extend(frame(HEADERS, END_HEADERS, id, &status_block(200, &[])));
        down.extend(frame(DATA, END_STREAM, id, b"body"));
    }
    let (v, c) = run(limits, &[(Up, &up), (Down, &down)]);
    let o = others(&v);
    assert!(
        o.iter()
            .any(|s| s.starts_with("Dropped { stream: 5, dir: Up")
                && s.contains("too many open streams")),
        "{o:?}"
    );
    assert_eq!(c.counters().streams_dropped, 1);
    assert_eq!(data_of(&v, 5, Down), b"");
    assert_eq!(data_of(&v, 3, Down), b"body");
    assert_eq!(c.counters().ignored_frames, 2); // stream 5's HEADERS and DATA
    assert_eq!(c.open_streams(), 0);
}

#[test]
fn header_limits() {
    // A decoded list above max_header_list drops the stream but keeps HPACK
    // in sync: the next request uses the entry the dropped one added.
    let limits = Limits {
        max_header_list: 200,
        ..Limits::default()
    };
    let big = [
        idx(2),
        idx(7),
        lit_idx(":authority", "a.test"),
        lit(":path", "/"),
        lit("cookie", &"c".repeat(300)),
    ]
    .concat();
    let next = [idx(2), idx(7), idx(62), lit(":path", "/next")].concat();
    let up = [
        client_start(),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &big),
        frame(HEADERS, END_HEADERS | END_STREAM, 3, &next),
    ]
    .concat();
    let (v, c) = run(limits, &[(Up, &up)]);
    let o = others(&v);
    assert!(
        o[0].contains("Dropped { stream: 1") && o[0].contains("header list too large"),
        "{o:?}"
    );
    assert!(
        o[1].contains("authority: \"a.test\", path: \"/next\""),
        "{o:?}"
    );
    assert_eq!(c.counters().header_lists_too_large, 1);

    // A block above max_header_block (over CONTINUATIONs): broken, counted.
    let limits = Limits {
        max_header_block: 1000,
        ..Limits::default()
    };
    let up = [
        client_start(),
        frame(HEADERS, 0, 1, &[0; 600]),
        frame(CONTINUATION, END_HEADERS, 1, &[0; 600]),
    ]
    .concat();
    let (v, c) = run(limits, &[(Up, &up)]);
    assert!(
        c.is_broken(Up) && others(&v)[0].contains("header block above"),
        "{v:?}"
    );
    assert_eq!(c.counters().header_blocks_too_large, 1);

    // A frame above max_frame: broken, counted, rest skipped.
    let limits = Limits {
        max_frame: 100,
        ..Limits::default()
    };
    let down = [frame(DATA, 0, 1, &[0; 101]), server_start()].concat();
    let (_, c) = run(limits, &[(Down, &down)]);
    assert!(c.is_broken(Down));
    assert_eq!(c.counters().frames_too_large, 1);
    assert_eq!(
        c.counters().bytes_skipped,
        101 + server_start().len() as u64
    );
}

#[test]
fn gap_breaks_one_direction() {
    let (up, down, _) = get_exchange();
    let mut c = H2Conn::new(Limits::default());
    let mut v = Vec::new();
    c.feed(Up, Ts(1), &up, &mut |e| v.push(rec(e)));
    c.feed(Down, Ts(2), &down[..60], &mut |e| v.push(rec(e)));
    c.gap(Down, Ts(3), 40, &mut |e| v.push(rec(e)));
    c.feed(Down, Ts(4), &down[100..], &mut |e| v.push(rec(e)));
    // The other direction goes on.
    c.feed(
        Up,
        Ts(5),
        &frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            3,
            &get_block("a", "/after"),
        ),
        &mut |e| v.push(rec(e)),
    );
    let o = others(&v);
    assert!(
        o.iter()
            .any(|s| s.starts_with("Broken { dir: Down, ts: Ts(3), reason: \"gap of 40 bytes\"")),
        "{o:?}"
    );
    assert!(o.last().unwrap().contains("/after"));
    assert!(c.is_broken(Down) && !c.is_broken(Up));
    assert_eq!(c.counters().bytes_skipped, 40 + (down.len() - 100) as u64);
    let mut u = Vec::new();
    c.close(Ts(9), &mut |e| u.push(format!("{e:?}")));
    assert_eq!(
        u,
        [
            "Unfinished { stream: 1, ts: Ts(9) }",
            "Unfinished { stream: 3, ts: Ts(9) }"
        ]
    );
}

#[test]
fn garbage_breaks_not_panics() {
    let junk: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (v, c) = run(Limits::default(), &[(Up, &junk), (Down, &junk)]);
    // Up lacks the preface; Down parses as frames or breaks, whichever the
    // bytes say, but doesn't panic and buffers little.
    assert!(c.is_broken(Up), "{v:?}");
    assert!(c.buffered_bytes() <= 5000);
    // HTTP/1 spoken to us.
    let (_, c) = run(
        Limits::default(),
        &[
            (Up, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            (Down, b"HTTP/1.1 200 OK\r\n\r\n"),
        ],
    );
    assert!(c.is_broken(Up) && c.is_broken(Down));
    // HPACK garbage inside a well-formed frame.
    let up = [
        client_start(),
        frame(HEADERS, END_HEADERS, 1, &[0x3f]),
        frame(HEADERS, END_HEADERS, 3, &[0x82]),
    ]
    .concat();
    let (v, c) = run(Limits::default(), &[(Up, &up)]);
    assert!(c.is_broken(Up) && others(&v)[0].contains("HPACK"), "{v:?}");
    // Header frames on stream 0, DATA on stream 0.
    for f in [
        frame(HEADERS, END_HEADERS, 0, &[0x82]),
        frame(DATA, 0, 0, b"x"),
    ] {
        let (v, c) = run(Limits::default(), &[(Down, &[server_start(), f].concat())]);
        assert!(
            c.is_broken(Down) && others(&v)[0].contains("stream 0"),
            "{v:?}"
        );
    }
    // A server whose first frame isn't SETTINGS.
    let (v, c) = run(Limits::default(), &[(Down, &frame(PING, 0, 0, &[0; 8]))]);
    assert!(
        c.is_broken(Down) && others(&v)[0].contains("not SETTINGS"),
        "{v:?}"
    );
}

#[test]
fn informational_trailers_and_push() {
    let up = [
        client_start(),
        frame(
            HEADERS,
            END_HEADERS,
            1,
            &[
                idx(3),
                idx(7),
                lit(":authority", "a"),
                lit(":path", "/up"),
                lit("expect", "100-continue"),
            ]
            .concat(),
        ),
        frame(DATA, 0, 1, b"payload"),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &lit("x-checksum", "1"),
        ),
    ]
    .concat();
    let mut pp = 2u32.to_be_bytes().to_vec();
    pp.extend(get_block("a", "/pushed"));
    let down = [
        server_start(),
        frame(HEADERS, END_HEADERS, 1, &status_block(100, &[])),
        frame(PUSH_PROMISE, END_HEADERS, 1, &pp),
        frame(HEADERS, END_HEADERS, 1, &status_block(200, &[])),
        frame(HEADERS, END_HEADERS, 2, &status_block(200, &[])), // pushed stream
        frame(DATA, END_STREAM, 2, b"pushed body"),
        frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &lit("grpc-status", "0"),
        ),
    ]
    .concat();
    let (v, c) = run(Limits::default(), &[(Up, &up), (Down, &down)]);
    let o = others(&v);
    assert!(
        o[0].contains("method: \"POST\"") && !o[0].contains("end_stream: true"),
        "{o:?}"
    );
    assert!(
        o[1].starts_with("Trailers { stream: 1, dir: Up") && o[1].contains("end_stream: true"),
        "{o:?}"
    );
    assert!(
        o[2].starts_with("Informational { stream: 1") && o[2].contains("status: 100"),
        "{o:?}"
    );
    assert!(
        o[3].starts_with("Response { stream: 1") && o[3].contains("status: 200"),
        "{o:?}"
    );
    assert!(
        o[4].starts_with("Trailers { stream: 1, dir: Down") && o[4].contains("end_stream: true"),
        "{o:?}"
    );
    assert_eq!(o.len(), 5);
    assert_eq!(data_of(&v, 1, Up), b"payload");
    assert_eq!(c.counters().push_promises, 1);
    assert_eq!(c.open_streams(), 0);
}

#[test]
fn response_without_request_still_reported() {
    // Up is broken (gap), yet the server's responses decode.
    let down = [
        server_start(),
        frame(HEADERS, END_HEADERS, 7, &status_block(404, &[])),
        frame(DATA, END_STREAM, 7, b"not found"),
    ]
    .concat();
    let mut c = H2Conn::new(Limits::default());
    let mut v = Vec::new();
    c.gap(Up, Ts(0), 10, &mut |e| v.push(rec(e)));
    c.feed(Down, Ts(1), &down, &mut |e| v.push(rec(e)));
    assert!(
        others(&v)[1].contains("Response { stream: 7") && others(&v)[1].contains("status: 404")
    );
    assert_eq!(data_of(&v, 7, Down), b"not found");
    assert_eq!(c.open_streams(), 1); // Up never ended it
}

#[test]
fn input_after_close_is_skipped() {
    let (up, _, _) = get_exchange();
    let mut c = H2Conn::new(Limits::default());
    c.close(Ts(0), &mut |_| {});
    let mut n = 0;
    c.feed(Up, Ts(1), &up, &mut |_| n += 1);
    assert_eq!(n, 0);
    assert_eq!(c.counters().bytes_skipped, up.len() as u64);
}
