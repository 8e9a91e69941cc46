//! The reference pass of a merge's dedup on several threads.
//!
//! libbpf's reference pass visits the ids in order and, depth first,
//! finishes a reference type after the unfinished reference types it points
//! to: it hashes the type with its references replaced by their canonical
//! ids and takes the first equal canonical type of the table, or becomes
//! canonical itself. Equality is exact here (every field, references
//! resolved), and a type becomes canonical only when no equal type was, so
//! each class of equal types has one canonical type: the member the walk
//! finishes first. The table's order never matters.
//!
//! Without a base, a merge's members do not point into each other, and
//! every type but the reference types is mapped before this pass. So the
//! walk finishes the members one after the other, each in its own
//! depth-first order. This pass computes each member's order and classes in
//! parallel: a type's class is found from its fields and its references
//! (canonical ids for the mapped types they point to, classes for the
//! member's own reference types) in a map shared by all threads; each class
//! keeps its first type by (member, position). Then every reference type is
//! mapped to its class's first type, as the walk maps it.
//!
//! Whatever the walk would stop at (a reference loop, an unmapped type of
//! another kind, a reference out of the member) makes this pass give up
//! before it changes anything; the walk then runs and reports it.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::table::BytesHasher;
use super::{info, is_mapped_val, is_ref_kind};
use crate::btf::{Type, TypeKind};

/// Shards of the class map (threads rarely meet on one).
const SHARDS: usize = 64;

/// A class's key uses this bit for a reference to another class (by its
/// representative) rather than to a canonical type id (at most
/// `MAX_TYPE_ID`).
const CLASS: u32 = 0x8000_0000;

/// A class of equal reference types.
struct Class {
    /// The type that made the class (what keys of types referring to a
    /// member of this class hold).
    rep: u32,
    /// Its first type in the walk's order: (member, position) and id.
    first: (u32, u32),
    first_id: u32,
}

type ClassMap = HashMap<Box<[u32]>, u32, BuildHasherDefault<BytesHasher>>;

#[derive(Default)]
struct Shard {
    index: ClassMap,
    classes: Vec<Class>,
}

/// Where one type's class is: (shard, index in the shard).
type Placed = (u32, (u16, u32));

/// The key of reference type `t`: every field the dedup's equality compares,
/// its references given by `sub`. `None` for other kinds.
fn ref_key(t: &Type, sub: &impl Fn(u32) -> u32, key: &mut Vec<u32>) -> Option<()> {
    key.clear();
    key.push(t.name_off.get());
    key.push(info(t));
    match &t.kind {
        TypeKind::Ptr(x) | TypeKind::Const(x) | TypeKind::Volatile(x) | TypeKind::Restrict(x) => key.push(sub(x.0)),
        TypeKind::Func { proto, .. } => key.push(sub(proto.0)),
        TypeKind::TypeTag { ty, .. } => key.push(sub(ty.0)),
        TypeKind::DeclTag { ty, component_idx, .. } => {
            key.push(sub(ty.0));
            key.push(*component_idx as u32);
        }
        TypeKind::Array(a) => {
            key.push(t.size_or_type());
            key.push(sub(a.elem.0));
            key.push(sub(a.index.0));
            key.push(a.nelems);
        }
        TypeKind::FuncProto(p) => {
            key.push(sub(p.ret.0));
            for q in &p.params {
                key.push(q.name_off.get());
                key.push(sub(q.ty.0));
            }
        }
        _ => return None,
    }
    Some(())
}

/// Follows `map` to its end, as `Dedup::resolve`.
fn resolve(map: &[u32], mut id: u32) -> u32 {
    let mut steps = map.len();
    while let Some(&m) = map.get(id as usize) {
        if !is_mapped_val(m) || m == id || steps == 0 {
            break;
        }
        id = m;
        steps -= 1;
    }
    id
}

/// Runs the reference pass over `own` (ids from 1, no base) whose members
/// are the consecutive id ranges `units`, writing `map`. Returns false,
/// having changed nothing, when the sequential walk must run instead.
pub(super) fn run(own: &[Type], map: &mut [u32], units: &[Range<u32>]) -> bool {
    let shards: Vec<Mutex<Shard>> = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
    let frozen: &[u32] = map;
    let placed: Option<Vec<Vec<Placed>>> =
        units.par_iter().enumerate().map(|(u, r)| unit(own, frozen, u as u32, r.clone(), &shards)).collect();
    let Some(placed) = placed else { return false };
    let shards: Vec<Shard> = shards.into_iter().map(|s| s.into_inner().unwrap_or_else(|p| p.into_inner())).collect();
    for (id, (s, i)) in placed.into_iter().flatten() {
        let Some(c) = shards.get(s as usize).and_then(|s| s.classes.get(i as usize)) else { return false };
        map[id as usize] = c.first_id;
    }
    true
}

/// One member: its unmapped reference types in the walk's order, each
/// placed in its class. `None`: give up (see the module documentation).
fn unit(own: &[Type], map: &[u32], u: u32, ids: Range<u32>, shards: &[Mutex<Shard>]) -> Option<Vec<Placed>> {
    const TODO: u32 = u32::MAX;
    const BUSY: u32 = u32::MAX - 1;
    let t = |id: u32| id.checked_sub(1).and_then(|i| own.get(i as usize));
    let len = ids.len();
    // Per type of the member: TODO, BUSY (on the walk's stack) or its
    // class's representative.
    let mut rep = vec![TODO; len];
    let local = |id: u32| id.checked_sub(ids.start).map(|i| i as usize).filter(|&i| i < len);
    let mut out = Vec::new();
    let mut frames: Vec<(u32, usize)> = Vec::new();
    let mut key = Vec::new();
    let mut pos = 0u32;
    for root in ids.clone() {
        if map.get(root as usize).is_some_and(|&m| is_mapped_val(m)) || rep[local(root)?] != TODO {
            continue;
        }
        if !is_ref_kind(t(root)?) {
            return None;
        }
        rep[local(root)?] = BUSY;
        frames.push((root, 0));
        while let Some(&(id, k)) = frames.last() {
            let ty = t(id)?;
            if let Some(child) = super::ref_slot(ty, k) {
                if let Some(f) = frames.last_mut() {
                    f.1 += 1;
                }
                if map.get(child as usize).is_some_and(|&m| is_mapped_val(m)) {
                    continue;
                }
                let c = local(child)?;
                match rep[c] {
                    TODO => {
                        if !is_ref_kind(t(child)?) {
                            return None;
                        }
                        rep[c] = BUSY;
                        frames.push((child, 0));
                    }
                    BUSY => return None,
                    _ => {}
                }
                continue;
            }
            // Finished: its references are mapped types or classes.
            let bad = std::cell::Cell::new(false);
            let sub = |x: u32| {
                if map.get(x as usize).is_some_and(|&m| is_mapped_val(m)) {
                    return resolve(map, x);
                }
                match local(x).map(|i| rep[i]) {
                    Some(r) if r != TODO && r != BUSY => CLASS | r,
                    _ => {
                        bad.set(true);
                        0
                    }
                }
            };
            ref_key(ty, &sub, &mut key)?;
            if bad.get() {
                return None;
            }
            let (s, i, r) = place(shards, &key, id, (u, pos))?;
            rep[local(id)?] = r;
            out.push((id, (s, i)));
            pos += 1;
            frames.pop();
        }
    }
    Some(out)
}

/// Finds or makes the class of `key` for type `id` at `at`; returns its
/// shard, index and representative.
fn place(shards: &[Mutex<Shard>], key: &[u32], id: u32, at: (u32, u32)) -> Option<(u16, u32, u32)> {
    use std::hash::BuildHasher;
    // Bits the shards' own tables use neither for buckets (the low ones) nor
    // for tags (the top ones).
    let h = BuildHasherDefault::<BytesHasher>::default().hash_one(key);
    let s = (h >> 32) as usize % SHARDS;
    let mut shard = shards.get(s)?.lock().unwrap_or_else(|p| p.into_inner());
    let Shard { index, classes } = &mut *shard;
    let i = match index.get(key) {
        Some(&i) => i,
        None => {
            let i = classes.len() as u32;
            classes.push(Class { rep: id, first: at, first_id: id });
            index.insert(key.into(), i);
            i
        }
    };
    let c = classes.get_mut(i as usize)?;
    if at < c.first {
        c.first = at;
        c.first_id = id;
    }
    Some((s as u16, i, c.rep))
}
