//! A module zip the go command refuses (a response that is not a zip, a corrupt deflate
//! stream, an entry whose CRC-32 is wrong, one that inflates past the 500 MiB limit, one cut
//! before its central directory)
//! makes the module `failed` with a problem that blames the zip: the go command fails on
//! every one of them. A hash that gomodwatch gave up for a reason of its own (a body not
//! seen in full, a layout it cannot stream, `--no-hash`) blames nothing.
//!
//! Each capture is generated here: one HTTP/1.1 keep-alive connection from a go command to
//! a GOPROXY at 127.0.0.1:3000 fetching `.info`, `.mod` and `.zip` of example.com/m@v1.0.0,
//! with real TCP framing, written with gomodwatch's own pcap writer and replayed by the real
//! binary (`--json` and `--report`).

mod common;

use common::{of_type, run};
use etherparse::PacketBuilder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use gomodwatch::source::writer::{CaptureWriter, IfaceDesc};
use gomodwatch::vocab::{LinkType, Ts};
use serde_json::Value;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const CLIENT: ([u8; 4], u16) = ([127, 0, 0, 1], 41_000);
const SERVER: ([u8; 4], u16) = ([127, 0, 0, 1], 3000);
const PROXY: &str = "http://127.0.0.1:3000";
const MODULE: &str = "example.com/m";
const T0: i64 = 1_767_225_600_000_000_000;
const MSS: usize = 1448;

// ---------------------------------------------------------------------------------------
// Zips

/// One entry of a zip being written.
struct Entry<'a> {
    name: &'a str,
    /// Compression method (0 stored, 8 deflate).
    method: u16,
    /// Data as stored in the zip (already deflated for method 8).
    data: Vec<u8>,
    crc: u32,
    size: u64,
    /// Sizes after the data in a descriptor (flag bit 3), zeros in the local header.
    descriptor: bool,
}

fn crc32(data: &[u8]) -> u32 {
    let mut h = flate2::Crc::new();
    h.update(data);
    h.sum()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn deflated<'a>(name: &'a str, content: &[u8]) -> Entry<'a> {
    Entry {
        name,
        method: 8,
        data: deflate(content),
        crc: crc32(content),
        size: content.len() as u64,
        descriptor: false,
    }
}

/// A zip as the go command's proxies serve it: local headers, data, central directory.
fn zip(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let flags: u16 = if e.descriptor { 8 } else { 0 };
        let (crc, csize, usize_) = if e.descriptor {
            (0, 0, 0)
        } else {
            (e.crc, e.data.len() as u32, e.size as u32)
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&csize.to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.data);
        if e.descriptor {
            out.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
            out.extend_from_slice(&e.crc.to_le_bytes());
            out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(e.size as u32).to_le_bytes());
        }
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&e.method.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&e.crc.to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.size.min(u32::MAX as u64) as u32).to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra and comment lengths, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const GO_MOD: &[u8] = b"module example.com/m\n\ngo 1.21\n";
const M_GO: &[u8] = b"package m\n\n// F is one.\nfunc F() int { return 1 }\n";

fn good_zip() -> Vec<u8> {
    zip(&[
        deflated("example.com/m@v1.0.0/go.mod", GO_MOD),
        deflated("example.com/m@v1.0.0/m.go", M_GO),
    ])
}

/// A valid zip of several segments: a file that does not compress (xorshift bytes).
fn big_zip() -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    zip(&[
        deflated("example.com/m@v1.0.0/go.mod", GO_MOD),
        deflated("example.com/m@v1.0.0/noise.bin", &noise),
    ])
}

/// A deflate stream whose first block has the reserved type 3: RFC 1951 §3.2.3 makes that
/// an error, and Go's compress/flate says "flate: corrupt input before offset 1".
fn corrupt_deflate_zip() -> Vec<u8> {
    let mut bad = deflated("example.com/m@v1.0.0/m.go", M_GO);
    bad.data = vec![0x07, 0x00, 0x00, 0x00];
    zip(&[deflated("example.com/m@v1.0.0/go.mod", GO_MOD), bad])
}

/// Bytes left for zeros.bin after go.mod within the go command's 500 MiB (total
/// uncompressed size of the zip's files).
const LIMIT_LEFT: u64 = (500 << 20) - GO_MOD.len() as u64;

/// go.mod and a file of `n` zero bytes, deflated (about 1/1000 of that on the wire).
fn zeros_zip(n: u64) -> Vec<u8> {
    zeros_zip_of("example.com/m@v1.0.0", GO_MOD, n)
}

fn zeros_zip_of(prefix: &str, go_mod: &[u8], n: u64) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    let mut crc = flate2::Crc::new();
    while left > 0 {
        let k = left.min(block.len() as u64) as usize;
        e.write_all(&block[..k]).unwrap();
        crc.update(&block[..k]);
        left -= k as u64;
    }
    let (mod_name, zeros_name) = (format!("{prefix}/go.mod"), format!("{prefix}/zeros.bin"));
    zip(&[
        deflated(&mod_name, go_mod),
        Entry {
            name: &zeros_name,
            method: 8,
            data: e.finish().unwrap(),
            crc: crc.sum(),
            size: n,
            descriptor: false,
        },
    ])
}

// ---------------------------------------------------------------------------------------
// Captures

struct Capture {
    w: CaptureWriter<BufWriter<File>>,
    c_seq: u32,
    s_seq: u32,
    ts: i64,
}

impl Capture {
    fn create(path: &Path) -> Capture {
        let out = BufWriter::new(File::create(path).unwrap());
        let w = CaptureWriter::new(
            out,
            &[IfaceDesc {
                name: "raw",
                link: LinkType::Raw,
                snaplen: 262_144,
            }],
        )
        .unwrap();
        let mut c = Capture {
            w,
            c_seq: 1_000,
            s_seq: 900_000,
            ts: T0,
        };
        c.segment(true, true, false, None, &[]);
        c.c_seq += 1;
        let ack = c.c_seq;
        c.segment(false, true, false, Some(ack), &[]);
        c.s_seq += 1;
        let ack = c.s_seq;
        c.segment(true, false, false, Some(ack), &[]);
        c
    }

    fn segment(&mut self, up: bool, syn: bool, fin: bool, ack: Option<u32>, payload: &[u8]) {
        let (src, dst, seq) = if up {
            (CLIENT, SERVER, self.c_seq)
        } else {
            (SERVER, CLIENT, self.s_seq)
        };
        let mut b = PacketBuilder::ipv4(src.0, dst.0, 64).tcp(src.1, dst.1, seq, 65_535);
        if syn {
            b = b.syn();
        }
        if fin {
            b = b.fin();
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        let mut buf = Vec::with_capacity(payload.len() + 64);
        b.write(&mut buf, payload).unwrap();
        self.ts += 200_000;
        self.w
            .packet(0, Ts(self.ts), buf.len() as u32, &buf)
            .unwrap();
    }

    /// Bytes one way, in segments; `skip` leaves one segment out (a capture gap).
    fn send(&mut self, up: bool, data: &[u8], skip: Option<usize>) {
        for (i, piece) in data.chunks(MSS).enumerate() {
            let ack = if up { self.s_seq } else { self.c_seq };
            if skip != Some(i) {
                self.segment(up, false, false, Some(ack), piece);
            }
            let seq = if up { &mut self.c_seq } else { &mut self.s_seq };
            *seq = seq.wrapping_add(piece.len() as u32);
        }
    }

    /// A request for `artifact` and its 200 with `body`.
    fn exchange(&mut self, artifact: &str, body: &[u8], skip: Option<usize>) {
        let req = format!(
            "GET /{MODULE}/@v/v1.0.0.{artifact} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\
             User-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n"
        );
        self.send(true, req.as_bytes(), None);
        let ty = if artifact == "zip" {
            "application/zip"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ty}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body);
        self.send(false, &resp, skip.map(|s| s + 1));
    }

    fn finish(mut self) {
        let ack = self.s_seq;
        self.segment(true, false, true, Some(ack), &[]);
        self.c_seq += 1;
        let ack = self.c_seq;
        self.segment(false, false, true, Some(ack), &[]);
        self.s_seq += 1;
        self.w.flush().unwrap();
    }
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("gmw-unusable-zip-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A capture of the go command fetching example.com/m@v1.0.0 whose zip is `zip`; with
/// `gap`, one segment of the zip's response body is missing from the capture.
fn capture(name: &str, zip: &[u8], gap: bool) -> PathBuf {
    let path = dir().join(format!("{name}.pcap"));
    let mut c = Capture::create(&path);
    c.exchange(
        "info",
        br#"{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}"#,
        None,
    );
    c.exchange("mod", GO_MOD, None);
    c.exchange("zip", zip, gap.then_some(0));
    c.finish();
    path
}

/// What gomodwatch says about a capture: the NDJSON events and the report.
struct Said {
    module: Value,
    hash: Value,
    summary: Value,
    report: String,
}

fn replay(path: &Path, extra: &[&str]) -> Said {
    let p = path.to_str().unwrap();
    let mut args = vec!["-r", p, "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = common::parse_ndjson(&out.stdout);
    let modules = of_type(&events, "module");
    assert_eq!(modules.len(), 1, "{events:#?}");
    let hashes = of_type(&events, "hash");
    let mut args = vec!["-r", p, "--report"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Said {
        module: modules[0].clone(),
        hash: hashes.first().map_or(Value::Null, |h| (*h).clone()),
        summary: of_type(&events, "summary")[0].clone(),
        report: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// The module failed because of its zip, and everything says why.
fn assert_blamed(s: &Said, reason: &str) {
    let problem = format!(
        "the .zip from {PROXY} is not a valid module zip: {reason}; the go command will refuse it"
    );
    assert_eq!(s.module["module"], MODULE);
    assert_eq!(s.module["outcome"], "failed", "{:#}", s.module);
    assert_eq!(s.module["problem"], problem.as_str());
    assert!(s.module["h1"].is_null());
    assert_eq!(s.module["served_by"]["zip"], PROXY);
    assert_eq!(
        s.hash["error"],
        format!("not a valid module zip: {reason}").as_str(),
        "{:#}",
        s.hash
    );
    assert!(s.hash["h1"].is_null());
    let problems = s.summary["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["text"] == problem.as_str()
            && p["subject"] == "example.com/m@v1.0.0"
            && p["severity"] == "error"),
        "{problems:#?}"
    );
    assert!(s.report.contains("FAILED"), "{}", s.report);
    assert!(
        s.report
            .contains(&format!("ERROR    example.com/m@v1.0.0: {problem}")),
        "{}",
        s.report
    );
}

/// Nothing blames the zip.
fn assert_not_blamed(s: &Said) {
    let text = format!("{:#}\n{}\n{}", s.module, s.summary, s.report);
    assert!(!text.contains("not a valid module zip"), "{text}");
    assert!(!text.contains("will refuse it"), "{text}");
}

#[test]
fn a_valid_zip_is_ok_and_hashed() {
    let s = replay(&capture("good", &good_zip(), false), &[]);
    assert_eq!(s.module["outcome"], "ok", "{:#}", s.module);
    assert!(s.module["problem"].is_null());
    assert!(s.module["h1"].as_str().unwrap().starts_with("h1:"));
    assert_eq!(s.hash["h1"], s.module["h1"]);
    assert!(s.hash["error"].is_null());
    assert_not_blamed(&s);
}

#[test]
fn a_response_that_is_not_a_zip_fails_the_module() {
    let page = b"<html><body>Sign in to continue</body></html>\n";
    let s = replay(&capture("not-a-zip", page, false), &[]);
    assert_blamed(&s, "not a zip file (bad local header)");
}

#[test]
fn a_corrupt_deflate_stream_fails_the_module_even_with_a_go_sum_line() {
    let path = capture("corrupt-deflate", &corrupt_deflate_zip(), false);
    // The user's go.sum has lines for it (its go.mod matches): no zip hash to compare, and
    // still a failure.
    let gosum = dir().join("corrupt.go.sum");
    std::fs::write(
        &gosum,
        "example.com/m v1.0.0 h1:n+H0uc3zfTmpVyeufnS+LZGJT8EqSJUxqAm3toShRsA=\n\
         example.com/m v1.0.0/go.mod h1:ONeDgCa5UF/jJRjGzpOKmUiezgFEk4IPFZ96frvroW0=\n",
    )
    .unwrap();
    let s = replay(&path, &["--gosum", gosum.to_str().unwrap()]);
    assert_blamed(&s, "corrupt deflate stream");
    assert_eq!(
        s.module["gosum_h1"],
        "h1:n+H0uc3zfTmpVyeufnS+LZGJT8EqSJUxqAm3toShRsA="
    );
}

/// An entry whose content differs from its CRC-32: Go 1.27's `go mod download` of such a
/// zip (served from a file:// GOPROXY) fails with "zip: checksum error".
#[test]
fn a_zip_whose_crc_is_wrong_fails_the_module() {
    let mut bad = deflated("example.com/m@v1.0.0/m.go", M_GO);
    bad.crc ^= 0xdead_beef;
    let z = zip(&[deflated("example.com/m@v1.0.0/go.mod", GO_MOD), bad]);
    let s = replay(&capture("wrong-crc", &z, false), &[]);
    assert_blamed(
        &s,
        "checksum error: example.com/m@v1.0.0/m.go's CRC-32 is wrong",
    );
}

#[test]
fn a_zip_cut_short_fails_the_module() {
    let z = good_zip();
    // Where the central directory starts (the end record's offset field).
    let end = z.len() - 22;
    let cd = u32::from_le_bytes(z[end + 16..end + 20].try_into().unwrap()) as usize;
    // Both entries complete, then the (framed) body ends: the server sent a short zip.
    let s = replay(&capture("cut-before", &z[..cd], false), &[]);
    assert_blamed(&s, "it ends before its central directory");
    // Cut inside the central directory: archive/zip finds no end record either.
    let s = replay(&capture("cut-inside", &z[..end - 10], false), &[]);
    assert_blamed(&s, "it ends inside its central directory");
}

#[test]
fn a_zip_that_inflates_past_500_mib_fails_the_module() {
    let s = replay(
        &capture("too-large", &zeros_zip(LIMIT_LEFT + 1), false),
        &[],
    );
    assert_blamed(
        &s,
        "it inflates to more than 500 MiB, the go command's limit",
    );
}

#[test]
fn a_zip_of_exactly_500_mib_is_ok() {
    // The go command's bound is inclusive (`MaxZipFile-size >= sz` in x/mod/zip).
    let s = replay(&capture("at-limit", &zeros_zip(LIMIT_LEFT), false), &[]);
    assert_eq!(s.module["outcome"], "ok", "{:#}", s.module);
    assert!(s.module["h1"].as_str().unwrap().starts_with("h1:"));
    assert_not_blamed(&s);
}

#[test]
fn a_body_not_seen_in_full_is_not_blamed_on_the_zip() {
    // The capture lost a segment of the zip: gomodwatch's view is incomplete, the zip may
    // be fine. The hash is given up ("hash: error"), the zip is not blamed.
    let s = replay(&capture("gap", &big_zip(), true), &[]);
    assert_eq!(
        s.hash["error"], "the body was not seen in full",
        "{:#}",
        s.hash
    );
    assert_ne!(s.module["outcome"], "failed", "{:#}", s.module);
    assert_not_blamed(&s);
}

#[test]
fn a_layout_the_streaming_hasher_cannot_follow_is_not_blamed_on_the_zip() {
    // A stored entry with its sizes in a data descriptor: valid (the go command reads the
    // central directory), but its end cannot be found while streaming: gomodwatch's limit.
    let z = zip(&[
        deflated("example.com/m@v1.0.0/go.mod", GO_MOD),
        Entry {
            name: "example.com/m@v1.0.0/m.go",
            method: 0,
            data: M_GO.to_vec(),
            crc: crc32(M_GO),
            size: M_GO.len() as u64,
            descriptor: true,
        },
    ]);
    let s = replay(&capture("stored-descriptor", &z, false), &[]);
    assert_eq!(s.module["outcome"], "ok", "{:#}", s.module);
    assert!(s.module["problem"].is_null());
    assert!(s.hash["error"]
        .as_str()
        .unwrap()
        .starts_with("cannot hash a stored zip entry of unknown length"));
    assert_not_blamed(&s);
}

#[test]
fn with_no_hash_nothing_is_blamed() {
    let page = b"<html><body>Sign in to continue</body></html>\n";
    let s = replay(&capture("no-hash", page, false), &["--no-hash"]);
    assert_eq!(s.module["outcome"], "ok", "{:#}", s.module);
    assert!(s.hash.is_null());
    assert_not_blamed(&s);
}

// ---------------------------------------------------------------------------------------
// The real go command on the same zips

#[cfg(target_os = "linux")] // tests/common/fixture.rs
mod live {
    use super::*;
    use common::fixture::{go127, goproxyd, run_go_with, tempdir, tools, LiveRun, LIVE};

    const HUMANIZE: &str = "github.com/dustin/go-humanize";

    /// A copy of the fixture GOPROXY tree whose go-humanize v1.0.0 zip is `zip(real)`.
    fn tree_with(tag: &str, zip: impl Fn(&[u8]) -> Vec<u8>) -> PathBuf {
        let dir = tempdir(tag);
        let tree = dir.join("tree");
        let ok = std::process::Command::new("cp")
            .arg("-r")
            .arg(&tools().tree)
            .arg(&tree)
            .status()
            .unwrap();
        assert!(ok.success());
        let path = tree.join(HUMANIZE).join("@v/v1.0.0.zip");
        let real = std::fs::read(&path).unwrap();
        std::fs::write(&path, zip(&real)).unwrap();
        tree
    }

    /// The first entry's deflate stream made to start with a block of the reserved type.
    fn corrupt_first_entry(real: &[u8]) -> Vec<u8> {
        let mut z = real.to_vec();
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([z[8], z[9]]), 8, "first entry deflated");
        let name = u16::from_le_bytes([z[26], z[27]]) as usize;
        let extra = u16::from_le_bytes([z[28], z[29]]) as usize;
        z[30 + name + extra] = 0x07;
        z
    }

    /// The go command fetching go-humanize from goproxyd serving `tree` on `port`, watched
    /// live on lo: whether it succeeded, its stderr, and gomodwatch's module event.
    fn fetch(tree: &Path, port: u16) -> (bool, String, Value) {
        let addr = format!("127.0.0.1:{port}");
        let _proxy = goproxyd(None, &addr, &["-root", tree.to_str().unwrap()]);
        let filter = format!("tcp port {port}");
        let run = LiveRun::start(&["-i", "lo", "-f", &filter, "--json"], &[]);
        let (ok, stderr) = run_go_with(
            &go127(),
            &format!("http://{addr}"),
            &["get", "-x", &format!("{HUMANIZE}@v1.0.0")],
            None,
            &[],
        );
        let out = run.stop();
        assert!(out.status.success(), "{}", out.stderr);
        let events = common::parse_ndjson(&out.stdout);
        let module = of_type(&events, "module")
            .into_iter()
            .find(|m| m["module"] == HUMANIZE && m["version"] == "v1.0.0")
            .unwrap_or_else(|| panic!("no module event for {HUMANIZE}: {events:#?}"))
            .clone();
        (ok, stderr, module)
    }

    #[test]
    fn the_go_command_refuses_every_zip_gomodwatch_blames() {
        if !common::fixture::can_run("the_go_command_refuses_every_zip_gomodwatch_blames", LIVE) {
            return;
        }
        let go_mod = b"module github.com/dustin/go-humanize\n";
        let prefix = format!("{HUMANIZE}@v1.0.0");
        // (name, the zip served, gomodwatch's reason, what the go command says)
        type Case<'a> = (&'a str, Box<dyn Fn(&[u8]) -> Vec<u8>>, &'a str, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                "not-a-zip",
                Box::new(|_| b"<html>Sign in to continue</html>\n".to_vec()),
                "not a zip file (bad local header)",
                "zip: not a valid zip file",
            ),
            (
                "corrupt-deflate",
                Box::new(corrupt_first_entry),
                "corrupt deflate stream",
                "flate: corrupt input before offset 1",
            ),
            (
                "too-large",
                Box::new(move |_| {
                    zeros_zip_of(&prefix, go_mod, (500 << 20) - go_mod.len() as u64 + 1)
                }),
                "it inflates to more than 500 MiB, the go command's limit",
                "total uncompressed size of module contents too large (max size is 524288000 bytes)",
            ),
        ];
        for (i, (tag, make, reason, go_says)) in cases.into_iter().enumerate() {
            let tree = tree_with(tag, make);
            let (ok, stderr, module) = fetch(&tree, 3471 + i as u16);
            assert!(!ok, "{tag}: the go command accepted it: {stderr}");
            assert!(
                stderr.contains(&format!("go: {HUMANIZE}@v1.0.0: ")) && stderr.contains(go_says),
                "{tag}: {stderr}"
            );
            assert_eq!(module["outcome"], "failed", "{tag}: {module:#}\n{stderr}");
            let problem = format!(
                "the .zip from http://127.0.0.1:{} is not a valid module zip: {reason}; the go \
                 command will refuse it",
                3471 + i
            );
            assert_eq!(module["problem"], problem.as_str(), "{tag}: {stderr}");
        }
        // The unmodified tree: the go command succeeds and the module is ok.
        let tree = tree_with("intact", |real| real.to_vec());
        let (ok, stderr, module) = fetch(&tree, 3474);
        assert!(ok, "{stderr}");
        assert_eq!(module["outcome"], "ok", "{module:#}");
    }
}
