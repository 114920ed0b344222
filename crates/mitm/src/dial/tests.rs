use super::*;

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn primaries_are_the_first_address_family_in_order() {
    let v6a = a("[2001:db8::1]:443");
    let v6b = a("[2001:db8::2]:443");
    let v4a = a("192.0.2.1:443");
    let v4b = a("192.0.2.2:443");
    // Interleaved as a resolver may give them: each family keeps its order.
    assert_eq!(
        partition(&[v6a, v4a, v6b, v4b]),
        (vec![v6a, v6b], vec![v4a, v4b])
    );
    // IPv4 first (RFC 6724 prefers it when there is no IPv6 route): IPv4 are primaries.
    assert_eq!(partition(&[v4b, v6a, v4a]), (vec![v4b, v4a], vec![v6a]));
    // One family: no fallbacks, so no parallel racer (Go's dialSerial).
    assert_eq!(partition(&[v4a, v4b]), (vec![v4a, v4b], vec![]));
    assert_eq!(partition(&[]), (vec![], vec![]));
    // An IPv4-mapped IPv6 address is IPv6 to the socket layer, as to Go's partition.
    let mapped = a("[::ffff:192.0.2.1]:443");
    assert_eq!(partition(&[v4a, mapped]), (vec![v4a], vec![mapped]));
}

#[test]
fn each_address_gets_its_share_of_what_is_left_but_at_least_two_seconds() {
    let s = Duration::from_secs;
    assert_eq!(share(s(10), 1), s(10));
    assert_eq!(share(s(10), 2), s(5));
    // 10 s over 8 addresses would be 1.25 s each: Go's saneMinimum gives 2 s.
    assert_eq!(share(s(10), 8), s(2));
    // ... but never more than what is left.
    assert_eq!(
        share(Duration::from_millis(1500), 3),
        Duration::from_millis(1500)
    );
    assert_eq!(share(Duration::ZERO, 2), Duration::ZERO);
    assert_eq!(share(s(30), 0), s(30));
}

fn at(start: Instant, ms: u64) -> Instant {
    start + Duration::from_millis(ms)
}

#[test]
fn the_account_says_which_address_failed_and_that_it_fell_back() {
    let t = Instant::now();
    let attempts = vec![
        Attempt {
            addr: a("[2001:db8::1]:443"),
            start: t,
            end: Some((at(t, 302), Outcome::Abandoned)),
        },
        Attempt {
            addr: a("192.0.2.1:443"),
            start: at(t, 300),
            end: Some((at(t, 302), Outcome::Connected)),
        },
    ];
    let m = account(&attempts).unwrap();
    assert_eq!(
        m,
        "connected to 192.0.2.1:443 after falling back to IPv4 (Happy Eyeballs, as the go \
         command does): [2001:db8::1]:443 had not answered after 302 ms"
    );
    let tried = tried(&attempts, t);
    assert_eq!(tried[0].outcome, "abandoned");
    assert_eq!((tried[0].start_ms, tried[0].ms), (0.0, 302.0));
    assert_eq!(tried[1].outcome, "connected");
    assert_eq!((tried[1].start_ms, tried[1].ms), (300.0, 2.0));
    // One address: nothing to tell.
    assert_eq!(account(&attempts[1..]), None);
    // All failed.
    let failed = vec![
        Attempt {
            addr: a("[::1]:1"),
            start: t,
            end: Some((t, Outcome::Refused("refused".into()))),
        },
        Attempt {
            addr: a("127.0.0.1:1"),
            start: t,
            end: Some((t, Outcome::NoAnswer(Duration::from_secs(2)))),
        },
    ];
    assert_eq!(
        account(&failed).unwrap(),
        "every address failed: [::1]:1 refused the connection; 127.0.0.1:1 did not answer \
         within 2000 ms"
    );
}

/// A loopback listener of each family; None when this host has no IPv6 loopback.
async fn listeners() -> Option<(tokio::net::TcpListener, tokio::net::TcpListener)> {
    let v6 = tokio::net::TcpListener::bind("[::1]:0").await.ok()?;
    let v4 = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    Some((v6, v4))
}

/// A port with nothing listening on it (bound, then closed).
async fn closed(ip: &str) -> SocketAddr {
    let l = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn a_refused_primary_moves_on_to_the_fallback_at_once() {
    let Some((_v6, v4)) = listeners().await else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let dead = closed("::1").await;
    let live = v4.local_addr().unwrap();
    let log = Log::default();
    let t = Instant::now();
    let deadline = t + Duration::from_secs(10);
    // With a 5 s fallback delay, only the refusal can start the fallback this early.
    let s = parallel(&[dead, live], deadline, Duration::from_secs(5), &log).await;
    assert_eq!(s.unwrap().peer_addr().unwrap(), live);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let attempts = log.finish();
    assert!(matches!(attempts[0].end, Some((_, Outcome::Refused(_)))));
    assert!(matches!(attempts[1].end, Some((_, Outcome::Connected))));
}

#[tokio::test]
async fn the_first_family_wins_when_it_connects_before_the_delay() {
    let Some((v6, v4)) = listeners().await else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let (v6, v4) = (v6.local_addr().unwrap(), v4.local_addr().unwrap());
    let log = Log::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = parallel(&[v6, v4], deadline, FALLBACK_DELAY, &log).await;
    assert_eq!(s.unwrap().peer_addr().unwrap(), v6);
    let attempts = log.finish();
    assert_eq!(
        attempts.len(),
        1,
        "the fallback never started: {attempts:?}"
    );
    assert_eq!(account(&attempts), None);
}

#[tokio::test]
async fn everything_refused_is_told_address_by_address() {
    let Some(_) = listeners().await else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let (d6, d4) = (closed("::1").await, closed("127.0.0.1").await);
    let log = Log::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    assert!(parallel(&[d6, d4], deadline, FALLBACK_DELAY, &log)
        .await
        .is_none());
    let attempts = log.finish();
    let order: Vec<SocketAddr> = attempts.iter().map(|a| a.addr).collect();
    assert_eq!(order, [d6, d4]);
    assert!(account(&attempts)
        .unwrap()
        .starts_with("every address failed: "));
}
