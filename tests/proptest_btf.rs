//! Property tests: random BTFs built with the builder API survive
//! write → parse unchanged (both byte orders, base and split), and random
//! byte mutations of valid BTF never make the parser (or the dumpers) panic.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::sync::{Arc, OnceLock};

use btfkit::btf::{Endianness, TypeKind};
use btfkit::parse::{self, ParseOptions};
use btfkit::{Btf, TypeId, write};
use fixtures::*;
use proptest::prelude::*;

/// One builder call (or a type with its members/values/params). Type
/// references are raw numbers resolved against the ids that exist when the
/// op runs: by-value references (typedef, modifiers, arrays, members) only
/// point backwards, so no reference loop can form; pointers may point anywhere.
#[derive(Clone, Debug)]
enum Op {
    Int { name: String, size: u8, enc: u8 },
    Float { name: String, size: u8 },
    Ptr(u32),
    Const(u32),
    Volatile(u32),
    Restrict(u32),
    Typedef(String, u32),
    TypeTag(String, u32),
    Array { elem: u32, index: u32, n: u32 },
    Composite { name: String, union: bool, size: u16, members: Vec<(String, u32, u32, u8)> },
    Enum { name: String, size: u8, values: Vec<(String, i64)> },
    Enum64 { name: String, size: u8, signed: bool, values: Vec<(String, u64)> },
    Fwd { name: String, union: bool },
    FuncProto { ret: u32, params: Vec<(String, u32)> },
    Func { name: String, linkage: u16, proto: u32 },
    Var { name: String, linkage: u32, ty: u32 },
    Datasec { name: String, size: u32, vars: Vec<(u32, u32, u32)> },
    DeclTag { value: String, ty: u32, comp: u32 },
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{0,6}",
        1 => "[a-zA-Z0-9_ \\\\'\"\t\n\u{e9}\u{4e2d}]{0,8}",
    ]
}

fn req_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}"
}

fn op() -> impl Strategy<Value = Op> {
    let r = any::<u32>;
    prop_oneof![
        3 => (req_name(), 0..5u8, 0..4u8).prop_map(|(name, size, enc)| Op::Int { name, size, enc }),
        1 => (name(), 0..5u8).prop_map(|(name, size)| Op::Float { name, size }),
        3 => r().prop_map(Op::Ptr),
        1 => r().prop_map(Op::Const),
        1 => r().prop_map(Op::Volatile),
        1 => r().prop_map(Op::Restrict),
        2 => (req_name(), r()).prop_map(|(n, t)| Op::Typedef(n, t)),
        1 => (req_name(), r()).prop_map(|(n, t)| Op::TypeTag(n, t)),
        1 => (r(), r(), any::<u32>()).prop_map(|(elem, index, n)| Op::Array { elem, index, n }),
        3 => (name(), any::<bool>(), any::<u16>(), prop::collection::vec((name(), r(), r(), any::<u8>()), 0..6))
            .prop_map(|(name, union, size, members)| Op::Composite { name, union, size, members }),
        2 => (name(), 0..4u8, prop::collection::vec((req_name(), (i32::MIN as i64)..=(u32::MAX as i64)), 0..5))
            .prop_map(|(name, size, values)| Op::Enum { name, size, values }),
        1 => (name(), 0..4u8, any::<bool>(), prop::collection::vec((req_name(), any::<u64>()), 0..4))
            .prop_map(|(name, size, signed, values)| Op::Enum64 { name, size, signed, values }),
        1 => (req_name(), any::<bool>()).prop_map(|(name, union)| Op::Fwd { name, union }),
        2 => (r(), prop::collection::vec((name(), r()), 0..5)).prop_map(|(ret, params)| Op::FuncProto { ret, params }),
        2 => (req_name(), 0..3u16, r()).prop_map(|(name, linkage, proto)| Op::Func { name, linkage, proto }),
        1 => (req_name(), 0..3u32, r()).prop_map(|(name, linkage, ty)| Op::Var { name, linkage, ty }),
        1 => (name(), any::<u32>(), prop::collection::vec((r(), any::<u32>(), any::<u32>()), 0..4))
            .prop_map(|(name, size, vars)| Op::Datasec { name, size, vars }),
        1 => (req_name(), r(), r()).prop_map(|(value, ty, comp)| Op::DeclTag { value, ty, comp }),
    ]
}

/// Applies ops to `b`. `last` is the last id the finished BTF will have
/// (every op adds exactly one type), the bound for forward pointers.
fn build(b: &mut Btf, ops: &[Op], last: u32) {
    const INT_SIZES: [u32; 5] = [1, 2, 4, 8, 16];
    const ENCODINGS: [u8; 4] = [0, 1, 2, 4];
    const FLOAT_SIZES: [u32; 5] = [2, 4, 8, 12, 16];
    const ENUM_SIZES: [u32; 4] = [1, 2, 4, 8];
    for op in ops {
        let next = b.type_count(); // the id this op creates
        let back = |r: u32| TypeId(r % next); // 0 (void) .. next-1
        let any_id = |r: u32| TypeId(r % (last + 1));
        match op {
            Op::Int { name, size, enc } => {
                b.add_int(name, INT_SIZES[*size as usize], ENCODINGS[*enc as usize]).unwrap();
            }
            Op::Float { name, size } => {
                b.add_float(name, FLOAT_SIZES[*size as usize]).unwrap();
            }
            Op::Ptr(r) => {
                b.add_ptr(any_id(*r)).unwrap();
            }
            Op::Const(r) => {
                b.add_const(back(*r)).unwrap();
            }
            Op::Volatile(r) => {
                b.add_volatile(back(*r)).unwrap();
            }
            Op::Restrict(r) => {
                b.add_restrict(back(*r)).unwrap();
            }
            Op::Typedef(n, r) => {
                b.add_typedef(n, back(*r)).unwrap();
            }
            Op::TypeTag(n, r) => {
                b.add_type_tag(n, back(*r)).unwrap();
            }
            Op::Array { elem, index, n } => {
                b.add_array(back(*elem), back(*index), *n).unwrap();
            }
            Op::Composite { name, union, size, members } => {
                let size = *size as u32;
                if *union { b.add_union(name, size) } else { b.add_struct(name, size) }.unwrap();
                for (n, ty, off, bits) in members {
                    let off = off % (size * 8 + 1);
                    b.add_field(n, back(*ty), off, (*bits % 129) as u32 * (*bits as u32 & 1)).unwrap();
                }
            }
            Op::Enum { name, size, values } => {
                b.add_enum(name, ENUM_SIZES[*size as usize]).unwrap();
                for (n, v) in values {
                    b.add_enum_value(n, *v).unwrap();
                }
            }
            Op::Enum64 { name, size, signed, values } => {
                b.add_enum64(name, ENUM_SIZES[*size as usize], *signed).unwrap();
                for (n, v) in values {
                    b.add_enum64_value(n, *v).unwrap();
                }
            }
            Op::Fwd { name, union } => {
                b.add_fwd(name, *union).unwrap();
            }
            Op::FuncProto { ret, params } => {
                b.add_func_proto(back(*ret)).unwrap();
                for (n, ty) in params {
                    b.add_param(n, back(*ty)).unwrap();
                }
            }
            Op::Func { name, linkage, proto } => {
                let protos: Vec<TypeId> = (1..next)
                    .map(TypeId)
                    .filter(|&id| matches!(b.type_by_id(id).map(|t| &t.kind), Some(TypeKind::FuncProto(_))))
                    .collect();
                if protos.is_empty() {
                    b.add_func_proto(TypeId::VOID).unwrap();
                } else {
                    b.add_func(name, *linkage, protos[*proto as usize % protos.len()]).unwrap();
                }
            }
            Op::Var { name, linkage, ty } => {
                b.add_var(name, *linkage, back(*ty)).unwrap();
            }
            Op::Datasec { name, size, vars } => {
                b.add_datasec(name, *size).unwrap();
                for (ty, off, sz) in vars {
                    b.add_datasec_var(back(*ty), *off, *sz).unwrap();
                }
            }
            Op::DeclTag { value, ty, comp } => {
                let target = back(*ty);
                let comps = match b.type_by_id(target).map(|t| &t.kind) {
                    Some(TypeKind::Struct(c) | TypeKind::Union(c)) => c.members.len(),
                    Some(TypeKind::Func { proto, .. }) => match b.type_by_id(*proto).map(|t| &t.kind) {
                        Some(TypeKind::FuncProto(p)) => p.params.len(),
                        _ => 0,
                    },
                    _ => 0,
                };
                let idx = (*comp % (comps as u32 + 1)) as i32 - 1; // -1 .. comps-1
                b.add_decl_tag(value, target, idx).unwrap();
            }
        }
        assert_eq!(b.type_count(), next + 1, "{op:?} must add one type");
    }
}

fn dumps_do_not_panic(b: &Btf) {
    let mut sink = Vec::new();
    btfkit::dump::raw::dump(b, &mut sink).unwrap();
    sink.clear();
    btfkit::dump::json::dump(b, true, &mut sink).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn built_btf_round_trips(ops in prop::collection::vec(op(), 0..40)) {
        let mut b = Btf::new();
        build(&mut b, &ops, ops.len() as u32);
        let bytes = write::to_bytes(&b);
        let parsed = parse::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&parsed, &b);
        prop_assert_eq!(write::to_bytes(&parsed), bytes.clone());
        // Big-endian: same model, and back to the same little-endian bytes.
        let be = write::to_bytes_endian(&b, Endianness::Big);
        let from_be = parse::parse(&be).map_err(|e| TestCaseError::fail(format!("BE: {e}")))?;
        prop_assert_eq!(&from_be, &b);
        prop_assert_eq!(write::to_bytes_endian(&from_be, Endianness::Little), bytes);
        dumps_do_not_panic(&parsed);
    }

    #[test]
    fn built_split_btf_round_trips(
        base_ops in prop::collection::vec(op(), 0..20),
        split_ops in prop::collection::vec(op(), 0..20),
    ) {
        let mut base = Btf::new();
        build(&mut base, &base_ops, base_ops.len() as u32);
        let base = Arc::new(parse::parse(&write::to_bytes(&base)).unwrap());
        let mut s = Btf::new_split(base.clone());
        let last = base.type_count() - 1 + split_ops.len() as u32;
        build(&mut s, &split_ops, last);
        let bytes = write::to_bytes(&s);
        let parsed = parse::parse_split(&bytes, base.clone()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&parsed, &s);
        prop_assert_eq!(write::to_bytes(&parsed), bytes);
        dumps_do_not_panic(&parsed);
    }
}

fn kinds_btf() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| std::fs::read(fixture_path("kinds.btf")).unwrap())
}

fn kinds_btf_be() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| std::fs::read(fixture_path("kinds.bpfeb.btf")).unwrap())
}

fn split_fixture() -> &'static (Arc<Btf>, Vec<u8>) {
    static B: OnceLock<(Arc<Btf>, Vec<u8>)> = OnceLock::new();
    B.get_or_init(|| {
        let base = Arc::new(btfkit::input::load(&fixture_path("enums.btf"), None).unwrap());
        (base, std::fs::read(fixture_path("split.btf")).unwrap())
    })
}

/// Applies byte mutations (index taken modulo the length), then maybe cuts.
fn mutate(data: &[u8], muts: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut d = data.to_vec();
    for &(i, v) in muts {
        let i = i % d.len();
        d[i] = v;
    }
    if let Some(c) = cut {
        d.truncate(c % (d.len() + 1));
    }
    d
}

/// Parsing never panics; what parses dumps without panicking and writes
/// back to the same bytes.
fn check_mutant(d: &[u8], base: Option<Arc<Btf>>) -> Result<(), TestCaseError> {
    let opts = ParseOptions::new().with_base(base);
    if let Ok((b, used)) = parse::parse_with(d, &opts) {
        prop_assert_eq!(used, d.len());
        dumps_do_not_panic(&b);
        // Every accepted field is in the model: writing gives the input back.
        let w = write::to_bytes(&b);
        if w != d {
            let at = w.iter().zip(d).position(|(a, b)| a != b).unwrap_or(w.len().min(d.len()));
            return Err(TestCaseError::fail(format!(
                "accepted BTF does not round-trip: first difference at byte {at} (lengths {} vs {})",
                w.len(),
                d.len()
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn mutated_btf_never_panics(
        muts in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in prop::option::weighted(0.2, any::<usize>()),
        which in 0..3u8,
    ) {
        match which {
            0 => check_mutant(&mutate(kinds_btf(), &muts, cut), None)?,
            1 => check_mutant(&mutate(kinds_btf_be(), &muts, cut), None)?,
            _ => {
                let (base, split) = split_fixture();
                check_mutant(&mutate(split, &muts, cut), Some(base.clone()))?;
            }
        }
    }

    /// Mutations aimed at the header and the first types, where counts live.
    #[test]
    fn mutated_header_never_panics(
        muts in prop::collection::vec((0usize..96, any::<u8>()), 1..6),
    ) {
        check_mutant(&mutate(kinds_btf(), &muts, None), None)?;
    }
}
