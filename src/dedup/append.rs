//! `Btf::append`: libbpf's `btf__add_btf`.

use std::sync::Arc;

use super::table::KeyMap;
use crate::btf::{Btf, MAX_STR_OFFSET, MAX_TYPE_ID, StrOff, Type, TypeId};
use crate::error::{Error, Result};
use crate::feed::{StrRefs, str_hash};

/// Source string sections up to this size get an array as their offset
/// cache in `append` (4 bytes per section byte; a [`Merger`] keeps it from one
/// append to the next): those [`StrRefs`] are made for.
const DENSE_CACHE_LIMIT: usize = crate::feed::STR_REFS_LIMIT;

/// Where `append` looks strings up and adds them.
pub(crate) trait Interner {
    /// libbpf `btf__add_str` semantics: the base's offset if the base holds
    /// `s`, else this BTF's first copy, appended if new.
    fn intern(&mut self, btf: &mut Btf, s: &[u8]) -> Result<u32> {
        self.intern_hashed(btf, s, str_hash(s))
    }
    /// [`Interner::intern`] of a string whose [`str_hash`] is `h`.
    fn intern_hashed(&mut self, btf: &mut Btf, s: &[u8], h: u64) -> Result<u32>;
    /// Starts loading what looking up a string of hash `h` reads first.
    fn prefetch(&self, _h: u64) {}
    /// Forgets strings at relative offsets `len` and above (after an error;
    /// `btf`'s own strings already truncated to `len`).
    fn rollback(&mut self, btf: &Btf, len: usize);
}

/// Through the string table's own index.
struct TableInterner;

impl Interner for TableInterner {
    fn intern_hashed(&mut self, btf: &mut Btf, s: &[u8], _h: u64) -> Result<u32> {
        btf.intern_str_libbpf(s)
    }
    fn rollback(&mut self, _btf: &Btf, _len: usize) {}
}

/// A compact string index for merging many BTFs: an open-addressing table
/// (linear probing) of 8-byte slots, each the low half of a string's hash
/// and its offset in the table the strings live in (+1; 0 marks an empty
/// slot). A matching half is checked against the bytes themselves, so
/// different strings with equal hashes simply take further slots. No
/// per-string allocation, where the table's own index holds a boxed copy,
/// and a slot can be prefetched from a string's hash alone.
struct StrIndex {
    slots: Vec<u64>,
    len: usize,
}

impl Default for StrIndex {
    fn default() -> StrIndex {
        StrIndex { slots: vec![0; 1 << 12], len: 0 }
    }
}

impl StrIndex {
    /// Indexes a section (first copy of each string wins, as libbpf).
    fn of(bytes: &[u8]) -> StrIndex {
        let mut ix = StrIndex::default();
        let mut off = 0usize;
        while off < bytes.len() {
            let end = memchr::memchr(0, &bytes[off..]).map_or(bytes.len(), |e| off + e);
            let s = &bytes[off..end];
            let h = str_hash(s);
            if ix.get(bytes, s, h).is_none() {
                ix.insert(bytes, h, off as u32);
            }
            off = end + 1;
        }
        ix
    }

    #[inline]
    fn home(&self, h: u64) -> usize {
        // Fibonacci hashing: the top bits of the product index the table.
        let bits = self.slots.len().trailing_zeros();
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    fn get(&self, bytes: &[u8], s: &[u8], h: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let v = self.slots[i];
            if v == 0 {
                return None;
            }
            if (v >> 32) as u32 == h as u32 {
                let o = (v as u32).wrapping_sub(1) as usize;
                if bytes.get(o..o + s.len()) == Some(s) && bytes.get(o + s.len()) == Some(&0) {
                    return Some(o as u32);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds a string known to be absent, at `off` of `bytes`.
    fn insert(&mut self, bytes: &[u8], h: u64, off: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow(bytes);
        }
        self.place(h, off);
        self.len += 1;
    }

    fn place(&mut self, h: u64, off: u32) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h << 32) | (off as u64 + 1);
    }

    /// Doubles the table; the hashes are made again from the strings.
    fn grow(&mut self, bytes: &[u8]) {
        let n = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        self.refill(bytes, old.into_iter().filter(|&v| v != 0).map(|v| (v as u32).wrapping_sub(1)));
    }

    fn refill(&mut self, bytes: &[u8], offs: impl Iterator<Item = u32>) {
        for o in offs {
            let s = bytes.get(o as usize..).and_then(|b| memchr::memchr(0, b).map(|e| &b[..e])).unwrap_or(&[]);
            self.place(str_hash(s), o);
        }
    }
}

impl Interner for StrIndex {
    fn intern_hashed(&mut self, btf: &mut Btf, s: &[u8], h: u64) -> Result<u32> {
        if let Some(off) = btf.base().and_then(|b| b.find_str(s)) {
            return Ok(off.get());
        }
        let start = btf.start_str_off() as u64;
        if let Some(o) = self.get(btf.strings().as_bytes(), s, h) {
            return Ok((o as u64 + start) as u32);
        }
        if start + (btf.strings().len() + s.len() + 1) as u64 > MAX_STR_OFFSET as u64 {
            return Err(Error::StringsTooLarge(btf.strings().len() + s.len() + 1));
        }
        let o = btf.strings_mut().push_unique(s).get();
        self.insert(btf.strings().as_bytes(), h, o);
        Ok((o as u64 + start) as u32)
    }
    #[inline]
    fn prefetch(&self, h: u64) {
        super::prefetch(&self.slots, self.home(h));
    }
    fn rollback(&mut self, btf: &Btf, len: usize) {
        let keep: Vec<u32> = self
            .slots
            .iter()
            .filter(|&&v| v != 0)
            .map(|&v| (v as u32).wrapping_sub(1))
            .filter(|&o| (o as usize) < len)
            .collect();
        self.slots.iter_mut().for_each(|v| *v = 0);
        self.len = keep.len();
        self.refill(btf.strings().as_bytes(), keep.into_iter());
    }
}

/// Merges many BTFs into one, in order, like repeated [`Btf::append`]
/// (same result) but with a compact string index kept across appends.
pub struct Merger {
    btf: Btf,
    index: StrIndex,
    cache: OffsetCache,
    /// Own types moved out of `btf` ([`Merger::detach`]): they keep their
    /// ids, and the types appended next are numbered after them.
    detached: u32,
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
        Merger { btf: first, index, cache: OffsetCache::default(), detached: 0 }
    }

    /// Appends `other` (see [`Btf::append`]); returns the first new id.
    pub fn append(&mut self, other: Btf) -> Result<TypeId> {
        self.append_with(other, None)
    }

    /// [`Merger::append`] with `other`'s string references made beforehand
    /// (`StrRefs::of(&other)`; refs of another BTF are ignored): the same
    /// result, with the strings looked up ahead of the types.
    pub(crate) fn append_with(&mut self, mut other: Btf, refs: Option<&StrRefs>) -> Result<TypeId> {
        let refs = refs.filter(|r| r.of == (other.strings().len(), other.types().len()));
        let types = std::mem::take(other.types_mut());
        let n = types.len();
        self.btf.append_from(&other, n, types.into_iter(), &mut self.index, &mut self.cache, refs, self.detached)
    }

    /// Moves every own type out of the merged BTF (their ids stay taken;
    /// see [`Merger::reattach`]).
    pub(super) fn detach(&mut self) -> Vec<Type> {
        let types = std::mem::take(self.btf.types_mut());
        self.detached += types.len() as u32;
        types
    }

    /// The id the next appended type gets.
    pub(super) fn next_id(&self) -> u32 {
        self.btf.type_count() + self.detached
    }

    /// Counts `n` types as appended and detached at once (made where the
    /// detached types are, see `copies`).
    pub(super) fn skip(&mut self, n: u32) {
        self.detached += n;
    }

    /// Puts back `types`, every own type detached so far, in order, before
    /// those appended since; false (and nothing done) when their number
    /// is not that of the types detached.
    pub(super) fn reattach(&mut self, mut types: Vec<Type>) -> bool {
        if types.len() != self.detached as usize {
            return false;
        }
        types.append(self.btf.types_mut());
        *self.btf.types_mut() = types;
        self.detached = 0;
        true
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
    /// [`super::dedup_fed`] ran the dedup's prim and struct passes along
    /// the merge, member by member (with more than one thread and no base,
    /// when the streamed passes could not decide otherwise than libbpf's).
    pub passes_streamed: bool,
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
        self.append_from(
            other,
            n,
            other.types().iter().cloned(),
            &mut TableInterner,
            &mut OffsetCache::default(),
            None,
            0,
        )
    }

    /// Shared body: `other` supplies strings and numbering, `types` its `n`
    /// types in order; `detached` own types of ours are not in `types()`
    /// (see [`Merger::detach`]).
    #[allow(clippy::too_many_arguments)]
    fn append_from(
        &mut self,
        other: &Btf,
        n: usize,
        types: impl Iterator<Item = Type>,
        interner: &mut impl Interner,
        cache: &mut OffsetCache,
        refs: Option<&StrRefs>,
        detached: u32,
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
        let first = self.type_count() + detached;
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
        // With the source's string references at hand (no base on either
        // side), intern them first, in the order the loop below would, with
        // each lookup's slot prefetched a few strings ahead; the loop then
        // finds every offset in the cache.
        if let Some(refs) = refs.filter(|_| dense && self.base().is_none() && other.base().is_none()) {
            const AHEAD: usize = 8;
            let src = other.strings().as_bytes();
            let r = &refs.refs;
            for (k, x) in r.iter().enumerate() {
                if let Some(y) = r.get(k + AHEAD) {
                    interner.prefetch(y.hash);
                }
                let Some(s) = src.get(x.off as usize..x.off as usize + x.len as usize) else { break };
                match interner.intern_hashed(self, s, x.hash) {
                    Ok(o) => cache.insert(x.off as usize, o),
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = err {
                self.strings_mut().truncate(old_strs);
                interner.rollback(self, old_strs);
                return Err(e);
            }
        }
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
                interner.rollback(self, old_strs);
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
                interner.rollback(self, old_strs);
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
        // "gamma" given alpha's hash: the bytes tell them apart.
        let ha = str_hash(b"alpha");
        let g = ix.intern_hashed(&mut b, b"gamma", ha).unwrap();
        assert_eq!(b.str_bytes(StrOff(g)), Some(&b"gamma"[..]));
        assert_eq!(ix.intern_hashed(&mut b, b"gamma", ha).unwrap(), g);
        assert_eq!(ix.intern_hashed(&mut b, b"alpha", ha).unwrap(), 1);
        // A prefix of a stored string is not that string.
        let a = ix.intern(&mut b, b"alp").unwrap();
        assert_eq!(b.str_bytes(StrOff(a)), Some(&b"alp"[..]));
        // Growing keeps every string findable (hashes made again).
        let many: Vec<u32> = (0..5000).map(|i| ix.intern(&mut b, format!("s{i}").as_bytes()).unwrap()).collect();
        assert!(ix.slots.len() >= 2 * ix.len);
        for (i, &o) in many.iter().enumerate() {
            assert_eq!(ix.intern(&mut b, format!("s{i}").as_bytes()).unwrap(), o);
        }
        // Rollback forgets what was added after the cut.
        b.strings_mut().truncate(a as usize);
        ix.rollback(&b, a as usize);
        assert_eq!(ix.len, 4, "\"\", alpha, beta, gamma");
        assert_eq!(ix.intern(&mut b, b"gamma").unwrap(), g);
        assert_eq!(ix.intern(&mut b, b"s7").unwrap(), a, "s7 is new again, where alp was");
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

#[cfg(test)]
mod str_refs_tests {
    use super::*;
    use crate::feed::StrRefs;

    /// A small BTF whose strings overlap with its siblings' (`k` picks them),
    /// with repeated and unreferenced strings in its section.
    fn unit(k: u32) -> Btf {
        let mut b = Btf::new();
        b.add_str("unused").unwrap();
        let i = b.add_int(if k.is_multiple_of(2) { "int" } else { "long" }, 4, 1).unwrap();
        let s = b.add_struct(&format!("s{}", k % 3), 8).unwrap();
        b.add_field("next", i, 0, 0).unwrap();
        b.add_field(&format!("f{k}"), i, 32, 0).unwrap();
        b.add_field("next", i, 0, 0).unwrap();
        b.add_ptr(s).unwrap();
        b.add_enum("e", 4).unwrap();
        b.add_enum_value(&format!("V{}", k % 4), k as i64).unwrap();
        b.add_enum_value("int", 1).unwrap();
        crate::parse::parse(&crate::write::to_bytes(&b)).unwrap()
    }

    #[test]
    fn append_with_refs_equals_append() {
        let mut plain = Merger::new(unit(0));
        let mut with = Merger::new(unit(0));
        for k in 1..40 {
            let u = unit(k);
            let refs = StrRefs::of(&u).expect("refs of a base BTF");
            // Every referenced string once, in first-reference order, but "".
            let mut order = Vec::new();
            for t in u.types() {
                t.for_each_str(|o, _| {
                    if o.get() != 0 && !order.contains(&o.get()) {
                        order.push(o.get())
                    }
                });
            }
            assert_eq!(refs.refs.iter().map(|r| r.off).collect::<Vec<_>>(), order);
            plain.append(u.clone()).unwrap();
            with.append_with(u, Some(&refs)).unwrap();
        }
        assert_eq!(plain.finish(), with.finish());
    }

    #[test]
    fn detached_types_keep_their_ids() {
        let mut plain = Merger::new(unit(0));
        let mut split = Merger::new(unit(0));
        let mut away = Vec::new();
        for k in 1..6 {
            plain.append(unit(k)).unwrap();
            let first = split.next_id();
            assert_eq!(split.append(unit(k)).unwrap().0, first, "member {k} numbered after the detached types");
            away.extend(split.detach());
        }
        assert!(!split.reattach(away[1..].to_vec()), "a wrong count is refused");
        assert!(split.reattach(away));
        assert_eq!(plain.finish(), split.finish());
    }

    #[test]
    fn refs_of_another_btf_are_ignored() {
        let (a, b) = (unit(1), unit(2));
        let wrong = StrRefs::of(&a).unwrap();
        let mut plain = Merger::new(unit(0));
        let mut with = Merger::new(unit(0));
        plain.append(b.clone()).unwrap();
        with.append_with(b, Some(&wrong)).unwrap();
        assert_eq!(plain.finish(), with.finish());
    }

    #[test]
    fn str_refs_refused() {
        let mut b = unit(1);
        // An offset past the string section: no refs (the merge reports it).
        b.types_mut()[0].name_off = StrOff(b.strings().len() as u32 + 5);
        assert!(StrRefs::of(&b).is_none());
        let mut m = Merger::new(unit(0));
        let before = m.btf().clone();
        assert!(matches!(m.append_with(b, None), Err(Error::BadStringOffset { .. })));
        assert_eq!(m.finish(), before);
        // A split BTF: its strings may be the base's.
        let base = Arc::new(unit(2));
        let mut split = Btf::new_split(base);
        split.add_ptr(TypeId(1)).unwrap();
        assert!(StrRefs::of(&split).is_none());
    }
}
