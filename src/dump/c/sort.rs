//! bpftool 7.5+'s sorted order (`sort_btf_c` in bpftool's btf.c): rank,
//! sort name and disambiguation hash of every type, computed with memoized
//! chain walks.

use super::{name_of, ty};
use crate::btf::{Btf, StrOff, Type, TypeId, TypeKind};

const MAX_RANK: i32 = 10;

/// bpftool's `btf_type_rank` (iterative).
pub fn type_rank(btf: &Btf, id: TypeId, mut has_name: bool) -> i32 {
    let mut id = id.0;
    let mut steps = 0u32;
    loop {
        steps += 1;
        if steps > btf.type_count() + 1 {
            return MAX_RANK;
        }
        let Some(t) = ty(btf, id) else { return MAX_RANK };
        if !t.name_off.is_empty() {
            has_name = true;
        }
        match &t.kind {
            TypeKind::Enum(_) | TypeKind::Enum64(_) => return if has_name { 1 } else { 0 },
            TypeKind::Int(_) | TypeKind::Float { .. } => return 2,
            TypeKind::Struct(_) | TypeKind::Union(_) => return if has_name { 3 } else { MAX_RANK },
            TypeKind::FuncProto(_) => return if has_name { 4 } else { MAX_RANK },
            TypeKind::Array(a) => {
                if !has_name {
                    return MAX_RANK;
                }
                id = a.elem.0;
            }
            TypeKind::TypeTag { ty: n, .. }
            | TypeKind::Const(n)
            | TypeKind::Ptr(n)
            | TypeKind::Volatile(n)
            | TypeKind::Restrict(n)
            | TypeKind::Typedef(n)
            | TypeKind::DeclTag { ty: n, .. } => {
                if !has_name {
                    return MAX_RANK;
                }
                id = n.0;
            }
            _ => return MAX_RANK,
        }
    }
}

/// bpftool's `btf_type_sort_name` (iterative).
pub fn sort_name(btf: &Btf, id: TypeId, mut from_ref: bool) -> &[u8] {
    let mut id = id.0;
    let mut steps = 0u32;
    loop {
        steps += 1;
        if steps > btf.type_count() + 1 {
            return b"";
        }
        let Some(t) = ty(btf, id) else { return b"" };
        match &t.kind {
            TypeKind::Enum(e) => {
                let mut off = t.name_off;
                if !from_ref && off.is_empty() && !e.values.is_empty() {
                    off = e.values[0].name_off;
                }
                return name_of(btf, off);
            }
            TypeKind::Enum64(e) => {
                let mut off = t.name_off;
                if !from_ref && off.is_empty() && !e.values.is_empty() {
                    off = e.values[0].name_off;
                }
                return name_of(btf, off);
            }
            TypeKind::Array(a) => {
                id = a.elem.0;
                from_ref = true;
            }
            TypeKind::TypeTag { ty: n, .. }
            | TypeKind::Const(n)
            | TypeKind::Ptr(n)
            | TypeKind::Volatile(n)
            | TypeKind::Restrict(n)
            | TypeKind::Typedef(n)
            | TypeKind::DeclTag { ty: n, .. } => {
                id = n.0;
                from_ref = true;
            }
            _ => return name_of(btf, t.name_off),
        }
    }
}

/// libbpf's `str_hash` (with C's signed `char`).
pub fn str_hash(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as i8 as i64 as u64))
}

fn hasher(h: u64, v: u64) -> u64 {
    h.wrapping_mul(31).wrapping_add(v)
}

fn name_hasher(h: u64, btf: &Btf, off: StrOff) -> u64 {
    if off.is_empty() { h } else { hasher(h, str_hash(name_of(btf, off))) }
}

/// bpftool's `btf_type_disambig_hash`, iterative over modifier chains.
pub fn disambig_hash(btf: &Btf, id: TypeId, include_members: bool) -> u64 {
    // Each chain step contributes `prefix`, then `hasher(prefix, child)`.
    let mut prefixes: Vec<u64> = Vec::new();
    let mut id = id.0;
    let base;
    loop {
        let Some(t) = ty(btf, id) else {
            base = 0;
            break;
        };
        let h = name_hasher(0, btf, t.name_off);
        match &t.kind {
            TypeKind::Enum(e) => {
                base = e.values.iter().fold(h, |h, v| name_hasher(h, btf, v.name_off));
                break;
            }
            TypeKind::Enum64(e) => {
                base = e.values.iter().fold(h, |h, v| name_hasher(h, btf, v.name_off));
                break;
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                base = if include_members {
                    c.members.iter().fold(h, |h, m| {
                        let h = name_hasher(h, btf, m.name_off);
                        hasher(h, disambig_hash(btf, m.ty, false))
                    })
                } else {
                    h
                };
                break;
            }
            TypeKind::TypeTag { ty: n, .. }
            | TypeKind::Const(n)
            | TypeKind::Ptr(n)
            | TypeKind::Volatile(n)
            | TypeKind::Restrict(n)
            | TypeKind::Typedef(n)
            | TypeKind::DeclTag { ty: n, .. } => {
                prefixes.push(h);
                id = n.0;
            }
            TypeKind::Array(a) => {
                prefixes.push(hasher(h, a.nelems as u64));
                id = a.elem.0;
            }
            _ => {
                base = h;
                break;
            }
        }
        if prefixes.len() as u64 > btf.type_count() as u64 + 1 {
            base = 0;
            break;
        }
    }
    prefixes.iter().rev().fold(base, |child, &p| hasher(p, child))
}

/// The next type of a reference chain as the sort keys follow it (array
/// element, modifier/typedef/tag target), or None at a chain's end.
fn chain_next(t: &Type) -> Option<u32> {
    match &t.kind {
        TypeKind::Array(a) => Some(a.elem.0),
        TypeKind::TypeTag { ty: n, .. }
        | TypeKind::Const(n)
        | TypeKind::Ptr(n)
        | TypeKind::Volatile(n)
        | TypeKind::Restrict(n)
        | TypeKind::Typedef(n)
        | TypeKind::DeclTag { ty: n, .. } => Some(n.0),
        _ => None,
    }
}

/// Memoized walk down a reference chain. `step(id)` is `Ok(child)` to go
/// on or `Err(value)` at the chain's end; `combine(id, child_value)` makes
/// `id`'s value. A chain that loops back on itself gets `cyc` where it
/// closes. Each id is computed once, so all chains together take linear
/// time (calling [`type_rank`] and friends per id is quadratic on long
/// chains).
struct ChainMemo<T> {
    memo: Vec<Option<T>>,
    on_path: Vec<bool>,
    path: Vec<u32>,
}

impl<T: Copy> ChainMemo<T> {
    fn new(n: usize) -> Self {
        ChainMemo { memo: vec![None; n], on_path: vec![false; n], path: Vec::new() }
    }

    fn get(
        &mut self,
        id: u32,
        cyc: T,
        mut step: impl FnMut(u32) -> std::result::Result<u32, T>,
        combine: impl Fn(u32, T) -> T,
    ) -> T {
        self.path.clear();
        let mut cur = id;
        let mut v = loop {
            if let Some(Some(v)) = self.memo.get(cur as usize) {
                break *v;
            }
            if self.on_path.get(cur as usize).copied().unwrap_or(false) {
                break cyc;
            }
            match step(cur) {
                Err(v) => {
                    if let Some(slot) = self.memo.get_mut(cur as usize) {
                        *slot = Some(v);
                    }
                    break v;
                }
                Ok(child) => {
                    if let Some(f) = self.on_path.get_mut(cur as usize) {
                        *f = true;
                    }
                    self.path.push(cur);
                    cur = child;
                }
            }
        };
        while let Some(p) = self.path.pop() {
            v = combine(p, v);
            if let Some(f) = self.on_path.get_mut(p as usize) {
                *f = false;
            }
            if let Some(slot) = self.memo.get_mut(p as usize) {
                *slot = Some(v);
            }
        }
        v
    }
}

/// The ids bpftool 7.5+ dumps, in its sorted order. Like bpftool, all ids
/// (void included) are sorted and the first sorted entry is skipped.
///
/// The keys are those of [`type_rank`], [`sort_name`] and
/// [`disambig_hash`], computed with memoized chain walks (linear time).
/// On a reference chain that loops (which bpftool would follow until its
/// stack overflows) the hash of the loop is taken as 0 where it closes.
pub fn sorted_order(btf: &Btf) -> Vec<TypeId> {
    struct Datum<'a> {
        index: u32,
        rank: i32,
        sort_name: &'a [u8],
        own_name: &'a [u8],
        hash: u64,
    }
    let n = btf.type_count();
    // type_rank(id, true) over chains.
    let mut rank_m: ChainMemo<i32> = ChainMemo::new(n as usize);
    let rank_step = |id: u32| -> std::result::Result<u32, i32> {
        let Some(t) = ty(btf, id) else { return Err(MAX_RANK) };
        match &t.kind {
            TypeKind::Enum(_) | TypeKind::Enum64(_) => Err(1),
            TypeKind::Int(_) | TypeKind::Float { .. } => Err(2),
            TypeKind::Struct(_) | TypeKind::Union(_) => Err(3),
            TypeKind::FuncProto(_) => Err(4),
            _ => chain_next(t).ok_or(MAX_RANK),
        }
    };
    // sort_name(id, true) over chains.
    let mut name_m: ChainMemo<&[u8]> = ChainMemo::new(n as usize);
    let name_step = |id: u32| -> std::result::Result<u32, &[u8]> {
        let Some(t) = ty(btf, id) else { return Err(b"") };
        match &t.kind {
            TypeKind::Enum(_) | TypeKind::Enum64(_) => Err(name_of(btf, t.name_off)),
            _ => chain_next(t).ok_or_else(|| name_of(btf, t.name_off)),
        }
    };
    // disambig_hash(id, include_members) over chains.
    let hash_end =
        |id: u32, include_members: bool, members: &mut dyn FnMut(u32) -> u64| -> std::result::Result<u32, u64> {
            let Some(t) = ty(btf, id) else { return Err(0) };
            let h = name_hasher(0, btf, t.name_off);
            match &t.kind {
                TypeKind::Enum(e) => Err(e.values.iter().fold(h, |h, v| name_hasher(h, btf, v.name_off))),
                TypeKind::Enum64(e) => Err(e.values.iter().fold(h, |h, v| name_hasher(h, btf, v.name_off))),
                TypeKind::Struct(c) | TypeKind::Union(c) => Err(if include_members {
                    c.members.iter().fold(h, |h, m| hasher(name_hasher(h, btf, m.name_off), members(m.ty.0)))
                } else {
                    h
                }),
                _ => chain_next(t).ok_or(h),
            }
        };
    let hash_combine = |id: u32, child: u64| -> u64 {
        let Some(t) = ty(btf, id) else { return child };
        let h = name_hasher(0, btf, t.name_off);
        let prefix = match &t.kind {
            TypeKind::Array(a) => hasher(h, a.nelems as u64),
            _ => h,
        };
        hasher(prefix, child)
    };
    let mut hash_m: ChainMemo<u64> = ChainMemo::new(n as usize);
    let mut hash_mm: ChainMemo<u64> = ChainMemo::new(n as usize);
    let mut v: Vec<Datum> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t = ty(btf, i);
        let own = t.map(|t| name_of(btf, t.name_off)).unwrap_or(b"");
        let rank = match t {
            None => MAX_RANK,
            Some(t) if !t.name_off.is_empty() => rank_m.get(i, MAX_RANK, rank_step, |_, r| r),
            Some(t) => match &t.kind {
                TypeKind::Enum(_) | TypeKind::Enum64(_) => 0,
                TypeKind::Int(_) | TypeKind::Float { .. } => 2,
                _ => MAX_RANK,
            },
        };
        let sort_name = match t {
            None => &b""[..],
            Some(t) => match &t.kind {
                TypeKind::Enum(e) if t.name_off.is_empty() && !e.values.is_empty() => {
                    name_of(btf, e.values[0].name_off)
                }
                TypeKind::Enum64(e) if t.name_off.is_empty() && !e.values.is_empty() => {
                    name_of(btf, e.values[0].name_off)
                }
                _ => match chain_next(t) {
                    Some(c) => name_m.get(c, b"", name_step, |_, s| s),
                    None => name_of(btf, t.name_off),
                },
            },
        };
        let hm = &mut hash_m;
        let mut members = |m: u32| hm.get(m, 0, |id| hash_end(id, false, &mut |_| 0), hash_combine);
        let hash = hash_mm.get(i, 0, |id| hash_end(id, true, &mut members), hash_combine);
        v.push(Datum { index: i, rank, sort_name, own_name: own, hash });
    }
    v.sort_by(|a, b| {
        a.rank
            .cmp(&b.rank)
            .then_with(|| a.sort_name.cmp(b.sort_name))
            .then_with(|| a.own_name.cmp(b.own_name))
            .then_with(|| a.hash.cmp(&b.hash))
            .then_with(|| a.index.cmp(&b.index))
    });
    v.iter().skip(1).map(|d| TypeId(d.index)).collect()
}
