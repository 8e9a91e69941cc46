//! Split BTF over a fixed small base.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;

fn base() -> Arc<btfkit::Btf> {
    static BASE: OnceLock<Arc<btfkit::Btf>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut b = btfkit::Btf::new();
        let int = b.add_int("int", 4, 1).unwrap();
        let s = b.add_struct("base_struct", 8).unwrap();
        b.add_field("a", int, 0, 0).unwrap();
        b.add_field("b", int, 32, 0).unwrap();
        let p = b.add_ptr(s).unwrap();
        let f = b.add_func_proto(int).unwrap();
        b.add_param("x", p).unwrap();
        b.add_func("base_fn", 1, f).unwrap();
        Arc::new(b)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = btfkit::parse::parse_split(data, base()) {
        let out = btfkit::write::to_bytes(&btf);
        let again = btfkit::parse::parse_split(&out, base()).expect("writer output must parse");
        assert_eq!(again, btf);
        let mut sink = Vec::new();
        btfkit::dump::raw::dump(&btf, &mut sink).unwrap();
    }
});
