//! What a stream of BTFs (archive members, input files) hands to a merge:
//! each BTF parsed, or, when its raw bytes repeat an earlier one's, only
//! that fact, unparsed ([`crate::dedup::dedup_fed`] uses it to leave copies
//! out). Readers produce these ([`crate::archive::for_each_member_fed`],
//! [`crate::input::Loader::for_each_member_fed`]); nothing here transforms.

use crate::btf::Btf;

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
pub enum Fed {
    /// A parsed BTF, with the digest of its raw bytes when the feed's
    /// [`Seen`] is enabled.
    New(Btf, Option<Digest>),
    /// A byte-for-byte copy of an earlier BTF of the same feed, which the
    /// feed did not parse ([`Seen::is_copy`] said so).
    Copy(Digest),
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
