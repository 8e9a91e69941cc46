//! Semantic comparison of two BTFs (issue #6): types are matched by their
//! structure, never by id.
//!
//! # How types are matched
//!
//! The types of A and B (plus `void`) form one graph whose edges are the
//! type references, labelled by their position (member 0, member 1, ...).
//! Every type starts in a class given by its *local* signature: kind, name,
//! size, member names/offsets/bitfield sizes, enum values, linkage, ... (no
//! ids, no string offsets). The classes are then refined with Hopcroft's
//! algorithm until every two types of a class reference, position by
//! position, types of a same class (`partition`). The result is the
//! coarsest such partition: two types share a class exactly when their
//! (possibly infinite, through cycles) unfolded type trees are equal. It runs
//! in O(m log n) without recursion, so neither cycles nor a million-long
//! CONST chain are a problem.
//!
//! # What is reported
//!
//! The two BTFs are *equivalent* when every class has as many types in A as
//! in B. Otherwise the differing classes are grouped by name and described
//! (`report`): types only in A / only in B, changed types (paired by name,
//! with member-level descriptions, anonymous inner structs/unions described
//! by their path, e.g. `struct sk_buff.(anon union #2)`), types that only
//! differ through the types they reference, and differing duplicate counts
//! (how dedup failures show).

mod partition;
mod report;

pub mod change;

pub use change::{Change, MemberRef, Subject, Via, ViaWhat, What};
pub use report::{Changed, Dup, Entry, Report};

use crate::btf::{Btf, Type, TypeId};

/// The two BTFs as one graph. Node 0 is `void`, nodes `1..na` are A's ids
/// `1..na` (base types included), then B's ids `1..nb` follow.
pub(crate) struct Universe<'a> {
    pub a: &'a Btf,
    pub b: &'a Btf,
    /// `a.type_count()`.
    pub na: u32,
    /// `b.type_count()`.
    pub nb: u32,
}

/// Which BTF a node belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Void,
    A,
    B,
}

impl<'a> Universe<'a> {
    pub fn new(a: &'a Btf, b: &'a Btf) -> Self {
        Universe { a, b, na: a.type_count().max(1), nb: b.type_count().max(1) }
    }

    /// Number of nodes (void, A's types, B's types).
    pub fn len(&self) -> usize {
        self.na as usize + self.nb as usize - 1
    }

    pub fn side(&self, node: u32) -> Side {
        if node == 0 {
            Side::Void
        } else if node < self.na {
            Side::A
        } else {
            Side::B
        }
    }

    /// Node of an id of A (invalid ids map to void; the parser rejects them).
    pub fn node_a(&self, id: TypeId) -> u32 {
        if id.0 < self.na { id.0 } else { 0 }
    }

    pub fn node_b(&self, id: TypeId) -> u32 {
        if id.0 == 0 || id.0 >= self.nb { 0 } else { self.na - 1 + id.0 }
    }

    /// The node of `id` taken in the BTF `node` belongs to.
    pub fn node_like(&self, node: u32, id: TypeId) -> u32 {
        match self.side(node) {
            Side::B => self.node_b(id),
            _ => self.node_a(id),
        }
    }

    /// The BTF and type of a node (None for void).
    pub fn get(&self, node: u32) -> Option<(&'a Btf, &'a Type)> {
        match self.side(node) {
            Side::Void => None,
            Side::A => Some((self.a, self.a.type_by_id(TypeId(node))?)),
            Side::B => Some((self.b, self.b.type_by_id(TypeId(node + 1 - self.na))?)),
        }
    }
}

/// The structural classes of every type of A and B: `(universe, class of
/// each node)`. Two nodes (of the same or of different BTFs) share a class
/// exactly when they are structurally equal.
pub(crate) fn classify<'a>(a: &'a Btf, b: &'a Btf) -> (Universe<'a>, partition::Graph, Vec<u32>) {
    let u = Universe::new(a, b);
    let g = partition::Graph::build(&u);
    let classes = partition::classes(&u, &g);
    (u, g, classes)
}

/// A fast non-cryptographic hasher (FxHash) for the large maps keyed by
/// signatures and names.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;
pub(crate) type FxSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<Fx>>;

/// Compares two BTFs by meaning.
pub fn diff(a: &Btf, b: &Btf) -> Report {
    let (u, g, classes) = classify(a, b);
    report::build(&u, &g, &classes)
}

/// Whether two types (`ia` of `a`, `ib` of `b`) are structurally equal.
pub fn types_equal(a: &Btf, ia: TypeId, b: &Btf, ib: TypeId) -> bool {
    let (u, _, classes) = classify(a, b);
    let (x, y) = (u.node_a(ia), u.node_b(ib));
    classes.get(x as usize) == classes.get(y as usize)
}
