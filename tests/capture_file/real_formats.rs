//! Captures as users send them, made here with real tools (tests/data/formats/README.md):
//! compressed files and standard input, pcapng files with embedded TLS secrets (editcap
//! --inject-secrets), TLS 1.2 recorded with curl against `openssl s_server -tls1_2`. The
//! binary must decode exactly the requests tshark decodes from the same file with the same
//! secrets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/formats")
        .join(name)
}

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn gomodwatch(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gomodwatch");
    if let Some(bytes) = stdin {
        // A refusal may close standard input before all of it is written.
        let _ = child.stdin.take().unwrap().write_all(bytes);
    }
    child.wait_with_output().unwrap()
}

/// (method, URL path, status) of every exchange a replay decoded, sorted.
fn exchanges(file: &Path, extra: &[&str]) -> Vec<(String, String, u64)> {
    let mut args = vec!["-r", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = gomodwatch(&args, None);
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    of_exchanges(&out.stdout)
}

fn of_exchanges(stdout: &[u8]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "exchange")
        .map(|e| {
            let url = e["url"].as_str().unwrap_or("");
            let path = url::Url::parse(url).map_or(url.to_string(), |u| u.path().to_string());
            (
                e["method"].as_str().unwrap_or("").to_string(),
                path,
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

/// tshark is there (tests/deps.sh --test installs it); under CI it must be.
fn have_tshark(test: &str) -> bool {
    let ok = Command::new("tshark").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: tshark missing (tests/deps.sh --test installs it)"
        );
        eprintln!("skipped {test}: needs tshark");
    }
    ok
}

/// (method, path, 0) of every request tshark decodes (HTTP/1 and HTTP/2) with the given
/// `-o`/`-d` options, sorted.
fn tshark(file: &Path, opts: &[&str]) -> Vec<(String, String, u64)> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file).args(opts).args([
        "-Y",
        "http.request or (http2.type == 1 and http2.headers.method)",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "aggregator=;",
        "-e",
        "http.request.method",
        "-e",
        "http.request.uri",
        "-e",
        "http2.headers.method",
        "-e",
        "http2.headers.path",
    ]);
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A packet may carry several HTTP/2 HEADERS frames: each field lists all, joined by ';'.
    let requests: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let (m, p) = if !f[0].is_empty() {
                (f[0], f[1])
            } else {
                (f[2], f[3])
            };
            m.split(';')
                .zip(p.split(';'))
                .map(|(m, p)| (m.to_string(), p.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut v: Vec<(String, String, u64)> = requests
        .into_iter()
        .map(|(m, p)| (m, p.split('?').next().unwrap_or("").to_string(), 0))
        .collect();
    v.sort();
    v
}

/// Every response status tshark decodes.
fn tshark_statuses(file: &Path, opts: &[&str]) -> Vec<u64> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(opts)
        .args([
            "-Y",
            "http.response or (http2.type == 1 and http2.headers.status)",
            "-T",
            "fields",
            "-E",
            "aggregator=;",
            "-e",
            "http.response.code",
            "-e",
            "http2.headers.status",
        ])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(|l| {
            l.split(['\t', ';'])
                .filter_map(|s| s.trim().parse().ok())
                .collect::<Vec<u64>>()
        })
        .collect()
}

/// Drops the statuses (tshark's are checked as a multiset by `tshark_statuses`).
fn requests(v: &[(String, String, u64)]) -> Vec<(String, String, u64)> {
    v.iter()
        .map(|(m, p, _)| (m.clone(), p.clone(), 0))
        .collect()
}

/// The statuses of the answered requests.
fn statuses(v: &[(String, String, u64)]) -> Vec<u64> {
    let mut s: Vec<u64> = v.iter().map(|r| r.2).filter(|s| *s != 0).collect();
    s.sort();
    s
}

/// gomodwatch decodes the requests, and answers, that tshark decodes.
fn assert_as_tshark(name: &str, ours: &[(String, String, u64)], file: &Path, opts: &[&str]) {
    let theirs = tshark(file, opts);
    assert!(!theirs.is_empty(), "{name}: tshark decoded nothing");
    assert_eq!(
        requests(ours),
        theirs,
        "{name}: requests differ from tshark's"
    );
    let mut want = tshark_statuses(file, opts);
    want.sort();
    assert_eq!(
        statuses(ours),
        want,
        "{name}: statuses differ from tshark's"
    );
}

#[test]
fn compressed_captures_read_as_the_plain_one_from_files_and_stdin() {
    let plain = bundled("comma-after-500-go127.pcap");
    let want = exchanges(&plain, &[]);
    assert!(want.len() >= 5, "{want:?}");
    for ext in ["gz", "zst", "xz"] {
        let file = data(&format!("comma-after-500-go127.pcap.{ext}"));
        assert_eq!(exchanges(&file, &[]), want, "{ext}");
        let bytes = std::fs::read(&file).unwrap();
        let out = gomodwatch(&["-r", "-", "--json"], Some(&bytes));
        assert!(
            out.status.success(),
            "{ext} on stdin: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(of_exchanges(&out.stdout), want, "{ext} on stdin");
    }
    if have_tshark("compressed_captures") {
        // tshark 4.0 reads gzip and zstd (not xz).
        for ext in ["gz", "zst"] {
            let file = data(&format!("comma-after-500-go127.pcap.{ext}"));
            assert_as_tshark(ext, &want, &file, &[]);
        }
    }
}

#[test]
fn a_damaged_or_cut_compressed_capture_is_refused_in_one_line() {
    let gz = std::fs::read(data("comma-after-500-go127.pcap.gz")).unwrap();
    let xz = std::fs::read(data("comma-after-500-go127.pcap.xz")).unwrap();
    let mut flipped = gz.clone();
    flipped[40] ^= 0xff;
    let not_capture = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b"hello, this is text").unwrap();
        e.finish().unwrap()
    };
    for (name, bytes, says) in [
        ("gzip cut in its header", &gz[..5], "gzip"),
        ("xz cut", &xz[..xz.len() / 2], "xz-compressed input cut off"),
        (
            "gzip damaged",
            &flipped[..],
            "gzip-compressed input is damaged",
        ),
        ("gzip of text", &not_capture[..], "once gzip-decompressed"),
    ] {
        let out = gomodwatch(&["-r", "-", "--json"], Some(bytes));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
}

#[test]
fn tls12_is_decrypted_from_client_random_lines_as_tshark_does() {
    let file = data("tls12.pcap");
    let keylog = data("tls12.keylog");
    let k = keylog.to_str().unwrap();
    let ours = exchanges(&file, &["--tls-keylog", k]);
    // Three AEAD suites (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), and a resumed session:
    // s_server answers one request per connection, so curl's second request on the fourth
    // goes unanswered and is sent again on a fifth, resumed, connection.
    assert_eq!(ours.len(), 6, "{ours:?}");
    assert_eq!(ours.iter().filter(|r| r.2 == 200).count(), 5, "{ours:?}");
    if have_tshark("tls12") {
        let opt = format!("tls.keylog_file:{k}");
        assert_as_tshark(
            "tls12",
            &ours,
            &file,
            &["-o", &opt, "-d", "tcp.port==14412,tls"],
        );
    }
    // Without the key log: nothing decrypted.
    assert!(exchanges(&file, &[]).is_empty());
}

#[test]
fn embedded_secrets_decrypt_without_a_key_log() {
    // editcap --inject-secrets of the TLS 1.2 capture, and of a real go command's TLS 1.3
    // HTTP/2 capture (captures/https-go127), gzip-compressed.
    let tls12 = data("tls12-dsb.pcapng");
    let go = data("https-go127-dsb.pcapng.gz");
    let ours12 = exchanges(&tls12, &[]);
    assert_eq!(
        ours12,
        exchanges(
            &data("tls12.pcap"),
            &["--tls-keylog", data("tls12.keylog").to_str().unwrap()]
        )
    );
    let ours_go = exchanges(&go, &[]);
    let plain_go = exchanges(
        &bundled("https-go127.pcap"),
        &[
            "--tls-keylog",
            bundled("https-go127.keylog").to_str().unwrap(),
        ],
    );
    assert!(ours_go.len() >= 20, "{ours_go:?}");
    assert_eq!(ours_go, plain_go);
    if have_tshark("embedded_secrets") {
        assert_as_tshark("tls12-dsb", &ours12, &tls12, &["-d", "tcp.port==14412,tls"]);
        assert_as_tshark("go-dsb", &ours_go, &go, &[]);
    }
}

#[test]
fn a_mixed_key_log_decrypts_both_versions() {
    let dir = std::env::temp_dir().join(format!("gmw-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mixed = dir.join("mixed.keylog");
    let mut text = std::fs::read_to_string(bundled("https-go127.keylog")).unwrap();
    text.push_str(&std::fs::read_to_string(data("tls12.keylog")).unwrap());
    std::fs::write(&mixed, text).unwrap();
    let m = mixed.to_str().unwrap();
    assert_eq!(
        exchanges(&data("tls12.pcap"), &["--tls-keylog", m]).len(),
        6
    );
    assert!(exchanges(&bundled("https-go127.pcap"), &["--tls-keylog", m]).len() >= 20);
    // A key log with no secret at all is still refused, in one line.
    let empty = dir.join("empty.keylog");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let out = gomodwatch(
        &[
            "-r",
            data("tls12.pcap").to_str().unwrap(),
            "--json",
            "--tls-keylog",
            empty.to_str().unwrap(),
        ],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real capture's Ethernet frames behind macOS's PKTAP header (`struct pktap_header`:
/// length 108, record type 1, the frame's DLT, the interface name, then zeros for flags,
/// process and service fields), as `tcpdump -i any` writes on macOS; this machine cannot
/// record PKTAP, so the frames are rewritten mechanically, as captures/README.md's
/// `-null`/`-loop` files are. The pcapng also has a radiotap interface with a packet on it.
fn pktap_pcapng(plain: &Path) -> Vec<u8> {
    use super::common::{Ng, E};
    use gomodwatch::source::file::CaptureFile;
    let mut ng = Ng::new(E::Le);
    ng.idb(258, &[(2, b"pktap")]).idb(127, &[(2, b"wlan0mon")]);
    let mut f = CaptureFile::new(std::fs::File::open(plain).unwrap()).unwrap();
    let mut first = true;
    while let Some(p) = f.next_packet().unwrap() {
        let mut frame = Vec::new();
        frame.extend(108u32.to_le_bytes());
        frame.extend(1u32.to_le_bytes());
        frame.extend(1u32.to_le_bytes()); // DLT_EN10MB
        let mut name = [0u8; 24];
        name[..2].copy_from_slice(b"lo");
        frame.extend(name);
        frame.resize(108, 0);
        frame.extend(p.data);
        let us = (p.ts.0 / 1000) as u64;
        ng.epb(0, us, &frame, p.wire_len + 108);
        if first {
            ng.epb(1, us, &[0u8; 40], 40);
            first = false;
        }
    }
    ng.out
}

#[test]
fn pktap_is_read_and_an_unsupported_interface_is_skipped_and_counted() {
    let plain = bundled("comma-after-500-go127.pcap");
    let want = exchanges(&plain, &[]);
    let bytes = pktap_pcapng(&plain);
    let out = gomodwatch(&["-r", "-", "--json"], Some(&bytes));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(of_exchanges(&out.stdout), want);
    assert!(
        err.contains("interface 1 (wlan0mon): unsupported link type 127 (IEEE802_11_RADIOTAP); its packets are skipped"),
        "{err}"
    );
    let summary = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["type"] == "summary")
        .unwrap();
    assert_eq!(summary["skipped_packets"], 1, "{summary}");
}

#[test]
fn h2c_is_read_when_the_server_speaks_first() {
    // nghttpd --no-tls sent its SETTINGS before curl's and nghttp's prefaces reached it.
    let file = data("h2c-server-first.pcap");
    let ours = exchanges(&file, &[]);
    assert_eq!(ours.len(), 2, "{ours:?}");
    if have_tshark("h2c") {
        assert_as_tshark("h2c", &ours, &file, &["-d", "tcp.port==18080,http2"]);
    }
}

/// Frames tshark's display filter picks (with the given options).
fn tshark_count(file: &Path, opts: &[&str], filter: &str) -> usize {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(opts)
        .args(["-Y", filter])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn tls13_resumption_and_early_data_are_decrypted_as_tshark_does() {
    // openssl s_client: a full handshake, then a resumed one whose request is all 0-RTT
    // early data (CLIENT_EARLY_TRAFFIC_SECRET); curl: two connections, the second resumed.
    let file = data("tls13-resume.pcap");
    let keylog = data("tls13-resume.keylog");
    let k = keylog.to_str().unwrap();
    let ours = exchanges(&file, &["--tls-keylog", k]);
    let early = (
        "GET".to_string(),
        "/example.com/m/@v/v1.1.0.info".to_string(),
        200,
    );
    assert!(ours.contains(&early), "{ours:?}");
    // s_server -HTTP answers one request per connection: curl's second request on the
    // first connection goes unanswered and is sent again on the resumed one.
    assert_eq!(ours.len(), 5, "{ours:?}");
    assert_eq!(ours.iter().filter(|r| r.2 == 200).count(), 4, "{ours:?}");
    if have_tshark("tls13_resumption") {
        let opt = format!("tls.keylog_file:{k}");
        let opts = [
            "-o",
            opt.as_str(),
            "-d",
            "tcp.port==14413,tls",
            "-d",
            "tcp.port==14414,tls",
        ];
        // The capture is what it says: two ServerHellos accept a pre-shared key, and the
        // server's EncryptedExtensions accept early data.
        let psk = "tls.handshake.type == 2 && tls.handshake.extension.type == 41";
        assert_eq!(tshark_count(&file, &opts, psk), 2);
        let accepted = "tls.handshake.type == 8 && tls.handshake.extension.type == 42";
        assert_eq!(tshark_count(&file, &opts, accepted), 1);
        assert_as_tshark("tls13-resume", &ours, &file, &opts);
    }
}

#[test]
fn an_upgrade_to_h2c_is_one_exchange_answered_on_stream_1() {
    // nghttp -u and curl --http2: GET with `Upgrade: h2c`, 101, then HTTP/2 whose stream 1
    // carries the answer.
    let file = data("h2c-upgrade.pcap");
    let out = gomodwatch(&["-r", file.to_str().unwrap(), "--json"], None);
    assert!(out.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exchanges: Vec<_> = events.iter().filter(|e| e["type"] == "exchange").collect();
    assert_eq!(exchanges.len(), 2, "{exchanges:?}");
    for e in &exchanges {
        assert_eq!(e["status"], 200, "{e}");
        assert_eq!(e["http_version"], "HTTP/2", "{e}");
        assert_eq!(e["resp_bytes"], 7, "{e}");
        assert!(e["error"].is_null(), "{e}");
    }
    let protocols: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "connection")
        .map(|e| e["protocol"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(protocols, ["http2", "http2"]);
    if have_tshark("h2c_upgrade") {
        let ours = of_exchanges(&out.stdout);
        let opts = ["-d", "tcp.port==18081,http"];
        assert_eq!(requests(&ours), tshark(&file, &opts));
        // tshark lists the 101 and stream 1's 200; the exchange ends with the 200.
        let mut want: Vec<u64> = tshark_statuses(&file, &opts);
        assert_eq!(want.iter().filter(|s| **s == 101).count(), 2, "{want:?}");
        want.retain(|s| *s != 101);
        assert_eq!(statuses(&ours), want);
    }
}

/// What tshark's Info column says of each HTTP/1 message: (method, path, 0) of requests
/// and the statuses of responses. With a snap length tshark's request fields are not
/// filled for every cut packet, but its summary line always reads the start line.
fn tshark_start_lines(file: &Path) -> (Vec<(String, String, u64)>, Vec<u64>) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "http", "-T", "fields", "-e", "_ws.col.Info"])
        .output()
        .expect("run tshark");
    let (mut requests, mut statuses) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if line.starts_with("HTTP/1.") {
            statuses.push(f[1].parse().unwrap());
        } else if f.len() > 2 && f[2].starts_with("HTTP/1.") {
            requests.push((f[0].to_string(), f[1].to_string(), 0));
        }
    }
    requests.sort();
    statuses.sort();
    (requests, statuses)
}

fn events(file: &Path) -> Vec<serde_json::Value> {
    let out = gomodwatch(&["-r", file.to_str().unwrap(), "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn heads_cut_by_a_snap_length_still_give_method_url_and_status() {
    // Every packet of a real go command's run cut to 200 bytes (`tcpdump -s 200`).
    let file = data("snaplen200-go127.pcap");
    let ours = exchanges(&file, &[]);
    let whole = exchanges(&bundled("one-proxy-go127.pcap"), &[]);
    assert_eq!(
        ours, whole,
        "the same requests and statuses as the whole capture"
    );
    let events = events(&file);
    let cut: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "exchange" && e["missing_bytes"].as_u64() > Some(0))
        .collect();
    assert_eq!(
        cut.len(),
        ours.len(),
        "every exchange lost bytes to the snap length"
    );
    let summary = events.iter().find(|e| e["type"] == "summary").unwrap();
    assert!(
        summary["snaplen_bytes"].as_u64() > Some(300_000),
        "{summary}"
    );
    if have_tshark("snaplen") {
        let (requests_seen, statuses_seen) = tshark_start_lines(&file);
        assert_eq!(requests(&ours), requests_seen);
        assert_eq!(statuses(&ours), statuses_seen);
    }
}

#[test]
fn a_capture_of_the_client_side_only_is_said_to_be_one() {
    // `tcpdump "tcp dst port 3000"`: the requests are there, nothing of the server's.
    let http = data("one-way-http.pcap");
    let events = events(&http);
    let conns: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "connection")
        .collect();
    assert_eq!(conns.len(), 6);
    assert!(conns.iter().all(|c| c["error"] == "one-way"), "{conns:?}");
    let ours = exchanges(&http, &[]);
    assert_eq!(ours.len(), 18);
    assert!(events
        .iter()
        .filter(|e| e["type"] == "exchange")
        .all(|e| e["error"] == "one-way" && e["status"].is_null()));
    if have_tshark("one_way") {
        assert_eq!(requests(&ours), tshark(&http, &[]));
    }
    // TLS: no handshake is judged failed (the server's half was filtered out, not silent).
    let tls = data("one-way-tls.pcap");
    let out = gomodwatch(&["-r", tls.to_str().unwrap()], None);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!report.contains("ended the TLS handshake"), "{report}");
    assert!(!report.contains("nothing answered"), "{report}");
    assert!(
        report.contains(
            "the capture holds only the client's packets of 6 connections to 127.0.0.1:3000"
        ),
        "{report}"
    );
    for e in self::events(&tls)
        .iter()
        .filter(|e| e["type"] == "connection")
    {
        assert_eq!(e["error"], "one-way", "{e}");
        assert!(e["tls"]["failure"].is_null(), "{e}");
    }
}

#[test]
fn a_tls13_connection_joined_after_its_handshake_is_decrypted_from_the_key_log() {
    // Two tcpdumps of one TLS 1.3 connection carrying three requests: one from the start,
    // one started after the first exchange (no handshake: tshark decrypts nothing there).
    let late = data("midway.pcap");
    let full = data("midway-full.pcap");
    // The right line is found among others' (the resumption capture's secrets first).
    let dir = std::env::temp_dir().join(format!("gmw-midway-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mixed = dir.join("mixed.keylog");
    let mut text = std::fs::read_to_string(data("tls13-resume.keylog")).unwrap();
    text.push_str(&std::fs::read_to_string(data("midway.keylog")).unwrap());
    std::fs::write(&mixed, text).unwrap();
    let m = mixed.to_str().unwrap();
    let ours = exchanges(&late, &["--tls-keylog", m]);
    let whole = exchanges(&full, &["--tls-keylog", m]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(whole.len(), 3, "{whole:?}");
    let want: Vec<_> = whole
        .iter()
        .filter(|r| !r.1.ends_with("/list"))
        .cloned()
        .collect();
    assert_eq!(ours, want, "the two requests after the cut, answered");
    // Without the key log: nothing.
    assert!(exchanges(&late, &[]).is_empty());
    if have_tshark("midway") {
        let k = format!("tls.keylog_file:{}", data("midway.keylog").display());
        let opts = ["-o", k.as_str(), "-d", "tcp.port==14415,tls"];
        // tshark decodes the three from the whole capture, none from the late one.
        assert_as_tshark("midway-full", &whole, &full, &opts);
        assert_eq!(tshark_count(&late, &opts, "http"), 0);
    }
}
