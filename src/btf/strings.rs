//! The BTF string section: NUL-terminated byte strings addressed by offset,
//! with interning for the builder.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::StrOff;

/// A fast non-cryptographic hasher for the string index (FxHash-style:
/// 8 bytes at a time, rotate, xor, multiply). Inputs are BTF strings, and
/// a collision only costs a comparison.
#[derive(Default)]
pub struct StrHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl StrHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(SEED);
    }
}

impl Hasher for StrHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Spread the entropy to the top bits, which hashbrown uses.
        let x = self.0;
        x ^ (x >> 29) ^ (x << 17)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut c = bytes.chunks_exact(8);
        for w in &mut c {
            self.mix(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        }
        let r = c.remainder();
        if !r.is_empty() {
            let mut b = [0u8; 8];
            b[..r.len()].copy_from_slice(r);
            self.mix(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

type Index = HashMap<Box<[u8]>, StrOff, BuildHasherDefault<StrHasher>>;

/// A string section. The [`StrOff`]s it takes and returns are relative to
/// this table (a split BTF's offsets are shifted by the base's length by
/// [`crate::Btf`], whose methods take the shifted ones).
#[derive(Clone, Debug, Default)]
pub struct StringTable {
    bytes: Vec<u8>,
    /// Interning index, built on first use (string bytes → first offset).
    index: OnceLock<Index>,
}

impl PartialEq for StringTable {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for StringTable {}

impl StringTable {
    /// A table holding just the empty string (what a base BTF starts with).
    pub fn with_empty() -> StringTable {
        StringTable { bytes: vec![0], index: OnceLock::new() }
    }

    /// An empty table (no bytes at all: a split BTF may start this way).
    pub fn empty() -> StringTable {
        StringTable { bytes: Vec::new(), index: OnceLock::new() }
    }

    /// Wraps raw section bytes; the caller has validated them.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> StringTable {
        StringTable { bytes, index: OnceLock::new() }
    }

    /// The raw section bytes: NUL-terminated strings, starting with the empty string.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length of the section in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when the section has no bytes at all (not even the empty string).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The string at `off`, without its NUL, or None when `off` is out of range.
    pub fn get(&self, off: StrOff) -> Option<&[u8]> {
        let rest = self.bytes.get(off.get() as usize..)?;
        let end = memchr::memchr(0, rest)?;
        Some(&rest[..end])
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut map = Index::default();
            let mut off = 0usize;
            for s in self.bytes.split(|&b| b == 0) {
                if off >= self.bytes.len() {
                    break;
                }
                map.entry(s.into()).or_insert(StrOff(off as u32));
                off += s.len() + 1;
            }
            map
        })
    }

    /// Offset of `s` if the table already holds it as a whole string.
    pub fn find(&self, s: &[u8]) -> Option<StrOff> {
        self.index().get(s).copied()
    }

    /// Interns `s`, returning its offset (existing or newly appended).
    pub fn add(&mut self, s: &[u8]) -> StrOff {
        if let Some(off) = self.find(s) {
            return off;
        }
        let off = StrOff(self.bytes.len() as u32);
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        if let Some(idx) = self.index.get_mut() {
            idx.insert(s.into(), off);
        }
        off
    }

    /// Appends `s` without looking for an existing copy.
    pub fn push_unique(&mut self, s: &[u8]) -> StrOff {
        let off = StrOff(self.bytes.len() as u32);
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        if let Some(idx) = self.index.get_mut() {
            idx.entry(s.into()).or_insert(off);
        }
        off
    }

    /// Drops everything from byte `len` on (undoing appends after an error).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.bytes.len() {
            return;
        }
        if let Some(idx) = self.index.get_mut() {
            let mut off = len;
            while off < self.bytes.len() {
                let end = self.bytes[off..].iter().position(|&b| b == 0).map_or(self.bytes.len(), |e| off + e);
                let key: &[u8] = &self.bytes[off..end];
                if idx.get(key).is_some_and(|&o| o.get() as usize >= len) {
                    idx.remove(key);
                }
                off = end + 1;
            }
        }
        self.bytes.truncate(len);
    }

    /// Frees the interning index (rebuilt on the next lookup).
    pub fn drop_index(&mut self) {
        self.index = OnceLock::new();
    }
}
