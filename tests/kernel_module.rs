//! Module BTF without a kernel build (issue 15, item 5): `btfkit dedup --kernel -B BASE
//! --in-place M.ko` on module-like relocatable ELF files made here, byte by byte (no tools
//! needed), and on one made with gcc + pahole + `ld -r` (compared with `pahole -J
//! --btf_base` on the same module, when those tools are installed).
//!
//! The hand-made module has a `.BTF` archive of two standalone per-object BTFs (built with
//! the library's builder), a `.data..percpu` section whose symbols place the objects' VARs,
//! `STT_FUNC` symbols and a `.BTF_ids` section with kfunc sets. The base is a small BTF made
//! here that holds `struct list_head` and the typedefs `__u32` and `u32`, which the objects
//! repeat. The kernel cannot load split BTF with BPF_BTF_LOAD (that takes no base), so the
//! kernel's verdict is asked for the base and the module's split BTF concatenated into one
//! standalone BTF, and the library's offline verifier checks the split BTF by the kernel's
//! module rules.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use btfkit::{Btf, TypeId, TypeKind, parse, write};
use object::{Object, ObjectSection};

// ---------------------------------------------------------------- a tiny ELF64 writer

struct Sec {
    name: &'static str,
    ty: u32,
    flags: u64,
    align: u64,
    data: Vec<u8>,
}

struct Sym {
    name: &'static str,
    global: bool,
    /// STT_OBJECT (1) or STT_FUNC (2).
    kind: u8,
    /// Index into the sections given to `elf64` (0-based; the null section is added).
    sec: usize,
    value: u64,
    size: u64,
}

const SHT_PROGBITS: u32 = 1;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXEC: u64 = 4;

/// (name, type, flags, align, data, link, info, entsize)
type Shdr<'a> = (&'a str, u32, u64, u64, Vec<u8>, u32, u32, u64);

/// A DATASEC's size and its entries (VAR name, offset, size).
type Percpu = (u32, Vec<(String, u32, u32)>);

/// A little-endian x86_64 relocatable ELF with `secs`, a symbol table and string tables.
fn elf64(secs: &[Sec], syms: &[Sym]) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    let mut ordered: Vec<&Sym> = syms.iter().filter(|s| !s.global).collect();
    let first_global = ordered.len() + 1;
    ordered.extend(syms.iter().filter(|s| s.global));
    for s in ordered {
        let name = strtab.len() as u32;
        strtab.extend_from_slice(s.name.as_bytes());
        strtab.push(0);
        symtab.extend_from_slice(&name.to_le_bytes());
        symtab.push((u8::from(s.global) << 4) | s.kind);
        symtab.push(0);
        symtab.extend_from_slice(&((s.sec + 1) as u16).to_le_bytes());
        symtab.extend_from_slice(&s.value.to_le_bytes());
        symtab.extend_from_slice(&s.size.to_le_bytes());
    }
    let n = secs.len();
    let mut all: Vec<Shdr> = secs.iter().map(|s| (s.name, s.ty, s.flags, s.align, s.data.clone(), 0, 0, 0)).collect();
    all.push((".symtab", 2, 0, 8, symtab, (n + 2) as u32, first_global as u32, 24));
    all.push((".strtab", 3, 0, 1, strtab, 0, 0, 0));
    let mut shstrtab = vec![0u8];
    let mut name_offs = Vec::new();
    for s in all.iter().map(|s| s.0).chain([".shstrtab"]) {
        name_offs.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(s.as_bytes());
        shstrtab.push(0);
    }
    all.push((".shstrtab", 3, 0, 1, shstrtab, 0, 0, 0));
    let mut out = vec![0u8; 64];
    let mut placed = Vec::new();
    for s in &all {
        let a = s.3.max(1) as usize;
        out.resize(out.len().div_ceil(a) * a, 0);
        placed.push(out.len() as u64);
        out.extend_from_slice(&s.4);
    }
    out.resize(out.len().div_ceil(8) * 8, 0);
    let shoff = out.len() as u64;
    out.extend_from_slice(&[0u8; 64]);
    for (i, s) in all.iter().enumerate() {
        out.extend_from_slice(&name_offs[i].to_le_bytes());
        out.extend_from_slice(&s.1.to_le_bytes());
        out.extend_from_slice(&s.2.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&placed[i].to_le_bytes());
        out.extend_from_slice(&(s.4.len() as u64).to_le_bytes());
        out.extend_from_slice(&s.5.to_le_bytes());
        out.extend_from_slice(&s.6.to_le_bytes());
        out.extend_from_slice(&s.3.to_le_bytes());
        out.extend_from_slice(&s.7.to_le_bytes());
    }
    let h = &mut out[..64];
    h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    h[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[40..48].copy_from_slice(&shoff.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes());
    h[60..62].copy_from_slice(&((all.len() + 1) as u16).to_le_bytes());
    h[62..64].copy_from_slice(&(all.len() as u16).to_le_bytes());
    out
}

// ---------------------------------------------------------------- the module

/// The base ("vmlinux"): int, unsigned int, __u32, u32, struct list_head.
fn make_base() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 1).unwrap(); // 1
    let uint = b.add_int("unsigned int", 4, 0).unwrap(); // 2
    let u32_ = b.add_typedef("__u32", uint).unwrap(); // 3
    b.add_typedef("u32", u32_).unwrap(); // 4
    let p = b.add_ptr(TypeId(6)).unwrap(); // 5
    let lh = b.add_struct("list_head", 16).unwrap(); // 6
    assert_eq!(lh, TypeId(6));
    b.add_field("next", p, 0, 0).unwrap();
    b.add_field("prev", p, 64, 0).unwrap();
    b.add_func_proto(int).unwrap(); // 7
    b
}

/// The base's types, as one object of the module repeats them.
fn base_types_in(b: &mut Btf) -> (TypeId, TypeId, TypeId) {
    let int = b.add_int("int", 4, 1).unwrap();
    let uint = b.add_int("unsigned int", 4, 0).unwrap();
    let u32a = b.add_typedef("__u32", uint).unwrap();
    let u32_ = b.add_typedef("u32", u32a).unwrap();
    let p = b.add_ptr(TypeId(b.type_count() + 1)).unwrap();
    let lh = b.add_struct("list_head", 16).unwrap();
    b.add_field("next", p, 0, 0).unwrap();
    b.add_field("prev", p, 64, 0).unwrap();
    (int, u32_, lh)
}

/// Object a.o: struct foo { u32 a; struct list_head l; } (24 bytes), per-CPU `pcpu_foo` at
/// 0 and static `cnt` at 24 in its .data..percpu; FUNCs foo_get, helper, gone (no symbol).
fn object_a() -> Btf {
    let mut b = Btf::new();
    let (int, u32_, lh) = base_types_in(&mut b);
    let st = b.add_struct("foo", 24).unwrap();
    b.add_field("a", u32_, 0, 0).unwrap();
    b.add_field("l", lh, 64, 0).unwrap();
    let pf = b.add_ptr(st).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("f", pf).unwrap();
    b.add_func("foo_get", 1, proto).unwrap();
    b.add_func("helper", 0, proto).unwrap();
    b.add_func("gone", 1, proto).unwrap();
    let v = b.add_var("pcpu_foo", 1, st).unwrap();
    let c = b.add_var("cnt", 0, int).unwrap();
    b.add_datasec(".data..percpu", 28).unwrap();
    b.add_datasec_var(v, 0, 24).unwrap();
    b.add_datasec_var(c, 24, 4).unwrap();
    b
}

/// Object b.o: struct bar, static `cnt` at 0 and `bar_hits` at 8 in its .data..percpu
/// (placed at 32 in the module); FUNC bar_use.
fn object_b() -> Btf {
    let mut b = Btf::new();
    let (int, u32_, lh) = base_types_in(&mut b);
    let bar = b.add_struct("bar", 24).unwrap();
    b.add_field("l", lh, 0, 0).unwrap();
    b.add_field("x", u32_, 128, 0).unwrap();
    let pb = b.add_ptr(bar).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("b", pb).unwrap();
    b.add_func("bar_use", 1, proto).unwrap();
    let c = b.add_var("cnt", 0, int).unwrap();
    let h = b.add_var("bar_hits", 1, u32_).unwrap();
    b.add_datasec(".data..percpu", 12).unwrap();
    b.add_datasec_var(c, 0, 4).unwrap();
    b.add_datasec_var(h, 8, 4).unwrap();
    b
}

/// `.BTF_ids`: a kfunc set (flags BTF_SET8_KFUNCS) with foo_get (flags 0) and bar_use
/// (KF_FASTCALL), and a set that is not a kfunc set, listing helper.
fn btf_ids() -> (Vec<u8>, Vec<Sym>) {
    let mut d = Vec::new();
    let mut w = |v: u32| d.extend_from_slice(&v.to_le_bytes());
    // set8 kfuncs at 0: cnt 2, flags 1, pairs at 8 and 16.
    w(2);
    w(1);
    w(0);
    w(0);
    w(0);
    w(1 << 12);
    // set8 not kfuncs at 24: cnt 1, flags 0, pair at 32.
    w(1);
    w(0);
    w(0);
    w(0);
    let s = |name, value, size| Sym { name, global: false, kind: 1, sec: 3, value, size };
    let syms = vec![
        s("__BTF_ID__set8__my_kfuncs", 0, 24),
        s("__BTF_ID__func__foo_get__1", 8, 0),
        s("__BTF_ID__func__bar_use__2", 16, 0),
        s("__BTF_ID__set8__other", 24, 16),
        s("__BTF_ID__func__helper__3", 32, 0),
    ];
    (d, syms)
}

/// The module: `.text`, `.data..percpu` (a.o's at 0, b.o's at 32), `.BTF` (the archive
/// `btf`), `.BTF_ids`, symbols.
fn module_with(btf: Vec<u8>) -> Vec<u8> {
    let (ids, mut syms) = btf_ids();
    let secs = [
        Sec { name: ".text", ty: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXEC, align: 16, data: vec![0xc3; 64] },
        Sec { name: ".data..percpu", ty: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, align: 32, data: vec![0; 44] },
        Sec { name: ".BTF", ty: SHT_PROGBITS, flags: 0, align: 1, data: btf },
        Sec { name: ".BTF_ids", ty: SHT_PROGBITS, flags: SHF_ALLOC, align: 4, data: ids },
    ];
    let f = |name, global, value| Sym { name, global, kind: 2, sec: 0, value, size: 8 };
    let v = |name, global, value, size| Sym { name, global, kind: 1, sec: 1, value, size };
    syms.extend([
        f("helper", false, 0),
        f("foo_get", true, 8),
        f("bar_use", true, 16),
        f("init_module", true, 24),
        v("pcpu_foo", true, 0, 24),
        v("cnt", false, 24, 4),
        v("cnt", false, 32, 4),
        v("bar_hits", true, 40, 4),
    ]);
    elf64(&secs, &syms)
}

fn archive() -> Vec<u8> {
    [write::to_bytes(&object_a()), write::to_bytes(&object_b())].concat()
}

fn scratch(tag: &str) -> PathBuf {
    let d = common::root().join("target/test-kernel-module").join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the base and a module into a fresh directory.
fn setup(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = scratch(tag);
    let base = dir.join("vmlinux.btf");
    std::fs::write(&base, write::to_bytes(&make_base())).unwrap();
    let ko = dir.join("m.ko");
    std::fs::write(&ko, module_with(archive())).unwrap();
    (dir, base, ko)
}

fn run(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let o = common::btfkit().args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn finish(base: &Path, extra: &[&Path]) -> (i32, String) {
    let mut args: Vec<&std::ffi::OsStr> =
        ["dedup", "--kernel", "-B"].iter().map(std::ffi::OsStr::new).collect::<Vec<_>>();
    args.push(base.as_os_str());
    args.push("--in-place".as_ref());
    args.extend(extra.iter().map(|p| p.as_os_str()));
    run(&args)
}

/// The `.BTF` of an ELF file, parsed as split BTF over `base`.
fn module_btf(elf: &[u8], base: &Arc<Btf>) -> Btf {
    let f = object::File::parse(elf).unwrap();
    let data = f.section_by_name(".BTF").unwrap().data().unwrap();
    parse::parse_with(data, &parse::ParseOptions::new().with_base(Some(base.clone()))).unwrap().0
}

/// Base and split BTF as one standalone BTF (ids and string offsets of split BTF
/// already continue the base's), for BPF_BTF_LOAD, which takes no base.
fn flatten(base: &[u8], split: &[u8]) -> Vec<u8> {
    let u = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let part = |b: &[u8], off: usize, len: usize| {
        let h = u(b, 4);
        b[h + u(b, off)..h + u(b, off) + u(b, len)].to_vec()
    };
    let types = [part(base, 8, 12), part(split, 8, 12)].concat();
    let strs = [part(base, 16, 20), part(split, 16, 20)].concat();
    let mut out = base[..24].to_vec();
    out[4..8].copy_from_slice(&24u32.to_le_bytes());
    out[8..12].copy_from_slice(&0u32.to_le_bytes());
    out[12..16].copy_from_slice(&(types.len() as u32).to_le_bytes());
    out[16..20].copy_from_slice(&(types.len() as u32).to_le_bytes());
    out[20..24].copy_from_slice(&(strs.len() as u32).to_le_bytes());
    [out, types, strs].concat()
}

fn percpu_vars(btf: &Btf) -> Vec<Percpu> {
    btf.iter()
        .filter_map(|(_, t)| match &t.kind {
            TypeKind::Datasec(d) if btf.name(t.name_off) == ".data..percpu" => Some((
                d.size,
                d.vars
                    .iter()
                    .map(|v| (btf.name(btf.type_by_id(v.ty).unwrap().name_off).into_owned(), v.offset, v.size))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

fn names_of(btf: &Btf, pick: impl Fn(&TypeKind) -> bool) -> BTreeSet<String> {
    btf.iter().filter(|(_, t)| pick(&t.kind)).map(|(_, t)| btf.name(t.name_off).into_owned()).collect()
}

/// Every byte outside the old `.BTF` range and `.BTF`'s sh_size/sh_offset is unchanged;
/// every other section has the same offset, size and bytes.
fn assert_same_outside_btf(old: &[u8], new: &[u8]) {
    let (fo, fnew) = (object::File::parse(old).unwrap(), object::File::parse(new).unwrap());
    let names = |f: &object::File| f.sections().map(|s| s.name().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(&fo), names(&fnew), "same section table");
    for (a, b) in fo.sections().zip(fnew.sections()) {
        if a.name().unwrap() == ".BTF" {
            continue;
        }
        assert_eq!((a.file_range(), a.data().unwrap()), (b.file_range(), b.data().unwrap()), "{:?}", a.name());
    }
    let btf = fo.section_by_name(".BTF").unwrap();
    let (off, size) = btf.file_range().unwrap();
    let (off, size) = (off as usize, size as usize);
    assert_eq!(old.len(), new.len(), "the new .BTF fits in place");
    // .BTF's section header: index * 64 past e_shoff; sh_offset at 24, sh_size at 32.
    let shoff = u64::from_le_bytes(old[40..48].try_into().unwrap()) as usize;
    let hdr = shoff + btf.index().0 * 64;
    let skip = |i: usize| (off..off + size).contains(&i) || (hdr + 24..hdr + 40).contains(&i);
    let diff: Vec<usize> = (0..old.len()).filter(|&i| !skip(i) && old[i] != new[i]).collect();
    assert!(diff.is_empty(), "bytes outside .BTF changed at {:?}", &diff[..diff.len().min(10)]);
}

#[test]
fn per_object_archive_becomes_one_finished_split_btf() {
    let (dir, base_path, ko) = setup("finish");
    let old = std::fs::read(&ko).unwrap();
    let (code, err) = finish(&base_path, &[&ko]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 per-object BTFs"), "{err}");
    let new = std::fs::read(&ko).unwrap();
    assert_same_outside_btf(&old, &new);

    let base = Arc::new(make_base());
    let m = module_btf(&new, &base);
    assert_eq!(m.start_id().0, base.type_count(), "split over the base: ids continue the base's");
    // One DATASEC at the .ko's symbol offsets; size = last entry's end, as pahole.
    assert_eq!(
        percpu_vars(&m),
        vec![(
            44,
            vec![("pcpu_foo".into(), 0, 24), ("cnt".into(), 24, 4), ("cnt".into(), 32, 4), ("bar_hits".into(), 40, 4)]
        )]
    );
    // FUNCs: the .ko's STT_FUNC symbols that have BTF (init_module has none; `gone` no symbol).
    let funcs = names_of(&m, |k| matches!(k, TypeKind::Func { .. }));
    assert_eq!(funcs, ["bar_use", "foo_get", "helper"].iter().map(|s| s.to_string()).collect());
    // Nothing the base already has: no typedef equal to a base typedef (base_typedef_fix),
    // no list_head, no int.
    let own: BTreeSet<String> = names_of(&m, |k| !matches!(k, TypeKind::Func { .. } | TypeKind::Var { .. }));
    let expected: BTreeSet<String> = ["foo", "bar", "", ".data..percpu"].iter().map(|s| s.to_string()).collect();
    assert_eq!(own, expected, "own named types");
    let base_typedefs = names_of(&base, |k| matches!(k, TypeKind::Typedef(_)));
    assert!(names_of(&m, |k| matches!(k, TypeKind::Typedef(_))).is_disjoint(&base_typedefs));
    // The kernel's rules for module BTF, offline; and the kernel's verdict on base + module.
    assert!(
        m.validate(btfkit::parse::Validation::Kernel).is_empty(),
        "{:?}",
        m.validate(btfkit::parse::Validation::Kernel)
    );
    let v = common::btfkit().arg("verify").arg(&ko).arg("-B").arg(&base_path).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    common::assert_kernel_accepts("base + module BTF", &flatten(&write::to_bytes(&base), &write::to_bytes(&m)));

    // A second run changes nothing.
    let (code, err) = finish(&base_path, &[&ko]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("split BTF (finished before)") && err.contains("(unchanged)"), "{err}");
    assert_eq!(std::fs::read(&ko).unwrap(), new, "re-running on a finished module gives the same bytes");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_the_typedef_fix_libbpf_would_keep_base_typedefs() {
    // The control for the typedef check above: libbpf 1.7.0's split dedup (btfkit's
    // default, `dedup -B` without --kernel on the merged objects) keeps `u32`/`__u32`.
    let base = Arc::new(make_base());
    let mut merged = Btf::new_split(base.clone());
    merged.append(&object_a()).unwrap();
    merged.append(&object_b()).unwrap();
    let mut libbpf = merged.clone();
    libbpf.dedup(&Default::default()).unwrap();
    let typedefs = |b: &Btf| names_of(b, |k| matches!(k, TypeKind::Typedef(_)));
    assert!(!typedefs(&libbpf).is_empty(), "libbpf 1.7.0's dedup keeps typedefs equal to the base's");
    merged.dedup(&btfkit::dedup::DedupOptions::new().with_base_typedef_fix(true)).unwrap();
    assert!(typedefs(&merged).is_empty());
}

#[test]
fn kfunc_tags_from_btf_ids() {
    let (dir, base_path, ko) = setup("kfunc");
    let (code, err) = finish(&base_path, &[Path::new("--kfunc-tags"), &ko]);
    assert_eq!(code, 0, "{err}");
    let base = Arc::new(make_base());
    let m = module_btf(&std::fs::read(&ko).unwrap(), &base);
    let mut tags: Vec<(String, String)> = m
        .iter()
        .filter_map(|(_, t)| match t.kind {
            TypeKind::DeclTag { ty, component_idx: -1, .. } => {
                let f = m.type_by_id(ty).unwrap();
                assert!(matches!(f.kind, TypeKind::Func { .. }));
                Some((m.name(f.name_off).into_owned(), m.name(t.name_off).into_owned()))
            }
            _ => None,
        })
        .collect();
    tags.sort();
    let want: Vec<(String, String)> = [("bar_use", "bpf_fastcall"), ("bar_use", "bpf_kfunc"), ("foo_get", "bpf_kfunc")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(tags, want, "helper is in a set without BTF_SET8_KFUNCS: no tag");
    assert!(m.validate(btfkit::parse::Validation::Kernel).is_empty());
    // Idempotent with the tags too.
    let before = std::fs::read(&ko).unwrap();
    let (code, err) = finish(&base_path, &[Path::new("--kfunc-tags"), &ko]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&ko).unwrap(), before);
    // Without the flag: no tags.
    let plain = dir.join("plain.ko");
    std::fs::write(&plain, module_with(archive())).unwrap();
    assert_eq!(finish(&base_path, &[&plain]).0, 0);
    let p = module_btf(&std::fs::read(&plain).unwrap(), &base);
    assert!(p.iter().all(|(_, t)| !matches!(t.kind, TypeKind::DeclTag { .. })));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn each_reports_bad_files_by_name_and_writes_the_others() {
    let (dir, base_path, ko) = setup("each");
    let good2 = dir.join("good2.ko");
    std::fs::copy(&ko, &good2).unwrap();
    // A .BTF that is not BTF.
    let bad_btf = dir.join("bad_btf.ko");
    std::fs::write(&bad_btf, module_with(b"\x9f\xeb\x01\x00garbage that is not a BTF header".to_vec())).unwrap();
    // A truncated ELF.
    let truncated = dir.join("truncated.ko");
    std::fs::write(&truncated, &std::fs::read(&ko).unwrap()[..300]).unwrap();
    // A member whose type refers past its own types.
    let mut broken = Btf::new();
    let int = broken.add_int("int", 4, 1).unwrap();
    broken.add_ptr(int).unwrap();
    let mut bytes = write::to_bytes(&broken);
    let n = bytes.len();
    // The PTR's type field is the last 4 bytes of the type section; point it at [99].
    let (hdr, tlen) = (24usize, u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize);
    bytes[hdr + tlen - 4..hdr + tlen].copy_from_slice(&99u32.to_le_bytes());
    assert!(n > hdr + tlen);
    let bad_member = dir.join("bad_member.ko");
    std::fs::write(&bad_member, module_with([write::to_bytes(&object_a()), bytes].concat())).unwrap();
    let missing = dir.join("missing.ko");

    let bad = [&bad_btf, &truncated, &bad_member];
    let before: Vec<Vec<u8>> = bad.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let (code, err) = finish(
        &base_path,
        &[Path::new("--each"), Path::new("-j2"), &ko, &bad_btf, &truncated, &good2, &bad_member, &missing],
    );
    assert_eq!(code, 2, "{err}");
    for p in [&bad_btf, &truncated, &bad_member, &missing] {
        let name = p.display().to_string();
        assert!(
            err.lines().any(|l| l.starts_with("btfkit: error:") && l.contains(&name)),
            "{name} not named in:\n{err}"
        );
    }
    assert!(err.contains("6 modules, 2 finished"), "{err}");
    for (p, b) in bad.iter().zip(&before) {
        assert_eq!(&std::fs::read(p).unwrap(), b, "{} untouched", p.display());
    }
    let base = Arc::new(make_base());
    for p in [&ko, &good2] {
        assert_eq!(percpu_vars(&module_btf(&std::fs::read(p).unwrap(), &base)).len(), 1, "{} finished", p.display());
    }
    // No temporary files left behind.
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("btfkit-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A missing base: exit 2, nothing touched.
    let fresh = dir.join("fresh.ko");
    std::fs::write(&fresh, module_with(archive())).unwrap();
    let (code, err) = finish(&dir.join("no-such-vmlinux"), &[Path::new("--each"), &fresh]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-vmlinux"), "{err}");
    assert_eq!(std::fs::read(&fresh).unwrap(), module_with(archive()));
    // Several modules without --each are refused (the old meaning would merge them).
    let (code, err) = finish(&base_path, &[&fresh, &ko]);
    assert_eq!(code, 2);
    assert!(err.contains("--each"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn library_module_btf_names_no_file_but_the_cli_does() {
    // The library's entry point on bytes: errors say what is wrong; the file-level
    // functions add the path.
    let base = Arc::new(make_base());
    let opts = btfkit::kernel::module::ModuleOptions::default();
    let e = btfkit::kernel::module::module_btf(b"not an elf", &base, &opts).unwrap_err();
    assert!(e.to_string().contains("not an ELF"), "{e}");
    let e = btfkit::kernel::module::finish_module_file(Path::new("/nonexistent/x.ko"), &base, &opts).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/x.ko"), "{e}");
    let (elf, rep) =
        btfkit::kernel::module::finish_module_bytes(&module_with(archive()), Path::new("m.ko"), &base, &opts).unwrap();
    assert_eq!((rep.members, rep.kernel.percpu_vars_out, rep.kernel.funcs_out), (2, 4, 3));
    assert!(rep.warning().is_none(), "{:?}", rep.warning());
    let again = btfkit::kernel::module::finish_module_bytes(&elf, Path::new("m.ko"), &base, &opts).unwrap();
    assert!(again.1.unchanged);
    let funcs: HashSet<String> =
        names_of(&module_btf(&elf, &base), |k| matches!(k, TypeKind::Func { .. })).into_iter().collect();
    assert!(funcs.contains("helper"));
}

/// A module made as kbuild makes one with per-object BTF: gcc -g, `pahole -J` on each
/// object, `ld -r`. The oracle is `pahole -J --btf_base` on the same module (DWARF kept):
/// the same `.BTF` bytes (the objects use no typedef of the base, where pahole's libbpf
/// would keep a duplicate that btfkit does not).
#[test]
fn gcc_pahole_module_matches_pahole_btf_base() {
    for tool in ["gcc", "pahole", "ld", "objcopy"] {
        if !common::have(tool) {
            common::skip(&format!("{tool} not installed"));
            return;
        }
    }
    let dir = scratch("gcc");
    let base = dir.join("vmlinux.btf");
    // A base with the C types the objects use.
    let mut b = Btf::new();
    for (n, s, e) in [("int", 4, 1), ("long int", 8, 1), ("long unsigned int", 8, 0), ("char", 1, 2)] {
        b.add_int(n, s, e).unwrap();
    }
    std::fs::write(&base, write::to_bytes(&b)).unwrap();
    let a = "struct list_head { struct list_head *next, *prev; };\n\
             struct foo { int a; long b; struct list_head l; };\n\
             __attribute__((section(\".data..percpu\"))) struct foo pcpu_foo;\n\
             __attribute__((section(\".data..percpu\"))) static int cnt;\n\
             int foo_get(struct foo *f) { return f->a + cnt; }\n\
             static int __attribute__((noinline)) helper(int x) { return x * 3; }\n\
             int init_module(void) { return helper(pcpu_foo.a); }\n";
    let bsrc = "struct list_head { struct list_head *next, *prev; };\n\
                struct bar { struct list_head l; unsigned long x; };\n\
                __attribute__((section(\".data..percpu\"))) static int cnt;\n\
                __attribute__((section(\".data..percpu\"))) unsigned long bar_hits;\n\
                long bar_use(struct bar *b) { cnt++; return b->x + bar_hits; }\n\
                void cleanup_module(void) {}\n";
    let mut objs = Vec::new();
    for (name, src) in [("a", a), ("b", bsrc)] {
        let c = dir.join(format!("{name}.c"));
        let o = dir.join(format!("{name}.o"));
        std::fs::write(&c, src).unwrap();
        common::run_ok(std::process::Command::new("gcc").args(["-g", "-O1", "-c", "-o"]).arg(&o).arg(&c));
        common::run_ok(std::process::Command::new("pahole").arg("-J").arg(&o).env("LLVM_OBJCOPY", "objcopy"));
        objs.push(o);
    }
    let ko = dir.join("m.ko");
    common::run_ok(std::process::Command::new("ld").arg("-r").arg("-o").arg(&ko).args(&objs));
    let std_ko = dir.join("m_std.ko");
    std::fs::copy(&ko, &std_ko).unwrap();
    common::run_ok(
        std::process::Command::new("pahole")
            .arg("-J")
            .arg("--btf_base")
            .arg(&base)
            .arg(&std_ko)
            .env("LLVM_OBJCOPY", "objcopy"),
    );
    let (code, err) = finish(&base, &[&ko]);
    assert_eq!(code, 0, "{err}");
    let d = common::btfkit().arg("diff").arg(&ko).arg(&std_ko).arg("-B").arg(&base).output().unwrap();
    assert!(d.status.success(), "btfkit's module BTF differs from pahole's:\n{}", String::from_utf8_lossy(&d.stdout));
    // Byte for byte: the per-object objects' types come in pahole's CU order, the one
    // DATASEC goes last as pahole adds it, and the strings follow the types.
    let section = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        let f = object::File::parse(&*bytes).unwrap();
        f.section_by_name(".BTF").unwrap().data().unwrap().to_vec()
    };
    assert!(section(&ko) == section(&std_ko), "btfkit's .BTF is not pahole's byte for byte");
    // The per-CPU entries are pahole's too.
    let bb = Arc::new(b);
    let ours = percpu_vars(&module_btf(&std::fs::read(&ko).unwrap(), &bb));
    let theirs = percpu_vars(&module_btf(&std::fs::read(&std_ko).unwrap(), &bb));
    assert_eq!(ours, theirs);
    assert_eq!(ours[0].1.len(), 4);
    // Re-finishing pahole's own module leaves it as it is.
    let before = std::fs::read(&std_ko).unwrap();
    let (code, err) = finish(&base, &[&std_ko]);
    assert_eq!(code, 0, "{err}");
    let after = module_btf(&std::fs::read(&std_ko).unwrap(), &bb);
    assert_eq!(write::to_bytes(&after), write::to_bytes(&module_btf(&before, &bb)), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--kfunc-tags` on the vmlinux path (`dedup --kernel vmlinux.o`, no base): the same
/// module-like ELF read as a relocatable kernel image.
#[test]
fn kfunc_tags_for_a_kernel_image() {
    let (dir, _base, ko) = setup("kfunc-vmlinux");
    let out = dir.join("vmlinux.btf");
    let o = common::btfkit()
        .args(["dedup", "--kernel", "--kfunc-tags"])
        .arg(&ko)
        .arg("--detached")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("2 kfuncs in .BTF_ids sets: 2 bpf_kfunc tags added"), "{err}");
    let btf = parse::parse(&std::fs::read(&out).unwrap()).unwrap();
    let mut tags: Vec<String> = btf
        .iter()
        .filter_map(|(_, t)| match t.kind {
            TypeKind::DeclTag { ty, component_idx: -1, .. } => {
                Some(format!("{}:{}", btf.name(btf.type_by_id(ty).unwrap().name_off), btf.name(t.name_off)))
            }
            _ => None,
        })
        .collect();
    tags.sort();
    assert_eq!(tags, ["bar_use:bpf_fastcall", "bar_use:bpf_kfunc", "foo_get:bpf_kfunc"]);
    common::assert_kernel_accepts("vmlinux BTF with kfunc tags", &std::fs::read(&out).unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

/// `-o NEW.ko` writes the finished module to a copy, `--detached` and `-o -` the raw split
/// BTF; the input stays as it was.
#[test]
fn copy_and_detached_outputs() {
    let (dir, base_path, ko) = setup("outputs");
    let before = std::fs::read(&ko).unwrap();
    let (copy, det) = (dir.join("new.ko"), dir.join("m.btf"));
    let o = common::btfkit()
        .args(["dedup", "--kernel", "-B"])
        .arg(&base_path)
        .arg(&ko)
        .arg("-o")
        .arg(&copy)
        .arg("--detached")
        .arg(&det)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout =
        common::btfkit().args(["dedup", "--kernel", "-B"]).arg(&base_path).arg(&ko).args(["-o", "-"]).output().unwrap();
    assert!(stdout.status.success());
    assert_eq!(std::fs::read(&ko).unwrap(), before, "input untouched");
    let raw = std::fs::read(&det).unwrap();
    assert_eq!(stdout.stdout, raw);
    let new = std::fs::read(&copy).unwrap();
    let f = object::File::parse(&*new).unwrap();
    assert_eq!(f.section_by_name(".BTF").unwrap().data().unwrap(), &raw[..]);
    // The same as finishing in place.
    assert_eq!(finish(&base_path, &[&ko]).0, 0);
    assert_eq!(std::fs::read(&ko).unwrap(), new);
    std::fs::remove_dir_all(dir).unwrap();
}
