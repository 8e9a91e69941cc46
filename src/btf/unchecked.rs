//! The escape hatch: raw mutable access to a [`Btf`]'s own types and
//! strings, with nothing checked.
//!
//! A [`Btf`] from the parser has passed validation; the builder
//! (`Btf::add_*`, [`Btf::push_type`]) keeps string offsets in range and
//! ids below the largest id (a reference to a type not added yet is allowed
//! while building; [`Btf::validate`] checks the finished BTF). Readers of
//! the model (dumpers, dedup, diff, queries) rely on the parser's checks and
//! stay panic-free on anything else. These functions bypass both. They exist for tests, fuzzers and tools that make *invalid*
//! BTF on purpose, e.g. to check that a consumer or the kernel refuses it.
//! After using them, treat the BTF as untrusted input: check it with
//! [`Btf::validate`], or write it and parse it again, before handing it to
//! anything else.
//!
//! ```
//! use btfkit::btf::{Btf, unchecked};
//! let mut b = Btf::new();
//! let int = b.add_int("int", 4, 0)?;
//! let ptr = b.add_ptr(int)?;
//! // Make the pointer dangle: the kernel's rules refuse it.
//! if let btfkit::TypeKind::Ptr(to) = &mut unchecked::types_mut(&mut b)[1].kind {
//!     *to = btfkit::TypeId(99);
//! }
//! assert!(!b.validate(btfkit::parse::Validation::Kernel).is_empty());
//! # let _ = ptr;
//! # Ok::<(), btfkit::Error>(())
//! ```

use super::{Btf, StringTable, Type, TypeId};
use crate::error::Result;

/// This BTF's own types, in id order, to change at will (ids, string
/// offsets and kinds are not checked; see the module documentation).
pub fn types_mut(btf: &mut Btf) -> &mut Vec<Type> {
    btf.types_mut()
}

/// This BTF's own string section, to change at will (offsets that types
/// hold are not updated; see the module documentation).
pub fn strings_mut(btf: &mut Btf) -> &mut StringTable {
    btf.strings_mut()
}

/// Appends `t` as it is, string offsets and type ids unchecked (unlike
/// [`Btf::push_type`]); fails only past the largest type id. Returns its id.
pub fn push_type(btf: &mut Btf, t: Type) -> Result<TypeId> {
    btf.push_type_unchecked(t)
}
