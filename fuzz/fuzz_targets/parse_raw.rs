//! Raw BTF parser: never panics; what parses writes back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = btfkit::parse::parse(data) {
        let out = btfkit::write::to_bytes(&btf);
        // Canonical inputs round-trip exactly; every output must re-parse equal.
        let again = btfkit::parse::parse(&out).expect("writer output must parse");
        assert_eq!(again, btf);
        if btf.hdr_len() == 24 && btf.layout().is_none() {
            assert_eq!(out, data);
        }
    }
});
