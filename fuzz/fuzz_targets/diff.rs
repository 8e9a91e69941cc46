//! Diff of whatever parses (libbpf validation level): never panics, a BTF is equivalent to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// The libbpf level, or the kernel level for what only it accepts.
fn parse_any(data: &[u8]) -> btfkit::Result<btfkit::Btf> {
    let opts = btfkit::parse::ParseOptions { validation: btfkit::parse::Validation::Libbpf, ..Default::default() };
    btfkit::parse::parse_with(data, &opts).map(|(b, _)| b).or_else(|_| btfkit::parse::parse(data))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let cut = (data[0] as usize * 256 + data[1] as usize) % data.len().max(1);
    let (x, y) = data[2..].split_at(cut.min(data.len() - 2));
    let a = parse_any(x);
    let b = parse_any(y);
    if let Ok(a) = &a {
        let r = btfkit::diff::diff(a, a);
        assert!(r.equivalent, "a BTF must be equivalent to itself");
    }
    if let (Ok(a), Ok(b)) = (a, b) {
        let r = btfkit::diff::diff(&a, &b);
        let _ = r.to_text();
        let _ = r.to_json();
    }
});
