//! `Btf::append`: libbpf's `btf__add_btf`.

use std::sync::Arc;

use super::table::KeyMap;
use crate::btf::{Btf, MAX_STR_OFFSET, MAX_TYPE_ID, Type, TypeId};
use crate::error::{Error, Result};

impl Btf {
    /// Interns `s` as libbpf's `btf__add_str` does: the base's offset when
    /// the base (or its base) holds the string, else this BTF's own copy,
    /// appended if new. Unlike [`Btf::add_str_bytes`], an empty split string
    /// section gets no leading "" (libbpf 1.7 does not add one either).
    pub(crate) fn intern_str_libbpf(&mut self, s: &[u8]) -> Result<u32> {
        if let Some(off) = self.base().and_then(|b| b.find_str(s)) {
            return Ok(off);
        }
        let start = self.start_str_off() as u64;
        let off = self.strings_mut().add(s) as u64 + start;
        // libbpf caps the whole section at BTF_MAX_STR_OFFSET bytes.
        if start + self.strings().len() as u64 > MAX_STR_OFFSET as u64 {
            return Err(Error::StringsTooLarge(off as usize));
        }
        Ok(off as u32)
    }

    /// Appends all types of `other` (libbpf `btf__add_btf`) and returns the
    /// id of the first one.
    ///
    /// Type ids of `other`'s own types are shifted to follow this BTF's
    /// types; ids into a shared base are kept. Strings are interned one by
    /// one (base first, then this BTF's section). A split `other` must have
    /// the very same base (`Arc::ptr_eq`) as `self`. On error `self` is left
    /// unchanged.
    pub fn append(&mut self, other: &Btf) -> Result<TypeId> {
        let n = other.types().len();
        self.append_from(other, n, other.types().iter().cloned())
    }

    /// [`Btf::append`], consuming `other` (its types are moved, not copied).
    pub fn append_owned(&mut self, mut other: Btf) -> Result<TypeId> {
        let types = std::mem::take(other.types_mut());
        let n = types.len();
        // `other` keeps its strings, base and start id for the interning.
        self.append_from(&other, n, types.into_iter())
    }

    /// Shared body: `other` supplies strings and numbering, `types` its `n`
    /// types in order.
    fn append_from(&mut self, other: &Btf, n: usize, types: impl Iterator<Item = Type>) -> Result<TypeId> {
        if let Some(ob) = other.base() {
            match self.base() {
                Some(sb) if Arc::ptr_eq(sb, ob) => {}
                _ => {
                    return Err(Error::Invalid(
                        "append: a split BTF can only be appended to a BTF with the same base".into(),
                    ));
                }
            }
        }
        let src_start = other.start_id();
        let first = self.type_count();
        if n > 0 && first as u64 + n as u64 - 1 > MAX_TYPE_ID as u64 {
            return Err(Error::TooManyTypes((first as u64 + n as u64 - 1) as usize));
        }
        let src_str_start = other.start_str_off();
        let old_strs = self.strings().len();
        let old_types = self.types().len();
        self.types_mut().reserve(n);
        // Source offset → our offset, to look each string up once.
        let mut cache: KeyMap<u32, u32> = KeyMap::default();
        let mut err: Option<Error> = None;
        for (i, mut t) in types.enumerate() {
            t.for_each_str_mut(|off| {
                if err.is_some() || *off == 0 || *off < src_str_start {
                    return;
                }
                if let Some(&o) = cache.get(off) {
                    *off = o;
                    return;
                }
                let Some(s) = other.str_bytes(*off) else {
                    err = Some(Error::BadStringOffset { id: src_start + i as u32, what: "string", str_off: *off });
                    return;
                };
                match self.intern_str_libbpf(s) {
                    Ok(o) => {
                        cache.insert(*off, o);
                        *off = o;
                    }
                    Err(e) => err = Some(e),
                }
            });
            if let Some(e) = err {
                self.types_mut().truncate(old_types);
                self.strings_mut().truncate(old_strs);
                return Err(e);
            }
            t.for_each_ref_mut(|id| {
                if id.0 != 0 && id.0 >= src_start {
                    id.0 = (id.0 - src_start).wrapping_add(first);
                }
            });
            self.types_mut().push(t);
        }
        Ok(TypeId(first))
    }
}
