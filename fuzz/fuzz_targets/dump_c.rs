//! C dump of whatever parses (libbpf validation level): default options, sorted, and from a root
//! (chosen by the first input byte). Errors are fine, panics are not.
#![no_main]
use libfuzzer_sys::fuzz_target;

use btfkit::btf::TypeId;
use btfkit::dump::c::{Options, render};

#[path = "parse_any.rs"]
mod parse_any;
use parse_any::parse_any;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = parse_any(data) {
        let mut out = Vec::new();
        let _ = render(&btf, &Options::default(), &mut out);
        let _ = render(&btf, &Options::default().with_sort(true), &mut out);
        let _ = render(&btf, &Options::default().with_upstream_libbpf_1_1(true), &mut out);
        let n = btf.type_count();
        if n > 1 {
            let root = 1 + (data.first().copied().unwrap_or(0) as u32) % (n - 1);
            let _ = render(&btf, &Options::default().with_roots(vec![TypeId(root)]), &mut out);
            let _ =
                render(&btf, &Options::default().with_roots(vec![TypeId(n - 1), TypeId(1)]).with_sort(true), &mut out);
        }
    }
});
