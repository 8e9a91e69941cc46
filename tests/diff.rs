//! `btfkit diff`: structural comparison of two BTFs.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use btfkit::btf::{Kind, int_encoding};
use btfkit::diff::{Change, MemberRef, Report, Subject, Via, ViaWhat, What, diff};
use btfkit::{Btf, TypeId, input};

// ---- helpers ----

/// A deterministic xorshift generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The same BTF with its types in another order (every TypeId remapped)
/// and its string table rebuilt in another order.
fn permute(btf: &Btf, seed: u64) -> Btf {
    assert!(btf.base().is_none());
    let mut rng = Rng(seed | 1);
    let n = btf.types().len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut new_id = vec![0u32; n + 1];
    for (pos, &old) in order.iter().enumerate() {
        new_id[old + 1] = pos as u32 + 1;
    }
    // Strings in a shuffled order.
    let mut strs: Vec<Vec<u8>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in btf.types() {
        let mut t = t.clone();
        t.for_each_str_mut(|off| {
            let s = btf.str_bytes(*off).expect("valid string").to_vec();
            if !s.is_empty() && seen.insert(s.clone()) {
                strs.push(s);
            }
        });
    }
    rng.shuffle(&mut strs);
    let mut out = Btf::new();
    let mut off_of: HashMap<Vec<u8>, btfkit::btf::StrOff> = HashMap::new();
    off_of.insert(Vec::new(), btfkit::btf::StrOff::EMPTY);
    for s in strs {
        let off = out.add_str_bytes(&s).unwrap();
        off_of.insert(s, off);
    }
    for &old in &order {
        let mut t = btf.types()[old].clone();
        t.for_each_ref_mut(|id| *id = TypeId(new_id.get(id.0 as usize).copied().unwrap_or(id.0)));
        t.for_each_str_mut(|off| *off = off_of[btf.str_bytes(*off).unwrap()]);
        out.push_type(t).unwrap();
    }
    // Really different numbering and string layout.
    if n > 3 {
        assert_ne!(out.types(), btf.types());
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum V {
    Base,
    MemberType,
    Offset,
    Rename,
    EnumAdd,
    EnumChange,
    DupStruct,
    Fwd,
    AnonMember,
    DeepCycle,
    Size,
}

/// A small BTF with a cycle, an anonymous union, an enum, a function, a
/// variable and a datasec; `v` injects one change.
fn sample(v: V) -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let long = b.add_int("long", 8, int_encoding::SIGNED).unwrap();
    let uint = b.add_int("unsigned int", 4, 0).unwrap();
    let bar = if v == V::Fwd {
        b.add_fwd("bar", false).unwrap()
    } else {
        let s = b.add_struct("bar", 8).unwrap();
        b.add_field("x", long, 0, 0).unwrap();
        s
    };
    let pbar = b.add_ptr(bar).unwrap();
    // struct list { struct list *next; int v; } (a cycle through the pointer)
    let add_list = |b: &mut Btf| {
        let list = b.add_struct("list", 16).unwrap();
        b.add_field("next", TypeId(list.0 + 1), 0, 0).unwrap();
        b.add_field("v", if v == V::DeepCycle { long } else { int }, 64, 0).unwrap();
        b.add_ptr(list).unwrap()
    };
    let plist = add_list(&mut b);
    if v == V::DupStruct {
        add_list(&mut b);
    }
    let u = b.add_union("", 4).unwrap();
    b.add_field("a", int, 0, 0).unwrap();
    b.add_field("u", if v == V::AnonMember { long } else { uint }, 0, 0).unwrap();
    let foo_s = b.add_struct("foo", if v == V::Size { 40 } else { 32 }).unwrap();
    b.add_field("bar", if v == V::MemberType { long } else { int }, 0, 0).unwrap();
    b.add_field(if v == V::Rename { "qux" } else { "baz" }, long, if v == V::Offset { 96 } else { 64 }, 0).unwrap();
    b.add_field("b", pbar, 128, 0).unwrap();
    b.add_field("", u, 192, 0).unwrap();
    b.add_field("l", plist, 256 - 32, 0).unwrap();
    b.add_field("flags", uint, 224 + 32, 3).unwrap();
    b.add_enum("e", 4).unwrap();
    b.add_enum_value("A", 0).unwrap();
    b.add_enum_value("B", if v == V::EnumChange { 5 } else { 1 }).unwrap();
    if v == V::EnumAdd {
        b.add_enum_value("C", 2).unwrap();
    }
    let pfoo = b.add_ptr(foo_s).unwrap();
    b.add_typedef("foo_t", foo_s).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("p", pfoo).unwrap();
    b.add_param("n", int).unwrap();
    b.add_func("do_foo", 1, proto).unwrap();
    let var = b.add_var("gv", 1, int).unwrap();
    b.add_datasec(".data", 4).unwrap();
    b.add_datasec_var(var, 0, 4).unwrap();
    b
}

/// Asserts the report holds the change `what` at `at` (a type's title and
/// the path to an anonymous inner type).
fn assert_has(r: &Report, at: &str, what: What) {
    let want = Change { at: at.to_string(), what };
    assert!(r.all_changes().any(|c| *c == want), "missing {want:?} in:\n{}", r.to_text());
}

fn named(n: &str) -> MemberRef {
    MemberRef::Named(n.to_string())
}

fn retyped(subject: Subject, from: &str, to: &str) -> What {
    What::Retyped { subject, from: from.to_string(), to: to.to_string() }
}

fn different(v: V) -> Report {
    let a = sample(V::Base);
    let b = permute(&sample(v), 0x5eed + v as u64);
    let r = diff(&a, &b);
    assert!(!r.equivalent, "{v:?} not detected:\n{}", r.to_text());
    r
}

// ---- equivalence ----

#[test]
fn permuted_builder_btf_is_equivalent() {
    for v in [V::Base, V::MemberType, V::DupStruct, V::Fwd, V::AnonMember, V::DeepCycle] {
        let a = sample(v);
        for seed in 1..6 {
            let b = permute(&a, seed * 7919);
            let r = diff(&a, &b);
            assert!(r.equivalent, "{v:?} seed {seed}:\n{}", r.to_text());
            assert!(r.only_a.is_empty() && r.only_b.is_empty() && r.changed.is_empty());
        }
    }
    // The same comparison sees a real change.
    assert!(!diff(&sample(V::Base), &permute(&sample(V::MemberType), 3)).equivalent);
}

#[test]
fn permuted_host_vmlinux_is_equivalent() {
    let Some(p) = common::host_vmlinux() else {
        return common::skip_soft("/sys/kernel/btf/vmlinux not readable");
    };
    let a = input::load(&p, None).unwrap();
    let b = permute(&a, 0xabcdef);
    let r = diff(&a, &b);
    assert!(r.equivalent, "{}", r.to_text());
    assert_eq!(r.types_a as usize, a.types().len());
    // Dropping one named struct's member is seen.
    let mut c = b.clone();
    let victim = btfkit::btf::unchecked::types_mut(&mut c)
        .iter_mut()
        .find(|t| !t.name_off.is_empty() && t.as_composite().is_some_and(|c| c.members.len() > 2))
        .unwrap();
    if let btfkit::TypeKind::Struct(s) | btfkit::TypeKind::Union(s) = &mut victim.kind {
        s.members.pop();
    }
    let r = diff(&a, &c);
    assert!(!r.equivalent);
    assert!(r.changed.iter().filter(|c| c.is_direct()).count() == 1, "{}", r.to_text());
}

// ---- single changes ----

#[test]
fn member_type_change() {
    let r = different(V::MemberType);
    assert_has(&r, "struct foo", retyped(Subject::Member(named("bar")), "int", "long"));
    // The text report renders the value as one line.
    assert!(r.to_text().contains("\n  struct foo: member 'bar' type 'int' → 'long'\n"), "{}", r.to_text());
    // Types referencing foo changed only through it.
    let td = r.changed.iter().find(|c| c.title == "typedef foo_t").expect("typedef foo_t reported");
    assert!(!td.is_direct(), "{td:?}");
    assert_eq!(r.direct_count(), 1, "{}", r.to_text());
    assert!(r.only_a.is_empty() && r.only_b.is_empty(), "{}", r.to_text());
}

#[test]
fn offset_change() {
    let r = different(V::Offset);
    assert_has(&r, "struct foo", What::MemberOffset { member: named("baz"), from: 64, to: 96 });
}

#[test]
fn size_change() {
    let r = different(V::Size);
    assert_has(&r, "struct foo", What::Size { from: 32, to: 40 });
}

#[test]
fn renamed_member() {
    let r = different(V::Rename);
    assert_has(&r, "struct foo", What::MemberRemoved { member: named("baz") });
    assert_has(&r, "struct foo", What::MemberAdded { member: named("qux"), placed: Some(("long".into(), 64)) });
}

#[test]
fn enum_value_added_and_changed() {
    let r = different(V::EnumAdd);
    assert_has(&r, "enum e", What::EnumValueAdded { name: "C".into(), value: 2 });
    let r = different(V::EnumChange);
    assert_has(&r, "enum e", What::EnumValueChanged { name: "B".into(), from: 1, to: 5 });
}

#[test]
fn duplicated_struct() {
    let r = different(V::DupStruct);
    let d = r.duplicates.iter().find(|d| d.title == "struct list").unwrap_or_else(|| panic!("{}", r.to_text()));
    assert_eq!((d.count_a, d.count_b, d.kind), (1, 2, Kind::Struct));
    assert!(r.changed.is_empty() && r.only_a.is_empty() && r.only_b.is_empty(), "{}", r.to_text());
    assert!(r.to_text().contains("struct list: 1 in A, 2 in B"));
}

#[test]
fn fwd_where_struct_was() {
    let r = different(V::Fwd);
    assert_has(&r, "struct bar", What::Kind { from: Kind::Struct, to: Kind::Fwd });
    let foo = r.changed.iter().find(|c| c.title == "struct foo").unwrap();
    assert!(!foo.is_direct(), "{foo:?}");
    let via = Via {
        at: "struct foo".into(),
        what: ViaWhat::Reference { subject: Subject::Member(named("b")), ty: "struct bar *".into() },
    };
    assert_eq!(foo.via, vec![via]);
}

#[test]
fn anonymous_member_by_path() {
    let r = different(V::AnonMember);
    assert_has(&r, "struct foo.(anon union #1)", retyped(Subject::Member(named("u")), "unsigned int", "long"));
}

#[test]
fn change_inside_a_cycle() {
    let r = different(V::DeepCycle);
    assert_has(&r, "struct list", retyped(Subject::Member(named("v")), "int", "long"));
    // foo reaches list through a pointer: changed through it only.
    let foo = r.changed.iter().find(|c| c.title == "struct foo").unwrap();
    assert!(!foo.is_direct());
}

#[test]
fn cycles_of_different_shape_are_equal() {
    // struct s { struct s *p; } once, and as two copies pointing at each other.
    let mut a = Btf::new();
    let s = a.add_struct("s", 8).unwrap();
    a.add_field("p", TypeId(s.0 + 1), 0, 0).unwrap();
    a.add_ptr(s).unwrap();
    let mut b = Btf::new();
    let s1 = b.add_struct("s", 8).unwrap(); // 1
    b.add_field("p", TypeId(4), 0, 0).unwrap();
    b.add_ptr(s1).unwrap(); // 2
    let s2 = b.add_struct("s", 8).unwrap(); // 3
    b.add_field("p", TypeId(2), 0, 0).unwrap();
    b.add_ptr(s2).unwrap(); // 4
    let r = diff(&a, &b);
    // Same meaning, twice the copies: a dedup failure, nothing else.
    assert!(!r.equivalent);
    assert!(r.changed.is_empty() && r.only_a.is_empty() && r.only_b.is_empty(), "{}", r.to_text());
    assert_eq!(r.duplicates.len(), 1, "{}", r.to_text());
    assert!(btfkit::diff::types_equal(&a, s, &b, s2));
}

#[test]
fn million_long_const_chain() {
    let chain = |base: &str| {
        let mut b = Btf::new();
        let mut t = b.add_int(base, 4, int_encoding::SIGNED).unwrap();
        for _ in 0..1_000_000 {
            t = b.add_const(t).unwrap();
        }
        b.add_typedef("deep", t).unwrap();
        b
    };
    let a = chain("int");
    let r = diff(&a, &permute(&a, 42));
    assert!(r.equivalent, "{}", r.summary());
    let r = diff(&a, &chain("long"));
    assert!(!r.equivalent);
    assert!(r.only_a.iter().any(|e| e.title == "int int"), "{}", r.summary());
    assert!(r.changed.iter().any(|c| c.title == "typedef deep"), "{}", r.summary());
}

// ---- the real kernel pair ----

#[test]
fn kernel_standard_vs_archive_dedup() {
    let Some(shared) = common::shared() else {
        return common::skip_soft("../shared not present");
    };
    let dir = shared.join("fixtures/kernel-archive");
    let std_btf = input::load(&dir.join("standard.btf"), None).unwrap();
    let structural = [Kind::Struct, Kind::Union, Kind::Enum, Kind::Enum64, Kind::Typedef, Kind::Fwd];

    // All 837 members (the last is pahole's full BTF) deduplicated.
    let all = input::load(&dir.join("archive.dedup.libbpf-1.1.btf"), None).unwrap();
    let r = diff(&std_btf, &all);
    eprintln!("{}", r.summary());
    assert!(!r.equivalent);
    for e in r.only_a.iter().chain(&r.only_b) {
        assert!(!structural.contains(&e.kind), "{e:?}");
    }
    for c in &r.changed {
        assert!(!structural.contains(&c.kind_a), "{c:?}");
    }
    assert!(r.duplicates.iter().all(|d| d.kind == Kind::Var), "libbpf never merges VARs");
    assert_eq!(r.only_b.iter().filter(|e| e.kind == Kind::Datasec).count(), 87);
    assert!(r.only_b.iter().any(|e| e.kind == Kind::Func));

    // Only the per-object members: per-CPU VARs in .data..percpu..* subsections are missing.
    let objs = input::load(&dir.join("archive.dedup-objs-only.libbpf-1.1.btf"), None).unwrap();
    let r = diff(&std_btf, &objs);
    eprintln!("{}", r.summary());
    let vars: Vec<&str> = r.only_a.iter().filter(|e| e.kind == Kind::Var).map(|e| e.title.as_str()).collect();
    assert_eq!(vars.len(), 39, "{vars:?}");
    assert!(vars.contains(&"var call_single_queue") && vars.contains(&"var cpu_info"));
    assert!(r.only_a.iter().any(|e| e.title == "func __get_user_1"), "asm functions declared in C");
    for e in r.only_a.iter().chain(&r.only_b) {
        assert!(!structural.contains(&e.kind), "{e:?}");
    }
}

// ---- CLI ----

fn tmp(name: &str) -> PathBuf {
    let d = common::root().join("target/tmp-diff-tests");
    std::fs::create_dir_all(&d).unwrap();
    d.join(format!("{}-{name}", std::process::id()))
}

fn write(btf: &Btf, name: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, btfkit::write::to_bytes(btf)).unwrap();
    p
}

fn run(args: &[&Path]) -> (i32, String) {
    let mut c = common::btfkit();
    c.arg("diff").args(args);
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn cli_exit_codes_and_json() {
    let a = write(&sample(V::Base), "a.btf");
    let a2 = write(&permute(&sample(V::Base), 99), "a2.btf");
    let b = write(&sample(V::MemberType), "b.btf");
    let (rc, out) = run(&[&a, &a2]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("EQUIVALENT"), "{out}");
    let (rc, out) = run(&[&a, &b]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("struct foo: member 'bar' type 'int' → 'long'"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("summary: "), "{out}");

    let (rc, out) = run(&[&a, &b, Path::new("--format"), Path::new("json")]);
    assert_eq!(rc, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON output parses");
    assert_eq!(v["equivalent"], false);
    assert_eq!(v["summary"]["changed_directly"], 1);
    let (rc, out) = run(&[&a, &a2, Path::new("--format"), Path::new("json")]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["equivalent"], true);

    // Errors: missing file, garbage, bad option.
    let (rc, _) = run(&[&a, Path::new("/nonexistent/x.btf")]);
    assert_eq!(rc, 2);
    let junk = tmp("junk.btf");
    std::fs::write(&junk, b"not btf at all").unwrap();
    let (rc, _) = run(&[&junk, &a]);
    assert_eq!(rc, 2);
    let (rc, _) = run(&[&a, &b, Path::new("--format"), Path::new("xml")]);
    assert_eq!(rc, 2);
    for p in [a, a2, b, junk] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn cli_split_btf_with_bases() {
    // Two split BTFs over the same base, one with an extra type.
    let base = sample(V::Base);
    let basep = write(&base, "base.btf");
    let base = std::sync::Arc::new(base);
    let mk = |extra: bool| {
        let mut s = Btf::new_split(base.clone());
        let int = s.find_by_name("int").unwrap();
        s.add_struct("mod_s", 4).unwrap();
        s.add_field("i", int, 0, 0).unwrap();
        if extra {
            s.add_typedef("mod_t", int).unwrap();
        }
        s
    };
    let (x, y) = (write(&mk(false), "x.btf"), write(&mk(true), "y.btf"));
    let ba = Path::new("--base-a");
    let bb = Path::new("--base-b");
    let (rc, out) = run(&[&x, &x, ba, &basep, bb, &basep]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(&[&x, &y, ba, &basep, bb, &basep]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("only in B (1: 1 TYPEDEF):\n  typedef mod_t\n"), "{out}");
    for p in [basep, x, y] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn malformed_builder_input_does_not_panic() {
    // Dangling ids, a modifier loop without a pointer, a self-containing
    // anonymous struct: none of this passes the parser, all of it must not
    // crash the diff.
    let mut a = Btf::new();
    let int = a.add_int("int", 4, int_encoding::SIGNED).unwrap();
    a.add_const(TypeId(3)).unwrap(); // 2 -> 3
    a.add_volatile(TypeId(2)).unwrap(); // 3 -> 2
    a.add_typedef("loop_t", TypeId(2)).unwrap();
    a.add_ptr(TypeId(1_000_000)).unwrap();
    let s = a.add_struct("", 8).unwrap();
    a.add_field("self", s, 0, 0).unwrap();
    a.add_struct("outer", 8).unwrap();
    a.add_field("", s, 0, 0).unwrap();
    let mut b = a.clone();
    b.add_typedef("extra", int).unwrap();
    if let btfkit::TypeKind::Struct(c) = &mut btfkit::btf::unchecked::types_mut(&mut b)[5].kind {
        c.members[0].offset = 8;
    }
    let r = diff(&a, &b);
    assert!(!r.equivalent);
    let _ = r.to_text();
    let _ = r.to_json();
    assert!(diff(&a, &permute(&a, 5)).equivalent);
}

#[test]
fn many_same_named_variants_pair_linearly() {
    // 200 different `struct s` in A and in B (beyond the cost-based pairing).
    let build = |delta: u32| {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        for i in 0..200 {
            b.add_struct("s", 4 + i + delta).unwrap();
            b.add_field("x", int, 0, 0).unwrap();
        }
        b.add_fwd("s", false).unwrap();
        b
    };
    let r = diff(&build(0), &build(1000));
    assert_eq!(r.changed.len(), 200, "{}", r.summary());
    assert!(r.only_a.is_empty() && r.only_b.is_empty());
    let r = diff(&build(0), &build(100));
    // 100 sizes are common; 100 changed pairs.
    assert_eq!(r.changed.len(), 100, "{}", r.summary());
}
