//! Writes a synthetic capture with many distinct modules (tests/common/synth.rs) for the
//! fleet benchmark (benches/fleet.sh).
//!
//!     cargo run --release --example fleet_pcap -- OUT.pcap MODULES [--fail-every N]
//!         [--all-fail] [--proxies P] [--per-conn K]

#[path = "../tests/common/synth.rs"]
mod synth;

use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let mut it = std::env::args().skip(1);
    let mut a = synth::Opts::default();
    let mut pos = Vec::new();
    while let Some(x) = it.next() {
        let mut num = || -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{x} needs a number"))
        };
        match x.as_str() {
            "--fail-every" => a.fail_every = num(),
            "--all-fail" => a.all_fail = true,
            "--proxies" => a.proxies = num().max(1) as u16,
            "--per-conn" => a.per_conn = num().max(1),
            _ => pos.push(x),
        }
    }
    assert!(
        pos.len() == 2,
        "usage: fleet_pcap OUT.pcap MODULES [--fail-every N] [--all-fail] [--proxies P] [--per-conn K]"
    );
    a.modules = pos[1].parse().expect("MODULES is a number");
    let file = std::fs::File::create(&pos[0])?;
    synth::write(BufWriter::with_capacity(1 << 20, file), &a)
}
