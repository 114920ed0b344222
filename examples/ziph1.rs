fn main() {
    for p in std::env::args().skip(1) {
        let data = std::fs::read(&p).unwrap();
        for step in [1usize, 7, 1000, 1 << 20] {
            let mut z = gomodwatch::gomod::h1::ZipHasher::new();
            for c in data.chunks(step) {
                z.update(c);
            }
            println!("{p} step {step}: {:?}", z.finish());
        }
    }
}
