//! Diff of whatever parses (libbpf validation level): never panics, a BTF is equivalent to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "parse_any.rs"]
mod parse_any;
use parse_any::parse_any;

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
