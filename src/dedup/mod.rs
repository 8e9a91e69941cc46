//! Merge ([`Btf::append`]) and deduplication ([`Btf::dedup`]), with output
//! byte-identical to libbpf 1.7's `btf__add_btf` and `btf__dedup`.
//!
//! The passes follow libbpf's order:
//!
//! 1. strings: unless the string section is already free of duplicates
//!    ([`Btf::strs_deduped`]), rebuild it in the order strings are first
//!    referenced (types in id order, fields in encoding order);
//! 2. primitive types (INT, FLOAT, FWD, ENUM/ENUM64, with enum forward
//!    declarations resolved to full enums);
//! 3. structs, unions and typedefs: type-graph equivalence with a
//!    hypothetical map, FWD ↔ STRUCT/UNION resolution along the way;
//! 4. remaining FWDs resolved to the only struct/union of their name;
//! 5. reference types (PTR, modifiers, FUNC, TYPE_TAG, DECL_TAG, ARRAY,
//!    FUNC_PROTO), children first;
//! 6. compaction (canonical types keep their relative order) and
//!    remapping of every type reference.
//!
//! Candidates for a type are found through a hash of its "shape"; when more
//! than one candidate would match, libbpf takes the first one in its hash
//! map's chain, so the private `table` module reproduces that order exactly.
//!
//! Nothing here recurses on input-controlled depth: graph comparison and the
//! reference pass use explicit stacks; the "identical types" fallback
//! recurses at most 16 levels, as in libbpf.

mod append;
mod copies;
mod table;

pub use append::{MergeStats, Merger, merge_all};
pub use copies::dedup_fed;

use std::sync::Arc;

use crate::btf::{Btf, Kind, MAX_TYPE_ID, StrOff, StringTable, Type, TypeId, TypeKind};
use crate::error::{Error, Result};
use table::{CandTable, KeyMap};

/// Options of [`Btf::dedup`]: `DedupOptions::default()` (libbpf 1.7.0's
/// behaviour) and the `with_*` methods.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DedupOptions {
    /// Put every candidate in one hash chain (libbpf's `force_collisions`,
    /// a testing aid): slower, same result.
    pub force_collisions: bool,
    /// Hash base typedefs the way the struct pass hashes split typedefs, so
    /// split typedefs can dedup against base ones. libbpf 1.7.0 hashes base
    /// typedefs like other reference types, so they never match; later
    /// libbpf (commit 5b0f3729) fixes that. Off: same output as 1.7.0.
    pub base_typedef_fix: bool,
}

impl DedupOptions {
    /// libbpf 1.7.0's dedup (the default).
    pub fn new() -> DedupOptions {
        DedupOptions::default()
    }

    /// Sets [`DedupOptions::force_collisions`].
    pub fn with_force_collisions(mut self, on: bool) -> DedupOptions {
        self.force_collisions = on;
        self
    }

    /// Sets [`DedupOptions::base_typedef_fix`].
    pub fn with_base_typedef_fix(mut self, on: bool) -> DedupOptions {
        self.base_typedef_fix = on;
        self
    }
}

/// What [`Btf::dedup`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DedupStats {
    /// This BTF's own types before dedup.
    pub types_in: usize,
    /// This BTF's own types after dedup.
    pub types_out: usize,
    /// Size of this BTF's own string section before dedup, in bytes.
    pub str_bytes_in: usize,
    /// Size of this BTF's own string section after dedup, in bytes.
    pub str_bytes_out: usize,
}

const UNPROCESSED: u32 = u32::MAX;
const IN_PROGRESS: u32 = u32::MAX - 1;

/// Asks the CPU to start loading `s[i]` into the cache (nothing when `i` is
/// out of range, or on other architectures): the dedup's walks and the
/// merge's string lookups are bound by the latency of loads spread over
/// large arrays.
#[inline(always)]
pub(crate) fn prefetch<T>(s: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = s.get(i) {
        // SAFETY: a prefetch is only a hint: it reads nothing architecturally
        // and cannot fault (and the pointer comes from a live reference).
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((x as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (s, i);
}

#[inline]
fn is_mapped_val(v: u32) -> bool {
    v <= MAX_TYPE_ID
}

#[inline]
fn hc(h: u64, v: u32) -> u64 {
    h.wrapping_mul(31).wrapping_add(v as u64)
}

// ---- type views (None is VOID, id 0) ----

#[inline]
fn kind_no(t: Option<&Type>) -> u8 {
    t.map_or(0, |t| t.kind() as u8)
}
#[inline]
fn name_of(t: Option<&Type>) -> u32 {
    t.map_or(0, |t| t.name_off.get())
}
#[inline]
fn info_of(t: Option<&Type>) -> u32 {
    t.map_or(0, info)
}

/// `Type::info` in one match (hot in every comparison).
#[inline]
fn info(t: &Type) -> u32 {
    let (k, vlen, kflag): (u32, usize, bool) = match &t.kind {
        TypeKind::Int(_) => (1, 0, false),
        TypeKind::Ptr(_) => (2, 0, false),
        TypeKind::Array(_) => (3, 0, false),
        TypeKind::Struct(c) => (4, c.members.len(), c.kflag),
        TypeKind::Union(c) => (5, c.members.len(), c.kflag),
        TypeKind::Enum(e) => (6, e.values.len(), e.signed),
        TypeKind::Fwd { union } => (7, 0, *union),
        TypeKind::Typedef(_) => (8, 0, false),
        TypeKind::Volatile(_) => (9, 0, false),
        TypeKind::Const(_) => (10, 0, false),
        TypeKind::Restrict(_) => (11, 0, false),
        TypeKind::Func { linkage, .. } => (12, *linkage as usize, false),
        TypeKind::FuncProto(p) => (13, p.params.len(), false),
        TypeKind::Var { .. } => (14, 0, false),
        TypeKind::Datasec(d) => (15, d.vars.len(), false),
        TypeKind::Float { .. } => (16, 0, false),
        TypeKind::DeclTag { attr, .. } => (17, 0, *attr),
        TypeKind::TypeTag { attr, .. } => (18, 0, *attr),
        TypeKind::Enum64(e) => (19, e.values.len(), e.signed),
    };
    ((kflag as u32) << 31) | (k << 24) | (vlen as u32 & 0xffff) | t.quirks.as_deref().map_or(0, |q| q.info)
}
#[inline]
fn st_of(t: Option<&Type>) -> u32 {
    t.map_or(0, |t| t.size_or_type())
}

/// The u32 after the common header of INT and DECL_TAG.
fn int_tag_extra(t: &Type) -> u32 {
    match &t.kind {
        TypeKind::Int(_) => t.int_data(),
        TypeKind::DeclTag { component_idx, .. } => *component_idx as u32,
        _ => 0,
    }
}

// ---- signature hashes (over string offsets: strings are deduplicated) ----

fn hash_common(t: &Type) -> u64 {
    hc(hc(hc(0, t.name_off.get()), info(t)), t.size_or_type())
}
fn hash_typedef(t: &Type) -> u64 {
    hc(hc(0, t.name_off.get()), info(t))
}
fn hash_int_tag(t: &Type) -> u64 {
    hc(hash_common(t), int_tag_extra(t))
}
fn hash_enum(t: &Type) -> u64 {
    // Only the name, so an enum forward declaration meets the full enum.
    hc(0, t.name_off.get())
}
fn hash_struct(t: &Type) -> u64 {
    let mut h = hash_common(t);
    if let Some(c) = t.as_composite() {
        for m in &c.members {
            h = hc(hc(h, m.name_off.get()), m.offset);
        }
    }
    h
}
fn hash_array(t: &Type) -> u64 {
    let mut h = hash_common(t);
    if let TypeKind::Array(a) = &t.kind {
        h = hc(hc(hc(h, a.elem.0), a.index.0), a.nelems);
    }
    h
}
fn hash_fnproto(t: &Type) -> u64 {
    let mut h = hash_common(t);
    if let TypeKind::FuncProto(p) = &t.kind {
        for p in &p.params {
            h = hc(hc(h, p.name_off.get()), p.ty.0);
        }
    }
    h
}

// ---- equality checks ----

#[inline]
fn equal_common(a: Option<&Type>, b: Option<&Type>) -> bool {
    name_of(a) == name_of(b) && info_of(a) == info_of(b) && st_of(a) == st_of(b)
}
fn equal_int_tag(a: &Type, b: &Type) -> bool {
    equal_common(Some(a), Some(b)) && int_tag_extra(a) == int_tag_extra(b)
}
fn equal_typedef(a: &Type, b: &Type) -> bool {
    a.name_off == b.name_off && info(a) == info(b)
}
fn equal_enum(a: &Type, b: &Type) -> bool {
    if !equal_common(Some(a), Some(b)) {
        return false;
    }
    match (&a.kind, &b.kind) {
        (TypeKind::Enum(x), TypeKind::Enum(y)) => x.values == y.values,
        (TypeKind::Enum64(x), TypeKind::Enum64(y)) => x.values == y.values,
        _ => false,
    }
}
/// Marks a content hash that several canonical enums have.
const AMBIGUOUS: u32 = u32::MAX;

/// A hash of everything [`equal_enum`] compares.
fn enum_content_hash(t: &Type) -> u64 {
    let mut h = hash_common(t);
    match &t.kind {
        TypeKind::Enum(e) => {
            for v in &e.values {
                h = hc(hc(h, v.name_off.get()), v.val);
            }
        }
        TypeKind::Enum64(e) => {
            for v in &e.values {
                h = hc(hc(hc(h, v.name_off.get()), v.val as u32), (v.val >> 32) as u32);
            }
        }
        _ => {}
    }
    h
}

fn is_any_enum(t: &Type) -> bool {
    matches!(t.kind, TypeKind::Enum(_) | TypeKind::Enum64(_))
}
fn is_enum_fwd(t: &Type) -> bool {
    is_any_enum(t) && t.vlen() == 0
}
fn compat_enum(a: &Type, b: &Type) -> bool {
    if !is_enum_fwd(a) && !is_enum_fwd(b) {
        return equal_enum(a, b);
    }
    // A forward declaration: size, kind (ENUM vs ENUM64) and values are not compared.
    a.name_off == b.name_off && is_any_enum(a) && is_any_enum(b)
}
fn shallow_equal_struct(a: &Type, b: &Type) -> bool {
    if !equal_common(Some(a), Some(b)) {
        return false;
    }
    match (a.as_composite(), b.as_composite()) {
        (Some(x), Some(y)) => {
            x.members.iter().zip(&y.members).all(|(m, n)| m.name_off == n.name_off && m.offset == n.offset)
        }
        _ => false,
    }
}
fn equal_array(a: &Type, b: &Type) -> bool {
    equal_common(Some(a), Some(b)) && matches!((&a.kind, &b.kind), (TypeKind::Array(x), TypeKind::Array(y)) if x == y)
}
fn compat_array(a: &Type, b: &Type) -> bool {
    equal_common(Some(a), Some(b))
        && matches!((&a.kind, &b.kind), (TypeKind::Array(x), TypeKind::Array(y)) if x.nelems == y.nelems)
}
fn equal_fnproto(a: &Type, b: &Type) -> bool {
    equal_common(Some(a), Some(b))
        && matches!((&a.kind, &b.kind), (TypeKind::FuncProto(x), TypeKind::FuncProto(y)) if x.params == y.params)
}
fn compat_fnproto(a: &Type, b: &Type) -> bool {
    // The return type is not compared.
    a.name_off == b.name_off
        && info(a) == info(b)
        && matches!((&a.kind, &b.kind), (TypeKind::FuncProto(x), TypeKind::FuncProto(y))
            if x.params.iter().zip(&y.params).all(|(p, q)| p.name_off == q.name_off))
}
fn fwd_kind(t: &Type) -> u8 {
    if t.kflag() { Kind::Union as u8 } else { Kind::Struct as u8 }
}

/// Kinds handled by the reference pass.
fn is_ref_kind(t: &Type) -> bool {
    matches!(
        t.kind,
        TypeKind::Ptr(_)
            | TypeKind::Const(_)
            | TypeKind::Volatile(_)
            | TypeKind::Restrict(_)
            | TypeKind::Func { .. }
            | TypeKind::TypeTag { .. }
            | TypeKind::DeclTag { .. }
            | TypeKind::Array(_)
            | TypeKind::FuncProto(_)
    )
}

/// The `k`-th referenced id of a reference type, in libbpf's order.
fn ref_slot(t: &Type, k: usize) -> Option<u32> {
    match &t.kind {
        TypeKind::Ptr(x) | TypeKind::Const(x) | TypeKind::Volatile(x) | TypeKind::Restrict(x) => {
            (k == 0).then_some(x.0)
        }
        TypeKind::Func { proto, .. } => (k == 0).then_some(proto.0),
        TypeKind::TypeTag { ty, .. } | TypeKind::DeclTag { ty, .. } => (k == 0).then_some(ty.0),
        TypeKind::Array(a) => match k {
            0 => Some(a.elem.0),
            1 => Some(a.index.0),
            _ => None,
        },
        TypeKind::FuncProto(p) => {
            if k == 0 {
                Some(p.ret.0)
            } else {
                p.params.get(k - 1).map(|p| p.ty.0)
            }
        }
        _ => None,
    }
}

/// VAR and DATASEC: never deduplicated, each its own canonical type.
fn is_var_or_datasec(t: &Type) -> bool {
    matches!(t.kind, TypeKind::Var { .. } | TypeKind::Datasec(_))
}

fn set_ref_slot(t: &mut Type, k: usize, v: u32) {
    match &mut t.kind {
        TypeKind::Ptr(x) | TypeKind::Const(x) | TypeKind::Volatile(x) | TypeKind::Restrict(x) => x.0 = v,
        TypeKind::Func { proto, .. } => proto.0 = v,
        TypeKind::TypeTag { ty, .. } | TypeKind::DeclTag { ty, .. } => ty.0 = v,
        TypeKind::Array(a) => {
            if k == 0 {
                a.elem.0 = v
            } else {
                a.index.0 = v
            }
        }
        TypeKind::FuncProto(p) => {
            if k == 0 {
                p.ret.0 = v
            } else if let Some(p) = p.params.get_mut(k - 1) {
                p.ty.0 = v
            }
        }
        _ => {}
    }
}

struct Dedup<'a> {
    /// Base types by id (index 0 is VOID); empty without a base.
    base: Vec<Option<&'a Type>>,
    own: Vec<Type>,
    start: u32,
    /// Canonical map (libbpf `d->map`), over base and own ids.
    map: Vec<u32>,
    /// Hypothetical map of the current equivalence check; later the
    /// compaction map.
    hypot: Vec<u32>,
    hypot_list: Vec<u32>,
    hypot_adjust_canon: bool,
    table: CandTable,
    /// The prim pass's index of the canonical full enums by content (see
    /// [`Dedup::prim_enum_fast`]), and the table keys under which an enum
    /// forward declaration was made canonical.
    enums: KeyMap<u64, u32>,
    enum_fwd_keys: std::collections::HashSet<u64, std::hash::BuildHasherDefault<table::KeyHasher>>,
    /// Scratch buffers.
    cands: Vec<u32>,
    stack: Vec<(u32, u32)>,
    frames: Vec<(u32, usize)>,
    /// Set while a copy plan's first copy of a member is processed.
    watch: Option<Watch>,
    /// That first copy's types (ids from `win_first`), made from its
    /// original for the pass at hand: a copy plan's first copies are not
    /// kept in `own`.
    win: Vec<Type>,
    win_first: u32,
    /// Set when a type that is neither in `own` nor in `win` was asked
    /// for (the segment's checks then fail).
    stray: std::cell::Cell<bool>,
    /// Set while the passes run member by member (see [`Stream`]).
    stream: Option<StreamState>,
}

/// What the struct pass keeps apart while it runs member by member.
struct StreamState {
    /// The struct pass's candidates (structs, unions, typedefs), which the
    /// whole merge's pass appends after every prim pass entry: their
    /// relative order in libbpf's map then depends on how often it grew,
    /// which a streamed pass does not know yet; see [`Dedup::struct_type`].
    structs: CandTable,
    /// Those entries in order, appended to the prim table at the end.
    log: Vec<(u64, u32)>,
    /// Enum forward declarations (ENUM or ENUM64 without values), by id: a
    /// bit set; and the blocks of 256 ids that hold one (a bit set small
    /// enough to stay in the closest cache: most ids are in no such block).
    efwd: Vec<u64>,
    efwd_blocks: Vec<u64>,
    /// Those whose map entry the struct pass read (a bit set): when a later
    /// member's full enum re-points one (see [`Dedup::prim_type`]), the
    /// whole merge's struct pass would have read the new entry.
    read: Vec<u64>,
    /// The streamed passes could decide otherwise than the whole merge's.
    broken: bool,
}

impl StreamState {
    /// Whether `id` is an enum forward declaration.
    #[inline]
    fn is_efwd(&self, id: u32) -> bool {
        bit(&self.efwd_blocks, id >> 8) && bit(&self.efwd, id)
    }

    fn set_efwd(&mut self, id: u32) {
        set_bit(&mut self.efwd, id);
        set_bit(&mut self.efwd_blocks, id >> 8);
    }
}

fn bit(set: &[u64], i: u32) -> bool {
    set.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

fn set_bit(set: &mut Vec<u64>, i: u32) {
    let k = i as usize / 64;
    if set.len() <= k {
        set.resize(k + 1, 0);
    }
    set[k] |= 1 << (i % 64);
}

/// What processing one watched segment (the first copy of a member that
/// later copies repeat, see `copies`) changed below the segment: the old
/// map value of every id it wrote there.
#[derive(Default)]
struct Watch {
    seg_start: u32,
    old: KeyMap<u32, u32>,
    table_len: usize,
}

impl<'a> Dedup<'a> {
    /// A dedup of `own` (ids from `start`, after `base`) with `map` (its
    /// length: every id the passes see), before any pass.
    fn new(base: Vec<Option<&'a Type>>, own: Vec<Type>, start: u32, map: Vec<u32>, force_collisions: bool) -> Self {
        let total = map.len();
        Dedup {
            base,
            own,
            start,
            map,
            hypot: vec![UNPROCESSED; total],
            hypot_list: Vec::new(),
            hypot_adjust_canon: false,
            table: CandTable::new(force_collisions),
            enums: KeyMap::default(),
            enum_fwd_keys: Default::default(),
            cands: Vec::new(),
            stack: Vec::new(),
            frames: Vec::new(),
            watch: None,
            win: Vec::new(),
            win_first: 0,
            stray: std::cell::Cell::new(false),
            stream: None,
        }
    }

    #[inline]
    fn t(&self, id: u32) -> Option<&Type> {
        if id >= self.start {
            match self.own.get((id - self.start) as usize) {
                Some(t) => Some(t),
                None => self.win_t(id),
            }
        } else {
            self.base.get(id as usize).copied().flatten()
        }
    }

    #[cold]
    fn win_t(&self, id: u32) -> Option<&Type> {
        let t = id.checked_sub(self.win_first).and_then(|i| self.win.get(i as usize));
        if t.is_none() && (id as usize) < self.map.len() {
            self.stray.set(true);
        }
        t
    }

    /// An own type (or one of the window) to rewrite in the reference pass.
    #[inline]
    fn own_mut(&mut self, id: u32) -> Option<&mut Type> {
        let i = id.checked_sub(self.start)? as usize;
        if i < self.own.len() {
            return self.own.get_mut(i);
        }
        let w = id.checked_sub(self.win_first)? as usize;
        let t = self.win.get_mut(w);
        if t.is_none() {
            self.stray.set(true);
        }
        t
    }

    #[inline]
    fn is_mapped(&self, id: u32) -> bool {
        self.map.get(id as usize).is_some_and(|&v| is_mapped_val(v))
    }

    /// Follows the canonical map to its end (libbpf `resolve_type_id`).
    fn resolve(&self, mut id: u32) -> u32 {
        // A cycle cannot arise from the passes; the bound only guards
        // against looping forever should one appear.
        let mut steps = self.map.len();
        while let Some(&m) = self.map.get(id as usize) {
            if !is_mapped_val(m) || m == id || steps == 0 {
                break;
            }
            id = m;
            steps -= 1;
        }
        id
    }

    /// A FWD's resolved struct/union, if it has one (libbpf `resolve_fwd_id`).
    fn resolve_fwd(&self, id: u32) -> u32 {
        if kind_no(self.t(id)) != Kind::Fwd as u8 {
            return id;
        }
        let r = self.resolve(id);
        if kind_no(self.t(r)) != Kind::Fwd as u8 { r } else { id }
    }

    /// `map[id] = v`, remembering the old value when a watched segment
    /// writes below itself.
    #[inline]
    fn set_map(&mut self, id: u32, v: u32) {
        if let Some(w) = &mut self.watch
            && id < w.seg_start
        {
            let old = self.map[id as usize];
            w.old.entry(id).or_insert(old);
        }
        self.map[id as usize] = v;
    }

    fn begin_segment(&mut self, seg_start: u32) {
        self.watch = Some(Watch { seg_start, old: KeyMap::default(), table_len: self.table.len() });
    }

    /// Ends a watched segment: true when it left every id below it resolving
    /// as before (and mapped as before) and added no canonical type.
    fn end_segment(&mut self) -> bool {
        let Some(w) = self.watch.take() else { return true };
        if self.table.len() != w.table_len || self.stray.get() {
            return false;
        }
        let old_resolve = |mut id: u32| {
            let mut steps = self.map.len();
            loop {
                let m = w.old.get(&id).copied().unwrap_or(self.map[id as usize]);
                if !is_mapped_val(m) || m == id || steps == 0 {
                    return id;
                }
                id = m;
                steps -= 1;
            }
        };
        w.old.iter().all(|(&id, &old)| is_mapped_val(old) && old_resolve(id) == self.resolve(id))
    }

    fn candidates(&mut self, h: u64) -> Vec<u32> {
        let mut c = std::mem::take(&mut self.cands);
        self.table.candidates(h, &mut c);
        c
    }

    fn prep(&mut self, opts: &DedupOptions) {
        for id in 1..self.start {
            self.map[id as usize] = id;
            let Some(t) = self.t(id) else { continue };
            let h = match &t.kind {
                TypeKind::Var { .. } | TypeKind::Datasec(_) => continue,
                TypeKind::Typedef(_) if opts.base_typedef_fix => hash_typedef(t),
                TypeKind::Const(_)
                | TypeKind::Volatile(_)
                | TypeKind::Restrict(_)
                | TypeKind::Ptr(_)
                | TypeKind::Fwd { .. }
                | TypeKind::Typedef(_)
                | TypeKind::Func { .. }
                | TypeKind::Float { .. }
                | TypeKind::TypeTag { .. } => hash_common(t),
                TypeKind::Int(_) | TypeKind::DeclTag { .. } => hash_int_tag(t),
                TypeKind::Enum(_) | TypeKind::Enum64(_) => hash_enum(t),
                TypeKind::Struct(_) | TypeKind::Union(_) => hash_struct(t),
                TypeKind::Array(_) => hash_array(t),
                TypeKind::FuncProto(_) => hash_fnproto(t),
            };
            self.table.append(h, id);
        }
    }

    fn prim_type(&mut self, id: u32) {
        let Some(t) = self.t(id) else { return };
        let kind = t.kind();
        let h = match kind {
            Kind::Int => hash_int_tag(t),
            Kind::Enum | Kind::Enum64 => hash_enum(t),
            Kind::Fwd | Kind::Float => hash_common(t),
            _ => return,
        };
        let t_fwd = is_enum_fwd(t);
        if matches!(kind, Kind::Enum | Kind::Enum64)
            && !t_fwd
            && let Some(new_id) = self.prim_enum_fast(id, h)
        {
            self.map[id as usize] = new_id;
            if new_id == id {
                self.add_enum(id, h);
            }
            return;
        }
        let cands = self.candidates(h);
        let mut new_id = id;
        for &c in &cands {
            let (Some(t), Some(ct)) = (self.t(id), self.t(c)) else { continue };
            match kind {
                Kind::Int => {
                    if equal_int_tag(t, ct) {
                        new_id = c;
                        break;
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    if equal_enum(t, ct) {
                        new_id = c;
                        break;
                    }
                    if compat_enum(t, ct) {
                        if t_fwd {
                            // A forward declaration resolves to the full enum.
                            new_id = c;
                            break;
                        }
                        // A canonical forward declaration now points to us
                        // (and keeps being re-pointed by later full enums).
                        self.set_map(c, id);
                        // Streamed, a struct pass may have read where it
                        // pointed.
                        if self.stream.as_ref().is_some_and(|st| bit(&st.read, c)) {
                            self.break_stream();
                        }
                    }
                }
                _ => {
                    if equal_common(Some(t), Some(ct)) {
                        new_id = c;
                        break;
                    }
                }
            }
        }
        self.cands = cands;
        self.map[id as usize] = new_id;
        if new_id == id {
            match kind {
                Kind::Enum | Kind::Enum64 => self.add_enum(id, h),
                _ => self.table.append(h, id),
            }
        }
    }

    /// The prim pass's answer for the full enum `id` (table key `h`) without
    /// walking its candidates, when that answer is certain; `None`: walk
    /// them. Enums are hashed by name only, so every anonymous enum meets
    /// every canonical anonymous one. Without a base and without a
    /// canonical enum forward declaration under `h`, the walk re-points
    /// nothing and stops at the one candidate equal to `id`: there is at
    /// most one, since a full enum becomes canonical only when none was
    /// equal. That candidate is found by content.
    fn prim_enum_fast(&self, id: u32, h: u64) -> Option<u32> {
        if self.start != 1 || self.table.forced() || self.enum_fwd_keys.contains(&h) {
            return None;
        }
        let t = self.t(id)?;
        match self.enums.get(&enum_content_hash(t)) {
            None => Some(id),
            Some(&AMBIGUOUS) => None,
            Some(&c) => self.t(c).is_some_and(|ct| equal_enum(t, ct)).then_some(c),
        }
    }

    /// Appends the enum `id`, now canonical, to the table (and indexes it
    /// for [`Dedup::prim_enum_fast`]).
    fn add_enum(&mut self, id: u32, h: u64) {
        self.table.append(h, id);
        let Some(t) = self.t(id) else { return };
        if is_enum_fwd(t) {
            self.enum_fwd_keys.insert(h);
            return;
        }
        let ch = enum_content_hash(t);
        self.enums.entry(ch).and_modify(|c| *c = AMBIGUOUS).or_insert(id);
    }

    fn clear_hypot(&mut self) {
        for &x in &self.hypot_list {
            self.hypot[x as usize] = UNPROCESSED;
        }
        self.hypot_list.clear();
        self.hypot_adjust_canon = false;
    }

    /// libbpf `btf_dedup_identical_types`, including its ARRAY quirk: it
    /// reads both array descriptors from the first type, so element and
    /// index types are never compared.
    fn identical(&self, id1: u32, id2: u32, depth: i32) -> bool {
        self.identical_memo(id1, id2, depth, &mut std::collections::HashMap::new())
    }

    /// [`Dedup::identical`] with its struct/prototype results memoized per
    /// `(id1, id2, depth)`: the result only depends on those (the types
    /// do not change during the walk), and without the memo a DAG of
    /// structs whose members share types takes time exponential in
    /// `depth` (16): members^16 comparisons.
    fn identical_memo(
        &self,
        mut id1: u32,
        mut id2: u32,
        depth: i32,
        memo: &mut std::collections::HashMap<(u32, u32, i32), bool>,
    ) -> bool {
        let mut steps = self.map.len();
        loop {
            if depth <= 0 {
                return false;
            }
            let (t1, t2) = (self.t(id1), self.t(id2));
            let (k1, k2) = (kind_no(t1), kind_no(t2));
            if k1 != k2 {
                return false;
            }
            let (Some(a), Some(b)) = (t1, t2) else {
                return true; // both VOID
            };
            match (&a.kind, &b.kind) {
                (TypeKind::Int(_), _) => return equal_int_tag(a, b),
                (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => return compat_enum(a, b),
                (TypeKind::Fwd { .. } | TypeKind::Float { .. }, _) => return equal_common(t1, t2),
                (
                    TypeKind::Const(_)
                    | TypeKind::Volatile(_)
                    | TypeKind::Restrict(_)
                    | TypeKind::Ptr(_)
                    | TypeKind::Typedef(_)
                    | TypeKind::Func { .. }
                    | TypeKind::TypeTag { .. },
                    _,
                ) => {
                    if info(a) != info(b) || a.name_off != b.name_off {
                        return false;
                    }
                    id1 = a.size_or_type();
                    id2 = b.size_or_type();
                    // libbpf would loop forever on a pointer cycle.
                    if steps == 0 {
                        return false;
                    }
                    steps -= 1;
                }
                (TypeKind::Array(_), _) => return compat_array(a, b),
                (TypeKind::Struct(x) | TypeKind::Union(x), TypeKind::Struct(y) | TypeKind::Union(y)) => {
                    if !shallow_equal_struct(a, b) {
                        return false;
                    }
                    if let Some(&r) = memo.get(&(id1, id2, depth)) {
                        return r;
                    }
                    let r = x
                        .members
                        .iter()
                        .zip(&y.members)
                        .all(|(m, n)| m.ty == n.ty || self.identical_memo(m.ty.0, n.ty.0, depth - 1, memo));
                    memo.insert((id1, id2, depth), r);
                    return r;
                }
                (TypeKind::FuncProto(x), TypeKind::FuncProto(y)) => {
                    if !compat_fnproto(a, b) {
                        return false;
                    }
                    if let Some(&r) = memo.get(&(id1, id2, depth)) {
                        return r;
                    }
                    let r = (x.ret == y.ret || self.identical_memo(x.ret.0, y.ret.0, depth - 1, memo))
                        && x.params
                            .iter()
                            .zip(&y.params)
                            .all(|(p, q)| p.ty == q.ty || self.identical_memo(p.ty.0, q.ty.0, depth - 1, memo));
                    memo.insert((id1, id2, depth), r);
                    return r;
                }
                _ => return false,
            }
        }
    }

    /// Type-graph equivalence of `cand` (a new type) and `canon` (a
    /// candidate canonical type), libbpf `btf_dedup_is_equiv`. Depth-first,
    /// pre-order, stopping at the first mismatch, like libbpf's recursion.
    fn is_equiv(&mut self, cand: u32, canon: u32) -> Result<bool> {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push((cand, canon));
        let mut res = Ok(true);
        while let Some((a, b)) = stack.pop() {
            match self.equiv_step(a, b, &mut stack) {
                Ok(true) => {}
                other => {
                    res = other;
                    break;
                }
            }
        }
        self.stack = stack;
        res
    }

    /// One pair of the equivalence walk: Ok(false) on a mismatch, else
    /// Ok(true) with the pairs still to compare pushed (last pushed = next).
    fn equiv_step(&mut self, cand_id: u32, canon_id: u32, stack: &mut Vec<(u32, u32)>) -> Result<bool> {
        if self.stream.as_ref().is_some_and(|st| st.is_efwd(cand_id) || st.is_efwd(canon_id)) {
            self.note_read(cand_id);
            self.note_read(canon_id);
        }
        if self.resolve(cand_id) == self.resolve(canon_id) {
            return Ok(true);
        }
        let canon_id = self.resolve_fwd(canon_id);
        let Some(&hyp) = self.hypot.get(canon_id as usize) else {
            return Err(Error::Dedup { id: TypeId(canon_id), why: "type id out of range".into() });
        };
        if is_mapped_val(hyp) {
            if hyp == cand_id {
                return Ok(true);
            }
            // The compiler sometimes emits duplicate but identical types
            // inside one unit; accept them by structural comparison.
            return Ok(self.identical(hyp, cand_id, 16));
        }
        self.hypot[canon_id as usize] = cand_id;
        self.hypot_list.push(canon_id);

        let (ct, nt) = (self.t(cand_id), self.t(canon_id));
        if name_of(ct) != name_of(nt) {
            return Ok(false);
        }
        let (ck, nk) = (kind_no(ct), kind_no(nt));
        let fwd = Kind::Fwd as u8;
        if (ck == fwd || nk == fwd) && ck != nk {
            let (real, fk) = match (ct, nt) {
                (Some(c), _) if ck == fwd => (nk, fwd_kind(c)),
                (_, Some(n)) => {
                    let fk = fwd_kind(n);
                    if fk == ck && canon_id < self.start {
                        // Would need to resolve a base FWD: base is immutable.
                        self.hypot_adjust_canon = true;
                    }
                    (ck, fk)
                }
                _ => return Ok(false),
            };
            return Ok(fk == real);
        }
        if ck != nk {
            return Ok(false);
        }
        let (Some(c), Some(n)) = (ct, nt) else {
            return Err(Error::Dedup { id: TypeId(cand_id), why: "VOID met in the equivalence check".into() });
        };
        Ok(match (&c.kind, &n.kind) {
            (TypeKind::Int(_), _) => equal_int_tag(c, n),
            (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => compat_enum(c, n),
            (TypeKind::Fwd { .. } | TypeKind::Float { .. }, _) => equal_common(ct, nt),
            (
                TypeKind::Const(_)
                | TypeKind::Volatile(_)
                | TypeKind::Restrict(_)
                | TypeKind::Ptr(_)
                | TypeKind::Typedef(_)
                | TypeKind::Func { .. }
                | TypeKind::TypeTag { .. },
                _,
            ) => {
                if info(c) != info(n) {
                    return Ok(false);
                }
                stack.push((c.size_or_type(), n.size_or_type()));
                true
            }
            (TypeKind::Array(x), TypeKind::Array(y)) => {
                if !compat_array(c, n) {
                    return Ok(false);
                }
                // index type first, then element type
                stack.push((x.elem.0, y.elem.0));
                stack.push((x.index.0, y.index.0));
                true
            }
            (TypeKind::Struct(x) | TypeKind::Union(x), TypeKind::Struct(y) | TypeKind::Union(y)) => {
                if !shallow_equal_struct(c, n) {
                    return Ok(false);
                }
                // Members in reverse so the first is compared first (a plain
                // loop: the iterator-adaptor form is not inlined here).
                let (xm, ym): (&[crate::btf::Member], &[crate::btf::Member]) = (&x.members, &y.members);
                let n = xm.len().min(ym.len());
                stack.reserve(n);
                for i in (0..n).rev() {
                    let (x, y) = (xm[i].ty.0, ym[i].ty.0);
                    stack.push((x, y));
                    // Start the loads the pair's step begins with: both map
                    // entries (the candidate's own is in its unit, close by;
                    // where it points, and the canonical side's, are spread
                    // over the merge) and the candidate's type.
                    prefetch(&self.map, y as usize);
                    if let Some(&m) = self.map.get(x as usize)
                        && is_mapped_val(m)
                    {
                        prefetch(&self.map, m as usize);
                    }
                    if let Some(k) = x.checked_sub(self.start) {
                        prefetch(&self.own, k as usize);
                    }
                    if let Some(k) = y.checked_sub(self.start) {
                        prefetch(&self.own, k as usize);
                    }
                }
                true
            }
            (TypeKind::FuncProto(x), TypeKind::FuncProto(y)) => {
                if !compat_fnproto(c, n) {
                    return Ok(false);
                }
                stack.extend(x.params.iter().zip(&y.params).rev().map(|(p, q)| (p.ty.0, q.ty.0)));
                stack.push((x.ret.0, y.ret.0));
                true
            }
            _ => {
                return Err(Error::Dedup {
                    id: TypeId(cand_id),
                    why: format!("cannot compare a {} inside a type graph", c.kind().name()),
                });
            }
        })
    }

    /// Streamed: when `id` is an enum forward declaration, records every
    /// one its resolution passes (see [`StreamState::read`]). Only those
    /// resolve through one: other kinds never map to one.
    #[inline(never)]
    fn note_read(&mut self, id: u32) {
        let Some(st) = &mut self.stream else { return };
        if !st.is_efwd(id) {
            return;
        }
        let mut x = id;
        let mut steps = self.map.len();
        loop {
            if st.is_efwd(x) {
                set_bit(&mut st.read, x);
            }
            match self.map.get(x as usize) {
                Some(&m) if is_mapped_val(m) && m != x && steps > 0 => {
                    x = m;
                    steps -= 1;
                }
                _ => break,
            }
        }
    }

    /// Marks the streamed passes as not deciding as the whole merge's.
    fn break_stream(&mut self) {
        if let Some(st) = &mut self.stream {
            st.broken = true;
        }
    }

    /// Records what a successful equivalence check established (libbpf
    /// `btf_dedup_merge_hypot_map`).
    fn merge_hypot(&mut self) {
        let fwd = Kind::Fwd as u8;
        for i in 0..self.hypot_list.len() {
            let canon = self.hypot_list[i];
            let targ = self.hypot[canon as usize];
            let t_id = self.resolve(targ);
            let c_id = self.resolve(canon);
            let tk = kind_no(self.t(t_id));
            let ck = kind_no(self.t(c_id));
            if tk != fwd && ck == fwd {
                self.set_map(c_id, t_id);
            }
            if self.hypot_adjust_canon {
                continue;
            }
            if tk == fwd && ck != fwd {
                self.set_map(t_id, c_id);
            }
            if (tk == Kind::Struct as u8 || tk == Kind::Union as u8)
                && ck != fwd
                && self.is_mapped(c_id)
                && !self.is_mapped(t_id)
            {
                self.set_map(t_id, c_id);
            }
        }
    }

    /// Whether `is_equiv` of the unmapped struct/union `x` and its
    /// shallow-equal candidate `c` certainly returns false at the first pair
    /// it examines after the root that does not resolve alike, with nothing
    /// left behind but hypothetical-map entries (cleared before the next
    /// check). This mirrors the leaf outcomes of [`Dedup::equiv_step`] and
    /// answers false (run the check) for everything else. Many anonymous
    /// structs and unions share a shape (same member names and offsets), so
    /// their candidate chains are long and most checks end right there.
    fn fails_at_first_difference(&self, x: &Type, c: &Type) -> bool {
        let (Some(xc), Some(cc)) = (x.as_composite(), c.as_composite()) else { return false };
        // Member pairs whose types already resolve alike pass without a
        // trace; the first other pair is examined next.
        let mut efwd = false;
        let Some((a, b)) = xc
            .members
            .iter()
            .zip(&cc.members)
            .map(|(m, n)| (m.ty.0, n.ty.0))
            .inspect(|&(a, b)| {
                if let Some(st) = &self.stream {
                    efwd |= st.is_efwd(a) || st.is_efwd(b);
                }
            })
            .find(|&(a, b)| self.resolve(a) != self.resolve(b))
        else {
            return false;
        };
        // Streamed, leave to the check (which records what it reads) a
        // decision that rests on where an enum forward declaration points.
        if efwd {
            return false;
        }
        let canon = self.resolve_fwd(b);
        // The root step recorded the candidate itself in the hypothetical
        // map: a first member of that type takes another path.
        match self.hypot.get(canon as usize) {
            Some(&h) if !is_mapped_val(h) => {}
            _ => return false,
        }
        if self.t(canon).is_some_and(|t| std::ptr::eq(t, c)) {
            return false;
        }
        let (ct, nt) = (self.t(a), self.t(canon));
        if name_of(ct) != name_of(nt) {
            return true;
        }
        let (ck, nk) = (kind_no(ct), kind_no(nt));
        let fwd = Kind::Fwd as u8;
        if ck == fwd || nk == fwd {
            return false;
        }
        if ck != nk {
            return true;
        }
        let (Some(p), Some(q)) = (ct, nt) else { return false };
        match (&p.kind, &q.kind) {
            (TypeKind::Int(_), _) => !equal_int_tag(p, q),
            (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => !compat_enum(p, q),
            (TypeKind::Float { .. }, _) => !equal_common(ct, nt),
            (TypeKind::Struct(_) | TypeKind::Union(_), _) => !shallow_equal_struct(p, q),
            _ => false,
        }
    }

    fn struct_type(&mut self, id: u32) -> Result<()> {
        if self.is_mapped(id) {
            return Ok(());
        }
        let Some(t) = self.t(id) else { return Ok(()) };
        let is_typedef = match t.kind {
            TypeKind::Struct(_) | TypeKind::Union(_) => false,
            TypeKind::Typedef(_) => true,
            _ => return Ok(()),
        };
        let h = if is_typedef { hash_typedef(t) } else { hash_struct(t) };
        let cands = match &self.stream {
            None => self.candidates(h),
            Some(st) => {
                let mut c = std::mem::take(&mut self.cands);
                st.structs.candidates(h, &mut c);
                if c.len() > 1 {
                    return self.struct_type_unordered(id, h, is_typedef, c);
                }
                c
            }
        };
        let mut new_id = id;
        let mut res = Ok(());
        for &c in &cands {
            if !self.worth_checking(id, c, is_typedef) {
                continue;
            }
            self.clear_hypot();
            match self.is_equiv(id, c) {
                Err(e) => {
                    res = Err(e);
                    break;
                }
                Ok(false) => continue,
                Ok(true) => {}
            }
            self.merge_hypot();
            if self.hypot_adjust_canon {
                continue; // not really equivalent
            }
            new_id = c;
            break;
        }
        self.cands = cands;
        res?;
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_struct(h, id);
        }
        Ok(())
    }

    /// Whether the struct pass's candidate `c` for `id` needs the
    /// equivalence check: shallow-equal (which also guards against a FWD
    /// with a colliding hash) and not certain to fail at its first
    /// difference.
    fn worth_checking(&self, id: u32, c: u32, is_typedef: bool) -> bool {
        let (Some(t), Some(ct)) = (self.t(id), self.t(c)) else { return false };
        if is_typedef {
            equal_typedef(t, ct)
        } else {
            shallow_equal_struct(t, ct) && !self.fails_at_first_difference(t, ct)
        }
    }

    /// Appends the struct, union or typedef `id`, now canonical, to the table.
    fn add_struct(&mut self, h: u64, id: u32) {
        match &mut self.stream {
            None => self.table.append(h, id),
            Some(st) => {
                st.structs.append(h, id);
                st.log.push((h, id));
            }
        }
    }

    /// The streamed struct pass for `id` with several candidates `cands`,
    /// whose order may not be the whole merge's (see [`StreamState`]). The
    /// order matters only when more than one candidate passes: the first
    /// that passes wins, and a candidate that fails leaves nothing behind
    /// (no base, so no canonical-side adjustment). So every candidate is
    /// checked; with one that passes, that one is merged as the whole
    /// merge's pass would; with several, or with an error, the stream is
    /// marked broken (the whole merge is deduplicated instead).
    fn struct_type_unordered(&mut self, id: u32, h: u64, is_typedef: bool, cands: Vec<u32>) -> Result<()> {
        let mut found = None;
        let mut broken = false;
        for &c in &cands {
            if !self.worth_checking(id, c, is_typedef) {
                continue;
            }
            self.clear_hypot();
            match self.is_equiv(id, c) {
                Ok(false) => {}
                Ok(true) if found.is_none() => found = Some(c),
                Ok(true) | Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        self.cands = cands;
        if broken {
            self.break_stream();
            return Ok(());
        }
        match found {
            Some(c) => {
                self.clear_hypot();
                if !matches!(self.is_equiv(id, c), Ok(true)) {
                    self.break_stream();
                    return Ok(());
                }
                self.merge_hypot();
                self.map[id as usize] = c;
            }
            None => {
                self.map[id as usize] = id;
                self.add_struct(h, id);
            }
        }
        Ok(())
    }

    fn resolve_fwds(&mut self) {
        let mut names: KeyMap<u32, u32> = KeyMap::default();
        let end = self.start + self.own.len() as u32;
        for id in 1..end {
            let Some(t) = self.t(id) else { continue };
            if !matches!(t.kind, TypeKind::Struct(_) | TypeKind::Union(_)) || self.map[id as usize] != id {
                continue;
            }
            // 0 marks a name shared by several canonical structs/unions.
            names.entry(t.name_off.get()).and_modify(|v| *v = 0).or_insert(id);
        }
        for id in self.start..end {
            let Some(t) = self.t(id) else { continue };
            let TypeKind::Fwd { union } = t.kind else { continue };
            if self.map[id as usize] != id {
                continue;
            }
            let Some(&c) = names.get(&t.name_off.get()) else { continue };
            if c == 0 {
                continue;
            }
            let ck = kind_no(self.t(c));
            if (ck == Kind::Struct as u8 && union) || (ck == Kind::Union as u8 && !union) {
                continue;
            }
            self.map[id as usize] = c;
        }
    }

    fn loop_error(&self, id: u32) -> Error {
        Error::DedupLoop { id: TypeId(id), path: format!("[{id}]") }
    }

    /// Dedups a reference type after its referenced types (libbpf
    /// `btf_dedup_ref_type`, with an explicit stack). Returns its canonical id.
    fn ref_type(&mut self, root: u32) -> Result<u32> {
        match self.map.get(root as usize) {
            None => return Err(Error::Dedup { id: TypeId(root), why: "type id out of range".into() }),
            Some(&IN_PROGRESS) => return Err(self.loop_error(root)),
            Some(&m) if is_mapped_val(m) => return Ok(self.resolve(root)),
            _ => {}
        }
        let mut frames = std::mem::take(&mut self.frames);
        frames.clear();
        frames.push((root, 0));
        self.map[root as usize] = IN_PROGRESS;
        let r = self.ref_walk(root, &mut frames);
        self.frames = frames;
        r
    }

    /// The walk of [`Dedup::ref_type`] from `root` (in progress, in `frames`).
    fn ref_walk(&mut self, root: u32, frames: &mut Vec<(u32, usize)>) -> Result<u32> {
        loop {
            let Some(&(id, k)) = frames.last() else {
                return Err(Error::Dedup { id: TypeId(root), why: "empty reference stack".into() });
            };
            let Some(t) = (if id >= self.start { self.t(id) } else { None }) else {
                return Err(Error::Dedup { id: TypeId(id), why: "type id out of range".into() });
            };
            if !is_ref_kind(t) {
                return Err(Error::Dedup {
                    id: TypeId(id),
                    why: format!("unexpected {} in a reference chain", t.kind().name()),
                });
            }
            if let Some(child) = ref_slot(t, k) {
                match self.map.get(child as usize) {
                    None => return Err(Error::Dedup { id: TypeId(child), why: "type id out of range".into() }),
                    Some(&IN_PROGRESS) => return Err(self.loop_error(child)),
                    Some(&m) if is_mapped_val(m) => {
                        let r = self.resolve(child);
                        if let Some(t) = self.own_mut(id) {
                            set_ref_slot(t, k, r);
                        }
                        if let Some(f) = frames.last_mut() {
                            f.1 += 1;
                        }
                    }
                    _ => {
                        self.set_map(child, IN_PROGRESS);
                        frames.push((child, 0));
                    }
                }
                continue;
            }
            let new_id = self.finish_ref(id);
            frames.pop();
            match frames.last_mut() {
                Some(f) => {
                    if let Some(t) = self.own_mut(f.0) {
                        set_ref_slot(t, f.1, new_id);
                    }
                    f.1 += 1;
                }
                None => return Ok(new_id),
            }
        }
    }

    /// Hashes a reference type whose references are canonical and looks
    /// for an equal canonical type.
    fn finish_ref(&mut self, id: u32) -> u32 {
        // `ref_type` found this type (in `own` or the window) before.
        let Some(t) = self.t(id) else { return id };
        type Eq = fn(&Type, &Type) -> bool;
        let (h, eq): (u64, Eq) = match &t.kind {
            TypeKind::DeclTag { .. } => (hash_int_tag(t), equal_int_tag),
            TypeKind::Array(_) => (hash_array(t), equal_array),
            TypeKind::FuncProto(_) => (hash_fnproto(t), equal_fnproto),
            _ => (hash_common(t), |a, b| equal_common(Some(a), Some(b))),
        };
        let cands = self.candidates(h);
        let mut new_id = id;
        let Some(t) = self.t(id) else { return id };
        for &c in &cands {
            if self.t(c).is_some_and(|ct| eq(t, ct)) {
                new_id = c;
                break;
            }
        }
        self.cands = cands;
        self.set_map(id, new_id);
        if new_id == id {
            self.table.append(h, id);
        }
        new_id
    }

    /// Drops non-canonical types and rewrites every reference (libbpf's
    /// compaction and remap passes). Checks everything before moving.
    fn compact_and_remap(&mut self) -> Result<Vec<Type>> {
        let total = self.map.len();
        let start = self.start;
        let mut newid = std::mem::take(&mut self.hypot);
        newid.clear();
        newid.resize(total, UNPROCESSED);
        for (id, v) in newid.iter_mut().enumerate().take(start as usize) {
            *v = id as u32;
        }
        let mut next = start;
        for i in 0..self.own.len() {
            let id = start + i as u32;
            if self.map[id as usize] == id {
                newid[id as usize] = next;
                next += 1;
            }
        }
        let lookup = |d: &Dedup, r: u32| -> Option<u32> {
            newid.get(d.resolve(r) as usize).copied().filter(|&n| is_mapped_val(n))
        };
        for (i, t) in self.own.iter().enumerate() {
            let id = start + i as u32;
            if self.map[id as usize] != id {
                continue;
            }
            let mut bad = None;
            t.for_each_ref(|r| {
                if lookup(self, r.0).is_none() {
                    bad.get_or_insert(r.0);
                }
            });
            if let Some(r) = bad {
                return Err(Error::Dedup { id: TypeId(r), why: "no canonical type after dedup".into() });
            }
        }
        let mut own = std::mem::take(&mut self.own);
        let mut out = Vec::with_capacity((next - start) as usize);
        for (i, slot) in own.iter_mut().enumerate() {
            let id = start + i as u32;
            if self.map[id as usize] != id {
                continue;
            }
            let mut t = std::mem::replace(slot, Type::new(StrOff::EMPTY, TypeKind::Ptr(crate::btf::TypeId(0))));
            t.for_each_ref_mut(|r| {
                if let Some(n) = lookup(self, r.0) {
                    r.0 = n;
                }
            });
            // libbpf remaps a FWD's size/type word like a type id (reading out of
            // bounds when it is not one; we leave such a word as it is).
            if let Some(w) = t.fwd_word_mut()
                && (*w as usize) < total
                && let Some(n) = lookup(self, *w)
            {
                *w = n;
            }
            out.push(t);
        }
        // The dropped types (most of a merged input, each with its member
        // array) are freed on another thread, while the caller goes on.
        rayon::spawn(move || drop(own));
        // Old id -> new id, for a copy plan's layout.
        self.hypot = newid;
        Ok(out)
    }
}

/// Old string offset -> new offset, for the string pass.
enum StrRemap {
    /// Indexed by the offset relative to this BTF's section (`NONE` where
    /// no string starts or none is referenced): a lookup is one array read.
    Dense(Vec<u32>),
    Sparse(KeyMap<u32, u32>),
}

const NONE: u32 = u32::MAX;
const DENSE_STR_LIMIT: usize = 64 << 20;

impl StrRemap {
    #[inline]
    fn get(&self, rel: u32) -> Option<u32> {
        match self {
            StrRemap::Dense(v) => v.get(rel as usize).copied().filter(|&n| n != NONE),
            StrRemap::Sparse(m) => m.get(&rel).copied(),
        }
    }
    #[inline]
    fn insert(&mut self, rel: u32, n: u32) {
        match self {
            StrRemap::Dense(v) => {
                if let Some(x) = v.get_mut(rel as usize) {
                    *x = n;
                }
            }
            StrRemap::Sparse(m) => {
                m.insert(rel, n);
            }
        }
    }
}

/// The new string section in first-reference order and how to rewrite the
/// offsets (the read-only half of the string pass, so it can run alongside
/// `precheck`).
struct StrPlan {
    out: Vec<u8>,
    remap: StrRemap,
}

fn plan_strings(btf: &Btf) -> Result<Option<StrPlan>> {
    if btf.strs_deduped() {
        return Ok(None);
    }
    let start = btf.start_str_off();
    let base = btf.base();
    let old = btf.strings().as_bytes();
    // The new section, and an index over it that borrows the old section's
    // bytes (no per-string allocation). As libbpf: "" first unless split.
    let mut out: Vec<u8> = Vec::with_capacity(old.len());
    let mut index: table::BytesMap<'_, u32> = table::BytesMap::default();
    if base.is_none() {
        out.push(0);
        index.insert(b"", 0);
    }
    // Dense while it costs at most 8 bytes per type (a merged archive: its
    // string section is small next to its types), else a hash map.
    let mut remap = if old.len() <= DENSE_STR_LIMIT && old.len() <= 2 * btf.types().len() {
        StrRemap::Dense(vec![NONE; old.len()])
    } else {
        StrRemap::Sparse(KeyMap::default())
    };
    let first_id = btf.start_id().0;
    let mut err = None;
    for (i, t) in btf.types().iter().enumerate() {
        t.for_each_str(|off, _| {
            let off = off.get();
            if err.is_some() || off == 0 || off < start {
                return;
            }
            let rel = off - start;
            if remap.get(rel).is_some() {
                return;
            }
            let Some(s) = btf.strings().get(StrOff(rel)) else {
                err = Some(Error::BadStringOffset {
                    id: TypeId(first_id + i as u32),
                    what: "string",
                    str_off: StrOff(off),
                });
                return;
            };
            let n = match base.and_then(|b| b.find_str(s)) {
                Some(o) => o.get(),
                None => {
                    let r = *index.entry(s).or_insert_with(|| {
                        let o = out.len() as u32;
                        out.extend_from_slice(s);
                        out.push(0);
                        o
                    });
                    // No larger than the old section, which was valid.
                    r + start
                }
            };
            remap.insert(rel, n);
        });
        if let Some(e) = err {
            return Err(e);
        }
    }
    Ok(Some(StrPlan { out, remap }))
}

/// Rebuilds the string section in first-reference order (libbpf
/// `btf_dedup_strings`). Strings of the base are referenced there. The
/// rewrite of the offsets runs in parallel: each type's new offsets only
/// depend on the plan.
fn apply_strings(btf: &mut Btf, plan: StrPlan) {
    use rayon::prelude::*;
    let start = btf.start_str_off();
    let remap = &plan.remap;
    btf.types_mut().par_iter_mut().with_min_len(4096).for_each(|t| {
        t.for_each_str_mut(|off| {
            if !off.is_empty()
                && off.get() >= start
                && let Some(n) = remap.get(off.get() - start)
            {
                *off = StrOff(n);
            }
        })
    });
    *btf.strings_mut() = StringTable::from_bytes(plan.out);
    btf.set_strs_deduped(true);
}

/// The prim and struct passes of a merge's dedup, run member by member as
/// the members are merged (`copies` runs them on a thread of their own,
/// which the merge moves each member's merged types to), while the merge
/// goes on with the next members. Only for a merge without a base and
/// without forced collisions; [`Btf::dedup_inner`] then skips those two
/// passes over the merged types.
///
/// The whole merge's passes run the prim pass over every type, then the
/// struct pass over every type. Streamed, member `k`'s struct pass runs
/// before the prim pass of the members after it. The two orders decide
/// alike because a prim pass writes only its own types' map entries, with
/// one exception, and reads nothing the struct pass writes:
///
/// - a full enum re-points a canonical enum forward declaration; when a
///   struct pass already read where it pointed (only resolving an enum
///   forward declaration does: [`StreamState::read`]), the stream is
///   marked broken;
/// - the struct pass's candidates are kept in a table of their own (the
///   prim entries under a struct key never pass its equality checks), and
///   where their order could matter, every candidate is checked (see
///   [`Dedup::struct_type_unordered`]). Before the next pass they are
///   appended to the prim table in order, which is then the whole merge's
///   table.
///
/// A broken stream, or an error in a streamed pass, makes the dedup run
/// every pass over the merged types instead: the streamed passes do not
/// modify the types. `tests/dedup_copies.rs`
/// (`enum_rivals_streamed_along_the_merge`) fails when either check above
/// is left out.
pub(crate) struct Stream {
    d: Dedup<'static>,
}

impl Stream {
    /// A stream for a merge without a base (`None` with forced collisions).
    pub(crate) fn new(opts: &DedupOptions) -> Option<Stream> {
        if opts.force_collisions {
            return None;
        }
        let mut d = Dedup::new(Vec::new(), Vec::new(), 1, vec![0], false);
        d.stream = Some(StreamState {
            structs: CandTable::new(false),
            log: Vec::new(),
            efwd: Vec::new(),
            efwd_blocks: Vec::new(),
            read: Vec::new(),
            broken: false,
        });
        Some(Stream { d })
    }

    /// Whether the streamed passes still decide as the whole merge's.
    pub(crate) fn ok(&self) -> bool {
        self.d.stream.as_ref().is_some_and(|st| !st.broken)
    }

    /// Appends the next merged member's types (own ids, no base).
    pub(crate) fn add(&mut self, types: Vec<Type>) {
        if self.d.own.is_empty() {
            self.d.own = types;
        } else {
            self.d.own.extend(types);
        }
    }

    /// The own types given to [`Stream::add`] so far.
    pub(crate) fn types(&self) -> &[Type] {
        &self.d.own
    }

    /// Every own type given to [`Stream::add`], in order.
    pub(crate) fn take_types(&mut self) -> Vec<Type> {
        std::mem::take(&mut self.d.own)
    }

    /// The prim and struct passes over the member whose own type indices
    /// are `range`: the one after those passed before, its types added.
    pub(crate) fn pass(&mut self, range: std::ops::Range<usize>) {
        if !self.ok() {
            return;
        }
        let d = &mut self.d;
        if range.start + 1 != d.map.len() || range.end > d.own.len() {
            d.break_stream();
            return;
        }
        let total = 1 + range.end;
        d.map.resize(total, UNPROCESSED);
        d.hypot.resize(total, UNPROCESSED);
        for i in range.clone() {
            let Some(t) = d.own.get(i) else { continue };
            if is_var_or_datasec(t) {
                d.map[1 + i] = 1 + i as u32;
            }
            if is_enum_fwd(t)
                && let Some(st) = &mut d.stream
            {
                st.set_efwd(1 + i as u32);
            }
        }
        let (lo, hi) = (1 + range.start as u32, 1 + range.end as u32);
        for id in lo..hi {
            d.prim_type(id);
        }
        if self.ok() {
            for id in lo..hi {
                if self.d.struct_type(id).is_err() {
                    self.d.break_stream();
                    break;
                }
            }
        }
    }

    /// This stream, when it holds and its passes went over `n` own types
    /// (the types given back with [`Stream::take_types`]).
    fn ready(self, n: usize) -> Option<Stream> {
        (self.ok() && self.d.map.len() == 1 + n && self.d.own.is_empty()).then_some(self)
    }
}

/// Checks, before anything is modified, what would make the passes fail:
/// string offsets and type ids out of range, and cycles of reference types (which libbpf
/// reports as -ELOOP from its reference pass).
fn precheck(btf: &Btf, members: Option<&[std::ops::Range<usize>]>, appended: bool) -> Result<()> {
    use rayon::prelude::*;
    // Types a `Merger` appended had their ids and string offsets checked
    // there (an out-of-range one fails the append).
    // Cycles among reference-kind types only (the crate's one cycle finder),
    // alongside the per-type checks (whose errors come first): member by
    // member in parallel when the types are merged members (no reference
    // leaves a member, so the first member with a cycle has the one a walk
    // of the whole BTF finds first).
    let (types_ok, cycle) = rayon::join(
        || if appended { Ok(()) } else { precheck_types(btf) },
        || match members {
            Some(ms) => {
                ms.par_iter().find_map_first(|m| crate::validate::find_cycle_in(btf, m.clone(), is_ref_kind, ref_slot))
            }
            None => crate::validate::find_cycle(btf, is_ref_kind, ref_slot),
        },
    );
    types_ok?;
    match cycle {
        Some(cycle) => {
            Err(Error::DedupLoop { id: TypeId(cycle[cycle.len() - 1]), path: crate::validate::cycle_path(btf, &cycle) })
        }
        None => Ok(()),
    }
}

/// Type ids and string offsets in range, type by type.
fn precheck_types(btf: &Btf) -> Result<()> {
    let start = btf.start_id().0;
    let count = btf.type_count();
    let own = btf.types();
    let str_start = btf.start_str_off();
    let str_len = btf.strings().len();
    for (i, t) in own.iter().enumerate() {
        let mut bad = None;
        t.for_each_ref(|r| {
            if r.0 >= count {
                bad.get_or_insert(r);
            }
        });
        if let Some(r) = bad {
            return Err(Error::BadTypeId { id: TypeId(start + i as u32), target: r, max: count - 1 });
        }
        let mut bad_str = None;
        t.for_each_str(|off, what| {
            // A string table always ends with a NUL, so an offset inside our
            // own section names a string; base offsets are looked up.
            let ok = if off.get() >= str_start {
                ((off.get() - str_start) as usize) < str_len
            } else {
                btf.str_bytes(off).is_some()
            };
            if bad_str.is_none() && !ok {
                bad_str = Some(Error::BadStringOffset { id: TypeId(start + i as u32), what, str_off: off });
            }
        });
        if let Some(e) = bad_str {
            return Err(e);
        }
    }
    Ok(())
}

/// Deduplicates each BTF on its own ([`Btf::dedup`] with `opts`), in
/// parallel: e.g. the children of a base+children archive, each split BTF
/// against the shared base (what `btfkit dedup --split` does). The results
/// keep the input order; when some fail, one of their errors is returned.
pub fn dedup_each(btfs: Vec<Btf>, opts: &DedupOptions) -> Result<Vec<(Btf, DedupStats)>> {
    use rayon::prelude::*;
    btfs.into_par_iter().map(|mut b| b.dedup(opts).map(|s| (b, s))).collect()
}

impl Btf {
    /// Deduplicates this BTF's own types and strings in place, exactly as
    /// libbpf 1.7's `btf__dedup` (see the module documentation). A split
    /// BTF is deduplicated against its base, which stays unchanged.
    ///
    /// Errors (a reference loop, an out-of-range type id) are detected
    /// before anything is modified, except for a struct graph that reaches a
    /// type of a kind that cannot appear there (VAR, DATASEC, DECL_TAG as a
    /// member type, ...): libbpf fails on that mid-way; this BTF is then
    /// still valid and describes the same types, but its strings may have
    /// been compacted and some references replaced by equivalent ones.
    pub fn dedup(&mut self, opts: &DedupOptions) -> Result<DedupStats> {
        self.dedup_inner(opts, None, None, false, None)?.map(|(s, _)| s).ok_or_else(copies::no_plan)
    }

    /// Only the dedup's string pass: rebuilds the string section in
    /// first-reference order, dropping strings no type uses (e.g. after
    /// [`Btf::remove_types`]); strings the base holds are referenced there.
    /// The types are not touched otherwise.
    pub fn compact_strings(&mut self) -> Result<()> {
        self.set_strs_deduped(false);
        if let Some(plan) = plan_strings(self)? {
            apply_strings(self, plan);
        }
        Ok(())
    }

    /// The dedup; with a copy plan (`copies`), of the merge with later
    /// copies left out, giving the result of the whole merge. `Ok(None)`:
    /// the first copies did not leave everything as it was, so the plan
    /// cannot stand for the whole merge (this BTF is then unusable).
    /// `members`: the merged members' own type indices; `appended`: every
    /// own type was appended by a `Merger` (or copied from one it appended).
    pub(crate) fn dedup_inner(
        &mut self,
        opts: &DedupOptions,
        plan: Option<&copies::CopyPlan>,
        members: Option<&[std::ops::Range<usize>]>,
        appended: bool,
        streamed: Option<Stream>,
    ) -> Result<Option<(DedupStats, bool)>> {
        let mut stats =
            DedupStats { types_in: self.types().len(), str_bytes_in: self.strings().len(), ..Default::default() };
        // Both only read: the checks run alongside the string plan.
        let (checked, strs) = rayon::join(|| precheck(self, members, appended), || plan_strings(self));
        checked?;
        // The passes streamed along the merge, when they passed every own
        // type (of `P`, with a plan) with the strings as they stay.
        let mut streamed = streamed.and_then(|s| s.ready(self.types().len()));
        if let Some(strs) = strs? {
            streamed = None;
            apply_strings(self, strs);
        }
        if self.base().is_some() || opts.force_collisions {
            streamed = None;
        }

        let base_arc: Option<Arc<Btf>> = self.base().cloned();
        let start = self.start_id().0;
        let base: Vec<Option<&Type>> = match &base_arc {
            Some(b) => (0..start).map(|id| b.type_by_id(crate::btf::TypeId(id))).collect(),
            None => Vec::new(),
        };
        let own = std::mem::take(self.types_mut());
        // A copy plan's first copies get ids after `own` (see `copies`).
        let q1_len: usize = plan.map_or(0, |p| p.q1.iter().map(|&(_, n)| n as usize).sum());
        let total = start as usize + own.len() + q1_len;
        let mut map = vec![UNPROCESSED; total];
        map[0] = 0;
        for (i, t) in own.iter().enumerate() {
            if is_var_or_datasec(t) {
                map[start as usize + i] = start + i as u32;
            }
        }
        // The id ranges each pass walks in order; `Some(k)`: the first copy
        // `plan.q1[k]`, watched.
        let mut segs: Vec<(u32, u32, Option<usize>)> = Vec::new();
        match plan {
            None => segs.push((start, total as u32, None)),
            Some(p) => {
                segs.push((start, p.q_start, None));
                let mut a = p.q_start;
                for (k, &(orig, n)) in p.q1.iter().enumerate() {
                    for i in 0..n {
                        if own.get((orig - start + i) as usize).is_some_and(is_var_or_datasec) {
                            map[(a + i) as usize] = a + i;
                        }
                    }
                    segs.push((a, a + n, Some(k)));
                    a += n;
                }
            }
        }
        let streamed_p = streamed.is_some();
        // The struct pass's table entries of a stream, appended after the
        // prim pass.
        let mut struct_log: Option<Vec<(u64, u32)>> = None;
        let mut d = match streamed {
            None => Dedup::new(base, own, start, map, opts.force_collisions),
            Some(s) => {
                let mut d = s.d;
                struct_log = d.stream.take().map(|st| st.log);
                // The stream's map covers the own types; the first copies'
                // entries are set as above.
                let mut map = map;
                if let Some(done) = map.get_mut(..d.map.len()) {
                    done.copy_from_slice(&d.map);
                }
                d.map = map;
                d.hypot.resize(total, UNPROCESSED);
                d.own = own;
                d
            }
        };
        // The original reference slots of the first copies' originals,
        // saved before the reference pass rewrites them.
        let mut saved: Option<Vec<Vec<u32>>> = None;
        let result = (|| -> Result<Option<Vec<Type>>> {
            if base_arc.is_some() {
                d.prep(opts);
            }
            for pass in 0..3 {
                if pass == 1
                    && let Some(log) = struct_log.take()
                {
                    for (h, id) in log {
                        d.table.append(h, id);
                    }
                }
                if pass == 2 {
                    d.resolve_fwds();
                    if let Some(p) = plan {
                        saved = Some(copies::save_ref_slots(&d, p));
                    }
                }
                for &(a, b, k) in &segs {
                    if pass < 2 && k.is_none() && streamed_p {
                        continue; // done along the merge
                    }
                    if let (Some(k), Some(p)) = (k, plan) {
                        copies::load_window(&mut d, p, k, a, saved.as_ref());
                        d.begin_segment(a);
                    }
                    for id in a..b {
                        match pass {
                            0 => d.prim_type(id),
                            1 => d.struct_type(id)?,
                            _ => {
                                d.ref_type(id)?;
                            }
                        }
                    }
                    if k.is_some() && !d.end_segment() {
                        return Ok(None);
                    }
                }
            }
            d.win = Vec::new();
            match plan {
                None => d.compact_and_remap().map(Some),
                Some(p) => copies::compact_planned(&mut d, p),
            }
        })();
        match result {
            Ok(Some(types)) => {
                *self.types_mut() = types;
            }
            Ok(None) => return Ok(None),
            Err(e) => {
                *self.types_mut() = std::mem::take(&mut d.own);
                return Err(e);
            }
        }
        stats.types_out = self.types().len();
        stats.str_bytes_out = self.strings().len();
        Ok(Some((stats, streamed_p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::TypeId;

    #[test]
    fn fast_info_equals_type_info() {
        let mut b = Btf::new();
        let i = b.add_int("int", 4, 1).unwrap();
        b.add_ptr(i).unwrap();
        b.add_array(i, i, 3).unwrap();
        b.add_struct("s", 8).unwrap();
        b.add_field("a", i, 0, 3).unwrap();
        b.add_union("u", 4).unwrap();
        b.add_field("a", i, 0, 0).unwrap();
        b.add_enum("e", 4).unwrap();
        b.add_enum_value("A", -1).unwrap();
        b.add_fwd("f", true).unwrap();
        b.add_fwd("g", false).unwrap();
        b.add_typedef("t", i).unwrap();
        b.add_volatile(i).unwrap();
        b.add_const(i).unwrap();
        b.add_restrict(i).unwrap();
        let p = b.add_func_proto(i).unwrap();
        b.add_param("x", i).unwrap();
        b.add_func("fn", 2, p).unwrap();
        let v = b.add_var("v", 1, i).unwrap();
        b.add_datasec(".data", 4).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
        b.add_float("float", 4).unwrap();
        b.add_decl_tag("tag", TypeId(4), 0).unwrap();
        b.add_type_tag("user", i).unwrap();
        b.add_enum64("e64", 8, true).unwrap();
        b.add_enum64_value("B", 1 << 40).unwrap();
        let mut kinds = std::collections::BTreeSet::new();
        for t in b.types() {
            assert_eq!(info(t), t.info(), "{t:?}");
            kinds.insert(t.kind());
        }
        assert_eq!(kinds.len(), 19);
    }
}
