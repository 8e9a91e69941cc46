//! The loader-facing queries (`btf::query`): lookups by name and kind,
//! resolve, sizes, alignments and member offsets, on built BTF and against
//! clang's own layout of the host kernel's types; and the
//! `examples/member_offsets.rs` program a loader author would write.

mod common;

use std::process::Command;

use btfkit::btf::{Kind, Layout, MemberLoc, TypeIndex, int_encoding};
use btfkit::{Btf, TypeId};

#[allow(dead_code)]
#[path = "../examples/member_offsets.rs"]
mod example;

/// int, long, a typedef chain, a struct with an anonymous union, a packed
/// struct, arrays, a same-named struct and typedef.
fn sample() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap(); // 1
    let long = b.add_int("long", 8, int_encoding::SIGNED).unwrap(); // 2
    let cint = b.add_const(int).unwrap(); // 3
    let tint = b.add_typedef("int_t", cint).unwrap(); // 4
    let u = b.add_union("", 8).unwrap(); // 5: union { int a; long b; }
    b.add_field("a", int, 0, 0).unwrap();
    b.add_field("b", long, 0, 0).unwrap();
    let arr = b.add_array(tint, int, 3).unwrap(); // 6: int_t[3]
    let s = b.add_struct("s", 40).unwrap(); // 7
    b.add_field("x", tint, 0, 0).unwrap();
    b.add_field("", u, 64, 0).unwrap();
    b.add_field("v", arr, 128, 0).unwrap();
    b.add_field("bits", int, 224, 3).unwrap();
    b.add_field("p", TypeId(9), 256, 0).unwrap();
    let packed = b.add_struct("packed", 12).unwrap(); // 8: { int a; long b at byte 4; }
    b.add_field("a", int, 0, 0).unwrap();
    b.add_field("b", long, 32, 0).unwrap();
    b.add_ptr(s).unwrap(); // 9
    b.add_typedef("s", s).unwrap(); // 10: typedef struct s s;
    let outer = b.add_struct("outer", 48).unwrap(); // 11
    b.add_field("head", long, 0, 0).unwrap();
    b.add_field("in", s, 64, 0).unwrap();
    assert_eq!((packed, outer), (TypeId(8), TypeId(11)));
    b
}

#[test]
fn resolve_size_align() {
    let b = sample();
    assert_eq!(b.resolve(TypeId(4)), Some(TypeId(1)), "typedef -> const -> int");
    assert_eq!(b.resolve(TypeId(7)), Some(TypeId(7)), "a struct is itself");
    assert_eq!(b.resolve(TypeId(99)), None, "invalid id");
    assert_eq!(b.pointer_size(), 8, "from `long`");
    assert_eq!(b.size_of(TypeId(4)), Some(4));
    assert_eq!(b.size_of(TypeId(6)), Some(12), "int_t[3]");
    assert_eq!(b.size_of(TypeId(9)), Some(8), "pointer");
    assert_eq!(b.size_of(TypeId::VOID), None);
    assert_eq!(b.align_of(TypeId(7)), Some(8), "the union's long");
    assert_eq!(b.align_of(TypeId(6)), Some(4), "an array aligns as its element");
    assert_eq!(b.align_of(TypeId(8)), Some(1), "long at byte 4: packed");
    assert_eq!(b.align_of(TypeId::VOID), None);
    let mut l = Layout::new(&b);
    for id in 0..b.type_count() {
        assert_eq!(l.align_of(TypeId(id)), b.align_of(TypeId(id)), "memoized == fresh for [{id}]");
        assert_eq!(l.size_of(TypeId(id)), b.size_of(TypeId(id)));
    }
    // A 32-bit target: pointers and longs are 4 bytes.
    let mut b32 = Btf::new();
    let l32 = b32.add_int("long int", 4, int_encoding::SIGNED).unwrap();
    let p = b32.add_ptr(l32).unwrap();
    assert_eq!((b32.pointer_size(), b32.size_of(p), b32.align_of(p)), (4, Some(4), Some(4)));
    // Overflow is None, not a wrapped size.
    let mut big = Btf::new();
    let i = big.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let a = big.add_array(i, i, 0x4000_0000).unwrap();
    let aa = big.add_array(a, i, 2).unwrap();
    assert_eq!(big.size_of(a), None, "4 GiB does not fit u32");
    assert_eq!(big.size_of(aa), None);
}

#[test]
fn members_by_name_and_path() {
    let b = sample();
    let s = TypeId(7);
    assert_eq!(b.find_member(s, "x"), Some(MemberLoc { ty: TypeId(4), bit_offset: 0, bitfield_size: 0 }));
    // Through the anonymous union, offset added.
    assert_eq!(b.find_member(s, "b"), Some(MemberLoc { ty: TypeId(2), bit_offset: 64, bitfield_size: 0 }));
    let bits = b.find_member(s, "bits").unwrap();
    assert_eq!((bits.bit_offset, bits.bitfield_size, bits.byte_offset()), (224, 3, 28));
    assert_eq!(b.find_member(s, "nope"), None);
    assert_eq!(b.find_member(s, ""), None, "anonymous members have no name to find");
    assert_eq!(b.find_member(TypeId(1), "x"), None, "not a struct");
    // Via the typedef `s` too; a path adds offsets.
    assert_eq!(b.find_member(TypeId(10), "v").map(|m| m.bit_offset), Some(128));
    assert_eq!(
        b.member_offset(TypeId(11), "in.b"),
        Some(MemberLoc { ty: TypeId(2), bit_offset: 128, bitfield_size: 0 })
    );
    assert_eq!(b.member_offset(TypeId(11), "in.p.x"), None, "paths do not go through pointers");
}

#[test]
fn anonymous_members_shared_by_many_are_searched_once() {
    // Anonymous struct A_k holds two A_(k-1): 2^60 paths, one answer each way.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let mut a = b.add_struct("", 4).unwrap();
    b.add_field("leaf", int, 0, 0).unwrap();
    for _ in 0..60 {
        let n = b.add_struct("", 8).unwrap();
        b.add_field("", a, 0, 0).unwrap();
        b.add_field("", a, 32, 0).unwrap();
        a = n;
    }
    let top = b.add_struct("top", 8).unwrap();
    b.add_field("", a, 0, 0).unwrap();
    assert_eq!(b.find_member(top, "leaf").map(|m| m.bit_offset), Some(0), "the first in declaration order");
    assert_eq!(b.find_member(top, "missing"), None);
}

#[test]
fn index_finds_by_name_and_kind() {
    let b = sample();
    let idx: TypeIndex = b.index();
    assert_eq!(idx.all("s"), &[TypeId(7), TypeId(10)], "struct s and typedef s, in id order");
    assert_eq!(idx.find("s"), Some(TypeId(7)));
    assert_eq!(idx.find_kind("s", Kind::Typedef), Some(TypeId(10)));
    assert_eq!(idx.find_struct("s"), Some(TypeId(7)));
    assert_eq!(idx.find_kind("s", Kind::Union), None);
    assert_eq!(idx.find("nothing"), None);
    assert!(idx.all("").is_empty(), "anonymous types are not indexed");
    // The same answers as the scans, for every name.
    for (id, t) in b.iter() {
        let n = b.name(t.name_off);
        if !n.is_empty() {
            assert_eq!(idx.find(&n), b.find_by_name(&n), "{n}");
            assert_eq!(idx.find_kind(&n, t.kind()), b.find_by_name_kind(&n, t.kind()), "{n}");
            assert!(idx.all(&n).contains(&id));
        }
    }
}

/// `find_by_name`'s cached index follows every change of the types.
#[test]
fn find_by_name_follows_changes() {
    let mut b = Btf::new();
    assert_eq!(b.find_by_name("x"), None);
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    assert_eq!(b.find_by_name("int"), Some(int), "added after the first lookup");
    let x = b.add_struct("x", 4).unwrap();
    b.add_typedef("x", x).unwrap();
    assert_eq!(b.find_by_name("x"), Some(x), "the first of two");
    b.remove_types(&[x], &std::collections::HashMap::from([(x, int)])).unwrap();
    assert_eq!(b.find_by_name("x"), Some(TypeId(2)), "the typedef, renumbered");
    btfkit::btf::unchecked::types_mut(&mut b).clear();
    assert_eq!(b.find_by_name("int"), None, "after a change through the escape hatch");
    let copy = b.clone();
    b.add_int("int", 4, 0).unwrap();
    assert_eq!((b.find_by_name("int"), copy.find_by_name("int")), (Some(TypeId(1)), None));
}

#[test]
fn split_btf_finds_base_types_first() {
    let mut base = Btf::new();
    base.add_int("int", 4, int_encoding::SIGNED).unwrap();
    base.add_struct("x", 4).unwrap();
    let base = std::sync::Arc::new(base);
    let mut split = Btf::new_split(base);
    let own = split.add_struct("x", 8).unwrap();
    split.add_typedef("x", own).unwrap();
    assert_eq!(split.find_by_name("x"), Some(TypeId(2)), "the base's, lower id");
    assert_eq!(split.index().all("x"), &[TypeId(2), own, TypeId(own.0 + 1)]);
    assert_eq!(split.index().find_kind("x", Kind::Typedef), Some(TypeId(own.0 + 1)));
}

/// Structs of the running kernel: the example's offsets, sizes and
/// alignments equal what clang computes from the C header of the same BTF
/// (`offsetof`, `sizeof`, `_Alignof` in a program compiled for the host).
#[test]
fn host_offsets_match_clang() {
    let Some(vmlinux) = common::host_vmlinux() else { return common::skip("host vmlinux BTF not readable") };
    if !common::have("clang") {
        return common::skip("clang not installed");
    }
    let btf = btfkit::input::load(&vmlinux, None).unwrap();
    let structs =
        ["task_struct", "sk_buff", "file", "inode", "sock", "mm_struct", "net_device", "bpf_prog", "cred", "page"];
    let dir = common::root().join(format!("target/query-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut header = Vec::new();
    // The upstream libbpf 1.1 flavour: Debian bpftool 7.1's header lacks
    // `mode(byte)` on 1-byte enums (`enum rw_hint` in struct inode), so
    // clang would lay those out as 4-byte ints.
    let opts = btfkit::dump::c::Options::default().with_upstream_libbpf_1_1(true);
    btfkit::dump::c::render(&btf, &opts, &mut header).unwrap();
    std::fs::write(dir.join("vmlinux.h"), &header).unwrap();
    let mut prog = String::from("#include \"vmlinux.h\"\nint printf(const char *, ...);\nint main(void) {\n");
    let mut expected = String::new();
    let mut checked = 0;
    for name in structs {
        let s = example::describe(&btf, name, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!s.members.is_empty(), "{name} has members");
        prog += &format!(
            "printf(\"{name} %lu %lu\\n\", (unsigned long)sizeof(struct {name}), (unsigned long)_Alignof(struct {name}));\n"
        );
        expected += &format!("{name} {} {}\n", s.size, s.align);
        let mut seen = std::collections::HashSet::new();
        for m in &s.members {
            // offsetof cannot name a bitfield; a name that C finds first
            // elsewhere (duplicates inside anonymous members) is skipped.
            if m.bitfield_size != 0 || !seen.insert(m.path.clone()) {
                continue;
            }
            prog += &format!(
                "printf(\"{name}.{p} %lu %lu\\n\", (unsigned long)__builtin_offsetof(struct {name}, {p}), (unsigned long)sizeof(((struct {name} *)0)->{p}));\n",
                p = m.path
            );
            expected += &format!("{name}.{} {} {}\n", m.path, m.byte_offset, m.size);
            checked += 1;
        }
    }
    prog += "return 0;\n}\n";
    std::fs::write(dir.join("offsets.c"), prog).unwrap();
    common::run_ok(
        Command::new("clang")
            .args(["-DBPF_NO_PRESERVE_ACCESS_INDEX", "-w", "-O0", "-o"])
            .arg(dir.join("offsets"))
            .arg(dir.join("offsets.c")),
    );
    let got = String::from_utf8(common::run_ok(&mut Command::new(dir.join("offsets")))).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let bad: Vec<(&str, &str)> = got.lines().zip(expected.lines()).filter(|(g, e)| g != e).collect();
    assert!(bad.is_empty(), "clang vs btfkit (first 20): {:?}", &bad[..bad.len().min(20)]);
    assert_eq!(got.lines().count(), expected.lines().count());
    assert!(checked > 300, "only {checked} members compared");
    eprintln!("{checked} members of {} structs match clang", structs.len());
}

/// The example as a user runs it: its lines agree with the library.
#[test]
fn example_program_prints_offsets() {
    let Some(vmlinux) = common::host_vmlinux() else { return common::skip("host vmlinux BTF not readable") };
    let exe = common::root().join("target/release/examples/member_offsets");
    if !exe.exists() {
        let st = Command::new(env!("CARGO")).args(["build", "--release", "--example", "member_offsets"]).status();
        assert!(st.is_ok_and(|s| s.success()), "building the example");
    }
    let out =
        common::run_ok(Command::new(&exe).args(["--btf"]).arg(&vmlinux).args(["task_struct", "pid", "se.vruntime"]));
    let out = String::from_utf8(out).unwrap();
    let btf = btfkit::input::load(&vmlinux, None).unwrap();
    let id = btf.index().find_struct("task_struct").unwrap();
    let pid = btf.member_offset(id, "pid").unwrap();
    let vr = btf.member_offset(id, "se.vruntime").unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with(&format!("task_struct\tsize {}\t", btf.size_of(id).unwrap())), "{out}");
    assert!(lines[1].starts_with(&format!("pid\t{}\t{}\t0\t4\t", pid.byte_offset(), pid.bit_offset)), "{out}");
    assert!(lines[2].starts_with(&format!("se.vruntime\t{}\t", vr.byte_offset())), "{out}");
    // A missing struct: exit status 2, a message naming it.
    let o = Command::new(&exe).args(["--btf"]).arg(&vmlinux).arg("no_such_struct").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no struct or union named 'no_such_struct'"));
}
