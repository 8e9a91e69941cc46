//! `Btf::append`: libbpf's `btf__add_btf`.

use std::sync::Arc;

use super::table::{BytesHasher, KeyMap};
use crate::btf::{Btf, MAX_STR_OFFSET, MAX_TYPE_ID, StrOff, Type, TypeId};
use crate::error::{Error, Result};

/// Source string sections up to this size get an array as their offset
/// cache in `append` (4 bytes per section byte; a [`Merger`] keeps it from one
/// append to the next).
const DENSE_CACHE_LIMIT: usize = 1 << 20;

/// Where `append` looks strings up and adds them.
pub(crate) trait Interner {
    /// libbpf `btf__add_str` semantics: the base's offset if the base holds
    /// `s`, else this BTF's first copy, appended if new.
    fn intern(&mut self, btf: &mut Btf, s: &[u8]) -> Result<u32>;
    /// Forgets strings at relative offsets `len` and above (after an error).
    fn rollback(&mut self, len: usize);
}

/// Through the string table's own index.
struct TableInterner;

impl Interner for TableInterner {
    fn intern(&mut self, btf: &mut Btf, s: &[u8]) -> Result<u32> {
        btf.intern_str_libbpf(s)
    }
    fn rollback(&mut self, _len: usize) {}
}

/// A compact string index for merging many BTFs: content hash → offset
/// (a collision of different strings goes to a small overflow map), with
/// the bytes compared in the table itself. About 16 bytes a string, and no
/// per-string allocation, where the table's index holds a boxed copy.
#[derive(Default)]
struct StrIndex {
    map: KeyMap<u64, u32>,
    overflow: std::collections::HashMap<Box<[u8]>, u32>,
}

fn str_hash(s: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = BytesHasher::default();
    h.write(s);
    h.write_usize(s.len());
    h.finish()
}

impl StrIndex {
    /// Indexes a section (first copy of each string wins, as libbpf).
    fn of(bytes: &[u8]) -> StrIndex {
        let mut ix = StrIndex::default();
        let mut off = 0usize;
        while off < bytes.len() {
            let end = bytes[off..].iter().position(|&b| b == 0).map_or(bytes.len(), |e| off + e);
            ix.insert_if_new(bytes, &bytes[off..end], off as u32);
            off = end + 1;
        }
        ix
    }

    fn get(&self, bytes: &[u8], s: &[u8], h: u64) -> Option<u32> {
        let &o = self.map.get(&h)?;
        let stored = bytes.get(o as usize..o as usize + s.len());
        if stored == Some(s) && bytes.get(o as usize + s.len()) == Some(&0) {
            return Some(o);
        }
        self.overflow.get(s).copied()
    }

    fn insert_if_new(&mut self, bytes: &[u8], s: &[u8], off: u32) {
        let h = str_hash(s);
        match self.map.get(&h) {
            None => {
                self.map.insert(h, off);
            }
            Some(_) => {
                if self.get(bytes, s, h).is_none() {
                    self.overflow.insert(s.into(), off);
                }
            }
        }
    }
}

impl Interner for StrIndex {
    fn intern(&mut self, btf: &mut Btf, s: &[u8]) -> Result<u32> {
        if let Some(off) = btf.base().and_then(|b| b.find_str(s)) {
            return Ok(off.get());
        }
        let start = btf.start_str_off() as u64;
        let h = str_hash(s);
        if let Some(o) = self.get(btf.strings().as_bytes(), s, h) {
            return Ok((o as u64 + start) as u32);
        }
        if start + (btf.strings().len() + s.len() + 1) as u64 > MAX_STR_OFFSET as u64 {
            return Err(Error::StringsTooLarge(btf.strings().len() + s.len() + 1));
        }
        let o = btf.strings_mut().push_unique(s).get();
        match self.map.entry(h) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.overflow.insert(s.into(), o);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(o);
            }
        }
        Ok((o as u64 + start) as u32)
    }
    fn rollback(&mut self, len: usize) {
        self.map.retain(|_, o| (*o as usize) < len);
        self.overflow.retain(|_, o| (*o as usize) < len);
    }
}

/// Merges many BTFs into one, in order, like repeated [`Btf::append`]
/// (same result) but with a compact string index kept across appends.
pub struct Merger {
    btf: Btf,
    index: StrIndex,
    cache: OffsetCache,
}

/// Source string offset -> our offset while appending one BTF with a small
/// string section: an array (`u32::MAX`: not looked up yet), reused from
/// one append to the next (only the entries set are reset), so a merge of
/// many members neither allocates nor clears one per member.
#[derive(Default)]
pub(crate) struct OffsetCache {
    v: Vec<u32>,
    set: Vec<u32>,
}

impl OffsetCache {
    fn prepare(&mut self, len: usize) {
        for &i in &self.set {
            if let Some(x) = self.v.get_mut(i as usize) {
                *x = u32::MAX;
            }
        }
        self.set.clear();
        if self.v.len() < len {
            self.v.resize(len, u32::MAX);
        }
    }

    #[inline]
    fn get(&self, rel: usize) -> Option<u32> {
        self.v.get(rel).copied().filter(|&o| o != u32::MAX)
    }

    #[inline]
    fn insert(&mut self, rel: usize, o: u32) {
        if let Some(c) = self.v.get_mut(rel) {
            *c = o;
            self.set.push(rel as u32);
        }
    }
}

impl Merger {
    /// Starts from `first` (which keeps its types and strings as they are).
    pub fn new(mut first: Btf) -> Merger {
        // The table's own index is not needed while merging.
        first.strings_mut().drop_index();
        let index = StrIndex::of(first.strings().as_bytes());
        Merger { btf: first, index, cache: OffsetCache::default() }
    }

    /// Appends `other` (see [`Btf::append`]); returns the first new id.
    pub fn append(&mut self, mut other: Btf) -> Result<TypeId> {
        let types = std::mem::take(other.types_mut());
        let n = types.len();
        self.btf.append_from(&other, n, types.into_iter(), &mut self.index, &mut self.cache)
    }

    /// The BTF merged so far.
    pub(super) fn btf(&self) -> &Btf {
        &self.btf
    }

    /// The BTF merged so far.
    pub(super) fn btf_mut(&mut self) -> &mut Btf {
        &mut self.btf
    }

    /// Whether appending a string `s` would give it offset `off` (relative
    /// to this BTF's own section): the first copy of `s` is there.
    pub(super) fn interns_at(&self, s: &[u8], off: u32) -> bool {
        self.index.get(self.btf.strings().as_bytes(), s, str_hash(s)) == Some(off)
    }

    /// The merged BTF.
    pub fn finish(self) -> Btf {
        self.btf
    }
}

/// What [`merge_all`] merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeStats {
    /// Number of BTFs merged.
    pub members: usize,
    /// Their own types, in all.
    pub types_in: usize,
    /// Their string sections' bytes, in all.
    pub str_bytes_in: usize,
    /// Of the members, copies of earlier ones that [`super::dedup_fed`]
    /// left out of the dedup (0 elsewhere, and when it merged everything).
    pub copies_left_out: usize,
}

/// Merges BTFs in order into one, as libbpf's `btf__add_btf` of each into
/// the first does (through a [`Merger`]), the step before [`Btf::dedup`]
/// when several BTFs (archive members, input files) become one.
///
/// `feed` calls the sink it is given once per BTF, in order; it may stream
/// them as they are parsed (see [`crate::input::Loader::for_each_member`]).
/// An error from `feed` or from an append is returned as it is. Without
/// any BTF, the result is an error. The merged BTF is not deduplicated:
/// callers call [`Btf::dedup`] next (the loader does, and `btfkit dedup`
/// does with its own options).
pub fn merge_all(
    feed: impl FnOnce(&mut (dyn FnMut(Btf) -> Result<()> + Send)) -> Result<()>,
) -> Result<(Btf, MergeStats)> {
    let mut merger: Option<Merger> = None;
    let mut stats = MergeStats::default();
    feed(&mut |b: Btf| {
        stats.members += 1;
        stats.types_in += b.types().len();
        stats.str_bytes_in += b.strings().len();
        match &mut merger {
            None => merger = Some(Merger::new(b)),
            Some(m) => {
                m.append(b)?;
            }
        }
        Ok(())
    })?;
    let merger = merger.ok_or(Error::NothingToMerge)?;
    Ok((merger.finish(), stats))
}

impl Btf {
    /// Interns `s` as libbpf's `btf__add_str` does: the base's offset when
    /// the base (or its base) holds the string, else this BTF's own copy,
    /// appended if new. Unlike [`Btf::add_str_bytes`], an empty split string
    /// section gets no leading "" (libbpf 1.7 does not add one either).
    pub(crate) fn intern_str_libbpf(&mut self, s: &[u8]) -> Result<u32> {
        if let Some(off) = self.base().and_then(|b| b.find_str(s)) {
            return Ok(off.get());
        }
        let start = self.start_str_off() as u64;
        let off = self.strings_mut().add(s).get() as u64 + start;
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
        self.append_from(other, n, other.types().iter().cloned(), &mut TableInterner, &mut OffsetCache::default())
    }

    /// Shared body: `other` supplies strings and numbering, `types` its `n`
    /// types in order.
    fn append_from(
        &mut self,
        other: &Btf,
        n: usize,
        types: impl Iterator<Item = Type>,
        interner: &mut impl Interner,
        cache: &mut OffsetCache,
    ) -> Result<TypeId> {
        if let Some(ob) = other.base() {
            match self.base() {
                Some(sb) if Arc::ptr_eq(sb, ob) => {}
                _ => {
                    return Err(Error::BaseMismatch);
                }
            }
        }
        let src_start = other.start_id().0;
        let first = self.type_count();
        if n > 0 && first as u64 + n as u64 - 1 > MAX_TYPE_ID as u64 {
            return Err(Error::TooManyTypes((first as u64 + n as u64 - 1) as usize));
        }
        let src_str_start = other.start_str_off();
        let old_strs = self.strings().len();
        let old_types = self.types().len();
        self.types_mut().reserve(n);
        // Source offset → our offset, to look each string up once: an array
        // over the source's own string section (u32::MAX: not looked up yet)
        // when that section is small (an archive member), else a hash map.
        let dense = other.strings().len() <= DENSE_CACHE_LIMIT;
        if dense {
            cache.prepare(other.strings().len());
        }
        let mut sparse: KeyMap<u32, u32> = KeyMap::default();
        let mut err: Option<Error> = None;
        for (i, mut t) in types.enumerate() {
            t.for_each_str_mut(|off| {
                let off = &mut off.0;
                if err.is_some() || *off == 0 || *off < src_str_start {
                    return;
                }
                let rel = (*off - src_str_start) as usize;
                let cached = if dense { cache.get(rel) } else { sparse.get(off).copied() };
                if let Some(o) = cached {
                    *off = o;
                    return;
                }
                let Some(s) = other.str_bytes(StrOff(*off)) else {
                    err = Some(Error::BadStringOffset {
                        id: TypeId(src_start + i as u32),
                        what: "string",
                        str_off: StrOff(*off),
                    });
                    return;
                };
                match interner.intern(self, s) {
                    Ok(o) => {
                        if dense {
                            cache.insert(rel, o);
                        } else {
                            sparse.insert(*off, o);
                        }
                        *off = o;
                    }
                    Err(e) => err = Some(e),
                }
            });
            if let Some(e) = err {
                self.types_mut().truncate(old_types);
                self.strings_mut().truncate(old_strs);
                interner.rollback(old_strs);
                return Err(e);
            }
            let src_end = src_start as u64 + n as u64; // one past other's last id
            let mut bad = None;
            t.for_each_ref_mut(|id| {
                if id.0 != 0 && id.0 >= src_start {
                    if id.0 as u64 >= src_end {
                        bad.get_or_insert(id.0);
                    }
                    id.0 = (id.0 - src_start).wrapping_add(first);
                }
            });
            // libbpf shifts a FWD's size/type word like a type id, unchecked.
            if let Some(w) = t.fwd_word_mut()
                && *w >= src_start
            {
                *w = (*w - src_start).wrapping_add(first);
            }
            if let Some(target) = bad {
                self.types_mut().truncate(old_types);
                self.strings_mut().truncate(old_strs);
                interner.rollback(old_strs);
                let max = (src_end - 1) as u32;
                return Err(Error::BadTypeId { id: TypeId(src_start + i as u32), target: TypeId(target), max });
            }
            self.types_mut().push(t);
        }
        Ok(TypeId(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_index_collisions_and_rollback() {
        let mut b = Btf::new();
        b.add_str("alpha").unwrap();
        b.add_str("beta").unwrap();
        let mut ix = StrIndex::of(b.strings().as_bytes());
        assert_eq!(ix.intern(&mut b, b"alpha").unwrap(), 1);
        assert_eq!(ix.intern(&mut b, b"").unwrap(), 0);
        // Pretend "gamma" collides with "alpha".
        ix.map.insert(str_hash(b"gamma"), 1);
        let g = ix.intern(&mut b, b"gamma").unwrap();
        assert_eq!(b.str_bytes(StrOff(g)), Some(&b"gamma"[..]));
        assert_eq!(ix.intern(&mut b, b"gamma").unwrap(), g);
        assert_eq!(ix.overflow.len(), 1);
        // A prefix of a stored string is not that string.
        let a = ix.intern(&mut b, b"alp").unwrap();
        assert_eq!(b.str_bytes(StrOff(a)), Some(&b"alp"[..]));
        // Rollback forgets what was added after the cut.
        ix.rollback(g as usize);
        b.strings_mut().truncate(g as usize);
        assert!(ix.overflow.is_empty());
        let g2 = ix.intern(&mut b, b"gamma").unwrap();
        assert_eq!(g2, g);
    }

    #[test]
    fn append_checks_the_source_ids() {
        let mut src = Btf::new();
        let i = src.add_int("int", 4, 1).unwrap();
        src.add_ptr(i).unwrap();
        // Out of range for `src`, unchecked by the builder-level push.
        src.types_mut().push(Type::new(StrOff::EMPTY, crate::btf::TypeKind::Ptr(TypeId(9))));
        let mut dst = Btf::new();
        dst.add_int("long", 8, 1).unwrap();
        let before = dst.clone();
        let e = dst.append(&src).unwrap_err();
        assert!(matches!(e, Error::BadTypeId { id: TypeId(3), target: TypeId(9), max: 3 }), "{e:?}");
        assert_eq!(dst, before, "a failed append leaves the target unchanged");
        let mut m = Merger::new(before.clone());
        assert!(m.append(src).is_err());
        assert_eq!(m.finish(), before);
    }

    #[test]
    fn merger_equals_repeated_append() {
        let mut x = Btf::new();
        let i = x.add_int("int", 4, 1).unwrap();
        x.add_ptr(i).unwrap();
        x.add_struct("s", 4).unwrap();
        x.add_field("f", i, 0, 0).unwrap();
        let raw = crate::write::to_bytes(&x);
        let parse = || crate::parse::parse(&raw).unwrap();
        let mut a = parse();
        let mut m = Merger::new(parse());
        for _ in 0..3 {
            a.append(&parse()).unwrap();
            m.append(parse()).unwrap();
        }
        assert_eq!(a, m.finish());
    }
}
