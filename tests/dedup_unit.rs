//! Per-pass tests of `Btf::dedup` on BTFs built with the builder API. Each
//! test checks the expected shape of the result, then (when the libbpf
//! oracle is linked, which it always is as a dev-dependency) that the bytes
//! equal libbpf 1.7's, both for BTF parsed from bytes (strings pass runs) and
//! for BTF merged into an empty one (strings pass skipped).

mod dedup_common;

use std::sync::Arc;

use btfkit::btf::int_encoding::SIGNED;
use btfkit::dedup::DedupOptions;
use btfkit::{Btf, Kind, TypeId, TypeKind, parse, write};
use dedup_common::{LBtf, assert_same, assert_same_split};

/// Dedups a copy of `b` as parsed from its bytes, checks it against libbpf
/// (parsed, and appended into an empty BTF), returns our result.
fn dedup_checked(b: &Btf, opts: &DedupOptions) -> Btf {
    let raw = write::to_bytes(b);
    // Parsed from bytes: strings are rebuilt.
    let mut ours = parse::parse(&raw).expect("parse");
    ours.dedup(opts).expect("dedup");
    let ours_raw = write::to_bytes(&ours);
    let mut lb = LBtf::new(&raw);
    assert_eq!(lb.dedup(opts.force_collisions), 0);
    assert_same(&ours_raw, &lb.raw(), "parsed input");
    // Appended into an empty BTF: strings already unique, pass skipped.
    let mut ours2 = Btf::new();
    ours2.append(&parse::parse(&raw).unwrap()).unwrap();
    ours2.dedup(opts).unwrap();
    let mut lb2 = LBtf::new_empty();
    assert!(lb2.add_btf(&LBtf::new(&raw)) > 0);
    assert_eq!(lb2.dedup(opts.force_collisions), 0);
    assert_same(&write::to_bytes(&ours2), &lb2.raw(), "appended input");
    ours
}

fn dd(b: &Btf) -> Btf {
    dedup_checked(b, &DedupOptions::default())
}

/// "KIND name" per type, for readable assertions.
fn shape(b: &Btf) -> Vec<String> {
    b.iter().map(|(_, t)| format!("{} {}", t.kind().name(), b.name(t.name_off))).collect()
}

fn count(b: &Btf, k: Kind) -> usize {
    b.types().iter().filter(|t| t.kind() == k).count()
}

/// One "compilation unit": struct foo { int a; struct foo *next; long b; }.
fn cu_foo(b: &mut Btf) -> TypeId {
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let long = b.add_int("long", 8, SIGNED).unwrap();
    let s = b.add_struct("foo", 16).unwrap();
    let p = TypeId(s.0 + 1);
    b.add_field("a", int, 0, 0).unwrap();
    b.add_field("next", p, 64, 0).unwrap();
    b.add_field("b", long, 0, 0).unwrap();
    assert_eq!(b.add_ptr(s).unwrap(), p);
    s
}

#[test]
fn identical_structs_in_two_cus() {
    let mut b = Btf::new();
    cu_foo(&mut b);
    cu_foo(&mut b);
    assert_eq!(b.types().len(), 8);
    let out = dd(&b);
    assert_eq!(shape(&out), ["INT int", "INT long", "STRUCT foo", "PTR "]);
    // The pointer in the kept struct points at the kept struct.
    let TypeKind::Struct(c) = &out.types()[2].kind else { panic!() };
    assert_eq!(c.members[1].ty, TypeId(4));
    assert_eq!(out.types()[3].kind, TypeKind::Ptr(TypeId(3)));
}

#[test]
fn fwd_in_one_cu_defined_in_another() {
    let mut b = Btf::new();
    // CU 1: struct bar { struct foo *f; } with foo only declared.
    let fwd = b.add_fwd("foo", false).unwrap();
    let pf = b.add_ptr(fwd).unwrap();
    let bar = b.add_struct("bar", 8).unwrap();
    b.add_field("f", pf, 0, 0).unwrap();
    // CU 2: the same bar, foo defined.
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let foo = b.add_struct("foo", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    let pfoo = b.add_ptr(foo).unwrap();
    let bar2 = b.add_struct("bar", 8).unwrap();
    b.add_field("f", pfoo, 0, 0).unwrap();
    let _ = (bar, bar2);
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Fwd), 0, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Struct), 2, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Ptr), 1);
}

#[test]
fn lone_fwd_resolved_by_unique_name() {
    // resolve_fwds: a FWD not part of any compared graph.
    let mut b = Btf::new();
    let fwd = b.add_fwd("foo", false).unwrap();
    b.add_ptr(fwd).unwrap();
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let foo = b.add_struct("foo", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    b.add_ptr(foo).unwrap();
    let out = dd(&b);
    assert_eq!(shape(&out), ["PTR ", "INT int", "STRUCT foo"]);
    // Ambiguous name: two different foo, the FWD stays.
    let mut b2 = b.clone();
    let foo2 = b2.add_struct("foo", 8).unwrap();
    b2.add_field("y", int, 0, 0).unwrap();
    let _ = foo2;
    let out = dd(&b2);
    assert_eq!(count(&out, Kind::Fwd), 1);
    assert_eq!(count(&out, Kind::Struct), 2);
    // A union FWD does not resolve to a struct.
    let mut b3 = Btf::new();
    let fwd = b3.add_fwd("foo", true).unwrap();
    b3.add_ptr(fwd).unwrap();
    let int = b3.add_int("int", 4, SIGNED).unwrap();
    b3.add_struct("foo", 4).unwrap();
    b3.add_field("x", int, 0, 0).unwrap();
    assert_eq!(count(&dd(&b3), Kind::Fwd), 1);
}

#[test]
fn different_structs_same_name_survive() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let ch = b.add_int("char", 1, 0).unwrap();
    b.add_struct("s", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    b.add_struct("s", 4).unwrap();
    b.add_field("x", ch, 0, 0).unwrap(); // same layout, different member type
    b.add_struct("s", 8).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Struct), 3);
}

#[test]
fn self_referential_and_mutually_recursive() {
    let mut b = Btf::new();
    for _ in 0..3 {
        // struct a { struct b *b; }; struct b { struct a *a; struct b *self; };
        let a = b.type_count();
        let pa = a + 1;
        let sb = a + 2;
        let pb = a + 3;
        b.add_struct("a", 8).unwrap();
        b.add_field("b", TypeId(pb), 0, 0).unwrap();
        b.add_ptr(TypeId(a)).unwrap();
        b.add_struct("b", 16).unwrap();
        b.add_field("a", TypeId(pa), 0, 0).unwrap();
        b.add_field("self", TypeId(pb), 64, 0).unwrap();
        b.add_ptr(TypeId(sb)).unwrap();
    }
    let out = dd(&b);
    assert_eq!(shape(&out), ["STRUCT a", "PTR ", "STRUCT b", "PTR "]);
}

#[test]
fn anonymous_structs_embedded() {
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let anon = b.add_struct("", 8).unwrap();
        b.add_field("x", int, 0, 0).unwrap();
        b.add_field("y", int, 32, 0).unwrap();
        let anon_u = b.add_union("", 4).unwrap();
        b.add_field("i", int, 0, 0).unwrap();
        b.add_struct("outer", 16).unwrap();
        b.add_field("", anon, 0, 0).unwrap();
        b.add_field("u", anon_u, 64, 0).unwrap();
    }
    let out = dd(&b);
    assert_eq!(shape(&out), ["INT int", "STRUCT ", "UNION ", "STRUCT outer"]);
}

#[test]
fn typedef_chains() {
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("unsigned int", 4, 0).unwrap();
        let t1 = b.add_typedef("__u32", int).unwrap();
        let t2 = b.add_typedef("u32", t1).unwrap();
        let c = b.add_const(t2).unwrap();
        let t3 = b.add_typedef("cu32", c).unwrap();
        b.add_struct("s", 4).unwrap();
        b.add_field("v", t3, 0, 0).unwrap();
    }
    // A different typedef of the same name stays.
    let l = b.add_int("long", 8, SIGNED).unwrap();
    b.add_typedef("u32", l).unwrap();
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Typedef), 4, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Struct), 1);
    assert_eq!(count(&out, Kind::Const), 1);
}

#[test]
fn func_protos() {
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let ch = b.add_int("char", 1, 0).unwrap();
        let pc = b.add_ptr(ch).unwrap();
        let fp = b.add_func_proto(int).unwrap();
        b.add_param("s", pc).unwrap();
        b.add_param("n", int).unwrap();
        b.add_param("", TypeId(0)).unwrap(); // varargs
        b.add_func("f", btfkit::btf::func_linkage::GLOBAL, fp).unwrap();
        let fp2 = b.add_func_proto(TypeId(0)).unwrap();
        b.add_func("g", btfkit::btf::func_linkage::STATIC, fp2).unwrap();
    }
    let out = dd(&b);
    assert_eq!(count(&out, Kind::FuncProto), 2);
    assert_eq!(count(&out, Kind::Func), 2);
}

#[test]
fn arrays_of_arrays() {
    let mut b = Btf::new();
    for n in [3u32, 3, 4] {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let idx = b.add_int("__ARRAY_SIZE_TYPE__", 4, 0).unwrap();
        let a1 = b.add_array(int, idx, 2).unwrap();
        let a2 = b.add_array(a1, idx, n).unwrap();
        b.add_struct("m", 8 * n).unwrap();
        b.add_field("v", a2, 0, 0).unwrap();
    }
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Array), 3, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Struct), 2);
}

#[test]
fn enum_vs_enum64_same_name() {
    let mut b = Btf::new();
    // forward enum, then full ENUM64 of the same name, then full ENUM.
    b.add_enum("e", 4).unwrap();
    b.add_enum64("e", 8, false).unwrap();
    b.add_enum64_value("A", 1 << 40).unwrap();
    b.add_enum("e", 4).unwrap();
    b.add_enum_value("A", 1).unwrap();
    b.add_enum("e", 4).unwrap();
    b.add_enum_value("A", 1).unwrap();
    // a later forward declaration resolves to the first candidate in libbpf's order
    b.add_enum("e", 8).unwrap();
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Enum) + count(&out, Kind::Enum64), 2, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Enum64), 1);
}

#[test]
fn decl_tags_on_members_and_params() {
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let s = b.add_struct("s", 8).unwrap();
        b.add_field("a", int, 0, 0).unwrap();
        b.add_field("b", int, 32, 0).unwrap();
        b.add_decl_tag("user", s, 1).unwrap();
        b.add_decl_tag("packed", s, -1).unwrap();
        let fp = b.add_func_proto(int).unwrap();
        b.add_param("x", int).unwrap();
        let f = b.add_func("fn", 1, fp).unwrap();
        b.add_decl_tag("nonnull", f, 0).unwrap();
    }
    let out = dd(&b);
    assert_eq!(count(&out, Kind::DeclTag), 3);
    assert_eq!(count(&out, Kind::Struct), 1);
}

#[test]
fn type_tags_in_pointer_chains() {
    let mut b = Btf::new();
    for tag in ["user", "user", "percpu"] {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let tt = b.add_type_tag(tag, int).unwrap();
        let c = b.add_const(tt).unwrap();
        let p = b.add_ptr(c).unwrap();
        let tt2 = b.add_type_tag("rcu", p).unwrap();
        let pp = b.add_ptr(tt2).unwrap();
        b.add_struct(&format!("s_{tag}"), 8).unwrap();
        b.add_field("p", pp, 0, 0).unwrap();
    }
    let out = dd(&b);
    assert_eq!(count(&out, Kind::TypeTag), 4, "{:?}", shape(&out));
    assert_eq!(count(&out, Kind::Struct), 2);
}

#[test]
fn vars_and_datasecs_never_merge() {
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let v = b.add_var("x", 1, int).unwrap();
        b.add_datasec(".data", 4).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
    }
    let out = dd(&b);
    assert_eq!(shape(&out), ["INT int", "VAR x", "DATASEC .data", "VAR x", "DATASEC .data"]);
}

#[test]
fn force_collisions_gives_same_bytes() {
    let mut b = Btf::new();
    cu_foo(&mut b);
    cu_foo(&mut b);
    let e = b.add_enum("e", 4).unwrap();
    let _ = e;
    b.add_enum("e", 4).unwrap();
    b.add_enum_value("A", 0).unwrap();
    let a = write::to_bytes(&dedup_checked(&b, &DedupOptions::new().with_force_collisions(true)));
    let c = write::to_bytes(&dd(&b));
    assert_eq!(a, c);
}

#[test]
fn reference_loop_is_a_clean_error() {
    for ptr in [false, true] {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, SIGNED).unwrap();
        // [2] const -> [3] volatile -> [2]  (or through a PTR)
        b.add_const(TypeId(3)).unwrap();
        if ptr {
            b.add_ptr(TypeId(2)).unwrap()
        } else {
            b.add_volatile(TypeId(2)).unwrap()
        };
        b.add_typedef("t", int).unwrap();
        let before = b.clone();
        let err = b.dedup(&DedupOptions::default()).unwrap_err();
        assert!(err.to_string().contains("loop"), "{err}");
        assert_eq!(b, before, "BTF changed on error");
        // libbpf agrees that this fails (-ELOOP).
        let mut lb = LBtf::new_empty();
        assert!(lb.add_btf(&LBtf::new(&write::to_bytes(&before))) > 0);
        assert!(lb.dedup(false) < 0);
    }
}

#[test]
fn deep_chains_do_not_overflow_the_stack() {
    // 100k-long pointer/const chains and a 50k-deep struct nesting, twice.
    let mut b = Btf::new();
    for _ in 0..2 {
        let int = b.add_int("int", 4, SIGNED).unwrap();
        let mut t = int;
        for i in 0..100_000 {
            t = if i % 2 == 0 { b.add_ptr(t).unwrap() } else { b.add_const(t).unwrap() };
        }
        let mut s = t;
        // Distinct names: same-named structs would all be candidates of
        // each other (quadratic, in libbpf too).
        for i in 0..50_000 {
            let n = b.add_struct(&format!("n{i}"), 8).unwrap();
            b.add_field("x", s, 0, 0).unwrap();
            s = n;
        }
    }
    let n = b.types().len();
    let stats = b.dedup(&DedupOptions::default()).unwrap();
    assert_eq!(stats.types_in, n);
    assert_eq!(stats.types_out, n / 2);
}

#[test]
fn append_shifts_ids_and_interns_strings() {
    let mut a = Btf::new();
    let int = a.add_int("int", 4, SIGNED).unwrap();
    a.add_ptr(int).unwrap();
    let mut b = Btf::new();
    let ch = b.add_int("char", 1, 0).unwrap();
    let i2 = b.add_int("int", 4, SIGNED).unwrap();
    b.add_typedef("t", i2).unwrap();
    b.add_ptr(ch).unwrap();
    let first = a.append(&b).unwrap();
    assert_eq!(first, TypeId(3));
    assert_eq!(a.types()[4].kind, TypeKind::Typedef(TypeId(4)));
    assert_eq!(a.types()[5].kind, TypeKind::Ptr(TypeId(3)));
    // "int" is interned once.
    assert_eq!(a.strings().as_bytes(), b"\0int\0char\0t\0");
    // Same as libbpf.
    let mut lb = LBtf::new_empty();
    assert!(
        lb.add_btf(&LBtf::new(&write::to_bytes(&{
            let mut x = Btf::new();
            let i = x.add_int("int", 4, SIGNED).unwrap();
            x.add_ptr(i).unwrap();
            x
        }))) > 0
    );
    assert_eq!(lb.add_btf(&LBtf::new(&write::to_bytes(&b))), 3);
    let mut ours = Btf::new();
    let mut x = Btf::new();
    let i = x.add_int("int", 4, SIGNED).unwrap();
    x.add_ptr(i).unwrap();
    ours.append(&parse::parse(&write::to_bytes(&x)).unwrap()).unwrap();
    ours.append(&parse::parse(&write::to_bytes(&b)).unwrap()).unwrap();
    assert_same(&write::to_bytes(&ours), &lb.raw(), "append");
}

#[test]
fn append_split_needs_same_base() {
    let mut base = Btf::new();
    base.add_int("int", 4, SIGNED).unwrap();
    let base = Arc::new(base);
    let other_base = Arc::new((*base).clone());
    let mut a = Btf::new_split(base.clone());
    a.add_ptr(TypeId(1)).unwrap();
    let mut b = Btf::new_split(other_base);
    b.add_ptr(TypeId(1)).unwrap();
    assert!(a.append(&b).is_err());
    let mut c = Btf::new_split(base.clone());
    c.add_ptr(TypeId(1)).unwrap();
    c.add_ptr(TypeId(2)).unwrap();
    assert_eq!(a.append(&c).unwrap(), TypeId(3));
    // base ids kept, own ids shifted
    assert_eq!(a.types()[1].kind, TypeKind::Ptr(TypeId(1)));
    assert_eq!(a.types()[2].kind, TypeKind::Ptr(TypeId(3)));
}

/// Split BTF against an immutable base: equal types map to the base, a
/// base FWD is not resolved to a split struct (hypot_adjust_canon).
#[test]
fn split_against_base() {
    let mut base = Btf::new();
    let int = base.add_int("int", 4, SIGNED).unwrap();
    let s = base.add_struct("s", 4).unwrap();
    base.add_field("x", int, 0, 0).unwrap();
    let fwd = base.add_fwd("f", false).unwrap();
    base.add_struct("holder", 8).unwrap();
    let pf = TypeId(fwd.0 + 2);
    base.add_field("p", pf, 0, 0).unwrap();
    base.add_ptr(fwd).unwrap();
    base.add_typedef("td", int).unwrap();
    let _ = s;
    let base_raw = write::to_bytes(&base);
    let base = Arc::new(parse::parse(&base_raw).unwrap());

    let mut m = Btf::new_split(base.clone());
    let int2 = m.add_int("int", 4, SIGNED).unwrap();
    let s2 = m.add_struct("s", 4).unwrap();
    m.add_field("x", int2, 0, 0).unwrap();
    m.add_ptr(s2).unwrap();
    // holder with f defined: equivalent to base holder only by resolving
    // the base FWD, which must not happen.
    let f = m.add_struct("f", 4).unwrap();
    m.add_field("x", int2, 0, 0).unwrap();
    let pf2 = m.add_ptr(f).unwrap();
    m.add_struct("holder", 8).unwrap();
    m.add_field("p", pf2, 0, 0).unwrap();
    m.add_typedef("td", int2).unwrap();
    let raw = write::to_bytes(&m);

    let lbase = LBtf::new(&base_raw);
    for (fix, expect_typedefs) in [(false, 1), (true, 0)] {
        let mut ours = parse::parse_split(&raw, base.clone()).unwrap();
        ours.dedup(&DedupOptions::new().with_base_typedef_fix(fix)).unwrap();
        assert_eq!(count(&ours, Kind::Typedef), expect_typedefs, "base_typedef_fix {fix}");
        assert_eq!(count(&ours, Kind::Int), 0);
        // s and its pointer map to base; f and holder stay in the split part.
        assert_eq!(count(&ours, Kind::Struct), 2, "{:?}", shape(&ours));
        if !fix {
            let mut lb = LBtf::new_split(&raw, &lbase);
            assert_eq!(lb.dedup(false), 0);
            assert_same_split(&write::to_bytes(&ours), &lb.raw(), "split");
        }
    }
}

#[test]
fn strings_rebuilt_in_first_reference_order() {
    // A parsed BTF with unused and duplicate strings.
    let mut b = Btf::new();
    b.add_str("unused").unwrap();
    let int = b.add_int("int", 4, SIGNED).unwrap();
    b.add_struct("s", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    let out = dd(&b);
    assert_eq!(out.strings().as_bytes(), b"\0int\0s\0x\0");
    // Built with the builder (strings already unique): kept as they are.
    let mut kept = b.clone();
    kept.dedup(&DedupOptions::default()).unwrap();
    assert_eq!(kept.strings().as_bytes(), b"\0unused\0int\0s\0x\0");
}

/// When several canonical candidates match, libbpf takes the first in its
/// hash chain, whose order depends on insertions and table growth. An enum
/// forward declaration matches every full enum of its name: which one it
/// (and the pointer to it) resolves to shows the order.
#[test]
fn candidate_order_follows_libbpf_hashmap() {
    for n in 1..=40u32 {
        let mut b = Btf::new();
        // Unrelated canonical types to move the table through growths.
        for i in 0..n {
            b.add_int(&format!("i{i}"), 4, 0).unwrap();
        }
        for i in 0..n {
            b.add_enum("e", 4).unwrap();
            b.add_enum_value(&format!("V{i}"), i as i64).unwrap();
        }
        let fwd = b.add_enum("e", 4).unwrap();
        b.add_ptr(fwd).unwrap();
        let out = dd(&b);
        let TypeKind::Ptr(target) = out.types().last().unwrap().kind else { panic!() };
        assert!(target.0 > n, "n={n}: pointer resolved to {target:?}");
    }
}

/// libbpf's identical-types fallback reads both ARRAY descriptors from the
/// first type, so arrays of the same length count as identical whatever
/// their element types. Reproduced: a struct whose two array members are
/// int[2] and long[2] merges into one whose members share one int[2].
#[test]
fn identical_types_array_quirk_is_reproduced() {
    let mut b = Btf::new();
    // canonical unit: both members use the same array type
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let y = b.add_array(int, int, 2).unwrap();
    b.add_struct("s", 24).unwrap();
    b.add_field("a", y, 0, 0).unwrap();
    b.add_field("b", y, 64, 0).unwrap();
    // candidate unit: int[2] and long[2]
    let int2 = b.add_int("int", 4, SIGNED).unwrap();
    let long = b.add_int("long", 8, SIGNED).unwrap();
    let xa = b.add_array(int2, int2, 2).unwrap();
    let xb = b.add_array(long, int2, 2).unwrap();
    b.add_struct("s", 24).unwrap();
    b.add_field("a", xa, 0, 0).unwrap();
    b.add_field("b", xb, 64, 0).unwrap();
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Struct), 1, "{:?}", shape(&out));
}

/// A loop through a pointer but through no struct or union (PTR -> ARRAY ->
/// PTR) is valid BTF (the kernel loads it) but neither dedup resolves it:
/// ours says so by name, libbpf fails too.
#[test]
fn pointer_array_loop_is_refused_like_libbpf() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, SIGNED).unwrap();
    let p = b.add_ptr(TypeId(3)).unwrap();
    let arr = b.add_array(p, int, 2).unwrap();
    assert_eq!(arr, TypeId(3));
    let raw = write::to_bytes(&b);
    let mut ours = parse::parse(&raw).expect("a loop through a pointer is valid BTF");
    let err = ours.dedup(&DedupOptions::default()).unwrap_err();
    assert!(
        matches!(&err, btfkit::Error::DedupLoop { path, .. } if path.contains("PTR") && path.contains("ARRAY")),
        "{err}"
    );
    assert!(err.to_string().contains("struct or union"), "{err}");
    assert_eq!(ours, parse::parse(&raw).unwrap(), "a refused dedup leaves the BTF unchanged");
    let mut lb = LBtf::new(&raw);
    assert!(lb.dedup(false) < 0, "libbpf refuses it too");
}

/// Why btfkit does not drop an exact copy of an earlier unit while merging
/// (hash-consing, issue 16): libbpf's result is not a function of the
/// distinct types. An enum forward declaration is pointed, in the
/// primitive pass, at every full enum of its name that meets it in the
/// candidate chain before finding its own equal, so a later copy of a unit
/// can re-point it. Here a pointer to the forward declaration ends up at
/// `enum e {B}` without the copy and at `enum e {A}` with it (libbpf 1.7
/// and btfkit alike); dropping the copy would change the output.
#[test]
fn a_copy_of_a_unit_can_change_the_result() {
    let fwd_unit = |b: &mut Btf| {
        let f = b.add_enum("e", 4).unwrap(); // no values: a forward declaration
        b.add_ptr(f).unwrap();
    };
    let enum_unit = |b: &mut Btf, v: &str| {
        b.add_enum("e", 4).unwrap();
        b.add_enum_value(v, 0).unwrap();
    };
    let build = |copy: bool| {
        let mut b = Btf::new();
        fwd_unit(&mut b);
        enum_unit(&mut b, "A");
        enum_unit(&mut b, "B");
        // One more canonical type: libbpf's hash map grows here, which
        // reverses the chain order that the copy then walks.
        b.add_int("int", 4, SIGNED).unwrap();
        if copy {
            enum_unit(&mut b, "A");
        }
        b
    };
    let target_of_ptr = |b: &Btf| {
        let p = b.types().iter().find_map(|t| match t.kind {
            TypeKind::Ptr(to) => Some(to),
            _ => None,
        });
        let e = b.type_by_id(p.expect("a pointer")).expect("pointer target");
        let TypeKind::Enum(en) = &e.kind else { panic!("pointer to {e:?}") };
        b.name(en.values[0].name_off).into_owned()
    };
    let without = dedup_checked(&build(false), &DedupOptions::default());
    let with = dedup_checked(&build(true), &DedupOptions::default());
    assert_eq!(target_of_ptr(&without), "B");
    assert_eq!(target_of_ptr(&with), "A");
}

/// Enums are hashed by name only, so anonymous ones all meet in one
/// candidate chain; the prim pass finds an equal canonical enum by content
/// when no enum forward declaration shares the chain. Random enums (mostly
/// anonymous, ENUM and ENUM64, values from small pools so that many repeat),
/// without and then with forward declarations among them, against libbpf.
#[test]
fn enums_by_content() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..12 {
        let fwds = round >= 6;
        let mut b = Btf::new();
        let int = b.add_int("int", 4, SIGNED).unwrap();
        for _ in 0..300 {
            let name = ["", "", "", "e", "f"][rnd(5) as usize];
            if fwds && rnd(8) == 0 {
                b.add_enum(name, [4, 8][rnd(2) as usize]).unwrap();
                continue;
            }
            let n = 1 + rnd(3);
            let e = if rnd(4) == 0 {
                b.add_enum64(name, 8, false).unwrap();
                for k in 0..n {
                    b.add_enum64_value(["A", "B", "C"][k as usize], rnd(3) << 33).unwrap();
                }
                TypeId(b.type_count() - 1)
            } else {
                let e = b.add_enum(name, 4).unwrap();
                for k in 0..n {
                    b.add_enum_value(["A", "B", "C"][k as usize], rnd(3) as i64).unwrap();
                }
                e
            };
            // A user, so that the struct pass walks through enums too.
            if rnd(4) == 0 {
                b.add_struct("u", 8).unwrap();
                b.add_field("e", e, 0, 0).unwrap();
                b.add_field("i", int, 32, 0).unwrap();
            }
        }
        let out = dd(&b);
        let enums = count(&out, Kind::Enum) + count(&out, Kind::Enum64);
        assert!(enums < 300 / 2, "round {round}: {enums} enums left: {:?}", shape(&out));
    }
}

/// Enums whose contents hash alike but differ (the content hash is
/// `h * 31 + v` per field: `A = 62` and `B = 0` collide when "B" is stored
/// two bytes after "A"), signed and unsigned ones, and ones that differ only
/// in size: each stays apart, each copy meets its own, against libbpf.
#[test]
fn enums_whose_contents_hash_alike() {
    let mut b = Btf::new();
    b.add_str("A").unwrap();
    b.add_str("B").unwrap();
    let add = |b: &mut Btf, name: &str, v: i64, size: u32| {
        b.add_enum("", size).unwrap();
        b.add_enum_value(name, v).unwrap();
    };
    for _ in 0..3 {
        add(&mut b, "A", 62, 4);
        add(&mut b, "B", 0, 4);
        add(&mut b, "A", 62, 2);
        add(&mut b, "A", -1, 4);
        add(&mut b, "A", 0xffff_ffff, 4);
    }
    let out = dd(&b);
    assert_eq!(count(&out, Kind::Enum), 5, "{:?}", shape(&out));
}
