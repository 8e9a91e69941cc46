//! Structural classes: local signatures, then Hopcroft partition refinement
//! over the labelled reference graph. Iterative throughout.

use super::{FxMap, Universe};
use crate::btf::{Btf, StrOff, Type, TypeKind};
#[cfg(test)]
use std::collections::HashMap;

fn put32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_str(buf: &mut Vec<u8>, btf: &Btf, off: StrOff) {
    let s = if off.is_empty() { &b""[..] } else { btf.str_bytes(off).unwrap_or(b"\xff<bad>") };
    put32(buf, s.len() as u32);
    buf.extend_from_slice(s);
}

/// Everything about a type except what it references: no ids, no string
/// offsets. Equal signatures + equal referenced classes = equal types.
pub(crate) fn local_sig(btf: &Btf, t: &Type, buf: &mut Vec<u8>) {
    buf.push(t.kind() as u8);
    put_str(buf, btf, t.name_off);
    match &t.kind {
        TypeKind::Int(i) => {
            put32(buf, i.size);
            buf.extend_from_slice(&[i.encoding, i.offset, i.bits]);
        }
        TypeKind::Ptr(_)
        | TypeKind::Typedef(_)
        | TypeKind::Volatile(_)
        | TypeKind::Const(_)
        | TypeKind::Restrict(_) => {}
        TypeKind::Array(a) => put32(buf, a.nelems),
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            put32(buf, c.size);
            put32(buf, c.members.len() as u32);
            for m in &c.members {
                put_str(buf, btf, m.name_off);
                put32(buf, c.bit_offset(m));
                put32(buf, c.bitfield_size(m));
            }
        }
        TypeKind::Enum(e) => {
            put32(buf, e.size);
            buf.push(e.signed as u8);
            put32(buf, e.values.len() as u32);
            for v in &e.values {
                put_str(buf, btf, v.name_off);
                put32(buf, v.val);
            }
        }
        TypeKind::Enum64(e) => {
            put32(buf, e.size);
            buf.push(e.signed as u8);
            put32(buf, e.values.len() as u32);
            for v in &e.values {
                put_str(buf, btf, v.name_off);
                buf.extend_from_slice(&v.val.to_le_bytes());
            }
        }
        TypeKind::Fwd { union } => buf.push(*union as u8),
        TypeKind::Func { linkage, .. } => put32(buf, *linkage as u32),
        TypeKind::FuncProto(p) => {
            put32(buf, p.params.len() as u32);
            for p in &p.params {
                put_str(buf, btf, p.name_off);
            }
        }
        TypeKind::Var { linkage, .. } => put32(buf, *linkage),
        TypeKind::Datasec(d) => {
            put32(buf, d.size);
            put32(buf, d.vars.len() as u32);
            for v in &d.vars {
                put32(buf, v.offset);
                put32(buf, v.size);
            }
        }
        TypeKind::Float { size } => put32(buf, *size),
        TypeKind::DeclTag { component_idx, attr, .. } => {
            put32(buf, *component_idx as u32);
            buf.push(*attr as u8);
        }
        TypeKind::TypeTag { attr, .. } => buf.push(*attr as u8),
    }
}

/// The reference graph in CSR form: `succ[start[v]..start[v+1]]` are the
/// nodes `v` references, in encoding order (the order is the edge label).
pub(crate) struct Graph {
    pub start: Vec<u32>,
    pub succ: Vec<u32>,
}

impl Graph {
    pub fn build(u: &Universe) -> Graph {
        let n = u.len();
        let mut start = Vec::with_capacity(n + 1);
        let mut succ = Vec::new();
        start.push(0);
        start.push(0); // void
        for node in 1..n as u32 {
            if let Some((_, t)) = u.get(node) {
                t.for_each_ref(|id| succ.push(u.node_like(node, id)));
            }
            start.push(succ.len() as u32);
        }
        Graph { start, succ }
    }

    pub fn refs(&self, v: u32) -> &[u32] {
        let (s, e) = (self.start[v as usize] as usize, self.start[v as usize + 1] as usize);
        &self.succ[s..e]
    }
}

/// The class of every node (void is class 0 of its own).
pub(crate) fn classes(u: &Universe, g: &Graph) -> Vec<u32> {
    let n = u.len();
    // Initial classes from local signatures.
    let mut init = vec![0u32; n];
    let mut ids: FxMap<Vec<u8>, u32> = FxMap::with_capacity_and_hasher(n, Default::default());
    let mut buf = Vec::with_capacity(256);
    let mut nclasses = 1u32;
    for node in 1..n as u32 {
        buf.clear();
        match u.get(node) {
            Some((btf, t)) => local_sig(btf, t, &mut buf),
            None => buf.push(0xff), // an id the BTF does not have (not produced by the parser)
        }
        let c = match ids.get(buf.as_slice()) {
            Some(&c) => c,
            None => {
                let c = nclasses;
                nclasses += 1;
                ids.insert(buf.clone(), c);
                c
            }
        };
        init[node as usize] = c;
    }
    drop(ids);
    refine(g, init, nclasses as usize)
}

/// Hopcroft's refinement of the initial partition `init` (classes
/// `0..ninit`) into the coarsest partition stable under every edge label.
/// Returns the final block of each node.
pub(crate) fn refine(g: &Graph, init: Vec<u32>, ninit: usize) -> Vec<u32> {
    let n = init.len();
    // Predecessors, CSR: for target t, (label, source) pairs.
    let mut pstart = vec![0u32; n + 1];
    for &t in &g.succ {
        pstart[t as usize + 1] += 1;
    }
    for i in 0..n {
        pstart[i + 1] += pstart[i];
    }
    let mut pred = vec![(0u32, 0u32); g.succ.len()];
    let mut fill = pstart.clone();
    for v in 0..n {
        for (k, &t) in g.refs(v as u32).iter().enumerate() {
            let slot = &mut fill[t as usize];
            pred[*slot as usize] = (k as u32, v as u32);
            *slot += 1;
        }
    }
    drop(fill);

    // Partition: elems grouped by block, each block a range of elems.
    let mut count = vec![0u32; ninit + 1];
    for &c in &init {
        count[c as usize + 1] += 1;
    }
    for i in 0..ninit {
        count[i + 1] += count[i];
    }
    let mut bstart: Vec<u32> = count[..ninit].to_vec();
    let mut bend: Vec<u32> = count[1..].to_vec();
    let mut elems = vec![0u32; n];
    let mut loc = vec![0u32; n];
    {
        let mut pos = bstart.clone();
        for (v, &c) in init.iter().enumerate() {
            let p = &mut pos[c as usize];
            elems[*p as usize] = v as u32;
            loc[v] = *p;
            *p += 1;
        }
    }
    let mut block = init;
    let mut marked = vec![0u32; ninit];
    let mut in_work = vec![true; ninit];
    let mut work: Vec<u32> = (0..ninit as u32).rev().collect();
    let mut touched: Vec<u32> = Vec::new();
    let mut buf: Vec<(u32, u32)> = Vec::new();

    while let Some(c) = work.pop() {
        in_work[c as usize] = false;
        buf.clear();
        for i in bstart[c as usize]..bend[c as usize] {
            let t = elems[i as usize] as usize;
            buf.extend_from_slice(&pred[pstart[t] as usize..pstart[t + 1] as usize]);
        }
        if buf.is_empty() {
            continue;
        }
        buf.sort_unstable();
        let mut i = 0;
        while i < buf.len() {
            let k = buf[i].0;
            // Mark every source reaching C through label k.
            while i < buf.len() && buf[i].0 == k {
                let v = buf[i].1;
                i += 1;
                let b = block[v as usize] as usize;
                let m = bstart[b] + marked[b];
                if marked[b] == 0 {
                    touched.push(b as u32);
                }
                let lv = loc[v as usize];
                if lv < m {
                    continue; // already marked (duplicate pair; cannot happen in a DFA)
                }
                let w = elems[m as usize];
                elems.swap(m as usize, lv as usize);
                loc[w as usize] = lv;
                loc[v as usize] = m;
                marked[b] += 1;
            }
            // Split every touched block into marked / unmarked.
            for b in touched.drain(..) {
                let b = b as usize;
                let mk = marked[b];
                marked[b] = 0;
                if mk == bend[b] - bstart[b] {
                    continue;
                }
                let nb = bstart.len();
                bstart.push(bstart[b]);
                bend.push(bstart[b] + mk);
                marked.push(0);
                bstart[b] += mk;
                for j in bstart[nb]..bend[nb] {
                    block[elems[j as usize] as usize] = nb as u32;
                }
                if in_work[b] {
                    in_work.push(true);
                    work.push(nb as u32);
                } else {
                    let small = if mk <= bend[b] - bstart[b] { nb } else { b };
                    in_work.push(false);
                    in_work[small] = true;
                    work.push(small as u32);
                }
            }
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive Moore refinement: recompute (class, classes of successors)
    /// until the number of classes is stable.
    fn moore(g: &Graph, init: &[u32]) -> Vec<u32> {
        let mut cls = init.to_vec();
        loop {
            let mut ids: HashMap<(u32, Vec<u32>), u32> = HashMap::new();
            let next: Vec<u32> = (0..cls.len())
                .map(|v| {
                    let key = (cls[v], g.refs(v as u32).iter().map(|&t| cls[t as usize]).collect());
                    let n = ids.len() as u32;
                    *ids.entry(key).or_insert(n)
                })
                .collect();
            let before = cls.iter().collect::<std::collections::HashSet<_>>().len();
            if ids.len() == before {
                return next;
            }
            cls = next;
        }
    }

    fn same_partition(x: &[u32], y: &[u32]) -> bool {
        let mut xy = HashMap::new();
        let mut yx = HashMap::new();
        x.iter().zip(y).all(|(a, b)| *xy.entry(*a).or_insert(*b) == *b && *yx.entry(*b).or_insert(*a) == *a)
    }

    #[test]
    fn hopcroft_matches_naive_refinement() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..300 {
            let n = 1 + rnd(40) as usize;
            let ninit = 1 + rnd(4) as usize;
            // Arity is a function of the initial class, as in BTF.
            let arity: Vec<usize> = (0..ninit).map(|_| rnd(4) as usize).collect();
            let init: Vec<u32> = (0..n).map(|_| rnd(ninit as u64) as u32).collect();
            let mut start = vec![0u32];
            let mut succ = Vec::new();
            for v in 0..n {
                for _ in 0..arity[init[v] as usize] {
                    succ.push(rnd(n as u64) as u32);
                }
                start.push(succ.len() as u32);
            }
            let g = Graph { start, succ };
            let h = refine(&g, init.clone(), ninit);
            let m = moore(&g, &init);
            assert!(same_partition(&h, &m), "init {init:?} succ {:?}\nhopcroft {h:?}\nmoore {m:?}", g.succ);
        }
    }
}
