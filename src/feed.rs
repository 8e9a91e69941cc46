//! What a stream of BTFs (archive members, input files) hands to a merge:
//! each BTF parsed, or, when its raw bytes repeat an earlier one's, only
//! that fact, unparsed ([`crate::dedup::dedup_fed`] uses it to leave copies
//! out). Readers produce these ([`crate::archive::for_each_member_fed`],
//! [`crate::input::Loader::for_each_member_fed`]); nothing here transforms.

use crate::btf::{Btf, StrHasher};

/// A BLAKE3 digest of a BTF's raw bytes: equal digests mean byte-identical
/// BTFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }
}

/// What a feed hands over, one BTF at a time, in order.
#[derive(Debug)]
#[non_exhaustive]
// One value per BTF fed, moved a couple of times: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Fed {
    /// A parsed BTF, with the digest of its raw bytes when the feed's
    /// [`Seen`] is enabled, and its [`StrRefs`] when the feed made them.
    New(Btf, Option<Digest>, Option<StrRefs>),
    /// A byte-for-byte copy of an earlier BTF of the same feed, which the
    /// feed did not parse ([`Seen::is_copy`] said so).
    Copy(Digest),
}

impl Fed {
    /// A parsed BTF as readers hand it over: with its digest (if any) and
    /// its [`StrRefs`].
    pub fn parsed(btf: Btf, digest: Option<Digest>) -> Fed {
        let refs = StrRefs::of(&btf);
        Fed::New(btf, digest, refs)
    }
}

/// The digests a feed has met, for it to skip parsing copies.
#[derive(Debug, Default)]
pub struct Seen {
    seen: std::collections::HashSet<Digest>,
    disabled: bool,
    one_source: bool,
}

impl Seen {
    /// Copies are recognised.
    pub fn new() -> Seen {
        Seen::default()
    }

    /// Copies are not looked for: every BTF is parsed and fed as new.
    pub fn disabled() -> Seen {
        Seen { disabled: true, ..Seen::default() }
    }

    /// Whether digests are wanted at all.
    pub fn enabled(&self) -> bool {
        !self.disabled
    }

    /// Tells that the feed reads one file only: then a BTF that is the only
    /// one of its size in that file can neither repeat an earlier one nor
    /// be repeated, and readers need not digest it (see
    /// [`Seen::one_source`]).
    pub fn set_one_source(&mut self, on: bool) {
        self.one_source = on;
    }

    /// Whether the feed reads one file only ([`Seen::set_one_source`]).
    pub fn one_source(&self) -> bool {
        self.one_source
    }

    /// Whether a BTF with digest `d` was met before; records it.
    pub fn is_copy(&mut self, d: &Digest) -> bool {
        !self.disabled && !self.seen.insert(*d)
    }
}

/// String sections up to this size get [`StrRefs`] (the merge keeps an
/// array of 4 bytes per section byte for them).
pub(crate) const STR_REFS_LIMIT: usize = 1 << 20;

/// A BTF's strings in the order a merge interns them: every distinct string
/// offset its types use (but 0, the empty string), in the order the types
/// first use them, with the string's length and hash. Readers make them
/// where they parse, in parallel, so that the merge, which runs in order,
/// only looks the strings up ([`crate::dedup::dedup_fed`]).
///
/// Made only by [`Fed::parsed`]; a merge uses them only for the BTF they
/// were made from (it checks the section length and type count; other refs
/// are ignored).
#[derive(Debug)]
pub struct StrRefs {
    pub(crate) refs: Vec<StrRef>,
    /// The string section length and type count of the BTF they describe.
    pub(crate) of: (usize, usize),
}

/// One entry of [`StrRefs`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct StrRef {
    pub(crate) off: u32,
    pub(crate) len: u32,
    pub(crate) hash: u64,
}

/// The merge's string hash.
#[inline]
pub(crate) fn str_hash(s: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = StrHasher::default();
    h.write(s);
    h.write_usize(s.len());
    h.finish()
}

impl StrRefs {
    /// The string references of `btf`; `None` for a split BTF (its types
    /// may name the base's strings), for a string section over 1 MiB, or
    /// when a type names an offset outside the section (the merge then
    /// looks strings up one by one, and reports that).
    pub(crate) fn of(btf: &Btf) -> Option<StrRefs> {
        if btf.base().is_some() || btf.strings().len() > STR_REFS_LIMIT {
            return None;
        }
        let bytes = btf.strings().as_bytes();
        let mut seen = vec![0u64; bytes.len() / 64 + 1];
        // A capacity hint: one entry per string of the section (offsets into
        // the middle of a string can add more).
        let mut refs = Vec::with_capacity(memchr::memchr_iter(0, bytes).count());
        let mut ok = true;
        for t in btf.types() {
            t.for_each_str(|off, _| {
                let o = off.get() as usize;
                if o == 0 || !ok {
                    return;
                }
                let bit = 1u64 << (o % 64);
                match seen.get_mut(o / 64) {
                    Some(w) if *w & bit == 0 => *w |= bit,
                    Some(_) => return,
                    None => {
                        ok = false;
                        return;
                    }
                }
                match btf.str_bytes(off) {
                    Some(s) => refs.push(StrRef { off: off.get(), len: s.len() as u32, hash: str_hash(s) }),
                    None => ok = false,
                }
            });
            if !ok {
                return None;
            }
        }
        Some(StrRefs { refs, of: (bytes.len(), btf.types().len()) })
    }
}
