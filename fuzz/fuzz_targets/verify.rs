//! `btfkit verify`: the kernel verifier over any bytes, standalone and as
//! split BTF over a fixed small base. Whatever it accepts the kernel-level
//! parse accepts, and the other way round (the byte order aside: the kernel
//! reads its own only).
#![no_main]
use std::sync::{Arc, OnceLock};

use btfkit::parse::Validation;
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
        b.add_const(p).unwrap();
        let f = b.add_func_proto(int).unwrap();
        b.add_param("x", p).unwrap();
        b.add_func("base_fn", 1, f).unwrap();
        Arc::new(b)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let native = data.len() >= 2 && u16::from_ne_bytes([data[0], data[1]]) == 0xeb9f;
    if let Ok(problems) = btfkit::validate::verify_bytes(data, None) {
        for p in &problems {
            let _ = (p.to_string(), p.to_json());
        }
        let kernel = btfkit::parse::ParseOptions::new().with_validation(Validation::Kernel);
        let parsed = btfkit::parse::parse_with(data, &kernel).map(|(b, _)| b);
        if problems.is_empty() {
            let btf = parsed.expect("verify accepts what the kernel-level parse rejects");
            assert!(btf.validate(Validation::Kernel).is_empty());
        } else if native && parsed.is_ok() {
            panic!("the kernel-level parse accepts what verify rejects: {}", problems[0]);
        }
    }
    if let Ok(problems) = btfkit::validate::verify_bytes(data, Some(base())) {
        let kernel = btfkit::parse::ParseOptions::new().with_validation(Validation::Kernel).with_base(Some(base()));
        let parsed = btfkit::parse::parse_with(data, &kernel);
        if problems.is_empty() {
            parsed.expect("verify accepts a split BTF the kernel-level parse rejects");
        }
    }
});
