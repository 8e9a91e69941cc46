//! Dumpers of whatever parses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = btfkit::parse::parse(data) {
        let mut out = Vec::new();
        btfkit::dump::raw::dump(&btf, &mut out).unwrap();
        out.clear();
        btfkit::dump::json::dump(&btf, true, &mut out).unwrap();
        let _ = btfkit::stat::Stats::of(&btf).to_text();
    }
});
