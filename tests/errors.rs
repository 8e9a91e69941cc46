//! The library's error variants: callers match on them (not on messages), and
//! each names what is wrong (type id, builder method, section, symbol, offset).

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use btfkit::btf::{Endianness, TypeId, int_encoding};
use btfkit::{Btf, Error, archive, dump, write};

fn int_and_struct() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    b.add_struct("s", 4).unwrap();
    b.add_field("x", int, 0, 0).unwrap();
    b
}

#[test]
fn builder_misuse_names_the_method_and_the_type() {
    let mut b = int_and_struct();
    // Type [3] would be the next one.
    let e = b.add_int("", 4, 0).unwrap_err();
    assert!(matches!(&e, Error::Build { op: "add_int", id: TypeId(3), why } if why.contains("name")), "{e:?}");
    assert_eq!(e.to_string(), "add_int: type [3]: INT needs a name");
    let e = b.add_int("i", 3, 0).unwrap_err();
    assert!(matches!(e, Error::Build { op: "add_int", id: TypeId(3), .. }), "{e:?}");
    // Extending the last type: its id, [2] is a STRUCT, not an ENUM.
    let e = b.add_enum_value("A", 1).unwrap_err();
    assert!(
        matches!(&e, Error::Build { op: "add_enum_value", id: TypeId(2), why } if why.contains("not an ENUM")),
        "{e:?}"
    );
    b.add_ptr(TypeId(2)).unwrap();
    let e = b.add_field("y", TypeId(1), 32, 0).unwrap_err();
    assert!(matches!(e, Error::Build { op: "add_field", id: TypeId(3), .. }), "{e:?}");
    let e = b.add_ptr(TypeId(u32::MAX)).unwrap_err();
    assert!(matches!(&e, Error::Build { op: "add_ptr", id: TypeId(4), why } if why.contains("4294967295")), "{e:?}");
    // Nothing was added by the failed calls.
    assert_eq!(b.type_count(), 4);
    let e = b.add_str("a\0b").unwrap_err();
    assert!(matches!(e, Error::NulInString { at: 1 }), "{e:?}");
}

#[test]
fn remove_types_errors_name_the_types() {
    let mut b = int_and_struct();
    let e = b.remove_types(&[TypeId(0)], &HashMap::new()).unwrap_err();
    assert!(matches!(e, Error::NotOwnType { id: TypeId(0) }), "{e:?}");
    let e = b.remove_types(&[TypeId(1)], &HashMap::new()).unwrap_err();
    assert!(matches!(e, Error::RemovedTarget { id: TypeId(2), target: TypeId(1) }), "{e:?}");
    assert_eq!(b.type_count(), 3, "unchanged on error");
}

#[test]
fn padded_write_that_does_not_fit() {
    let b = int_and_struct();
    let len = write::to_bytes(&b).len();
    let e = write::to_bytes_padded(&b, len - 1).unwrap_err();
    assert!(matches!(e, Error::DoesNotFit { len: l, target } if l == len && target == len - 1), "{e:?}");
    assert_eq!(write::to_bytes_padded(&b, len + 8).unwrap().len(), len + 8);
}

#[test]
fn archive_with_mixed_byte_orders() {
    let le = write::to_bytes_endian(&int_and_struct(), Endianness::Little);
    let be = write::to_bytes_endian(&int_and_struct(), Endianness::Big);
    let data = [le.clone(), be].concat();
    let e = archive::walk(&data, 100, false).unwrap_err();
    assert!(
        matches!(e, Error::MixedEndian { offset, member: 1, endian: Endianness::Big, first: Endianness::Little }
            if offset == 100 + le.len()),
        "{e:?}"
    );
    let layout = archive::walk(&[], 0, false).unwrap();
    let e = archive::parse_split_members(&[], &layout, &Default::default()).unwrap_err();
    assert!(matches!(e, Error::EmptyArchive), "{e:?}");
}

#[test]
fn merging_nothing_and_a_foreign_base() {
    let e = btfkit::dedup::merge_all(|_| Ok(())).unwrap_err();
    assert!(matches!(e, Error::NothingToMerge), "{e:?}");
    // A split BTF appended to a BTF over another base.
    let split = Btf::new_split(Arc::new(int_and_struct()));
    let e = btfkit::dedup::merge_all(|add| {
        add(int_and_struct())?;
        add(split)
    })
    .unwrap_err();
    assert!(matches!(e, Error::BaseMismatch), "{e:?}");
}

#[test]
fn c_dump_roots_and_a_closed_pipe() {
    let b = int_and_struct();
    let e = dump::c::resolve_root(&b, "7").unwrap_err();
    assert!(matches!(e, Error::BadRoot { id: TypeId(7), count: 3 }), "{e:?}");
    let e = dump::c::resolve_root(&b, "nope").unwrap_err();
    assert!(matches!(&e, Error::NoTypeNamed { name } if name == "nope"), "{e:?}");
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let e = dump::c::dump(&b, &Default::default(), &mut Closed).unwrap_err();
    // The io::Error stays the source: a closed pipe is recognizable.
    assert!(matches!(&e, Error::Write(io) if io.kind() == io::ErrorKind::BrokenPipe), "{e:?}");
    let src = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
    assert_eq!(src.map(|s| s.kind()), Some(io::ErrorKind::BrokenPipe));
}

#[test]
fn kernel_inputs_that_are_not_elf() {
    let raw = write::to_bytes(&int_and_struct());
    let e = btfkit::kernel::kfunc::kfuncs_from_elf(&raw).unwrap_err();
    assert!(matches!(e, Error::NotElf { .. }), "{e:?}");
    let e = btfkit::kernel::ImageSymbols::from_elf(&raw, &Default::default()).unwrap_err();
    assert!(matches!(e, Error::NotElf { .. }), "{e:?}");
    let base = Arc::new(int_and_struct());
    let e = btfkit::kernel::module::module_btf(&raw, &base, &Default::default()).unwrap_err();
    assert!(matches!(&e, Error::NotElf { why } if why.contains("compress")), "{e:?}");
}
