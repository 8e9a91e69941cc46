//! Raw BTF parser at both validation levels: never panics; what parses
//! writes back to the same bytes. Whatever the (less strict) libbpf level
//! accepts must also re-parse after writing and dump without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

use btfkit::parse::{ParseOptions, Validation};

/// The kernel validation level (the library's default is the libbpf level).
fn parse_kernel(data: &[u8]) -> btfkit::Result<btfkit::btf::Btf> {
    let opts = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Kernel);
    btfkit::parse::parse_with(data, &opts).map(|(b, _)| b)
}

fuzz_target!(|data: &[u8]| {
    let strict = parse_kernel(data);
    if let Ok(btf) = &strict {
        let out = btfkit::write::to_bytes(btf);
        // Canonical inputs round-trip exactly; every output must re-parse equal.
        let again = parse_kernel(&out).expect("writer output must parse");
        assert_eq!(&again, btf);
        if btf.hdr_len() == 24 && btf.layout().is_none() {
            assert_eq!(out, data);
        }
    }
    let opts = ParseOptions::new().with_validation(Validation::Libbpf);
    let lenient = btfkit::parse::parse_with(data, &opts).map(|(b, _)| b);
    match (&strict, &lenient) {
        // The libbpf level accepts everything the kernel level does (but a
        // foreign-endian BTF with a header longer than 24 bytes), as the same model.
        (Ok(s), Ok(l)) => assert_eq!(s, l),
        (Ok(s), Err(e)) => assert!(s.endian() != btfkit::btf::Endianness::default() && s.hdr_len() != 24, "{e}"),
        _ => {}
    }
    if let Ok(btf) = lenient {
        let out = btfkit::write::to_bytes(&btf);
        let again = btfkit::parse::parse_with(&out, &opts).expect("writer output must parse").0;
        assert_eq!(again, btf);
        if btf.hdr_len() == 24 && btf.layout().is_none() {
            assert_eq!(out, data);
        }
        let mut sink = Vec::new();
        btfkit::dump::raw::dump(&btf, &mut sink).unwrap();
        btfkit::dump::json::dump(&btf, false, &mut sink).unwrap();
    }
});
