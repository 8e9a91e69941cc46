//! Diff on hostile input: reports stay small.

use std::time::{Duration, Instant};

use btfkit::Btf;

fn reparse(b: &Btf) -> Btf {
    btfkit::parse::parse(&btfkit::write::to_bytes(b)).expect("test BTF must parse")
}

/// A typedef of a prototype whose 20000 parameters are each a prototype
/// with 20000 parameters (480 KB of BTF) changes to `int`: naming the old
/// target used to spell out 20000 x 20000 parameters (gigabytes).
#[test]
fn nested_prototype_display_is_bounded() {
    let mut a = Btf::new();
    let int = a.add_int("int", 4, 1).unwrap();
    let inner = a.add_func_proto(int).unwrap();
    for _ in 0..20_000 {
        a.add_param("", int).unwrap();
    }
    let outer = a.add_func_proto(int).unwrap();
    for _ in 0..20_000 {
        a.add_param("", inner).unwrap();
    }
    a.add_typedef("t", outer).unwrap();
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap();
    b.add_typedef("t", int).unwrap();
    let (a, b) = (reparse(&a), reparse(&b));
    let t = Instant::now();
    let r = btfkit::diff::diff(&a, &b);
    let text = r.to_text();
    assert!(!r.equivalent);
    assert!(t.elapsed() < Duration::from_secs(20), "diff took {:?}", t.elapsed());
    assert!(text.len() < 1 << 20, "report of {} bytes", text.len());
}
