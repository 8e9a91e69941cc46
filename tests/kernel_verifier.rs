//! `Validation::Kernel` and `btfkit verify` against the running kernel's
//! verifier (`bpf(BPF_BTF_LOAD)`):
//!
//! - for each kernel check, a minimal violating BTF made with the builder:
//!   btfkit reports the kernel's message, and (as root) the kernel rejects it
//!   with the same last log line;
//! - a differential test over thousands of generated and mutated BTFs: btfkit's
//!   verdict equals the kernel's on every one (and so does the message), apart
//!   from the deliberate differences listed in docs/ROBUSTNESS.md.
//!
//! Kernel-dependent parts skip visibly without the permission to load BTF and
//! fail under BTFKIT_REQUIRE_ORACLES=1 (as root).

mod common;
#[path = "common/graph_spec.rs"]
mod graph_spec;

use btfkit::btf::{List, Quirks, StrOff, int_encoding};
use btfkit::validate::{Violation, verify_bytes};
use btfkit::{Btf, Type, TypeId, TypeKind, write};

// ---- the kernel as an oracle ----

enum Verdict {
    Accepted,
    /// Rejected, with the last line of the kernel's log.
    Rejected(String),
}

/// The kernel's verdict on `btf` (None: loading BTF is not permitted here).
fn kernel(btf: &[u8]) -> Option<Verdict> {
    match load(btf, 0) {
        Load::Ok => Some(Verdict::Accepted),
        Load::NotPermitted => None,
        Load::Err(_) => match load(btf, 1) {
            Load::Err(log) => Some(Verdict::Rejected(last_line(&log))),
            // Accepted with a log but not without: the log buffer was too small.
            _ => Some(Verdict::Rejected(String::new())),
        },
    }
}

enum Load {
    Ok,
    NotPermitted,
    Err(String),
}

fn load(btf: &[u8], log_level: u32) -> Load {
    match common::bpf_btf_load(btf, log_level, 1 << 20) {
        Ok(()) => Load::Ok,
        Err((err, _)) if common::bpf_not_permitted(&err) => Load::NotPermitted,
        Err((_, log)) => Load::Err(log),
    }
}

fn last_line(log: &str) -> String {
    log.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_string()
}

/// Whether the kernel can be asked here; prints the skip (or fails under
/// BTFKIT_REQUIRE_ORACLES=1 as root) when not.
fn kernel_available() -> bool {
    let mut b = Btf::new();
    b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    if kernel(&write::to_bytes(&b)).is_some() {
        return true;
    }
    if common::require_oracles() && common::is_root() {
        panic!("BPF_BTF_LOAD not permitted as root");
    }
    eprintln!("skipped: BPF_BTF_LOAD not permitted (not root?): kernel verdicts not compared");
    false
}

/// Our verdict: None = accepted; Some(last line of the first problem).
/// A BTF that cannot be decoded at all counts as rejected (`(undecodable)`).
fn ours(bytes: &[u8]) -> Option<String> {
    match verify_bytes(bytes, None) {
        Ok(v) if v.is_empty() => None,
        Ok(v) => Some(last_line(&v[0].to_string())),
        Err(e) => Some(format!("(undecodable) {e}")),
    }
}

// ---- one minimal violating BTF per check ----

fn raw(b: &mut Btf, name: &str, kind: TypeKind) -> TypeId {
    let off = if name.is_empty() { StrOff::EMPTY } else { b.add_str(name).unwrap() };
    btfkit::btf::unchecked::push_type(b, Type::new(off, kind)).unwrap()
}

fn with_quirks(b: &mut Btf, id: TypeId, q: Quirks) {
    let i = (id.0 - b.start_id().0) as usize;
    btfkit::btf::unchecked::types_mut(b)[i].quirks = Some(Box::new(q));
}

fn int(b: &mut Btf) -> TypeId {
    b.add_int("int", 4, int_encoding::SIGNED).unwrap()
}

fn comp(size: u32, kflag: bool, members: &[(u32, TypeId, u32)]) -> btfkit::btf::Composite {
    btfkit::btf::Composite {
        size,
        kflag,
        members: members
            .iter()
            .map(|&(n, ty, offset)| btfkit::btf::Member { name_off: StrOff(n), ty, offset })
            .collect(),
    }
}

/// (what, BTF, the kernel's message) for each check.
fn cases() -> Vec<(&'static str, Btf, &'static str)> {
    let mut v: Vec<(&'static str, Btf, &'static str)> = Vec::new();
    let mut case = |what: &'static str, msg: &'static str, f: &dyn Fn(&mut Btf)| {
        let mut b = Btf::new();
        f(&mut b);
        v.push((what, b, msg));
    };
    use btfkit::btf::{Array, Datasec, FuncProto, Int, Param, VarSecinfo};
    // meta: common
    case("unused info bits", "Invalid btf_info:", &|b| {
        let i = int(b);
        let p = b.add_ptr(i).unwrap();
        with_quirks(b, p, Quirks { info: 1 << 20, ..Default::default() });
    });
    case("name offset beyond the strings", "Invalid name_offset:", &|b| {
        btfkit::btf::unchecked::push_type(
            b,
            Type::new(StrOff(1000), TypeKind::Int(Int { size: 4, encoding: 0, offset: 0, bits: 32 })),
        )
        .unwrap();
    });
    // INT
    case("INT vlen", "vlen != 0", &|b| {
        let i = int(b);
        with_quirks(b, i, Quirks { info: 1, ..Default::default() });
    });
    case("INT kind_flag", "Invalid btf_info kind_flag", &|b| {
        let i = int(b);
        with_quirks(b, i, Quirks { info: 1 << 31, ..Default::default() });
    });
    case("INT data bits 28..31", "Invalid int_data:", &|b| {
        let i = int(b);
        with_quirks(b, i, Quirks { int_data: 1 << 28, ..Default::default() });
    });
    case("INT nr_bits over 128", "nr_bits exceeds 128", &|b| {
        raw(b, "i", TypeKind::Int(Int { size: 16, encoding: 0, offset: 8, bits: 128 }));
    });
    case("INT nr_bits over its size", "nr_bits exceeds type_size", &|b| {
        raw(b, "i", TypeKind::Int(Int { size: 4, encoding: 0, offset: 0, bits: 64 }));
    });
    case("INT two encodings", "Unsupported encoding", &|b| {
        raw(b, "i", TypeKind::Int(Int { size: 1, encoding: 3, offset: 0, bits: 8 }));
    });
    // PTR and modifiers
    case("PTR named", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "p", TypeKind::Ptr(i));
    });
    case("CONST named", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "c", TypeKind::Const(i));
    });
    case("TYPEDEF anonymous", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "", TypeKind::Typedef(i));
    });
    case("TYPEDEF name not an identifier", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "my-int", TypeKind::Typedef(i));
    });
    case("TYPE_TAG without a value", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "", TypeKind::TypeTag { ty: i, attr: false });
    });
    case("VOLATILE kind_flag", "Invalid btf_info kind_flag", &|b| {
        let i = int(b);
        let c = b.add_volatile(i).unwrap();
        with_quirks(b, c, Quirks { info: 1 << 31, ..Default::default() });
    });
    case("RESTRICT vlen", "vlen != 0", &|b| {
        let i = int(b);
        let c = b.add_restrict(i).unwrap();
        with_quirks(b, c, Quirks { info: 2, ..Default::default() });
    });
    case("PTR type id above BTF_MAX_TYPE", "Invalid type_id", &|b| {
        raw(b, "", TypeKind::Ptr(TypeId(0x10_0000)));
    });
    case("PTR to a missing type", "Invalid type_id", &|b| {
        raw(b, "", TypeKind::Ptr(TypeId(7)));
    });
    case("TYPEDEF of a VAR", "Invalid type_id", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_typedef("t", v).unwrap();
    });
    case("CONST of a DECL_TAG", "Invalid type_id", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        let f = b.add_func("f", 0, p).unwrap();
        let t = b.add_decl_tag("t", f, -1).unwrap();
        b.add_const(t).unwrap();
    });
    case("loop of pointers and modifiers", "Loop detected", &|b| {
        b.add_ptr(TypeId(2)).unwrap();
        b.add_const(TypeId(1)).unwrap();
    });
    case("33-deep chain", "Exceeded max resolving depth:32", &|b| {
        for i in 0..40 {
            b.add_const(TypeId(i + 2)).unwrap();
        }
        int(b);
    });
    case("type tag after a modifier", "Type tags don't precede modifiers", &|b| {
        let i = int(b);
        let t = b.add_type_tag("user", i).unwrap();
        let c = b.add_const(t).unwrap();
        b.add_ptr(c).unwrap();
    });
    // ARRAY
    case("ARRAY named", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "a", TypeKind::Array(Array { elem: i, index: i, nelems: 1 }));
    });
    case("ARRAY size word", "size != 0", &|b| {
        let i = int(b);
        let a = b.add_array(i, i, 1).unwrap();
        with_quirks(b, a, Quirks { size_or_type: 4, ..Default::default() });
    });
    case("ARRAY of void", "Invalid elem", &|b| {
        let i = int(b);
        raw(b, "", TypeKind::Array(Array { elem: TypeId(0), index: i, nelems: 1 }));
    });
    case("ARRAY void index", "Invalid index", &|b| {
        let i = int(b);
        raw(b, "", TypeKind::Array(Array { elem: i, index: TypeId(0), nelems: 1 }));
    });
    case("ARRAY index not an INT", "Invalid index", &|b| {
        let i = int(b);
        let p = b.add_ptr(i).unwrap();
        b.add_array(i, p, 1).unwrap();
    });
    case("ARRAY of a FWD", "Invalid elem", &|b| {
        let i = int(b);
        let f = b.add_fwd("s", false).unwrap();
        b.add_array(f, i, 1).unwrap();
    });
    case("ARRAY of bitfield INT", "Invalid array of int", &|b| {
        let i = int(b);
        let bf = raw(b, "bf", TypeKind::Int(Int { size: 1, encoding: 0, offset: 0, bits: 3 }));
        b.add_array(bf, i, 2).unwrap();
    });
    case("ARRAY over 4 GiB", "Array size overflows U32_MAX", &|b| {
        let i = int(b);
        b.add_array(i, i, 0x4000_0001).unwrap();
    });
    // STRUCT / UNION
    case("STRUCT name not an identifier", "Invalid name", &|b| {
        raw(b, "1s", TypeKind::Struct(comp(0, false, &[])));
    });
    case("member name not an identifier", "Invalid name", &|b| {
        let i = int(b);
        let n = b.add_str("a b").unwrap();
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(n.get(), i, 0)])));
    });
    case("member name offset", "Invalid member name_offset:", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(5000, i, 0)])));
    });
    case("member of type void", "Invalid type_id", &|b| {
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, TypeId(0), 0)])));
    });
    case("union member at an offset", "Invalid member bits_offset", &|b| {
        let i = int(b);
        raw(b, "u", TypeKind::Union(comp(8, false, &[(0, i, 32)])));
    });
    case("members out of order", "Invalid member bits_offset", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(8, false, &[(0, i, 32), (0, i, 0)])));
    });
    case("member beyond the struct", "Member bits_offset exceeds its struct size", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 64)])));
    });
    case("member overflowing the struct", "Member exceeds struct_size", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(6, false, &[(0, i, 32)])));
    });
    case("member of a FWD type", "Invalid member", &|b| {
        let f = b.add_fwd("f", false).unwrap();
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, f, 0)])));
    });
    case("member of a VAR type", "Invalid member", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, v, 0)])));
    });
    case("struct member not byte aligned", "Member is not byte aligned", &|b| {
        let i = int(b);
        let s = raw(b, "in", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
        raw(b, "s", TypeKind::Struct(comp(8, false, &[(0, s, 3)])));
    });
    case("pointer member not byte aligned", "Member is not byte aligned", &|b| {
        let i = int(b);
        let p = b.add_ptr(i).unwrap();
        raw(b, "s", TypeKind::Struct(comp(16, false, &[(0, p, 4)])));
    });
    case("struct containing itself", "Loop detected", &|b| {
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, TypeId(1), 0)])));
    });
    case("bitfield of a non-regular INT", "Invalid member base type", &|b| {
        let bf = raw(b, "bf", TypeKind::Int(Int { size: 1, encoding: 0, offset: 0, bits: 3 }));
        raw(b, "s", TypeKind::Struct(comp(4, true, &[(0, bf, 3 << 24)])));
    });
    case("bitfield wider than its INT", "Invalid member bitfield_size", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, i, 33 << 24)])));
    });
    case("kind_flag INT member not byte aligned", "Invalid member offset", &|b| {
        let i = int(b);
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, i, 4)])));
    });
    case("bitfield of a pointer", "Invalid member bitfield_size", &|b| {
        let i = int(b);
        let p = b.add_ptr(i).unwrap();
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, p, 3 << 24)])));
    });
    case("enum bitfield over 32 bits", "Invalid member bitfield_size", &|b| {
        let e = b.add_enum("e", 4).unwrap();
        b.add_enum_value("A", 0).unwrap();
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, e, 40 << 24)])));
    });
    case("FLOAT member misaligned", "Member is not properly aligned", &|b| {
        let f = b.add_float("double", 8).unwrap();
        raw(b, "s", TypeKind::Struct(comp(16, false, &[(0, f, 32)])));
    });
    case("member through a typedef of void", "Invalid member", &|b| {
        let t = b.add_typedef("v", TypeId(0)).unwrap();
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, t, 0)])));
    });
    // ENUM
    case("ENUM size 3", "Unexpected size", &|b| {
        raw(b, "e", TypeKind::Enum(btfkit::btf::Enum { size: 3, signed: false, values: List::new() }));
    });
    case("ENUM64 size 16", "Unexpected size", &|b| {
        raw(b, "e", TypeKind::Enum64(btfkit::btf::Enum64 { size: 16, signed: false, values: List::new() }));
    });
    case("ENUM value anonymous", "Invalid name", &|b| {
        raw(
            b,
            "e",
            TypeKind::Enum(btfkit::btf::Enum {
                size: 4,
                signed: false,
                values: List::from(vec![btfkit::btf::EnumValue { name_off: StrOff::EMPTY, val: 1 }]),
            }),
        );
    });
    case("ENUM value name offset", "Invalid name_offset:", &|b| {
        raw(
            b,
            "e",
            TypeKind::Enum(btfkit::btf::Enum {
                size: 4,
                signed: false,
                values: List::from(vec![btfkit::btf::EnumValue { name_off: StrOff(9000), val: 1 }]),
            }),
        );
    });
    // FWD
    case("FWD anonymous", "Invalid name", &|b| {
        raw(b, "", TypeKind::Fwd { union: false });
    });
    case("FWD size word", "type != 0", &|b| {
        let f = b.add_fwd("f", false).unwrap();
        with_quirks(b, f, Quirks { size_or_type: 4, ..Default::default() });
    });
    // FUNC / FUNC_PROTO
    case("FUNC anonymous", "Invalid name", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        raw(b, "", TypeKind::Func { proto: p, linkage: 0 });
    });
    case("FUNC extern", "Invalid func linkage", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        b.add_func("f", 2, p).unwrap();
    });
    case("FUNC to a non-prototype", "Invalid type_id", &|b| {
        let i = int(b);
        raw(b, "f", TypeKind::Func { proto: i, linkage: 0 });
    });
    case("FUNC with an anonymous argument", "Invalid arg#1", &|b| {
        let i = int(b);
        let p = b.add_func_proto(i).unwrap();
        b.add_param("", i).unwrap();
        b.add_func("f", 0, p).unwrap();
    });
    case("FUNC_PROTO named", "Invalid name", &|b| {
        raw(b, "p", TypeKind::FuncProto(FuncProto { ret: TypeId(0), params: List::new() }));
    });
    case("FUNC_PROTO void argument", "Invalid arg#1", &|b| {
        let i = int(b);
        let n = b.add_str("a").unwrap();
        raw(
            b,
            "",
            TypeKind::FuncProto(FuncProto {
                ret: i,
                params: List::from(vec![
                    Param { name_off: StrOff::EMPTY, ty: TypeId(0) },
                    Param { name_off: n, ty: i },
                ]),
            }),
        );
    });
    case("FUNC_PROTO named vararg", "Invalid arg#2", &|b| {
        let i = int(b);
        let n = b.add_str("a").unwrap();
        raw(
            b,
            "",
            TypeKind::FuncProto(FuncProto {
                ret: i,
                params: List::from(vec![Param { name_off: n, ty: i }, Param { name_off: n, ty: TypeId(0) }]),
            }),
        );
    });
    case("FUNC_PROTO argument name not an identifier", "Invalid arg#1", &|b| {
        let i = int(b);
        let p = b.add_func_proto(i).unwrap();
        let _ = p;
        b.add_param("9a", i).unwrap();
    });
    case("FUNC_PROTO returning a FWD", "Invalid return type", &|b| {
        let f = b.add_fwd("f", false).unwrap();
        b.add_func_proto(f).unwrap();
    });
    case("FUNC_PROTO returning a VAR", "Invalid return type", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_func_proto(v).unwrap();
    });
    // VAR / DATASEC
    case("VAR extern", "Linkage not supported", &|b| {
        let i = int(b);
        b.add_var("v", 2, i).unwrap();
    });
    case("VAR anonymous", "Invalid name", &|b| {
        let i = int(b);
        raw(b, "", TypeKind::Var { ty: i, linkage: 0 });
    });
    case("VAR of void", "Invalid type_id", &|b| {
        raw(b, "v", TypeKind::Var { ty: TypeId(0), linkage: 0 });
    });
    case("VAR of a FUNC_PROTO", "Invalid type_id", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        b.add_var("v", 0, p).unwrap();
    });
    case("DATASEC size 0", "size == 0", &|b| {
        b.add_datasec(".data", 0).unwrap();
    });
    case("DATASEC name not printable", "Invalid name", &|b| {
        b.add_datasec(".da\tta", 4).unwrap();
    });
    case("DATASEC entry of void", "Invalid type_id", &|b| {
        raw(
            b,
            ".data",
            TypeKind::Datasec(Datasec {
                size: 4,
                vars: List::from(vec![VarSecinfo { ty: TypeId(0), offset: 0, size: 4 }]),
            }),
        );
    });
    case("DATASEC entries overlapping", "Invalid offset", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        let w = b.add_var("w", 0, i).unwrap();
        b.add_datasec(".data", 8).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
        b.add_datasec_var(w, 2, 4).unwrap();
    });
    case("DATASEC entry size 0", "Invalid size", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_datasec(".data", 8).unwrap();
        b.add_datasec_var(v, 0, 0).unwrap();
    });
    case("DATASEC entry past the end", "Invalid offset+size", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_datasec(".data", 6).unwrap();
        b.add_datasec_var(v, 4, 4).unwrap();
    });
    case("DATASEC entry not a VAR", "Not a VAR kind member", &|b| {
        let i = int(b);
        b.add_datasec(".data", 4).unwrap();
        b.add_datasec_var(i, 0, 4).unwrap();
    });
    case("DATASEC entry smaller than its VAR", "Invalid size", &|b| {
        let i = b.add_int("long", 8, 0).unwrap();
        let v = b.add_var("v", 0, i).unwrap();
        b.add_datasec(".data", 8).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
    });
    // FLOAT
    case("FLOAT size 3", "Invalid type_size", &|b| {
        raw(b, "f", TypeKind::Float { size: 3 });
    });
    // DECL_TAG
    case("DECL_TAG empty value", "Invalid value", &|b| {
        let i = int(b);
        let s = raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
        raw(b, "", TypeKind::DeclTag { ty: s, component_idx: -1, attr: false });
    });
    case("DECL_TAG component below -1", "Invalid component_idx", &|b| {
        let i = int(b);
        let s = raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
        raw(b, "t", TypeKind::DeclTag { ty: s, component_idx: -2, attr: false });
    });
    case("DECL_TAG on an INT", "Invalid type_id", &|b| {
        let i = int(b);
        b.add_decl_tag("t", i, -1).unwrap();
    });
    case("DECL_TAG component of a VAR", "Invalid component_idx", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_decl_tag("t", v, 0).unwrap();
    });
    case("DECL_TAG component out of range", "Invalid component_idx", &|b| {
        let i = int(b);
        let s = raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
        b.add_decl_tag("t", s, 1).unwrap();
    });
    v
}

#[test]
fn every_check_has_the_kernels_message() {
    let with_kernel = kernel_available();
    let all = cases();
    let mut confirmed = 0;
    let mut failures = Vec::new();
    for (what, btf, msg) in &all {
        let bytes = write::to_bytes(btf);
        let problems = btf.validate(btfkit::parse::Validation::Kernel);
        let kernel_says = if with_kernel {
            match kernel(&bytes) {
                Some(Verdict::Rejected(line)) => Some(line),
                Some(Verdict::Accepted) => Some("(accepted)".into()),
                None => None,
            }
        } else {
            None
        };
        let Some(first) = problems.first() else {
            failures.push(format!("{what}: btfkit accepts it; kernel: {kernel_says:?}"));
            continue;
        };
        if !first.message.starts_with(msg) {
            failures.push(format!("{what}: btfkit says `{first}`, expected `{msg}`; kernel: {kernel_says:?}"));
            continue;
        }
        assert_eq!(verify_bytes(&bytes, None).unwrap().first(), Some(first), "{what}: verify_bytes differs");
        let kernel_level = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Kernel);
        assert!(btfkit::parse::parse_with(&bytes, &kernel_level).is_err(), "{what}: the kernel-level parse accepts it");
        if let Some(line) = kernel_says {
            let mine = last_line(&first.to_string());
            if line.trim_end() != mine.trim_end() {
                failures.push(format!("{what}: the kernel's last log line `{line}`, btfkit's `{mine}`"));
            } else {
                confirmed += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "{} checks, each rejected by btfkit with the kernel's message; {confirmed} confirmed by BPF_BTF_LOAD",
        all.len()
    );
}

#[test]
fn all_problems_are_reported() {
    // Three independent problems in one BTF: all three are listed.
    let mut b = Btf::new();
    let i = int(&mut b);
    raw(&mut b, "p", TypeKind::Ptr(i));
    raw(&mut b, "e", TypeKind::Enum(btfkit::btf::Enum { size: 3, signed: false, values: List::new() }));
    raw(&mut b, "f", TypeKind::Float { size: 5 });
    let v: Vec<Violation> = b.validate(btfkit::parse::Validation::Kernel);
    let msgs: Vec<&str> = v.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(msgs, ["Invalid name", "Unexpected size", "Invalid type_size"], "{v:?}");
    assert_eq!(v[0].type_line, "[2] PTR p type_id=1");
    assert_eq!(v[0].to_string(), "[2] PTR p type_id=1 Invalid name");
}

// ---- differential: generated and mutated BTF ----

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

fn generated(rng: &mut Rng) -> Vec<u8> {
    use graph_spec::{Spec, add_unit};
    let n = 1 + rng.below(13) as usize;
    let specs: Vec<Spec> = (0..n)
        .map(|_| Spec {
            sel: rng.below(12) as u8,
            name: rng.below(graph_spec::NAMES.len() as u64) as u8,
            x: rng.next() as u8,
            y: rng.next() as u8,
            members: (0..rng.below(4)).map(|_| (rng.below(5) as u8, rng.next() as u8)).collect(),
        })
        .collect();
    let mut b = Btf::new();
    for _ in 0..1 + rng.below(2) {
        add_unit(&mut b, &specs, rng.next());
    }
    write::to_bytes(&b)
}

/// A small program BTF around the special fields: the structs the kernel
/// looks for (sometimes of the wrong size), tagged pointers, arrays, structs
/// holding them at aligned, misaligned or overlapping offsets (and nested),
/// and `contains:` decl tags, right or wrong.
fn special_generated(rng: &mut Rng) -> Vec<u8> {
    const SPECIAL: [(&str, u32); 9] = [
        ("bpf_spin_lock", 4),
        ("bpf_res_spin_lock", 4),
        ("bpf_list_head", 16),
        ("bpf_list_node", 24),
        ("bpf_rb_root", 16),
        ("bpf_rb_node", 32),
        ("bpf_refcount", 4),
        ("bpf_timer", 16),
        ("bpf_wq", 16),
    ];
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    // (type, size) of what members can be.
    let mut blocks: Vec<(TypeId, u32)> = vec![(int, 4)];
    for _ in 0..1 + rng.below(4) {
        let (name, size) = SPECIAL[rng.below(SPECIAL.len() as u64) as usize];
        let size = if rng.below(6) == 0 { 4 * (1 + rng.below(6) as u32) } else { size };
        blocks.push((opaque(&mut b, name, size), size));
    }
    for _ in 0..rng.below(3) {
        let tag = ["kptr", "kptr_untrusted", "percpu_kptr", "uptr", "other"][rng.below(5) as usize];
        let target =
            if rng.below(4) == 0 { int } else { opaque(&mut b, ["obj", "task_struct"][rng.below(2) as usize], 4) };
        let t = b.add_type_tag(tag, target).unwrap();
        let t = if rng.below(6) == 0 { b.add_type_tag("kptr", t).unwrap() } else { t };
        let p = b.add_ptr(t).unwrap();
        let p = if rng.below(5) == 0 { b.add_volatile(p).unwrap() } else { p };
        blocks.push((p, 8));
    }
    for _ in 0..rng.below(2) {
        let (e, size) = blocks[rng.below(blocks.len() as u64) as usize];
        let n = rng.below(4) as u32;
        blocks.push((b.add_array(e, int, n).unwrap(), size * n));
    }
    let mut structs = Vec::new();
    for k in 0..1 + rng.below(3) {
        let members: Vec<(TypeId, u32)> =
            (0..1 + rng.below(4)).map(|_| blocks[rng.below(blocks.len() as u64) as usize]).collect();
        let name = ["elem", "s", "t"][k as usize];
        let mut off = 0u32;
        let mut placed = Vec::new();
        for (ty, size) in members {
            let bits = match rng.below(8) {
                0 => off * 8 + 32,
                1 if off >= 4 => (off - 4) * 8,
                _ => off.div_ceil(8) * 64,
            };
            placed.push((ty, bits));
            off = bits / 8 + size;
        }
        let size = off.div_ceil(8) * 8 + 8 * rng.below(2) as u32;
        let id = b.add_struct(name, size).unwrap();
        for (j, (ty, bits)) in placed.iter().enumerate() {
            let m = ["node", "head", "lock", "r"][j % 4];
            b.add_field(m, *ty, *bits, 0).unwrap();
        }
        structs.push((id, placed.len()));
        blocks.push((id, size));
    }
    for _ in 0..rng.below(3) {
        let (id, n) = structs[rng.below(structs.len() as u64) as usize];
        let tag = [
            "contains:elem:node",
            "contains:elem:head",
            "contains:t:node",
            "contains:elem",
            "contains:x:y",
            "contains::",
        ][rng.below(6) as usize];
        b.add_decl_tag(tag, id, rng.below(n as u64) as i32).unwrap();
    }
    write::to_bytes(&b)
}

/// A BTF with one to three edits: a u32 of the type section replaced by a
/// value chosen to hit the checks, or a byte of the string section changed.
fn mutate(src: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut m = src.to_vec();
    let rd = |d: &[u8], o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
    let hdr = rd(&m, 4) as usize;
    let (tlen, soff, slen) = (rd(&m, 12) as usize, rd(&m, 16) as usize, rd(&m, 20) as usize);
    for _ in 0..1 + rng.below(3) {
        if rng.below(6) == 0 && slen > 1 {
            let o = hdr + soff + 1 + rng.below(slen as u64 - 1) as usize;
            m[o] = [b'-', b' ', 1, b'0', b'.', 0xe9, 0, b'\t', b'_', b'?'][rng.below(10) as usize];
        } else if tlen >= 4 {
            let o = hdr + (rng.below(tlen as u64 / 4) as usize) * 4;
            let w = rd(&m, o);
            let n = match rng.below(12) {
                0 => 0,
                1 => 1,
                2 => rng.below(40) as u32,
                3 => w ^ (1 << rng.below(32)),
                4 => w.wrapping_add(1),
                5 => w.wrapping_sub(1),
                6 => w ^ (1 << (24 + rng.below(8))),
                7 => w ^ 0x8000_0000,
                8 => (w & !0xffff) | rng.below(4) as u32,
                9 => [3, 5, 6, 7, 12, 16, 17, 64, 128][rng.below(9) as usize],
                10 => w.wrapping_mul(8),
                _ => rng.next() as u32,
            };
            m[o..o + 4].copy_from_slice(&n.to_le_bytes());
        }
    }
    m
}

/// Deliberate differences (docs/ROBUSTNESS.md): none known today.
fn known_difference(_bytes: &[u8]) -> Option<&'static str> {
    None
}

#[test]
fn differential_against_bpf_btf_load() {
    if !kernel_available() {
        return;
    }
    let dir = common::root().join("tests/fixtures/gen");
    let mut seeds: Vec<Vec<u8>> =
        ["enums.btf", "kinds.btf", "kinds.gcc.btf"].iter().map(|n| std::fs::read(dir.join(n)).unwrap()).collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let cases: usize = std::env::var("BTFKIT_VERIFIER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(6000);
    let (mut inputs, mut kernel_rejects, mut bad, mut msg_bad, mut known) = (0, 0, Vec::new(), Vec::new(), 0);
    let mut special_rejects = 0;
    for i in 0..cases {
        let bytes = match i % 4 {
            0 if i % 8 == 4 => special_generated(&mut rng),
            0 => generated(&mut rng),
            1 => mutate(&generated(&mut rng), &mut rng),
            _ => {
                if i % 97 == 2 {
                    seeds.push(generated(&mut rng));
                }
                let s = rng.below(seeds.len() as u64) as usize;
                mutate(&seeds[s], &mut rng)
            }
        };
        inputs += 1;
        let mine = ours(&bytes);
        // The kernel-level parse says the same as verify.
        let kernel_level = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Kernel);
        let parsed = btfkit::parse::parse_with(&bytes, &kernel_level);
        assert_eq!(parsed.is_ok(), mine.is_none(), "kernel-level parse {:?} vs verify {mine:?}", parsed.err());
        let theirs = kernel(&bytes).expect("permission checked above");
        match (&mine, &theirs) {
            (None, Verdict::Accepted) => {}
            (Some(m), Verdict::Rejected(line)) => {
                kernel_rejects += 1;
                if m.contains("Special fields:") {
                    // The kernel logs no message for these: the verdict is compared.
                    special_rejects += 1;
                } else if !m.starts_with("(undecodable)") && m.trim_end() != line.trim_end() && msg_bad.len() < 1000 {
                    msg_bad.push(format!("ours `{m}`, kernel `{line}`"));
                }
            }
            _ => {
                if let Some(why) = known_difference(&bytes) {
                    known += 1;
                    let _ = why;
                    continue;
                }
                let k = match &theirs {
                    Verdict::Accepted => "accepts".to_string(),
                    Verdict::Rejected(l) => format!("rejects: {l}"),
                };
                bad.push(format!("btfkit {:?}, kernel {k}; input {}", mine, hex(&bytes)));
            }
        }
    }
    eprintln!(
        "{inputs} inputs, {kernel_rejects} rejected by the kernel ({special_rejects} for special fields); verdict disagreements: {}, known differences: {known}; message differences: {}",
        bad.len(),
        msg_bad.len()
    );
    for b in bad.iter().take(10) {
        eprintln!("DISAGREE {b}");
    }
    for b in msg_bad.iter().take(10) {
        eprintln!("MESSAGE {b}");
    }
    assert!(kernel_rejects * 4 >= inputs, "too few rejected inputs for the test to mean much");
    assert!(bad.is_empty(), "{} verdict disagreements with the kernel", bad.len());
    assert!(msg_bad.is_empty(), "{} message disagreements with the kernel", msg_bad.len());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What the kernel accepts although it looks odd (btfkit's earlier kernel
/// level rejected some of these): btfkit accepts them too.
#[test]
fn kernel_accepts_these_too() {
    use btfkit::btf::{Enum64, Enum64Value, Int};
    let with_kernel = kernel_available();
    let mut cases: Vec<(&str, Btf)> = Vec::new();
    let mut case = |what: &'static str, f: &dyn Fn(&mut Btf)| {
        let mut b = Btf::new();
        f(&mut b);
        cases.push((what, b));
    };
    case("INT of 3 bytes", &|b| {
        raw(b, "i24", TypeKind::Int(Int { size: 3, encoding: 0, offset: 0, bits: 24 }));
    });
    case("INT data bits 8..15 set", &|b| {
        let i = int(b);
        with_quirks(b, i, Quirks { int_data: 0x100, ..Default::default() });
    });
    case("names with dots and Latin-1 letters", &|b| {
        let i = int(b);
        b.add_typedef("a.b", i).unwrap();
        let n = b.add_str_bytes(b"caf\xe9").unwrap();
        b.push_type(Type::new(n, TypeKind::Typedef(i))).unwrap();
    });
    case("a 511-byte name", &|b| {
        let i = int(b);
        b.add_typedef(&"n".repeat(511), i).unwrap();
    });
    case("DATASEC name with spaces and punctuation", &|b| {
        let i = int(b);
        let v = b.add_var("v", 0, i).unwrap();
        b.add_datasec("?.struct ops!", 4).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
    });
    case("TYPE_TAG and DECL_TAG with kind_flag (attributes)", &|b| {
        let i = int(b);
        let t = raw(b, "attr", TypeKind::TypeTag { ty: i, attr: true });
        b.add_ptr(t).unwrap();
        let s = raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
        raw(b, "attr", TypeKind::DeclTag { ty: s, component_idx: -1, attr: true });
    });
    case("CONST of a FUNC", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        let f = b.add_func("f", 0, p).unwrap();
        b.add_const(f).unwrap();
    });
    case("a pointer loop through a struct", &|b| {
        let p = b.add_ptr(TypeId(2)).unwrap();
        raw(b, "s", TypeKind::Struct(comp(8, false, &[(0, p, 0)])));
    });
    case("32-deep chain", &|b| {
        for i in 0..30 {
            b.add_const(TypeId(i + 2)).unwrap();
        }
        int(b);
    });
    case("ENUM64 bitfield of 32 bits", &|b| {
        let e = raw(
            b,
            "e",
            TypeKind::Enum64(Enum64 {
                size: 8,
                signed: false,
                values: List::from(vec![Enum64Value { name_off: StrOff(1), val: 1 }]),
            }),
        );
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, e, 32 << 24)])));
    });
    case("empty DATASEC", &|b| {
        b.add_datasec(".bss", 8).unwrap();
    });
    let mut failures = Vec::new();
    for (what, btf) in &cases {
        let bytes = write::to_bytes(btf);
        let mine = btf.validate(btfkit::parse::Validation::Kernel);
        let k = if with_kernel { kernel(&bytes) } else { None };
        if let Some(Verdict::Rejected(l)) = &k {
            failures.push(format!("{what}: the kernel rejects it: {l} (btfkit: {mine:?})"));
        } else if !mine.is_empty() {
            failures.push(format!("{what}: btfkit rejects it: {}", mine[0]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where the kernel's verdict decides what btfkit must say: each probe is
/// compared with BPF_BTF_LOAD (skipped without it).
#[test]
fn probes_agree_with_the_kernel() {
    use btfkit::btf::{Enum64, Enum64Value};
    if !kernel_available() {
        return;
    }
    let mut probes: Vec<(&str, Btf)> = Vec::new();
    let mut probe = |what: &'static str, f: &dyn Fn(&mut Btf)| {
        let mut b = Btf::new();
        f(&mut b);
        probes.push((what, b));
    };
    probe("a 512-byte name", &|b| {
        let i = int(b);
        b.add_typedef(&"n".repeat(512), i).unwrap();
    });
    probe("a 513-byte name", &|b| {
        let i = int(b);
        b.add_typedef(&"n".repeat(513), i).unwrap();
    });
    probe("a 513-byte DATASEC name", &|b| {
        b.add_datasec(&"n".repeat(513), 4).unwrap();
    });
    probe("ENUM64 bitfield of 40 bits", &|b| {
        let e = raw(
            b,
            "e",
            TypeKind::Enum64(Enum64 {
                size: 8,
                signed: false,
                values: List::from(vec![Enum64Value { name_off: StrOff(1), val: 1 }]),
            }),
        );
        raw(b, "s", TypeKind::Struct(comp(8, true, &[(0, e, 40 << 24)])));
    });
    probe("DATASEC name starting with a control byte", &|b| {
        b.add_str_bytes(b"\x01data").unwrap();
        let n = b.find_str(b"\x01data").unwrap();
        b.push_type(Type::new(n, TypeKind::Datasec(btfkit::btf::Datasec { size: 4, vars: List::new() }))).unwrap();
    });
    probe("DATASEC name with a Latin-1 byte", &|b| {
        b.add_str_bytes(b".d\xe9").unwrap();
        let n = b.find_str(b".d\xe9").unwrap();
        b.push_type(Type::new(n, TypeKind::Datasec(btfkit::btf::Datasec { size: 4, vars: List::new() }))).unwrap();
    });
    probe("VAR name with a dot", &|b| {
        let i = int(b);
        b.add_var("a.b", 0, i).unwrap();
    });
    probe("struct named with a leading digit", &|b| {
        raw(b, "1a", TypeKind::Struct(comp(0, false, &[])));
    });
    probe("ARRAY of a FUNC_PROTO", &|b| {
        let i = int(b);
        let p = b.add_func_proto(TypeId(0)).unwrap();
        b.add_array(p, i, 1).unwrap();
    });
    probe("PTR to a DATASEC", &|b| {
        b.add_datasec(".bss", 8).unwrap();
        b.add_ptr(TypeId(1)).unwrap();
    });
    probe("FUNC_PROTO returning a FUNC", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        let f = b.add_func("f", 0, p).unwrap();
        b.add_func_proto(f).unwrap();
    });
    probe("DECL_TAG on a UNION member", &|b| {
        let i = int(b);
        let u = raw(b, "u", TypeKind::Union(comp(4, false, &[(0, i, 0)])));
        b.add_decl_tag("t", u, 0).unwrap();
    });
    probe("DECL_TAG on a FUNC parameter out of range", &|b| {
        let i = int(b);
        let p = b.add_func_proto(i).unwrap();
        b.add_param("a", i).unwrap();
        let f = b.add_func("f", 0, p).unwrap();
        b.add_decl_tag("t", f, 1).unwrap();
    });
    probe("TYPEDEF of a FUNC_PROTO used as a member", &|b| {
        let p = b.add_func_proto(TypeId(0)).unwrap();
        let t = b.add_typedef("fn_t", p).unwrap();
        raw(b, "s", TypeKind::Struct(comp(8, false, &[(0, t, 0)])));
    });
    probe("zero-sized struct member at the end", &|b| {
        let i = int(b);
        let a = b.add_array(i, i, 0).unwrap();
        raw(b, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0), (0, a, 32)])));
    });
    let mut failures = Vec::new();
    for (what, btf) in &probes {
        let bytes = write::to_bytes(btf);
        let mine = ours(&bytes);
        match (kernel(&bytes).unwrap(), &mine) {
            (Verdict::Accepted, None) => eprintln!("{what}: accepted by both"),
            (Verdict::Rejected(l), Some(m)) if l.trim_end() == m.trim_end() => {
                eprintln!("{what}: rejected by both: {l}")
            }
            (Verdict::Accepted, Some(m)) => failures.push(format!("{what}: kernel accepts, btfkit: {m}")),
            (Verdict::Rejected(l), m) => failures.push(format!("{what}: kernel `{l}`, btfkit {m:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- split BTF: the module rules ----

/// Split BTF (kernel modules) follows the rules the kernel applies to module
/// BTF over vmlinux: the Debian 6.1 modules (every 97th; all 4,023 with
/// BTFKIT_ALL_MODULES=1) pass over their vmlinux, and a problem in a module is
/// reported at the module's own type id.
#[test]
fn split_btf_follows_the_module_rules() {
    use std::sync::Arc;
    // Over a small base: own ids continue the base's.
    let mut base = Btf::new();
    let i = int(&mut base);
    let s = raw(&mut base, "s", TypeKind::Struct(comp(4, false, &[(0, i, 0)])));
    let base = Arc::new(base);
    let mut split = Btf::new_split(base.clone());
    let p = split.add_ptr(s).unwrap();
    split.add_typedef("t", p).unwrap();
    let bytes = write::to_bytes(&split);
    assert_eq!(verify_bytes(&bytes, Some(base.clone())).unwrap(), Vec::new());
    let n = split.add_str("named").unwrap();
    split.push_type(Type::new(n, TypeKind::Const(s))).unwrap();
    let v = verify_bytes(&write::to_bytes(&split), Some(base.clone())).unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].to_string(), "[5] CONST named type_id=2 Invalid name");

    let Some(shared) = common::shared() else { return common::skip_soft("../shared not present") };
    let Some(dir) = common::debian_modules() else { return common::skip_data("Debian modules could not be unpacked") };
    let vmlinux = std::fs::read(shared.join("fixtures/debian-6.1/vmlinux.btf")).unwrap();
    let base = Arc::new(btfkit::parse::parse(&vmlinux).unwrap());
    let mut files = Vec::new();
    let mut stack = vec![dir.join("modules")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "btf") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 4000);
    let step = if std::env::var_os("BTFKIT_ALL_MODULES").is_some() { 1 } else { 97 };
    let mut checked = 0;
    for f in files.iter().step_by(step) {
        let v = verify_bytes(&std::fs::read(f).unwrap(), Some(base.clone())).unwrap();
        assert!(v.is_empty(), "{}: {}", f.display(), v[0]);
        checked += 1;
    }
    eprintln!("{checked} Debian modules pass the module rules over their vmlinux");
}

// ---- special fields (btf_parse_struct_metas) ----

/// The struct `name` of `size` bytes made of `size / 4` ints (the kernel only
/// looks at the name and size of these).
fn opaque(b: &mut Btf, name: &str, size: u32) -> TypeId {
    let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let s = b.add_struct(name, size).unwrap();
    for k in 0..size / 4 {
        b.add_field(&format!("o{k}"), i, k * 32, 0).unwrap();
    }
    s
}

/// A program-local struct and a pointer to it with the type tag `tag`.
fn kptr(b: &mut Btf, tag: &str) -> TypeId {
    let obj = opaque(b, "btfkit_local_obj", 4);
    let t = b.add_type_tag(tag, obj).unwrap();
    b.add_ptr(t).unwrap()
}

/// (what, BTF, the kernel's errno or None for accepted) for the special-field
/// checks; the kernel logs no message for them, so the errno is compared.
fn special_cases() -> Vec<(&'static str, Btf, Option<i32>)> {
    const EINVAL: i32 = 22;
    const E2BIG: i32 = 7;
    const EEXIST: i32 = 17;
    const EFAULT: i32 = 14;
    const ENOENT: i32 = 2;
    let mut v = Vec::new();
    let mut case = |what: &'static str, want: Option<i32>, f: &dyn Fn(&mut Btf)| {
        let mut b = Btf::new();
        f(&mut b);
        v.push((what, b, want));
    };
    case("one bpf_spin_lock", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        b.add_struct("s", 8).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
    });
    case("two bpf_spin_locks", Some(E2BIG), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        b.add_struct("s", 8).unwrap();
        b.add_field("x", l, 0, 0).unwrap();
        b.add_field("y", l, 32, 0).unwrap();
    });
    case("bpf_spin_lock not 4-byte aligned: no field found", Some(EFAULT), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let c = b.add_int("char", 1, 0).unwrap();
        b.add_struct("s", 8).unwrap();
        b.add_field("c", c, 0, 0).unwrap();
        b.add_field("l", l, 16, 0).unwrap();
    });
    case("bpf_spin_lock of the wrong size: no field found", Some(EFAULT), &|b| {
        let l = opaque(b, "bpf_spin_lock", 8);
        b.add_struct("s", 8).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
    });
    case("member not byte aligned next to a bpf_spin_lock", Some(EINVAL), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let i = b.add_int("u8", 1, 0).unwrap();
        b.add_struct("s", 8).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("x", i, 36, 0).unwrap();
    });
    case("array of bpf_spin_lock alone: not looked at", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let a = b.add_array(l, i, 2).unwrap();
        b.add_struct("s", 8).unwrap();
        b.add_field("l", a, 0, 0).unwrap();
    });
    case("array of bpf_list_node beside a bpf_refcount", Some(EINVAL), &|b| {
        let r = opaque(b, "bpf_refcount", 4);
        let n = opaque(b, "bpf_list_node", 24);
        let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let a = b.add_array(n, i, 2).unwrap();
        b.add_struct("s", 56).unwrap();
        b.add_field("r", r, 0, 0).unwrap();
        b.add_field("n", a, 64, 0).unwrap();
    });
    case("bpf_spin_lock and bpf_refcount overlapping in a union: unions are not looked at", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let r = opaque(b, "bpf_refcount", 4);
        b.add_union("u", 4).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("r", r, 0, 0).unwrap();
    });
    case("bpf_spin_lock in a nested struct and beside it", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let inner = b.add_struct("inner", 4).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_struct("s", 8).unwrap();
        b.add_field("a", inner, 0, 0).unwrap();
        b.add_field("b", l, 32, 0).unwrap();
    });
    let list = |b: &mut Btf, lock: bool, tag: Option<&str>| {
        let n = opaque(b, "bpf_list_node", 24);
        let h = opaque(b, "bpf_list_head", 16);
        let l = opaque(b, "bpf_spin_lock", 4);
        b.add_struct("elem", 24).unwrap();
        b.add_field("node", n, 0, 0).unwrap();
        let s = b.add_struct("s", 24).unwrap();
        if lock {
            b.add_field("lock", l, 0, 0).unwrap();
        }
        b.add_field("head", h, 64, 0).unwrap();
        if let Some(t) = tag {
            let idx = if lock { 1 } else { 0 };
            b.add_decl_tag(t, s, idx).unwrap();
        }
    };
    case("bpf_list_head with its lock and contains: tag", None, &|b| list(b, true, Some("contains:elem:node")));
    case("bpf_list_head without a bpf_spin_lock", Some(EINVAL), &|b| list(b, false, Some("contains:elem:node")));
    case("bpf_list_head without a contains: tag", Some(EINVAL), &|b| list(b, true, None));
    case("contains: naming no struct", Some(ENOENT), &|b| list(b, true, Some("contains:nothere:node")));
    case("contains: without a node name", Some(EINVAL), &|b| list(b, true, Some("contains:elem")));
    case("contains: naming no member of the value", Some(ENOENT), &|b| list(b, true, Some("contains:elem:other")));
    case("bpf_spin_lock and bpf_refcount at the same offset", Some(EEXIST), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let r = opaque(b, "bpf_refcount", 4);
        b.add_struct("s", 4).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("r", r, 0, 0).unwrap();
    });
    case("bpf_list_node and bpf_rb_node without bpf_refcount", Some(EINVAL), &|b| {
        let n = opaque(b, "bpf_list_node", 24);
        let r = opaque(b, "bpf_rb_node", 32);
        b.add_struct("s", 56).unwrap();
        b.add_field("n", n, 0, 0).unwrap();
        b.add_field("r", r, 192, 0).unwrap();
    });
    case("bpf_list_node, bpf_rb_node and bpf_refcount", None, &|b| {
        let n = opaque(b, "bpf_list_node", 24);
        let r = opaque(b, "bpf_rb_node", 32);
        let c = opaque(b, "bpf_refcount", 4);
        b.add_struct("s", 64).unwrap();
        b.add_field("n", n, 0, 0).unwrap();
        b.add_field("r", r, 192, 0).unwrap();
        b.add_field("c", c, 448, 0).unwrap();
    });
    case("kptr to a program-local struct", None, &|b| {
        let p = kptr(b, "kptr");
        b.add_struct("s", 8).unwrap();
        b.add_field("p", p, 0, 0).unwrap();
    });
    case("pointer with an unknown type tag beside a bpf_spin_lock", Some(EINVAL), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let p = kptr(b, "btfkit_tag");
        b.add_struct("s", 16).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("p", p, 64, 0).unwrap();
    });
    case("kptr to an int beside a bpf_spin_lock", Some(EINVAL), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let t = b.add_type_tag("kptr", i).unwrap();
        let p = b.add_ptr(t).unwrap();
        b.add_struct("s", 16).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("p", p, 64, 0).unwrap();
    });
    case("twelve special fields", Some(E2BIG), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let p = kptr(b, "kptr");
        let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let a = b.add_array(p, i, 11).unwrap();
        b.add_struct("s", 96).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("p", a, 64, 0).unwrap();
    });
    case("eleven special fields", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let p = kptr(b, "kptr");
        let i = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let a = b.add_array(p, i, 10).unwrap();
        b.add_struct("s", 88).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("p", a, 64, 0).unwrap();
    });
    case("two bpf_res_spin_locks of 8 bytes beside a bpf_spin_lock", Some(E2BIG), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let r = opaque(b, "bpf_res_spin_lock", 8);
        b.add_struct("s", 24).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("r", r, 64, 0).unwrap();
        b.add_field("q", r, 128, 0).unwrap();
    });
    case("bpf_spin_lock and bpf_res_spin_lock of 4 bytes", Some(EINVAL), &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let r = opaque(b, "bpf_res_spin_lock", 4);
        b.add_struct("s", 16).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("r", r, 64, 0).unwrap();
    });
    case("bpf_res_spin_lock of 8 bytes: not a field", None, &|b| {
        let l = opaque(b, "bpf_spin_lock", 4);
        let r = opaque(b, "bpf_res_spin_lock", 8);
        b.add_struct("s", 16).unwrap();
        b.add_field("l", l, 0, 0).unwrap();
        b.add_field("r", r, 64, 0).unwrap();
    });
    v
}

fn errno_of(message: &str) -> Option<i32> {
    let name = message.split("(-").nth(1)?.split(';').next()?;
    Some(match name {
        "EINVAL" => 22,
        "E2BIG" => 7,
        "EEXIST" => 17,
        "EFAULT" => 14,
        "ENOENT" => 2,
        "ELOOP" => 40,
        _ => return None,
    })
}

/// The special-field checks: btfkit's verdict and errno equal the kernel's
/// (which logs no message for them).
#[test]
fn special_fields_agree_with_the_kernel() {
    let with_kernel = kernel_available();
    let all = special_cases();
    let mut failures = Vec::new();
    let mut confirmed = 0;
    for (what, btf, want) in &all {
        let bytes = write::to_bytes(btf);
        let ours = btf.validate(btfkit::parse::Validation::Kernel);
        let got = ours.first().map(|v| errno_of(&v.message).unwrap_or(-1));
        let kernel = if with_kernel {
            match common::bpf_btf_load(&bytes, 0, 0) {
                Ok(()) => Some(None),
                Err((e, _)) => Some(Some(e.raw_os_error().unwrap_or(-1))),
            }
        } else {
            None
        };
        if got != *want {
            failures.push(format!(
                "{what}: btfkit {:?}, expected errno {want:?}; kernel {kernel:?}",
                ours.first().map(|v| v.to_string())
            ));
            continue;
        }
        assert_eq!(verify_bytes(&bytes, None).unwrap().first(), ours.first(), "{what}: verify_bytes differs");
        if let Some(k) = kernel {
            if k != *want {
                failures.push(format!("{what}: kernel errno {k:?}, btfkit {want:?}"));
            } else {
                confirmed += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} special-field cases, btfkit's verdict and errno; {confirmed} confirmed by BPF_BTF_LOAD", all.len());
}

/// `btfkit verify`: exit 0 / 1 / 2, every problem in the kernel's words, JSON.
#[test]
fn verify_cli() {
    let dir = common::root().join("target/test-scratch").join(format!("verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut good = Btf::new();
    int(&mut good);
    let mut bad = Btf::new();
    let i = int(&mut bad);
    raw(&mut bad, "s", TypeKind::Struct(comp(2, false, &[(0, i, 0)])));
    raw(&mut bad, "f", TypeKind::Float { size: 5 });
    let (g, b, n) = (dir.join("good.btf"), dir.join("bad.btf"), dir.join("not-btf"));
    std::fs::write(&g, write::to_bytes(&good)).unwrap();
    std::fs::write(&b, write::to_bytes(&bad)).unwrap();
    std::fs::write(&n, b"hello").unwrap();
    let run = |args: &[&std::path::Path], json: bool| {
        let mut c = common::btfkit();
        c.arg("verify").args(args);
        if json {
            c.args(["--format", "json"]);
        }
        c.output().unwrap()
    };
    let o = run(&[&g], false);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("the kernel would accept this BTF"));
    let o = run(&[&g, &b], false);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        // The meta checks of every type come before the resolve pass, as in the kernel.
        text.contains("(2 problems)\n[3] FLOAT f size=5 Invalid type_size\n[2] STRUCT s size=2 vlen=1\n\t(anon) type_id=1 bits_offset=0 Member exceeds struct_size\n"),
        "{text}"
    );
    let o = run(&[&g, &b, &n], true);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["accepted"], true);
    assert_eq!(v[1]["problems"][1]["message"], "Member exceeds struct_size");
    assert_eq!(v[1]["problems"][1]["id"], 2);
    assert_eq!(v[1]["problems"][0]["type"], "[3] FLOAT f size=5");
    assert_eq!(v[2]["readable"], false);
    let _ = std::fs::remove_dir_all(dir);
}
