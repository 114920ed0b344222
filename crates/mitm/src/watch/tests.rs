use super::super::h2frames::CONTINUATION;
use super::*;

#[test]
fn h2_streams_owed_until_the_server_sends_a_frame_on_them() {
    let w = Watch::new(Timeouts::default(), true, "h:443".into());
    let mut up = PREFACE.to_vec();
    frame(&mut up, 4, 0, 0, &[0; 6]); // SETTINGS
    frame(&mut up, HEADERS, END_HEADERS | END_STREAM, 1, b"hpack");
    frame(&mut up, HEADERS, END_HEADERS | END_STREAM, 3, b"hpack");
    // Split anywhere: boundaries survive.
    for c in up.chunks(7) {
        w.saw(Side::Up, c);
    }
    assert_eq!(w.due().1, Fire::FirstByte);
    let mut down = Vec::new();
    frame(&mut down, 4, 0, 0, &[]);
    frame(&mut down, HEADERS, 0, 1, b"no end of headers");
    w.saw(Side::Down, &down);
    // Stream 3 still owed, but the server is inside a header block: no answer now.
    assert_eq!(w.due().1, Fire::FirstByte);
    assert!(w.answer().is_none());
    let mut more = Vec::new();
    frame(&mut more, CONTINUATION, END_HEADERS, 1, b"x");
    w.saw(Side::Down, &more);
    let a = w.answer().expect("at a boundary");
    // HEADERS + DATA for stream 3, then GOAWAY.
    let mut f = Frames::new(0);
    let mut seen = Vec::new();
    f.feed(&a, |k, _, id| seen.push((k, id)));
    assert_eq!(seen, vec![(HEADERS, 3), (DATA, 3), (GOAWAY, 0)]);
    let mut rst = Vec::new();
    frame(&mut rst, RST_STREAM, 0, 3, &[0, 0, 0, 8]);
    w.saw(Side::Up, &rst);
    assert_eq!(w.due().1, Fire::Idle);
}

/// A reader that has `ready` chunks and then an error or nothing yet.
struct Ready {
    ready: std::collections::VecDeque<std::io::Result<Vec<u8>>>,
}

impl AsyncRead for Ready {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.ready.pop_front() {
            Some(Ok(mut b)) => {
                let rest = b.split_off(b.len().min(buf.remaining()));
                buf.put_slice(&b);
                if !rest.is_empty() {
                    self.ready.push_front(Ok(rest));
                }
                Poll::Ready(Ok(()))
            }
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => Poll::Pending,
        }
    }
}

#[test]
fn fill_gathers_what_is_ready_and_keeps_an_error_for_the_next_read() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let reset = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    let mut r = Ready {
        ready: [Ok(b"one".to_vec()), Ok(b"two".to_vec()), Err(reset())].into(),
    };
    let (mut buf, mut held) = (vec![0u8; 16], None);
    let n = rt.block_on(fill(&mut r, &mut buf, &mut held)).unwrap();
    assert_eq!(&buf[..n], b"onetwo");
    let e = rt.block_on(fill(&mut r, &mut buf, &mut held)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    // No more than the buffer holds; what does not fit waits for the next call.
    let mut r = Ready {
        ready: [Ok(b"0123456789".to_vec()), Ok(b"abcdef".to_vec())].into(),
    };
    let mut small = vec![0u8; 12];
    let n = rt.block_on(fill(&mut r, &mut small, &mut held)).unwrap();
    assert_eq!(&small[..n], b"0123456789ab");
    let n = rt.block_on(fill(&mut r, &mut small, &mut held)).unwrap();
    assert_eq!(&small[..n], b"cdef");
}

#[test]
fn h1_owed_after_the_client_spoke() {
    let w = Watch::new(Timeouts::default(), false, "h:443".into());
    assert_eq!(w.due().1, Fire::Idle);
    w.saw(Side::Up, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(w.due().1, Fire::FirstByte);
    assert!(w.answer().unwrap().starts_with(b"HTTP/1.1 504 "));
    w.saw(Side::Down, b"HTTP/1.1 200 OK\r\n");
    assert_eq!(w.due().1, Fire::Idle);
}
