//! Malformed input: every rejection is the specific `btfkit::Error` variant,
//! and its message names the byte offset and/or the type id. Plus the CLI's
//! behaviour on bad input and on a closed pipe.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::io::Read;
use std::process::Stdio;
use std::sync::Arc;

use btfkit::btf::{Endianness, func_linkage, int_encoding};
use btfkit::parse::{self, ParseOptions};
use btfkit::{Btf, Error, TypeId, write};
use common::*;
use fixtures::*;

// Layout of `small()` as written: header 24 bytes, then
//   [1] INT    at 24 (16 bytes)
//   [2] PTR    at 40 (12)
//   [3] STRUCT at 52 (12 + 2 * 12)
//   [4] TYPEDEF at 88, [5] FUNC_PROTO at 100 (12 + 8), [6] FUNC at 120, [7] ENUM at 132 (12 + 8)
const T_INT: usize = 24;
const T_PTR: usize = 40;
const T_STRUCT: usize = 52;
const TYPES_END: usize = 152;

fn small() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let ptr = b.add_ptr(int).unwrap();
    let s = b.add_struct("s", 16).unwrap();
    b.add_field("a", int, 0, 0).unwrap();
    b.add_field("p", ptr, 64, 0).unwrap();
    let td = b.add_typedef("s_t", s).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("x", td).unwrap();
    b.add_func("f", func_linkage::GLOBAL, proto).unwrap();
    b.add_enum("e", 4).unwrap();
    b.add_enum_value("A", 1).unwrap();
    b
}

fn small_bytes() -> Vec<u8> {
    let v = write::to_bytes(&small());
    assert_eq!(rd(&v, 12) as usize, TYPES_END - 24, "layout of small() changed");
    v
}

fn rd(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(d[off..off + 4].try_into().unwrap())
}

fn wr(d: &mut [u8], off: usize, v: u32) {
    d[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn str_start(d: &[u8]) -> usize {
    24 + rd(d, 16) as usize
}

/// Parses, expecting an error; returns it and its message.
/// Parses at the kernel level (the strictest): the error.
fn err(d: &[u8]) -> (Error, String) {
    match parse::parse_with(d, &ParseOptions::new().with_validation(parse::Validation::Kernel)) {
        Ok(_) => panic!("malformed BTF was accepted"),
        Err(e) => {
            let m = e.to_string();
            (e, m)
        }
    }
}

fn has(msg: &str, what: &str) {
    assert!(msg.contains(what), "message {msg:?} does not contain {what:?}");
}

#[test]
fn small_is_valid() {
    let d = small_bytes();
    assert_eq!(parse::parse(&d).unwrap(), small());
}

#[test]
fn truncated_at_every_offset() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("small", small_bytes()),
        ("kinds.btf", std::fs::read(fixture_path("kinds.btf")).unwrap()),
        ("kinds.bpfeb.btf", std::fs::read(fixture_path("kinds.bpfeb.btf")).unwrap()),
    ];
    for (name, full) in &cases {
        for len in 0..full.len() {
            let (e, m) = err(&full[..len]);
            if len < 24 {
                assert!(
                    matches!(e, Error::TruncatedHeader { offset: 0, len: l } if l == len),
                    "{name}[..{len}]: {e:?}"
                );
                has(&m, "offset 0");
            } else {
                let Error::BadSections { offset: 8, why } = &e else { panic!("{name}[..{len}]: {e:?}") };
                has(why, &format!("only {len} bytes are present"));
                has(&m, "offset 8");
            }
        }
    }
    // Split BTF, cut anywhere, over its base.
    let base = Arc::new(btfkit::input::load(&fixture_path("enums.btf"), None).unwrap());
    let full = std::fs::read(fixture_path("split.btf")).unwrap();
    for len in 0..full.len() {
        let e = parse::parse_split(&full[..len], base.clone()).unwrap_err();
        assert!(
            matches!(e, Error::TruncatedHeader { .. } | Error::BadSections { offset: 8, .. }),
            "split[..{len}]: {e:?}"
        );
    }
}

/// Truncated ELF files never panic the loader (the object crate or our
/// section bounds reject them).
#[test]
fn truncated_elf_never_panics() {
    let dir = scratch("malformed-elf");
    let full = std::fs::read(fixture_path("kinds.bpf.o")).unwrap();
    let path = dir.join("cut.o");
    for len in (0..full.len()).step_by(61).chain([full.len() - 1]) {
        std::fs::write(&path, &full[..len]).unwrap();
        let e = btfkit::input::load(&path, None).unwrap_err();
        has(&e.to_string(), "cut.o");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_magic() {
    let mut d = small_bytes();
    d[0] = 0x12;
    d[1] = 0x34;
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadMagic { offset: 0, magic: 0x3412 }), "{e:?}");
    has(&m, "offset 0");
    has(&m, "0x3412");
}

#[test]
fn bad_version() {
    let mut d = small_bytes();
    d[2] = 2;
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadVersion { offset: 2, version: 2 }), "{e:?}");
    has(&m, "offset 2");
}

#[test]
fn bad_flags() {
    let mut d = small_bytes();
    d[3] = 1;
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadFlags { offset: 3, flags: 1 }), "{e:?}");
    has(&m, "offset 3");
}

#[test]
fn bad_hdr_len() {
    let base = small_bytes();
    let with_hdr_len = |v: u32| {
        let mut d = base.clone();
        wr(&mut d, 4, v);
        d
    };
    // Too small.
    let (e, m) = err(&with_hdr_len(20));
    assert!(matches!(e, Error::BadHeaderLen { offset: 4, hdr_len: 20, why } if why.contains("shorter")), "{e:?}");
    has(&m, "offset 4");
    // Not a multiple of 4.
    let (e, _) = err(&with_hdr_len(26));
    assert!(matches!(e, Error::BadHeaderLen { offset: 4, hdr_len: 26, why } if why.contains("multiple of 4")), "{e:?}");
    // Beyond the data.
    let beyond = (base.len() as u32 + 8) & !3;
    let (e, m) = err(&with_hdr_len(beyond));
    assert!(
        matches!(e, Error::BadHeaderLen { offset: 4, hdr_len, why } if hdr_len == beyond && why.contains("longer")),
        "{e:?}"
    );
    has(&m, "offset 4");
}

/// A header longer than the known fields: zero tail is fine (and kept when
/// writing), a non-zero tail byte is rejected at its offset.
#[test]
fn hdr_len_unknown_tail() {
    let base = small_bytes();
    for (hdr_len, known) in [(28usize, 24usize), (40, 32)] {
        let mut d = base[..24].to_vec();
        d.resize(hdr_len, 0);
        d.extend_from_slice(&base[24..]);
        wr(&mut d, 4, hdr_len as u32);
        let ok = parse::parse(&d).unwrap();
        assert_eq!(ok.hdr_len() as usize, hdr_len);
        assert_eq!(write::to_bytes(&ok), d, "a zero header tail round-trips");
        for bad in known..hdr_len {
            let mut d2 = d.clone();
            d2[bad] = 0x5a;
            let (e, m) = err(&d2);
            assert!(
                matches!(e, Error::BadHeaderLen { offset, why, .. } if offset == bad && why.contains("non-zero")),
                "hdr_len {hdr_len} byte {bad}: {e:?}"
            );
            has(&m, &format!("offset {bad}"));
        }
    }
}

#[test]
fn bad_section_layout() {
    let base = small_bytes();
    // Gap between header and types.
    let mut d = base.clone();
    wr(&mut d, 8, 4);
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadSections { offset: 8, .. }), "{e:?}");
    has(&m, "offset 8");
    // String section not following the type section.
    let mut d = base.clone();
    let v = rd(&d, 16) + 4;
    wr(&mut d, 16, v);
    assert!(matches!(err(&d).0, Error::BadSections { offset: 8, .. }));
    // Type section length not a multiple of 4.
    let mut d = base.clone();
    let v = rd(&d, 12) - 2;
    wr(&mut d, 12, v);
    assert!(matches!(err(&d).0, Error::BadSections { offset: 8, .. }));
}

#[test]
fn string_offset_out_of_range() {
    let d0 = small_bytes();
    let str_len = rd(&d0, 20);
    // Type name of [1].
    let mut d = d0.clone();
    wr(&mut d, T_INT, str_len + 100);
    let (e, m) = err(&d);
    assert!(
        matches!(e, Error::BadStringOffset { id: TypeId(1), what: "type name", str_off } if str_off.get() == str_len + 100),
        "{e:?}"
    );
    has(&m, "type [1]");
    has(&m, &(str_len + 100).to_string());
    // Exactly one past the end.
    let mut d = d0.clone();
    wr(&mut d, T_INT, str_len);
    assert!(matches!(err(&d).0, Error::BadStringOffset { id: TypeId(1), .. }));
    // Second member name of the struct [3].
    let mut d = d0.clone();
    wr(&mut d, T_STRUCT + 12 + 12, 0xffff_fff0);
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadStringOffset { id: TypeId(3), what: "member name", .. }), "{e:?}");
    has(&m, "type [3]");
}

#[test]
fn unterminated_string_table() {
    let mut d = small_bytes();
    let last = d.len() - 1;
    d[last] = b'x';
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadStrings { offset, why } if offset == last && why.contains("NUL")), "{e:?}");
    has(&m, &format!("offset {last}"));
}

#[test]
fn string_table_not_starting_with_nul() {
    let mut d = small_bytes();
    let s = str_start(&d);
    d[s] = b'x';
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadStrings { offset, why } if offset == s && why.contains("empty string")), "{e:?}");
    has(&m, &format!("offset {s}"));
}

#[test]
fn empty_string_table() {
    let mut d = small_bytes();
    let s = str_start(&d);
    wr(&mut d, 20, 0);
    d.truncate(s);
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadStrings { offset, .. } if offset == s), "{e:?}");
    has(&m, &format!("offset {s}"));
}

#[test]
fn type_id_out_of_range() {
    let mut d = small_bytes();
    wr(&mut d, T_PTR + 8, 999);
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadTypeId { id: TypeId(2), target: TypeId(999), max: 7 }), "{e:?}");
    has(&m, "type [2]");
    has(&m, "999");
    // One past the last id.
    let mut d = small_bytes();
    wr(&mut d, T_STRUCT + 12 + 4, 8);
    assert!(matches!(err(&d).0, Error::BadTypeId { id: TypeId(3), target: TypeId(8), max: 7 }));
}

#[test]
fn vlen_overruns_the_section() {
    let d0 = small_bytes();
    let info = rd(&d0, T_STRUCT + 4);
    // 100 bytes remain from the struct on: 8 members fit (eating the next types), 9 do not.
    for vlen in [9u32, 100, 0xffff] {
        let mut d = d0.clone();
        wr(&mut d, T_STRUCT + 4, (info & !0xffff) | vlen);
        let (e, m) = err(&d);
        let have = TYPES_END - T_STRUCT;
        assert!(
            matches!(e, Error::TruncatedType { offset: T_STRUCT, id: TypeId(3), need, have: h }
                if need == 12 + 12 * vlen as usize && h == have),
            "vlen {vlen}: {e:?}"
        );
        has(&m, &format!("offset {T_STRUCT}"));
        has(&m, "type [3]");
    }
    // The last type, an ENUM with one value at 132: a second value runs past the end.
    let t_enum = 132;
    let mut d = d0.clone();
    let info = rd(&d, t_enum + 4);
    assert_eq!(info & 0xffff, 1);
    wr(&mut d, t_enum + 4, info + 1);
    let (e, m) = err(&d);
    assert!(matches!(e, Error::TruncatedType { offset: 132, id: TypeId(7), need: 28, have: 20 }), "{e:?}");
    has(&m, "type [7]");
}

#[test]
fn unknown_kind() {
    for kind in [0u32, 20, 31] {
        let mut d = small_bytes();
        wr(&mut d, T_PTR + 4, kind << 24);
        let (e, m) = err(&d);
        assert!(matches!(e, Error::UnknownKind { offset: T_PTR, id: TypeId(2), kind: k } if k == kind), "{e:?}");
        has(&m, &format!("offset {T_PTR}"));
        has(&m, "type [2]");
    }
}

/// Writes a builder-made BTF and parses it back, expecting an error.
fn built_err(b: &Btf) -> (Error, String) {
    err(&write::to_bytes(b))
}

#[test]
fn typedef_cycle() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let a = b.add_typedef("a", TypeId(int.0 + 2)).unwrap(); // -> b
    let bb = b.add_typedef("b", a).unwrap();
    assert_eq!(bb.0, int.0 + 2);
    let (e, m) = built_err(&b);
    assert!(matches!(&e, Error::RefLoop { id, path } if (*id == a || *id == bb) && path.contains("TYPEDEF")), "{e:?}");
    has(&m, &format!("[{}]", a.0));
    // Self-referencing typedef and a const/volatile/typedef triangle.
    let mut b = Btf::new();
    b.add_typedef("self", TypeId(1)).unwrap();
    assert!(matches!(built_err(&b).0, Error::RefLoop { id: TypeId(1), .. }));
    let mut b = Btf::new();
    b.add_const(TypeId(2)).unwrap();
    b.add_volatile(TypeId(3)).unwrap();
    b.add_typedef("t", TypeId(1)).unwrap();
    let (e, m) = built_err(&b);
    assert!(matches!(&e, Error::RefLoop { path, .. } if path.contains("CONST") && path.contains("VOLATILE")), "{e:?}");
    has(&m, "reference loop");
}

#[test]
fn struct_containing_itself_by_value() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let s = b.add_struct("s", 8).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    b.add_field("me", s, 32, 0).unwrap();
    let (e, m) = built_err(&b);
    assert!(matches!(&e, Error::RefLoop { id, path } if *id == s && path.contains("STRUCT")), "{e:?}");
    has(&m, &format!("type [{}]", s.0));
    // Through an array of itself.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let s = b.add_struct("s", 8).unwrap();
    b.add_field("arr", TypeId(s.0 + 1), 0, 0).unwrap();
    b.add_array(s, int, 2).unwrap();
    assert!(matches!(built_err(&b).0, Error::RefLoop { .. }));
    // Through a pointer it is fine (a linked list).
    let mut b = Btf::new();
    let s = b.add_struct("list", 8).unwrap();
    b.add_field("next", TypeId(s.0 + 1), 0, 0).unwrap();
    b.add_ptr(s).unwrap();
    assert_eq!(parse::parse(&write::to_bytes(&b)).unwrap(), b);
}

#[test]
fn func_pointing_to_non_func_proto() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let f = b.add_func("f", func_linkage::GLOBAL, int).unwrap();
    let (e, m) = built_err(&b);
    assert!(
        matches!(&e, Error::BadType { id, kind: "FUNC", why, .. } if *id == f && why.contains("not FUNC_PROTO")),
        "{e:?}"
    );
    has(&m, &format!("type [{}]", f.0));
    has(&m, "offset 40");
    // FUNC -> void.
    let mut b = Btf::new();
    b.add_func("g", func_linkage::STATIC, TypeId::VOID).unwrap();
    assert!(matches!(built_err(&b).0, Error::BadType { id: TypeId(1), kind: "FUNC", .. }));
}

#[test]
fn trailing_bytes() {
    let mut d = small_bytes();
    let len = d.len();
    d.extend_from_slice(&[0, 0, 0, 0]);
    let (e, m) = err(&d);
    assert!(
        matches!(&e, Error::BadSections { offset, why } if *offset == len && why.contains("4 trailing bytes")),
        "{e:?}"
    );
    has(&m, &format!("offset {len}"));
    // Allowed on request (archives), reporting the BTF's length.
    let (b, used) = parse::parse_with(&d, &ParseOptions::new().with_allow_trailing(true)).unwrap();
    assert_eq!((b, used), (small(), len));
}

#[test]
fn errors_name_the_file_offset() {
    // Offsets inside a BTF embedded at file_offset are reported in file terms.
    let mut d = small_bytes();
    wr(&mut d, T_PTR + 4, 25 << 24);
    let opts = ParseOptions::new().with_file_offset(1000);
    let e = parse::parse_with(&d, &opts).unwrap_err();
    assert!(matches!(e, Error::UnknownKind { offset, id: TypeId(2), .. } if offset == 1000 + T_PTR), "{e:?}");
}

#[test]
fn big_endian_parse_equals_little_endian() {
    let b = small();
    let le = write::to_bytes(&b);
    let be = write::to_bytes_endian(&b, Endianness::Big);
    assert_ne!(le, be);
    assert_eq!(&be[..2], &[0xeb, 0x9f]);
    let from_be = parse::parse(&be).unwrap();
    assert_eq!(from_be.endian(), Endianness::Big);
    assert_eq!(from_be, b);
    assert_eq!(parse::parse(&le).unwrap(), from_be);
    assert_eq!(write::to_bytes(&from_be), be);
    assert_eq!(write::to_bytes_endian(&from_be, Endianness::Little), le);
    // The same dump either way.
    let (mut x, mut y) = (Vec::new(), Vec::new());
    btfkit::dump::raw::dump(&from_be, &mut x).unwrap();
    btfkit::dump::raw::dump(&b, &mut y).unwrap();
    assert_eq!(x, y);
}

#[test]
fn big_endian_errors_equal_little_endian_errors() {
    // A bad reference, a FUNC to a non-proto, and a loop: same error either way.
    let mut cases = Vec::new();
    let mut b = small();
    b.add_ptr(TypeId(500)).unwrap();
    cases.push(b);
    let mut b = small();
    b.add_func("g", 0, TypeId(1)).unwrap();
    cases.push(b);
    let mut b = small();
    b.add_typedef("loop", TypeId(8)).unwrap();
    cases.push(b);
    for b in &cases {
        let le = parse::parse(&write::to_bytes_endian(b, Endianness::Little)).unwrap_err().to_string();
        let be = parse::parse(&write::to_bytes_endian(b, Endianness::Big)).unwrap_err().to_string();
        assert_eq!(le, be);
    }
    // Truncated big-endian data: same variants as little-endian.
    let be = write::to_bytes_endian(&small(), Endianness::Big);
    assert!(matches!(parse::parse(&be[..10]).unwrap_err(), Error::TruncatedHeader { offset: 0, len: 10 }));
    assert!(matches!(parse::parse(&be[..be.len() - 1]).unwrap_err(), Error::BadSections { offset: 8, .. }));
}

#[test]
fn split_btf_needs_its_base() {
    let split = std::fs::read(fixture_path("split.btf")).unwrap();
    // Without a base, its strings do not start with "" and its ids point past its end.
    let e = parse::parse(&split).unwrap_err();
    assert!(matches!(e, Error::BadStrings { offset: _, why } if why.contains("split BTF")), "{e:?}");
    // Over the wrong base (too few types): a type id out of range.
    let mut wrong = Btf::new();
    wrong.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let e = parse::parse_split(&split, Arc::new(wrong)).unwrap_err();
    assert!(matches!(e, Error::BadTypeId { .. } | Error::BadStringOffset { .. } | Error::BadType { .. }), "{e:?}");
    // Big-endian split over a little-endian base.
    let base = Arc::new(btfkit::input::load(&fixture_path("enums.btf"), None).unwrap());
    let s = parse::parse_split(&split, base.clone()).unwrap();
    let be = write::to_bytes_endian(&s, Endianness::Big);
    let e = parse::parse_split(&be, base).unwrap_err();
    assert!(matches!(e, Error::BaseEndian { offset: 0, endian: Endianness::Big, base: Endianness::Little }), "{e:?}");
    assert!(e.to_string().contains("endian"), "{e}");
}

// ---- the command line ----

#[test]
fn cli_bad_file_exits_2_and_names_it() {
    let dir = scratch("malformed-cli");
    let bad = dir.join("bad.btf");
    let mut d = small_bytes();
    d[0] = 0;
    std::fs::write(&bad, &d).unwrap();
    let missing = dir.join("does-not-exist.btf");
    for (path, what) in [(&bad, "bad BTF magic"), (&missing, "does-not-exist.btf")] {
        for extra in [&[][..], &["--format", "json"][..]] {
            let out = btfkit().arg("dump").arg(path).args(extra).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{path:?} {extra:?}");
            assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", String::from_utf8_lossy(&out.stdout));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(&*path.to_string_lossy()), "stderr names the file: {err}");
            assert!(err.contains(what), "stderr says why: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    // A bad split module over a good base: the module is named.
    let out = btfkit().arg("dump").arg(&bad).arg("-B").arg(fixture_path("enums.btf")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.btf"));
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cli_closed_pipe_exits_0_quietly() {
    // A dump much larger than a pipe buffer, so the write fails after we hang up.
    let Some(big) = debian_vmlinux().or_else(host_vmlinux) else {
        return skip_data("no large BTF (Debian vmlinux or /sys/kernel/btf/vmlinux)");
    };
    for fmt in ["raw", "json"] {
        let mut child = btfkit()
            .arg("dump")
            .arg(&big)
            .args(["--format", fmt])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout); // like `| head -c 64`
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{fmt}: closed pipe exits 0; stderr: {err}");
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{fmt}: quiet on a closed pipe: {err}");
        if fmt == "raw" {
            assert!(first.starts_with(b"[1] "), "{:?}", String::from_utf8_lossy(&first));
        }
    }
    // `btfkit diff A B | head`: still quiet, and the status still says "different".
    if let (Some(a), Some(b)) = (host_vmlinux(), debian_vmlinux()) {
        let mut child =
            btfkit().arg("diff").arg(&a).arg(&b).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "diff of different BTFs exits 1 on a closed pipe too; stderr: {err}");
        assert!(err.is_empty(), "quiet on a closed pipe: {err}");
    }
}

/// ARRAY and FWD have no use for the size/type word; a non-zero one is
/// rejected (as the kernel does) rather than silently dropped.
#[test]
fn unused_size_field_must_be_zero() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap(); // at 24
    b.add_array(int, int, 4).unwrap(); // at 40
    b.add_fwd("f", false).unwrap(); // at 64
    let d0 = write::to_bytes(&b);
    for (off, id, kind) in [(40usize, 2u32, "ARRAY"), (64, 3, "FWD")] {
        let mut d = d0.clone();
        wr(&mut d, off + 8, 1);
        let (e, m) = err(&d);
        assert!(
            matches!(&e, Error::BadType { offset, id: i, kind: k, why } if *offset == off && *i == TypeId(id) && *k == kind && why.contains(" != 0")),
            "{e:?}"
        );
        has(&m, &format!("offset {off}"));
        has(&m, &format!("type [{id}]"));
    }
}

/// INT data and info words with bits outside their fields are rejected (as the
/// kernel does: it allows INT data bits 8..15, not 28..31).
#[test]
fn unused_bits_rejected() {
    let mut d = small_bytes();
    wr(&mut d, T_PTR + 4, (2 << 24) | (1 << 16)); // PTR with a bit in info's unused byte
    let (e, m) = err(&d);
    assert!(matches!(e, Error::BadType { offset: T_PTR, id: TypeId(2), kind: "PTR", .. }), "{e:?}");
    has(&m, "type [2]");
    let mut d = small_bytes();
    wr(&mut d, T_PTR + 4, (2 << 24) | (1 << 31)); // kind_flag on a PTR
    assert!(matches!(err(&d).0, Error::BadType { id: TypeId(2), kind: "PTR", .. }));
    let mut d = small_bytes();
    let v = rd(&d, T_INT + 12);
    wr(&mut d, T_INT + 12, v | 1 << 28); // INT data: a bit above the encoding
    let (e, _) = err(&d);
    assert!(matches!(e, Error::BadType { offset: T_INT, id: TypeId(1), kind: "INT", .. }), "{e:?}");
}

/// A DECL_TAG whose value is an empty string at a non-zero offset is rejected
/// like one at offset 0 (the kernel rejects both; dedup would move "" to 0).
#[test]
fn empty_decl_tag_value_anywhere_is_rejected() {
    let mut b = btfkit::Btf::new();
    let int = b.add_int("int", 4, btfkit::btf::int_encoding::SIGNED).unwrap();
    // "\0int\0" + a second empty string at offset 5.
    btfkit::btf::unchecked::strings_mut(&mut b).push_unique(b"");
    let empty_off = btfkit::btf::StrOff(5);
    assert_eq!(b.str_bytes(empty_off), Some(&b""[..]));
    b.push_type(btfkit::Type::new(empty_off, btfkit::TypeKind::DeclTag { ty: int, component_idx: -1, attr: false }))
        .unwrap();
    let (err, _) = err(&btfkit::write::to_bytes(&b));
    assert!(matches!(err, btfkit::Error::BadType { id: TypeId(2), .. }), "{err}");
    assert!(err.to_string().contains("Invalid value"), "{err}");
}

#[test]
fn cli_dedup_error_names_the_input_and_writes_nothing() {
    let dir = scratch("malformed-dedup");
    // [2] PTR -> [3] ARRAY -> [2]: parses (the loop goes through a pointer),
    // but no dedup can resolve it.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let p = b.add_ptr(btfkit::TypeId(3)).unwrap();
    b.add_array(p, int, 2).unwrap();
    let input = dir.join("loop.btf");
    std::fs::write(&input, write::to_bytes(&b)).unwrap();
    let target = dir.join("out.btf");
    std::fs::write(&target, b"original").unwrap();
    for inputs in [vec![&input], vec![&input, &input]] {
        let out = btfkit().arg("dedup").args(&inputs).arg("-o").arg(&target).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("loop.btf") && err.contains("type [2]") && err.contains("struct or union"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"original", "the target is untouched");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `btf::unchecked` (the escape hatch for making invalid BTF on purpose): a
/// pointer made to dangle is refused by the kernel's rules and by the parser
/// after a write; the builder alone could not have made it.
#[test]
fn unchecked_escape_hatch_makes_invalid_btf() {
    use btfkit::btf::unchecked;
    let mut b = btfkit::Btf::new();
    let int = b.add_int("int", 4, 0).unwrap();
    b.add_ptr(int).unwrap();
    assert!(b.validate(btfkit::parse::Validation::Kernel).is_empty());
    if let btfkit::TypeKind::Ptr(to) = &mut unchecked::types_mut(&mut b)[1].kind {
        *to = btfkit::TypeId(99);
    }
    assert!(!b.validate(btfkit::parse::Validation::Kernel).is_empty());
    let e = parse::parse(&btfkit::write::to_bytes(&b)).unwrap_err();
    assert!(matches!(e, btfkit::Error::BadTypeId { .. }), "{e:?}");
}

/// `Btf::push_type` checks a type as the builder does (string offsets name
/// strings; ids up to the largest id, forward references allowed);
/// `unchecked::push_type` takes anything.
#[test]
fn push_type_checks_strings_and_ids_unchecked_does_not() {
    use btfkit::btf::{StrOff, unchecked};
    use btfkit::{Type, TypeId, TypeKind};
    let mut b = btfkit::Btf::new();
    let int = b.add_int("int", 4, 0).unwrap();
    let bad_name = Type::new(StrOff(1000), TypeKind::Ptr(int));
    let e = b.push_type(bad_name.clone()).unwrap_err();
    assert!(matches!(e, btfkit::Error::BadStringOffset { id: TypeId(2), str_off: StrOff(1000), .. }), "{e:?}");
    let too_big = Type::new(StrOff::EMPTY, TypeKind::Ptr(TypeId(u32::MAX)));
    assert!(matches!(b.push_type(too_big).unwrap_err(), btfkit::Error::BadTypeId { id: TypeId(2), .. }));
    assert_eq!(b.type_count(), 2, "nothing appended");
    let fwd = b.push_type(Type::new(StrOff::EMPTY, TypeKind::Ptr(TypeId(3)))).unwrap();
    assert_eq!(b.add_ptr(int).unwrap(), TypeId(fwd.0 + 1), "a forward reference, as the builder allows");
    assert!(b.validate(btfkit::parse::Validation::Kernel).is_empty());
    unchecked::push_type(&mut b, bad_name).unwrap();
    assert!(!b.validate(btfkit::parse::Validation::Kernel).is_empty());
}
