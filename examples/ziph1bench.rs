fn main() {
    let p = std::env::args().nth(1).unwrap();
    let data = std::fs::read(&p).unwrap();
    let n = 200;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let mut z = gomodwatch::gomod::h1::ZipHasher::new();
        for c in data.chunks(1448) {
            z.update(c);
        }
        z.finish().unwrap();
    }
    let el = t.elapsed().as_secs_f64();
    println!("{:.0} MB/s compressed", (data.len() * n) as f64 / el / 1e6);
    let t = std::time::Instant::now();
    use sha2::Digest;
    for _ in 0..n {
        std::hint::black_box(sha2::Sha256::digest(&data));
    }
    println!(
        "raw sha256 {:.0} MB/s",
        (data.len() * n) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
