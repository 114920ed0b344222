use super::*;

#[test]
fn gomod_hash_matches_go() {
    // `module example.com/m\n` hashed by dirhash.Hash1(["go.mod"]).
    let sha: [u8; 32] = Sha256::digest(b"module github.com/dustin/go-humanize\n").into();
    // From Debian's golang-github-dustin-go-humanize-dev via mkproxy's go.sum.expected.
    assert_eq!(
        gomod_hash(sha),
        "h1:HtrtbFcZ19U5GC7JDqmcUSB87Iq5E25KnS6fMYU6eOk="
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let mut z = ZipHasher::new();
    z.update(b"PK\x03\x04 this is not really a zip at all, just bytes");
    assert!(z.finish().is_err());
    let mut z = ZipHasher::new();
    z.update(b"hello");
    assert_eq!(
        z.finish().unwrap_err().to_string(),
        "not a valid module zip: not a zip file (bad local header)"
    );
}

/// A module zip as the go command writes one (golang.org/x/mod/zip through archive/zip):
/// every entry deflated, sizes in a data descriptor after it, central directory at the end.
fn go_zip(files: &[(&str, Vec<u8>)], level: u32) -> Vec<u8> {
    use std::io::Write as _;
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
        z.write_all(data).unwrap();
        let packed = z.finish().unwrap();
        let offset = out.len() as u32;
        // Version 20, flag 8 (data descriptor), deflate, time and date; CRC and sizes zero.
        let head = [20u16, 8, 8, 0, 0].map(u16::to_le_bytes).concat();
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&head);
        out.extend([0; 12]);
        out.extend((name.len() as u16).to_le_bytes());
        out.extend([0, 0]);
        out.extend(name.as_bytes());
        out.extend(&packed);
        let sizes = [crc.sum(), packed.len() as u32, data.len() as u32];
        out.extend(0x0807_4b50u32.to_le_bytes());
        out.extend(sizes.map(u32::to_le_bytes).concat());
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        central.extend(&head);
        central.extend(sizes.map(u32::to_le_bytes).concat());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0; 12]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let at = out.len() as u32;
    let n = (files.len() as u16).to_le_bytes();
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, n[0], n[1], n[0], n[1]]);
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend([0, 0]);
    out
}

/// The `h1:` computed from the files themselves, by neither inflate path.
fn expected(files: &[(&str, Vec<u8>)]) -> String {
    let mut list: Vec<(String, [u8; 32])> = files
        .iter()
        .map(|(n, d)| (n.to_string(), Sha256::digest(d).into()))
        .collect();
    hash1(&mut list).unwrap()
}

/// Bytes that do not compress (xorshift).
fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Go-like source text: compresses about 4:1.
fn text(n: usize, seed: u64) -> Vec<u8> {
    let words = noise(n / 3 + 1, seed); // at least 3 bytes a word
    let mut s = Vec::with_capacity(n + 16);
    for w in words {
        s.extend_from_slice(match w % 8 {
            0 => b"func ",
            1 => b"return ",
            2 => b"x := ",
            3 => b"err\n",
            4 => b"if ",
            5 => b"{\n\t",
            6 => b"}\n",
            _ => b"nil, ",
        });
        s.push(b'a' + w % 26);
    }
    s.truncate(n);
    s
}

/// Hashes `zip` fed in pieces of `piece` bytes; also says how many entries went whole and
/// how many streamed.
fn hash_in_pieces(zip: &[u8], piece: usize) -> (Result<String, HashError>, u64, u64) {
    let mut z = ZipHasher::new();
    for p in zip.chunks(piece) {
        z.update(p);
    }
    let h1 = z.finish_and_reset();
    (h1, z.entries_whole, z.entries_streamed)
}

#[test]
fn entries_inflated_whole_or_streamed_give_the_files_own_hash_in_any_pieces() {
    let m = "example.com/m@v1.0.0/";
    let files: Vec<(String, Vec<u8>)> = vec![
        (format!("{m}go.mod"), b"module example.com/m\n".to_vec()),
        (format!("{m}empty.go"), Vec::new()),
        (format!("{m}a.go"), text(150_000, 1)),
        // Does not compress: 1.5 MiB of compressed bytes, more than the window.
        (format!("{m}blob.bin"), noise(1_500_000, 2)),
        (format!("{m}b.go"), text(30_000, 3)),
        // Compresses well, but inflates to more than libdeflate's output buffer.
        (format!("{m}tables.go"), text(fast::MAX_OUT + 100_000, 4)),
        (format!("{m}z.go"), text(400_000, 5)),
    ];
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let zip = go_zip(&files, 6);
    let want = expected(&files);
    for piece in [zip.len(), 64 << 10, 65_537, 4096, 1000, 7] {
        let (h1, whole, streamed) = hash_in_pieces(&zip, piece);
        assert_eq!(h1.as_deref(), Ok(want.as_str()), "pieces of {piece}");
        // tables.go and blob.bin (too big an output, and blob.bin too big for the window)
        // stream; the five others are inflated whole.
        assert_eq!((whole, streamed), (5, 2), "pieces of {piece}");
    }
}

#[test]
fn a_zip_of_small_entries_is_all_inflated_whole() {
    let files: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| {
            (
                format!("example.com/m@v1.0.0/f{i}.go"),
                text(i * 97 + 1, i as u64 + 9),
            )
        })
        .collect();
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let zip = go_zip(&files, 9);
    for piece in [zip.len(), 64 << 10, 333] {
        let (h1, whole, streamed) = hash_in_pieces(&zip, piece);
        assert_eq!(h1, Ok(expected(&files)), "pieces of {piece}");
        assert_eq!((whole, streamed), (200, 0), "pieces of {piece}");
    }
}

#[test]
fn a_descriptor_look_alike_inside_an_entry_is_waited_past() {
    // Stored deflate blocks (level 0) keep the file's bytes as they are, 5 bytes in: a
    // descriptor signature in the file whose compressed size is its own offset looks like
    // the entry's end. libdeflate finds the stream cut there; the entry is inflated once
    // all of it is here.
    let mut data = noise(40_000, 11);
    let k = 20_000;
    data[k..k + 4].copy_from_slice(&0x0807_4b50u32.to_le_bytes());
    data[k + 8..k + 12].copy_from_slice(&((k + 5) as u32).to_le_bytes());
    let files = [("example.com/m@v1.0.0/x.bin", data)];
    let zip = go_zip(&files, 0);
    let at = 30 + files[0].0.len() + 5 + k; // the look-alike in the zip
    assert_eq!(&zip[at..at + 4], b"PK\x07\x08");
    for piece in [zip.len(), 1000, 64 << 10] {
        let (h1, whole, streamed) = hash_in_pieces(&zip, piece);
        assert_eq!(h1, Ok(expected(&files)), "pieces of {piece}");
        assert_eq!(whole + streamed, 1, "pieces of {piece}");
    }
}

#[test]
fn a_corrupt_or_cut_entry_gives_the_same_error_as_streaming_did() {
    let files = [
        (
            "example.com/m@v1.0.0/go.mod",
            b"module example.com/m\n".to_vec(),
        ),
        ("example.com/m@v1.0.0/a.go", text(50_000, 21)),
    ];
    let zip = go_zip(&files, 6);
    // Corrupt: a deflate block type 3 (reserved) at the second entry's first byte.
    let second = 30 + files[0].0.len();
    let second = zip[second..]
        .windows(4)
        .position(|w| w == b"PK\x03\x04")
        .map(|i| second + i)
        .unwrap();
    let mut bad = zip.clone();
    bad[second + 30 + files[1].0.len()] = 0b111;
    for piece in [bad.len(), 100] {
        let (h1, _, _) = hash_in_pieces(&bad, piece);
        assert_eq!(
            h1.unwrap_err().to_string(),
            "not a valid module zip: corrupt deflate stream"
        );
    }
    // Cut inside the second entry.
    let cut = &zip[..second + 30 + files[1].0.len() + 1000];
    for piece in [cut.len(), 100] {
        let (h1, _, _) = hash_in_pieces(cut, piece);
        assert_eq!(
            h1.unwrap_err().to_string(),
            "not a valid module zip: it ends before its central directory"
        );
    }
}

#[test]
fn a_hasher_reused_after_a_cut_zip_hashes_the_next_one_right() {
    let files = [("example.com/m@v1.0.0/a.go", text(200_000, 31))];
    let zip = go_zip(&files, 6);
    let mut z = ZipHasher::new();
    z.update(&zip[..zip.len() / 2]);
    assert!(z.finish_and_reset().is_err());
    z.update(&zip);
    assert_eq!(z.finish_and_reset(), Ok(expected(&files)));
}

/// The zip with the CRC-32 in the `n`-th data descriptor changed.
fn with_wrong_crc(mut zip: Vec<u8>, n: usize) -> Vec<u8> {
    let at = memchr::memmem::find_iter(&zip, &0x0807_4b50u32.to_le_bytes())
        .nth(n)
        .expect("a data descriptor");
    zip[at + 4] ^= 0x5a;
    zip
}

/// The go command refuses an entry whose content differs from its CRC-32 ("zip: checksum
/// error", seen from Go 1.27 on such a zip); so does the hasher, inflating the entry whole or
/// streaming it, and a zip without the change still hashes.
#[test]
fn an_entry_whose_crc_is_wrong_is_a_checksum_error_as_for_the_go_command() {
    let small = ("example.com/m@v1.0.0/m.go", b"package m\n".repeat(40));
    let big = ("example.com/m@v1.0.0/big.bin", noise(600_000, 3));
    for (files, n) in [
        (vec![small.clone()], 0),
        (vec![small.clone(), big.clone()], 1),
    ] {
        let good = go_zip(&files, 6);
        let mut z = ZipHasher::new();
        z.update(&good);
        assert_eq!(z.finish(), Ok(expected(&files)));
        let mut z = ZipHasher::new();
        z.update(&with_wrong_crc(good, n));
        let err = z.finish().unwrap_err().to_string();
        assert!(err.starts_with(INVALID_ZIP), "{err}");
        assert!(err.contains("checksum error"), "{err}");
        assert!(err.contains(files[n].0), "{err}");
    }
}
