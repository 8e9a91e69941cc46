//! Dumpers of whatever parses (at the libbpf validation level, a superset).
#![no_main]
use libfuzzer_sys::fuzz_target;

/// The libbpf level, or the kernel level for what only it accepts.
fn parse_any(data: &[u8]) -> btfkit::Result<btfkit::Btf> {
    let opts = btfkit::parse::ParseOptions { validation: btfkit::parse::Validation::Libbpf, ..Default::default() };
    btfkit::parse::parse_with(data, &opts).map(|(b, _)| b).or_else(|_| btfkit::parse::parse(data))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = parse_any(data) {
        let mut out = Vec::new();
        btfkit::dump::raw::dump(&btf, &mut out).unwrap();
        out.clear();
        btfkit::dump::json::dump(&btf, true, &mut out).unwrap();
        let _ = btfkit::stat::Stats::of(&btf).to_text();
    }
});
