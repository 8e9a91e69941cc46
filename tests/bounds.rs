//! Resource bounds: inputs whose shape would overflow a recursive
//! implementation's stack or make a naive one allocate by untrusted counts.

mod common;

use btfkit::btf::int_encoding;
use btfkit::{Btf, TypeId, dump, parse, write};

const CHAIN: u32 = 1_000_000;

fn chain() -> Vec<u8> {
    let mut b = Btf::new();
    let mut prev = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    for i in 0..CHAIN {
        prev = match i % 3 {
            0 => b.add_const(prev).unwrap(),
            1 => b.add_ptr(prev).unwrap(),
            _ => b.add_typedef("t", prev).unwrap(),
        };
    }
    write::to_bytes(&b)
}

#[test]
fn million_long_chain_parses_and_dumps() {
    let bytes = chain();
    let btf = parse::parse(&bytes).expect("a long but acyclic chain is valid");
    assert_eq!(btf.type_count(), CHAIN + 2);
    let mut out = Vec::new();
    dump::raw::dump(&btf, &mut out).unwrap();
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), CHAIN as usize + 1);
}

#[test]
fn million_long_cycle_without_pointer_is_rejected() {
    // typedef -> const -> typedef -> ... -> back to the first, no pointer.
    let mut b = Btf::new();
    let first = b.type_count();
    for i in 0..CHAIN {
        let next = TypeId(if i + 1 == CHAIN { first } else { first + i + 1 });
        if i % 2 == 0 {
            b.add_typedef("t", next).unwrap()
        } else {
            b.add_const(next).unwrap()
        };
    }
    let err = parse::parse(&write::to_bytes(&b)).unwrap_err();
    assert!(matches!(err, btfkit::Error::RefLoop { .. }), "{err}");
    assert!(err.to_string().contains("reference loop"), "{err}");
}

#[test]
fn deeply_nested_structs_parse() {
    // struct s0 { struct s1 { struct s2 { ... int } } }, 200,000 deep, by value.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let mut inner = int;
    for _ in 0..200_000 {
        let s = b.add_struct("", 4).unwrap();
        b.add_field("x", inner, 0, 0).unwrap();
        inner = s;
    }
    let btf = parse::parse(&write::to_bytes(&b)).unwrap();
    assert_eq!(btf.types().len(), 200_001);
}

#[test]
fn huge_counts_are_checked_before_allocation() {
    // A struct claiming 65535 members in a 12-byte type section, and an array
    // of 2^32-1 elements: errors (or a valid parse), quickly, without huge allocations.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    b.add_array(int, int, u32::MAX).unwrap();
    let mut bytes = write::to_bytes(&b);
    parse::parse(&bytes).expect("a huge nelems is representable");
    // Patch the INT's info into a STRUCT with vlen 0xffff.
    let info = (4u32 << 24) | 0xffff;
    bytes[24 + 4..24 + 8].copy_from_slice(&info.to_le_bytes());
    let err = parse::parse(&bytes).unwrap_err();
    assert!(matches!(err, btfkit::Error::TruncatedType { id: TypeId(1), .. }), "{err}");
}
