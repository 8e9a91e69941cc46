//! The candidate index of dedup: signature hash → canonical type ids.
//!
//! libbpf keeps its candidates in its own chained hash map, and when several
//! candidates with the same hash pass the equality check, the first one met
//! while walking the chain wins. So the walk order is part of the output.
//! That order follows two rules of libbpf's map:
//!
//! * a new entry goes to the head of its bucket chain;
//! * when the map grows (before an insert, if the map is empty or
//!   `(size + 1) * 4 / 3 > capacity`; capacity starts at 4 and doubles), every
//!   chain is re-linked head to tail into the new buckets, each entry pushed
//!   to the head, which reverses the relative order of entries that share a
//!   key (they always share a bucket).
//!
//! Where a key's entries sit in the bucket array, and which other keys share
//! the bucket, does not matter: only the relative order of same-key entries
//! is observable. We keep, per key, a deque plus one global "reversed" bit
//! that flips at every growth: the chain is the deque read front to back, or
//! back to front when the bit is set. That is O(1) per insert and per grow.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher for keys that are already hashes: one multiply and a fold.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let x = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = v as u64;
    }
}

pub(crate) type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// Hasher for byte strings: the string table's own.
pub(crate) use crate::btf::StrHasher as BytesHasher;

pub(crate) type BytesMap<'a, V> = HashMap<&'a [u8], V, BuildHasherDefault<BytesHasher>>;

/// Marks a chain value as an index into `CandTable::many` (type ids never
/// have the top bit set).
const MANY: u32 = 0x8000_0000;

/// libbpf-order multimap from hash to type ids.
pub(crate) struct CandTable {
    /// Number of entries (libbpf's `sz`).
    size: usize,
    /// Bucket count (libbpf's `cap`), only used to know when it grows.
    cap: usize,
    /// Set when the logical chains are the deques read back to front.
    reversed: bool,
    /// Normal mode: per key, the only id, or `MANY | i` for `many[i]`.
    chains: KeyMap<u64, u32>,
    many: Vec<VecDeque<u32>>,
    /// `force_collisions` mode: libbpf's hash function returns 0, so every
    /// entry lives in one chain and lookups filter it by key.
    forced: Option<VecDeque<(u64, u32)>>,
}

impl CandTable {
    pub(crate) fn new(force_collisions: bool) -> CandTable {
        CandTable {
            size: 0,
            cap: 0,
            reversed: false,
            chains: KeyMap::default(),
            many: Vec::new(),
            forced: force_collisions.then(VecDeque::new),
        }
    }

    /// Number of entries (canonical types) so far.
    pub(crate) fn len(&self) -> usize {
        self.size
    }

    /// libbpf `hashmap__append`.
    pub(crate) fn append(&mut self, key: u64, id: u32) {
        if self.cap == 0 || (self.size + 1) * 4 / 3 > self.cap {
            self.cap = if self.cap == 0 { 4 } else { self.cap * 2 };
            self.reversed = !self.reversed;
        }
        self.size += 1;
        let front = !self.reversed;
        if let Some(all) = &mut self.forced {
            if front {
                all.push_front((key, id))
            } else {
                all.push_back((key, id))
            }
            return;
        }
        let v = match self.chains.get_mut(&key) {
            None => {
                self.chains.insert(key, id & !MANY);
                return;
            }
            Some(v) => v,
        };
        if *v & MANY == 0 {
            let mut d = VecDeque::with_capacity(2);
            d.push_back(*v);
            *v = MANY | self.many.len() as u32;
            self.many.push(d);
        }
        let d = &mut self.many[(*v & !MANY) as usize];
        if front { d.push_front(id) } else { d.push_back(id) }
    }

    /// Whether libbpf's hash function is forced to collide (every entry in
    /// one chain).
    pub(crate) fn forced(&self) -> bool {
        self.forced.is_some()
    }

    /// The ids stored under `key`, in libbpf's chain order, into `out`.
    pub(crate) fn candidates(&self, key: u64, out: &mut Vec<u32>) {
        out.clear();
        if let Some(all) = &self.forced {
            let it = all.iter().filter(|e| e.0 == key).map(|e| e.1);
            if self.reversed {
                out.extend(it.rev())
            } else {
                out.extend(it)
            }
            return;
        }
        match self.chains.get(&key) {
            None => {}
            Some(&v) if v & MANY == 0 => out.push(v),
            Some(&v) => {
                if let Some(d) = self.many.get((v & !MANY) as usize) {
                    if self.reversed { out.extend(d.iter().rev()) } else { out.extend(d.iter()) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal model of libbpf's map: buckets of chains, head insertion,
    /// growth re-linking bucket by bucket.
    struct Model {
        buckets: Vec<Vec<(u64, u32)>>, // chain head first
        bits: u32,
        size: usize,
        force: bool,
    }
    impl Model {
        fn bucket(&self, key: u64, bits: u32) -> usize {
            let h = if self.force { 0 } else { key };
            if bits == 0 { 0 } else { (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize }
        }
        fn append(&mut self, key: u64, id: u32) {
            let cap = self.buckets.len();
            if cap == 0 || (self.size + 1) * 4 / 3 > cap {
                let nb = (self.bits + 1).max(2);
                let mut nbk: Vec<Vec<(u64, u32)>> = vec![Vec::new(); 1 << nb];
                for b in &self.buckets {
                    for &e in b {
                        let h = self.bucket(e.0, nb);
                        nbk[h].insert(0, e);
                    }
                }
                self.buckets = nbk;
                self.bits = nb;
            }
            let h = self.bucket(key, self.bits);
            self.buckets[h].insert(0, (key, id));
            self.size += 1;
        }
        fn cands(&self, key: u64) -> Vec<u32> {
            if self.buckets.is_empty() {
                return vec![];
            }
            self.buckets[self.bucket(key, self.bits)].iter().filter(|e| e.0 == key).map(|e| e.1).collect()
        }
    }

    #[test]
    fn order_matches_chained_map() {
        for force in [false, true] {
            let mut m = Model { buckets: vec![], bits: 0, size: 0, force };
            let mut t = CandTable::new(force);
            let mut out = Vec::new();
            let mut seed = 12345u64;
            for id in 0..3000u32 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let key = (seed >> 33) % 37;
                m.append(key, id);
                t.append(key, id);
                if id % 7 == 0 {
                    for k in 0..37 {
                        t.candidates(k, &mut out);
                        assert_eq!(out, m.cands(k), "key {k} after {id} inserts (force {force})");
                    }
                }
            }
        }
    }
}
