//! The C dumper on hostile but parseable BTF: it must end in bounded time and
//! memory, never panic or hang. It either writes the whole header or stops
//! with its bound error naming a type id.

use std::time::{Duration, Instant};

use btfkit::Btf;
use btfkit::btf::TypeId;
use btfkit::dump::c::{Options, render};

/// Parsed copy of `b` (so the case is reachable from input, not just the builder).
fn reparse(b: &Btf) -> Btf {
    btfkit::parse::parse(&btfkit::write::to_bytes(b)).expect("test BTF must parse")
}

fn check_bounded(b: &Btf, opts: &Options) {
    let t = Instant::now();
    let mut out = Vec::new();
    match render(b, opts, &mut out) {
        Ok(()) => assert!(out.ends_with(b"#endif /* __VMLINUX_H__ */\n"), "a complete header"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("type [")
                    && (msg.contains("(type graph blows up)") || msg.contains("padding up to bit")),
                "only the work/output bound stops the dump: {msg}"
            );
        }
    }
    assert!(t.elapsed() < Duration::from_secs(20), "C dump took {:?}", t.elapsed());
    assert!(out.len() < 1 << 30, "C dump produced {} bytes", out.len());
}

/// FUNC_PROTO P_k takes two P_(k-1) parameters: libbpf's algorithm orders
/// and prints 2^k copies of P_1.
#[test]
fn nested_func_proto_params_are_bounded() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap();
    let mut p = b.add_func_proto(int).unwrap();
    b.add_param("a", int).unwrap();
    for _ in 0..60 {
        let q = b.add_func_proto(int).unwrap();
        b.add_param("a", p).unwrap();
        b.add_param("b", p).unwrap();
        p = q;
    }
    let ptr = b.add_ptr(p).unwrap();
    b.add_typedef("fn_t", ptr).unwrap();
    let b = reparse(&b);
    check_bounded(&b, &Options::default());
    check_bounded(&b, &Options::default().with_roots(vec![TypeId(b.type_count() - 1)]));
}

/// Anonymous struct A_k holds two A_(k-1) members: each is printed inline,
/// so the header doubles with every level.
#[test]
fn nested_anonymous_structs_are_bounded() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap();
    let mut a = b.add_struct("", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    let mut size = 4u32;
    for _ in 0..60 {
        let n = b.add_struct("", size.saturating_mul(2)).unwrap();
        b.add_field("l", a, 0, 0).unwrap();
        b.add_field("r", a, 0, 0).unwrap();
        a = n;
        size = size.saturating_mul(2);
    }
    b.add_struct("top", 4).unwrap();
    b.add_field("t", a, 0, 0).unwrap();
    let b = reparse(&b);
    check_bounded(&b, &Options::default());
    check_bounded(&b, &Options::default().with_sort(true));
}

/// The sorted order computed per id with the public key functions (the
/// straightforward, quadratic way).
fn naive_sorted_order(b: &Btf) -> Vec<TypeId> {
    use btfkit::dump::c::{disambig_hash, sort_name, type_rank};
    let mut v: Vec<TypeId> = (0..b.type_count()).map(TypeId).collect();
    let own = |i: TypeId| b.type_by_id(i).and_then(|t| b.str_bytes(t.name_off)).unwrap_or(b"").to_vec();
    v.sort_by(|&x, &y| {
        type_rank(b, x, false)
            .cmp(&type_rank(b, y, false))
            .then_with(|| sort_name(b, x, false).cmp(sort_name(b, y, false)))
            .then_with(|| own(x).cmp(&own(y)))
            .then_with(|| disambig_hash(b, x, true).cmp(&disambig_hash(b, y, true)))
            .then_with(|| x.cmp(&y))
    });
    v.remove(0);
    v
}

/// The memoized sort keys agree with the per-id ones on real BTF.
#[test]
fn sorted_order_matches_per_id_keys() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("tests/fixtures/gen")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "btf"))
        .collect();
    files.sort();
    let mut n = 0;
    for f in files {
        let Ok(b) = btfkit::parse::parse(&std::fs::read(&f).unwrap()) else { continue };
        assert_eq!(btfkit::dump::c::sorted_order(&b), naive_sorted_order(&b), "{}", f.display());
        n += 1;
    }
    assert!(n > 0);
    if let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") {
        let b = btfkit::parse::parse(&data).unwrap();
        assert_eq!(btfkit::dump::c::sorted_order(&b), naive_sorted_order(&b), "vmlinux");
    }
}

/// A 300k-long modifier chain (3.6 MB): per-id chain walks would take
/// 300k^2 steps for each sort key.
#[test]
fn sorted_order_long_chain_is_linear() {
    let mut b = Btf::new();
    let mut prev = b.add_int("int", 4, 1).unwrap();
    for i in 0..300_000 {
        prev = if i % 2 == 0 { b.add_const(prev).unwrap() } else { b.add_volatile(prev).unwrap() };
    }
    let s = b.add_struct("s", 4).unwrap();
    for _ in 0..1000 {
        b.add_field("m", prev, 0, 0).unwrap();
    }
    let b = reparse(&b);
    let t = Instant::now();
    let order = btfkit::dump::c::sorted_order(&b);
    assert!(t.elapsed() < Duration::from_secs(10), "sorted_order took {:?}", t.elapsed());
    assert_eq!(order.len() as u32, b.type_count() - 1);
    assert!(order.contains(&s));
    // The dump itself (1,000 members walking the chain each) stops at the
    // work limit.
    check_bounded(&b, &Options::default().with_sort(true));
}

/// A 4 GiB struct: its trailing padding is 2^29 `long: 64;` lines.
#[test]
fn huge_struct_padding_is_bounded() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap();
    b.add_struct("big", u32::MAX).unwrap();
    b.add_field("a", int, 0, 0).unwrap();
    b.add_struct("big2", u32::MAX).unwrap();
    let b = reparse(&b);
    check_bounded(&b, &Options::default());
}
