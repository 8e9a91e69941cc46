//! Dumpers of whatever parses (at the libbpf validation level, a superset).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "parse_any.rs"]
mod parse_any;
use parse_any::parse_any;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = parse_any(data) {
        let mut out = Vec::new();
        btfkit::dump::raw::dump(&btf, &mut out).unwrap();
        out.clear();
        btfkit::dump::json::dump(&btf, true, &mut out).unwrap();
        let _ = btfkit::stat::Stats::of(&btf).to_text();
    }
});
