//! Dedup on hostile but parseable BTF: it must end in bounded time, and be
//! idempotent.

use std::time::{Duration, Instant};

use btfkit::Btf;
use btfkit::btf::TypeId;
use btfkit::dedup::DedupOptions;

fn reparse(b: &Btf) -> Btf {
    btfkit::parse::parse(&btfkit::write::to_bytes(b)).expect("test BTF must parse")
}

/// Adds a chain of `levels` structs named s1..sN, each with `width`
/// members of the previous one (s1's members are `int`), starting at id
/// `first`; returns the id of the last one.
fn chain(b: &mut Btf, int: TypeId, levels: u32, width: u32) -> TypeId {
    let mut prev = int;
    for k in 1..=levels {
        let id = b.add_struct(&format!("s{k}"), 4).unwrap();
        for m in 0..width {
            b.add_field(&format!("m{m}"), prev, 0, 0).unwrap();
        }
        prev = id;
    }
    prev
}

/// Struct `c` {x *a; x *b;} twice; in the second copy `a` and `b` point
/// to two distinct (not yet deduplicated) copies of a struct DAG 12 deep
/// and 8 wide. libbpf's `btf_dedup_identical_types` then compares the two
/// copies without memoization: 8^12 member pairs.
#[test]
fn identical_types_dag_is_bounded() {
    let (levels, width) = (12, 8);
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap();
    let x = chain(&mut b, int, levels, width);
    let px = b.add_ptr(x).unwrap();
    b.add_struct("c", 16).unwrap();
    b.add_field("a", px, 0, 0).unwrap();
    b.add_field("b", px, 64, 0).unwrap();
    let d = b.type_count();
    let (pa, pb) = (TypeId(d + 1), TypeId(d + 2));
    b.add_struct("c", 16).unwrap();
    b.add_field("a", pa, 0, 0).unwrap();
    b.add_field("b", pb, 64, 0).unwrap();
    let s_first = d + 3;
    let t_first = s_first + levels;
    b.add_ptr(TypeId(t_first - 1)).unwrap();
    b.add_ptr(TypeId(t_first + levels - 1)).unwrap();
    let s = chain(&mut b, int, levels, width);
    assert_eq!(s.0, t_first - 1);
    let t = chain(&mut b, int, levels, width);
    assert_eq!(t.0, t_first + levels - 1);

    let mut b = reparse(&b);
    let start = Instant::now();
    b.dedup(&DedupOptions::default()).unwrap();
    assert!(start.elapsed() < Duration::from_secs(20), "dedup took {:?}", start.elapsed());
    // Everything collapses onto the first copy.
    assert_eq!(b.types().len() as u32, 1 + levels + 2);
    let once = btfkit::write::to_bytes(&b);
    let mut again = btfkit::parse::parse(&once).unwrap();
    again.dedup(&DedupOptions::default()).unwrap();
    assert_eq!(btfkit::write::to_bytes(&again), once);
}
