//! C header output, byte-identical to Debian's bpftool 7.1 `btf dump file F
//! format c` (libbpf 1.1's `btf_dump.c` as shipped in Linux 6.1; see
//! [`Options`]), plus bpftool 7.5's sorted order as an option (the order
//! only: 7.5's extra `__ksym`/`__weak` prelude and kfunc prototypes are not
//! printed) and bpftool's `root_id` selection.
//!
//! The algorithm follows libbpf's: types are visited in id order (or the
//! given root/sorted order); for each, a topological ordering pass
//! ([`Dumper::order_type`]) queues the named definitions it needs, then each
//! queued type is emitted ([`Dumper::emit_type`]) with forward declarations
//! where a pointer breaks a cycle. Name clashes get `___N` suffixes in the
//! order names are first resolved, in two namespaces (struct/union/enum tags,
//! and typedef/enumerator identifiers).
//!
//! libbpf recurses; so do we, but every recursive step counts against
//! [`MAX_DEPTH`] and the work runs on a thread with a large stack, so deep
//! or cyclic input yields an [`Error`] instead of a crash.

use std::collections::HashMap;
use std::io::Write as _;

use crate::btf::{Btf, Composite, Type, TypeId, TypeKind};
use crate::error::{Error, Result};

/// Deepest recursion accepted (type chains, nested definitions).
pub const MAX_DEPTH: u32 = 10_000;
/// Stack size of the worker thread.
const STACK_SIZE: usize = 256 << 20;

/// What to dump and in which order.
///
/// Output flavour. Debian's bpftool 7.1 (the default) is built from the Linux 6.1 tree, whose libbpf is
/// libbpf 1.1 with its December 2022 padding/packed fixes (stable
/// backports) but without e6e0e3fd (mode(byte)/mode(word) on odd-sized
/// enums), plus the later `(void)` fix for no-args prototypes (205e86de).
/// `upstream_libbpf_1_1` selects plain libbpf v1.1.x instead (mode()
/// attributes, `()` for no-args prototypes), as linked by other tools.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// bpftool 7.5+'s sorted order instead of id order.
    pub sort: bool,
    /// Only these types and what they depend on (bpftool's `root_id`), in
    /// this order. Empty: every type.
    pub roots: Vec<TypeId>,
    /// Plain libbpf v1.1.x output instead of Debian bpftool 7.1's.
    pub upstream_libbpf_1_1: bool,
}

const HEADER: &str = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n";
const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// Resolves a `--root` argument: a type id, or the name of a type (the
/// first type with that name, in id order).
pub fn resolve_root(btf: &Btf, arg: &str) -> Result<TypeId> {
    if let Ok(n) = arg.parse::<u32>() {
        if n == 0 || n >= btf.type_count() {
            return Err(Error::Invalid(format!("root type id {n} out of range (1..{})", btf.type_count())));
        }
        return Ok(TypeId(n));
    }
    btf.find_by_name(arg).ok_or_else(|| Error::Invalid(format!("no type named '{arg}'")))
}

/// Renders the whole header into `buf`. On error (an unsatisfiable type
/// cycle, or input nested deeper than [`MAX_DEPTH`]), `buf` holds what was
/// produced before it, like bpftool's partial output.
pub fn render(btf: &Btf, opts: &Options, buf: &mut Vec<u8>) -> Result<()> {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("btf-c-dump".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, || {
                let mut local = Vec::new();
                let r = render_here(btf, opts, &mut local);
                (local, r)
            });
        match h {
            Ok(h) => match h.join() {
                Ok((local, r)) => {
                    *buf = local;
                    r
                }
                Err(_) => Err(Error::Invalid("C dumper thread panicked".into())),
            },
            // No thread: run here (the depth guard still applies).
            Err(_) => render_here(btf, opts, buf),
        }
    })
}

/// Like [`render`] but on the calling thread: deep input needs a stack of
/// tens of MB before [`MAX_DEPTH`] stops it; prefer [`render`].
pub fn render_here(btf: &Btf, opts: &Options, buf: &mut Vec<u8>) -> Result<()> {
    for r in &opts.roots {
        if r.0 >= btf.type_count() {
            return Err(Error::Invalid(format!("root type id {} out of range", r.0)));
        }
    }
    let mut d = Dumper::new(btf);
    d.upstream = opts.upstream_libbpf_1_1;
    d.out.extend_from_slice(HEADER.as_bytes());
    let res = (|| -> Result<()> {
        if !opts.roots.is_empty() {
            for r in &opts.roots {
                d.dump_type(r.0)?;
            }
        } else if opts.sort {
            for id in sorted_order(btf) {
                d.dump_type(id)?;
            }
        } else {
            for id in 1..btf.type_count() {
                d.dump_type(id)?;
            }
        }
        Ok(())
    })();
    if res.is_ok() {
        d.out.extend_from_slice(FOOTER.as_bytes());
    }
    *buf = std::mem::take(&mut d.out);
    res
}

/// Writes the header to `out` (convenience over [`render`]).
pub fn dump(btf: &Btf, opts: &Options, out: &mut impl std::io::Write) -> Result<()> {
    let mut buf = Vec::new();
    let r = render(btf, opts, &mut buf);
    out.write_all(&buf).map_err(|e| Error::Invalid(format!("write error: {e}")))?;
    r
}

// ---------------------------------------------------------------------------
// Sorted order (bpftool v7.5+ `sort_btf_c`)

const MAX_RANK: i32 = 10;

fn ty(btf: &Btf, id: u32) -> Option<&Type> {
    if id == 0 { None } else { btf.type_by_id(TypeId(id)) }
}

fn name_of(btf: &Btf, off: u32) -> &[u8] {
    btf.str_bytes(off).unwrap_or(b"")
}

/// bpftool's `btf_type_rank` (iterative).
pub fn type_rank(btf: &Btf, mut id: u32, mut has_name: bool) -> i32 {
    let mut steps = 0u32;
    loop {
        steps += 1;
        if steps > btf.type_count() + 1 {
            return MAX_RANK;
        }
        let Some(t) = ty(btf, id) else { return MAX_RANK };
        if t.name_off != 0 {
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
pub fn sort_name(btf: &Btf, mut id: u32, mut from_ref: bool) -> &[u8] {
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
                if !from_ref && off == 0 && !e.values.is_empty() {
                    off = e.values[0].name_off;
                }
                return name_of(btf, off);
            }
            TypeKind::Enum64(e) => {
                let mut off = t.name_off;
                if !from_ref && off == 0 && !e.values.is_empty() {
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

fn name_hasher(h: u64, btf: &Btf, off: u32) -> u64 {
    if off == 0 { h } else { hasher(h, str_hash(name_of(btf, off))) }
}

/// bpftool's `btf_type_disambig_hash`, iterative over modifier chains.
pub fn disambig_hash(btf: &Btf, id: u32, include_members: bool) -> u64 {
    // Each chain step contributes `prefix`, then `hasher(prefix, child)`.
    let mut prefixes: Vec<u64> = Vec::new();
    let mut id = id;
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
                        hasher(h, disambig_hash(btf, m.ty.0, false))
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
pub fn sorted_order(btf: &Btf) -> Vec<u32> {
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
    let hash_end = |id: u32, include_members: bool, members: &mut dyn FnMut(u32) -> u64| -> std::result::Result<u32, u64> {
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
            Some(t) if t.name_off != 0 => rank_m.get(i, MAX_RANK, rank_step, |_, r| r),
            Some(t) => match &t.kind {
                TypeKind::Enum(_) | TypeKind::Enum64(_) => 0,
                TypeKind::Int(_) | TypeKind::Float { .. } => 2,
                _ => MAX_RANK,
            },
        };
        let sort_name = match t {
            None => &b""[..],
            Some(t) => match &t.kind {
                TypeKind::Enum(e) if t.name_off == 0 && !e.values.is_empty() => name_of(btf, e.values[0].name_off),
                TypeKind::Enum64(e) if t.name_off == 0 && !e.values.is_empty() => name_of(btf, e.values[0].name_off),
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
    v.iter().skip(1).map(|d| d.index).collect()
}

// ---------------------------------------------------------------------------
// The dumper

const NOT: u8 = 0;
const ING: u8 = 1;
const DONE: u8 = 2;

#[derive(Clone, Copy, Default)]
struct State {
    order: u8,
    emit: u8,
    fwd_emitted: bool,
    name_resolved: bool,
    referenced: bool,
}

/// FNV-1a: names are short and not attacker-sensitive here (a hash flood
/// only slows the dump down), and SipHash dominated the profile.
#[derive(Default, Clone, Copy)]
struct Fnv;

struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// A resolved name: the BTF string itself, or a `___N` variant in `cached`.
#[derive(Clone, Copy)]
enum Name<'a> {
    Orig(&'a [u8]),
    Cached(u32),
}

struct Dumper<'a> {
    btf: &'a Btf,
    ptr_sz: u32,
    st: Vec<State>,
    cached: HashMap<u32, Vec<u8>, Fnv>,
    type_names: HashMap<&'a [u8], usize, Fnv>,
    ident_names: HashMap<&'a [u8], usize, Fnv>,
    queue: Vec<u32>,
    out: Vec<u8>,
    depth: u32,
    /// Reusable declaration stacks.
    pool: Vec<Vec<u32>>,
    /// Plain libbpf 1.1 flavour (see [`Options`]).
    upstream: bool,
    /// Memoized `btf__align_of` (-1: not computed).
    align: Vec<i32>,
    /// Recursive steps taken so far, and the most allowed: libbpf's walk
    /// is not memoized for FUNC_PROTO/array/modifier chains, so a small
    /// DAG (FUNC_PROTO params of FUNC_PROTO type, anonymous structs
    /// nested by value) takes exponential time and output.
    work: u64,
    work_limit: u64,
    /// Largest output accepted (see [`output_limit`]).
    out_limit: usize,
}

const PREFIXES: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";

fn pfx(lvl: usize) -> &'static [u8] {
    if lvl >= PREFIXES.len() { PREFIXES } else { &PREFIXES[..lvl] }
}

fn deep() -> Error {
    Error::Invalid(format!("type graph nested deeper than {MAX_DEPTH} levels"))
}

/// Bytes of BTF behind `btf` (types and strings, bases included).
fn input_len(btf: &Btf) -> u64 {
    let own = crate::write::type_section_len(btf) as u64 + btf.strings().len() as u64;
    own.saturating_add(btf.base().map_or(0, |b| input_len(b)))
}

/// Most output bytes accepted: far above what real BTF yields (a vmlinux.h
/// is about as large as its BTF), far below an exponential blow-up.
fn output_limit(btf: &Btf) -> usize {
    let lim = (16u64 << 20).saturating_add(input_len(btf).saturating_mul(32));
    usize::try_from(lim).unwrap_or(usize::MAX)
}

/// Most recursive steps accepted (see [`Dumper::work`]).
fn work_limit(btf: &Btf) -> u64 {
    (4u64 << 20).saturating_add((btf.type_count() as u64).saturating_mul(256))
}

/// libbpf's `determine_ptr_size`, falling back to 8.
fn ptr_size(btf: &Btf) -> u32 {
    const LONGS: [&[u8]; 11] = [
        b"long",
        b"long int",
        b"int long",
        b"unsigned long",
        b"long unsigned",
        b"unsigned long int",
        b"unsigned int long",
        b"long unsigned int",
        b"long int unsigned",
        b"int unsigned long",
        b"int long unsigned",
    ];
    for id in 1..btf.type_count() {
        if let Some(Type { name_off, kind: TypeKind::Int(i), .. }) = btf.type_by_id(TypeId(id)) {
            if i.size != 4 && i.size != 8 {
                continue;
            }
            let name = name_of(btf, *name_off);
            if LONGS.contains(&name) {
                return i.size;
            }
        }
    }
    8
}

fn is_mod(t: Option<&Type>) -> bool {
    matches!(
        t.map(|t| &t.kind),
        Some(TypeKind::Volatile(_) | TypeKind::Const(_) | TypeKind::Restrict(_) | TypeKind::TypeTag { .. })
    )
}

fn roundup(x: i64, y: i64) -> Option<i64> {
    if y == 0 { None } else { Some((x + y - 1) / y * y) }
}

impl<'a> Dumper<'a> {
    fn new(btf: &'a Btf) -> Dumper<'a> {
        let n = btf.type_count() as usize;
        let mut st = vec![State::default(); n];
        st[0].order = DONE;
        st[0].emit = DONE;
        // btf_dump_mark_referenced
        for id in 1..n as u32 {
            if let Some(t) = btf.type_by_id(TypeId(id)) {
                match &t.kind {
                    TypeKind::Int(_)
                    | TypeKind::Enum(_)
                    | TypeKind::Enum64(_)
                    | TypeKind::Fwd { .. }
                    | TypeKind::Float { .. } => {}
                    _ => t.for_each_ref(|r| {
                        if let Some(s) = st.get_mut(r.0 as usize) {
                            s.referenced = true;
                        }
                    }),
                }
            }
        }
        Dumper {
            btf,
            ptr_sz: ptr_size(btf),
            st,
            cached: HashMap::default(),
            type_names: HashMap::with_capacity_and_hasher(n / 4, Fnv),
            ident_names: HashMap::with_capacity_and_hasher(n / 4, Fnv),
            queue: Vec::new(),
            out: Vec::with_capacity((n * 48).clamp(1 << 16, 64 << 20)),
            depth: 0,
            align: vec![-1; n],
            upstream: false,
            pool: Vec::new(),
            work: 0,
            work_limit: work_limit(btf),
            out_limit: output_limit(btf),
        }
    }

    fn t(&self, id: u32) -> Option<&'a Type> {
        ty(self.btf, id)
    }

    fn name(&self, off: u32) -> &'a [u8] {
        name_of(self.btf, off)
    }

    fn p(&mut self, s: &[u8]) {
        self.out.extend_from_slice(s);
    }

    fn ps(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    /// One recursive step at type `id`: checks depth, work and output.
    fn enter(&mut self, id: u32) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(deep());
        }
        self.work += 1;
        if self.work > self.work_limit {
            return Err(Error::Invalid(format!(
                "type [{id}]: C dump needs more than {} steps (type graph blows up)",
                self.work_limit
            )));
        }
        if self.out.len() > self.out_limit {
            return Err(Error::Invalid(format!(
                "type [{id}]: C output exceeds {} bytes (type graph blows up)",
                self.out_limit
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn state(&mut self, id: u32) -> &mut State {
        // Ids are validated by the parser; index 0 always exists.
        let i = if (id as usize) < self.st.len() { id as usize } else { 0 };
        &mut self.st[i]
    }

    fn dump_type(&mut self, id: u32) -> Result<()> {
        self.queue.clear();
        let r = self.order_type(id, false)?;
        if r < 0 {
            return Err(Error::Invalid(format!("unsatisfiable type cycle, id:[{id}]")));
        }
        let q = std::mem::take(&mut self.queue);
        for &qid in &q {
            self.emit_type(qid, 0)?;
        }
        self.queue = q;
        Ok(())
    }

    // ---- layout helpers ----

    /// libbpf's `btf__resolve_size`, clamped at 0 on error as its caller does.
    fn resolve_size(&self, mut id: u32) -> i64 {
        let mut nelems: u64 = 1;
        let mut size: i64 = -1;
        for _ in 0..32 {
            let Some(t) = self.t(id) else { break };
            match &t.kind {
                TypeKind::Int(i) => {
                    size = i.size as i64;
                    break;
                }
                TypeKind::Struct(c) | TypeKind::Union(c) => {
                    size = c.size as i64;
                    break;
                }
                TypeKind::Enum(e) => {
                    size = e.size as i64;
                    break;
                }
                TypeKind::Enum64(e) => {
                    size = e.size as i64;
                    break;
                }
                TypeKind::Datasec(d) => {
                    size = d.size as i64;
                    break;
                }
                TypeKind::Float { size: s } => {
                    size = *s as i64;
                    break;
                }
                TypeKind::Ptr(_) => {
                    size = self.ptr_sz as i64;
                    break;
                }
                TypeKind::Typedef(n)
                | TypeKind::Volatile(n)
                | TypeKind::Const(n)
                | TypeKind::Restrict(n)
                | TypeKind::Var { ty: n, .. }
                | TypeKind::DeclTag { ty: n, .. }
                | TypeKind::TypeTag { ty: n, .. } => id = n.0,
                TypeKind::Array(a) => {
                    if nelems != 0 && a.nelems as u64 > u32::MAX as u64 / nelems {
                        return 0;
                    }
                    nelems *= a.nelems as u64;
                    id = a.elem.0;
                }
                _ => return 0,
            }
        }
        if size < 0 {
            return 0;
        }
        if nelems != 0 && size as u64 > u32::MAX as u64 / nelems {
            return 0;
        }
        (nelems as i64) * size
    }

    /// libbpf's `btf__align_of` (0 for unsupported kinds), memoized.
    fn align_of(&mut self, id: u32) -> Result<i32> {
        // Follow modifiers/typedefs/arrays iteratively.
        let mut cur = id;
        let mut steps = 0u32;
        let v = loop {
            steps += 1;
            if steps > self.btf.type_count() + 1 {
                break 0;
            }
            if let Some(&a) = self.align.get(cur as usize) {
                if a >= 0 {
                    break a;
                }
            }
            let Some(t) = self.t(cur) else { break 0 };
            match &t.kind {
                TypeKind::Int(i) => break self.ptr_sz.min(i.size) as i32,
                TypeKind::Enum(e) => break self.ptr_sz.min(e.size) as i32,
                TypeKind::Enum64(e) => break self.ptr_sz.min(e.size) as i32,
                TypeKind::Float { size } => break self.ptr_sz.min(*size) as i32,
                TypeKind::Ptr(_) => break self.ptr_sz as i32,
                TypeKind::Typedef(n)
                | TypeKind::Volatile(n)
                | TypeKind::Const(n)
                | TypeKind::Restrict(n)
                | TypeKind::TypeTag { ty: n, .. } => cur = n.0,
                TypeKind::Array(a) => cur = a.elem.0,
                TypeKind::Struct(c) | TypeKind::Union(c) => {
                    self.enter(cur)?;
                    let r = self.composite_align(c);
                    self.leave();
                    let r = r?;
                    if let Some(slot) = self.align.get_mut(cur as usize) {
                        *slot = r;
                    }
                    break r;
                }
                _ => break 0,
            }
        };
        if let Some(slot) = self.align.get_mut(id as usize) {
            *slot = v;
        }
        Ok(v)
    }

    fn composite_align(&mut self, c: &'a Composite) -> Result<i32> {
        let mut max_align = 1;
        for m in &c.members {
            let align = self.align_of(m.ty.0)?;
            if align <= 0 {
                return Ok(align);
            }
            max_align = max_align.max(align);
            if c.bitfield_size(m) == 0 && m.offset as u64 % (8 * align as u64) != 0 {
                return Ok(1);
            }
        }
        if c.size % max_align as u32 != 0 {
            return Ok(1);
        }
        Ok(max_align)
    }

    fn is_struct_packed(&mut self, c: &'a Composite) -> Result<bool> {
        let mut max_align: i32 = 1;
        for m in &c.members {
            let align = self.align_of(m.ty.0)?;
            let bit_sz = c.bitfield_size(m);
            if align != 0 && bit_sz == 0 && m.offset as i64 % (8 * align as i64) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(c.size as i64 % max_align as i64 != 0)
    }

    // ---- names ----

    fn name_dups(map: &mut HashMap<&'a [u8], usize, Fnv>, name: &'a [u8]) -> usize {
        let e = map.entry(name).or_insert(0);
        *e += 1;
        *e
    }

    fn resolve_name(&mut self, id: u32, ident: bool) -> Name<'a> {
        let Some(t) = self.t(id) else { return Name::Orig(b"") };
        if t.name_off == 0 {
            return Name::Orig(b"");
        }
        let orig = self.name(t.name_off);
        let s = self.state(id);
        if s.name_resolved {
            return if self.cached.contains_key(&id) { Name::Cached(id) } else { Name::Orig(orig) };
        }
        let skip = match &t.kind {
            TypeKind::Fwd { .. } => true,
            TypeKind::Enum(e) => e.values.is_empty(),
            _ => false,
        };
        s.name_resolved = true;
        if skip {
            return Name::Orig(orig);
        }
        let map = if ident { &mut self.ident_names } else { &mut self.type_names };
        let dup = Self::name_dups(map, orig);
        if dup > 1 {
            let mut n = orig.to_vec();
            n.extend_from_slice(format!("___{dup}").as_bytes());
            n.truncate(255); // snprintf into char[256]
            self.cached.insert(id, n);
            return Name::Cached(id);
        }
        Name::Orig(orig)
    }

    fn name_bytes(&self, n: Name<'a>) -> &[u8] {
        match n {
            Name::Orig(s) => s,
            Name::Cached(id) => self.cached.get(&id).map(|v| &v[..]).unwrap_or(b""),
        }
    }

    fn type_name(&mut self, id: u32) -> Vec<u8> {
        let n = self.resolve_name(id, false);
        self.name_bytes(n).to_vec()
    }

    fn push_name(&mut self, n: Name<'a>) {
        match n {
            Name::Orig(s) => self.out.extend_from_slice(s),
            Name::Cached(id) => {
                if let Some(v) = self.cached.get(&id) {
                    self.out.extend_from_slice(v);
                }
            }
        }
    }

    fn emit_type_name(&mut self, id: u32) {
        let n = self.resolve_name(id, false);
        self.push_name(n);
    }

    fn emit_ident_name(&mut self, id: u32) {
        let n = self.resolve_name(id, true);
        self.push_name(n);
    }

    fn is_blacklisted(&self, id: u32) -> bool {
        match self.t(id) {
            Some(t) if t.name_off != 0 => self.name(t.name_off) == b"__builtin_va_list",
            _ => false,
        }
    }

    // ---- ordering ----

    fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<i32> {
        self.enter(id)?;
        let r = self.order_type_inner(id, through_ptr);
        self.leave();
        r
    }

    fn order_type_inner(&mut self, id: u32, through_ptr: bool) -> Result<i32> {
        let os = self.state(id).order;
        if os == DONE {
            return Ok(1);
        }
        let Some(t) = self.t(id) else { return Ok(-1) };
        if os == ING {
            if matches!(t.kind, TypeKind::Struct(_) | TypeKind::Union(_)) && through_ptr && t.name_off != 0 {
                return Ok(0);
            }
            return Ok(-1);
        }
        match &t.kind {
            TypeKind::Int(_) | TypeKind::Float { .. } => {
                self.state(id).order = DONE;
                Ok(0)
            }
            TypeKind::Ptr(n) => {
                let r = self.order_type(n.0, true)?;
                self.state(id).order = DONE;
                Ok(r)
            }
            TypeKind::Array(a) => self.order_type(a.elem.0, false),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                if through_ptr && t.name_off != 0 {
                    return Ok(0);
                }
                self.state(id).order = ING;
                for m in &c.members {
                    let r = self.order_type(m.ty.0, false)?;
                    if r < 0 {
                        return Ok(r);
                    }
                }
                if t.name_off != 0 {
                    self.queue.push(id);
                }
                self.state(id).order = DONE;
                Ok(1)
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Fwd { .. } => {
                if t.name_off != 0 || !self.state(id).referenced {
                    self.queue.push(id);
                }
                self.state(id).order = DONE;
                Ok(1)
            }
            TypeKind::Typedef(n) => {
                let is_strong = self.order_type(n.0, through_ptr)?;
                if is_strong < 0 {
                    return Ok(is_strong);
                }
                if through_ptr && is_strong == 0 {
                    return Ok(0);
                }
                self.queue.push(id);
                self.state(id).order = DONE;
                Ok(1)
            }
            TypeKind::Volatile(n) | TypeKind::Const(n) | TypeKind::Restrict(n) | TypeKind::TypeTag { ty: n, .. } => {
                self.order_type(n.0, through_ptr)
            }
            TypeKind::FuncProto(p) => {
                let r = self.order_type(p.ret.0, through_ptr)?;
                if r < 0 {
                    return Ok(r);
                }
                let mut strong = r > 0;
                for prm in &p.params {
                    let r = self.order_type(prm.ty.0, through_ptr)?;
                    if r < 0 {
                        return Ok(r);
                    }
                    if r > 0 {
                        strong = true;
                    }
                }
                Ok(strong as i32)
            }
            TypeKind::Func { .. } | TypeKind::Var { .. } | TypeKind::Datasec(_) | TypeKind::DeclTag { .. } => {
                self.state(id).order = DONE;
                Ok(0)
            }
        }
    }

    // ---- emitting ----

    fn emit_type(&mut self, id: u32, cont_id: u32) -> Result<()> {
        self.enter(id)?;
        let r = self.emit_type_inner(id, cont_id);
        self.leave();
        r
    }

    fn emit_type_inner(&mut self, id: u32, cont_id: u32) -> Result<()> {
        let s = *self.state(id);
        if s.emit == DONE {
            return Ok(());
        }
        let top_level_def = cont_id == 0;
        let Some(t) = self.t(id) else { return Ok(()) };
        if s.emit == ING {
            if s.fwd_emitted {
                return Ok(());
            }
            match &t.kind {
                TypeKind::Struct(_) | TypeKind::Union(_) => {
                    if id == cont_id || t.name_off == 0 {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, t);
                    self.p(b";\n\n");
                    self.state(id).fwd_emitted = true;
                }
                TypeKind::Typedef(_) => {
                    if !self.is_blacklisted(id) {
                        self.emit_typedef_def(id, t, 0)?;
                        self.p(b";\n\n");
                    }
                    self.state(id).fwd_emitted = true;
                }
                _ => {}
            }
            return Ok(());
        }
        match &t.kind {
            TypeKind::Int(_) => {
                let name = self.type_name(id);
                let alias: Option<&str> = match &name[..] {
                    b"__Poly8_t" => Some("unsigned char"),
                    b"__Poly16_t" => Some("unsigned short"),
                    b"__Poly64_t" => Some("unsigned long long"),
                    b"__Poly128_t" => Some("unsigned __int128"),
                    _ => None,
                };
                if let Some(a) = alias {
                    self.ps("typedef ");
                    self.ps(a);
                    self.p(b" ");
                    self.p(&name);
                    self.p(b";\n\n");
                }
                self.state(id).emit = DONE;
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                if top_level_def {
                    self.emit_enum_def(id, t, 0);
                    self.p(b";\n\n");
                }
                self.state(id).emit = DONE;
            }
            TypeKind::Ptr(n) | TypeKind::Volatile(n) | TypeKind::Const(n) | TypeKind::Restrict(n) | TypeKind::TypeTag { ty: n, .. } => {
                self.emit_type(n.0, cont_id)?;
            }
            TypeKind::Array(a) => self.emit_type(a.elem.0, cont_id)?,
            TypeKind::Fwd { .. } => {
                self.emit_fwd_def(id, t);
                self.p(b";\n\n");
                self.state(id).emit = DONE;
            }
            TypeKind::Typedef(n) => {
                self.state(id).emit = ING;
                self.emit_type(n.0, id)?;
                if !self.state(id).fwd_emitted && !self.is_blacklisted(id) {
                    self.emit_typedef_def(id, t, 0)?;
                    self.p(b";\n\n");
                }
                self.state(id).emit = DONE;
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                self.state(id).emit = ING;
                if top_level_def || t.name_off == 0 {
                    let new_cont = if t.name_off == 0 { cont_id } else { id };
                    for m in &c.members {
                        self.emit_type(m.ty.0, new_cont)?;
                    }
                } else if !self.state(id).fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, t);
                    self.p(b";\n\n");
                    self.state(id).fwd_emitted = true;
                }
                if top_level_def {
                    self.emit_struct_def(id, t, 0)?;
                    self.p(b";\n\n");
                    self.state(id).emit = DONE;
                } else {
                    self.state(id).emit = NOT;
                }
            }
            TypeKind::FuncProto(p) => {
                self.emit_type(p.ret.0, cont_id)?;
                for prm in &p.params {
                    self.emit_type(prm.ty.0, cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn emit_struct_fwd(&mut self, id: u32, t: &Type) {
        self.p(if matches!(t.kind, TypeKind::Struct(_)) { b"struct" } else { b"union" });
        if t.name_off != 0 {
            self.p(b" ");
        }
        self.emit_type_name(id);
    }

    fn emit_fwd_def(&mut self, id: u32, t: &Type) {
        self.p(if t.kflag() { b"union " } else { b"struct " });
        self.emit_type_name(id);
    }

    /// Padding fields from bit `cur_off` to `next_off`. A struct may be
    /// 4 GiB large: its padding would be 2^29 `long: 64;` lines, so the
    /// output limit is checked as they are written.
    fn emit_bit_padding(
        &mut self,
        id: u32,
        cur_off: i64,
        next_off: i64,
        next_align: i32,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<()> {
        let pads: [(&[u8], i64); 4] =
            [(b"long", self.ptr_sz as i64 * 8), (b"int", 32), (b"short", 16), (b"char", 8)];
        let mut cur_off = cur_off;
        if cur_off >= next_off {
            return Ok(());
        }
        let (mut pad_type, mut pad_bits, mut new_off) = (pads[0].0, pads[0].1, 0);
        for &(name, bits) in &pads {
            pad_bits = bits;
            pad_type = name;
            new_off = roundup(cur_off, pad_bits).unwrap_or(i64::MAX);
            if new_off <= next_off {
                break;
            }
        }
        if new_off > cur_off && new_off <= next_off {
            let aligned_mismatch = match roundup(cur_off, next_align as i64 * 8) {
                Some(r) => r != new_off,
                None => true,
            };
            if in_bitfield
                || (new_off == next_off && aligned_mismatch)
                || (new_off != next_off && next_off - new_off <= new_off - cur_off)
            {
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let n = if in_bitfield { new_off - cur_off } else { 0 };
                let _ = write!(self.out, ": {};", n as i32);
            }
            cur_off = new_off;
        }
        while cur_off != next_off {
            if self.out.len() > self.out_limit {
                return Err(Error::Invalid(format!(
                    "type [{id}]: C output exceeds {} bytes (padding up to bit {next_off})",
                    self.out_limit
                )));
            }
            let bits = (next_off - cur_off).min(pad_bits);
            if bits == pad_bits {
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let _ = write!(self.out, ": {};", pad_bits);
                cur_off += bits;
                continue;
            }
            let mut progressed = false;
            for &(name, pbits) in pads.iter().rev() {
                pad_type = name;
                pad_bits = pbits;
                if pad_bits < bits {
                    continue;
                }
                self.out.push(b'\n');
                self.p(pfx(lvl));
                self.p(pad_type);
                let _ = write!(self.out, ": {};", bits);
                cur_off += bits;
                progressed = true;
                break;
            }
            if !progressed {
                // Cannot happen (long covers any remainder below pad_bits).
                break;
            }
        }
        Ok(())
    }

    fn emit_struct_def(&mut self, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
        let Some(c) = t.as_composite() else { return Ok(()) };
        let is_struct = matches!(t.kind, TypeKind::Struct(_));
        let align = self.align_of(id)?;
        let packed = if is_struct { self.is_struct_packed(c)? } else { false };
        self.p(if is_struct { b"struct" } else { b"union" });
        if t.name_off != 0 {
            self.p(b" ");
        }
        self.emit_type_name(id);
        self.p(b" {");
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in &c.members {
            let fname = self.name(m.name_off);
            let m_sz = c.bitfield_size(m) as i64;
            let m_off = c.bit_offset(m) as i64;
            let m_align = if packed { 1 } else { self.align_of(m.ty.0)? };
            let in_bitfield = prev_bitfield && m_sz != 0;
            self.emit_bit_padding(id, off, m_off, m_align, in_bitfield, lvl + 1)?;
            self.out.push(b'\n');
            self.p(pfx(lvl + 1));
            self.emit_type_decl(m.ty.0, fname, lvl + 1)?;
            if m_sz != 0 {
                let _ = write!(self.out, ": {m_sz}");
                off = m_off + m_sz;
                prev_bitfield = true;
            } else {
                let sz = self.resolve_size(m.ty.0);
                off = m_off + sz * 8;
                prev_bitfield = false;
            }
            self.p(b";");
        }
        if is_struct {
            self.emit_bit_padding(id, off, c.size as i64 * 8, align, false, lvl + 1)?;
        }
        if !c.members.is_empty() || c.size != 0 {
            self.out.push(b'\n');
            self.p(pfx(lvl));
            self.p(b"}");
        } else {
            self.p(b"}");
        }
        if packed {
            self.p(b" __attribute__((packed))");
        }
        Ok(())
    }

    fn emit_enum_def(&mut self, id: u32, t: &'a Type, lvl: usize) {
        self.p(b"enum");
        if t.name_off != 0 {
            self.p(b" ");
        }
        self.emit_type_name(id);
        let (size, signed, n) = match &t.kind {
            TypeKind::Enum(e) => (e.size, e.signed, e.values.len()),
            TypeKind::Enum64(e) => (e.size, e.signed, e.values.len()),
            _ => return,
        };
        if n == 0 {
            return;
        }
        self.p(b" {");
        let mut needs_word_mode = true;
        match &t.kind {
            TypeKind::Enum(e) => {
                for v in &e.values {
                    let name = self.name(v.name_off);
                    let dup = Self::name_dups(&mut self.ident_names, name);
                    self.out.push(b'\n');
                    self.p(pfx(lvl + 1));
                    self.p(name);
                    if dup > 1 {
                        let _ = write!(self.out, "___{dup}");
                    }
                    if signed {
                        let _ = write!(self.out, " = {},", v.val as i32);
                    } else {
                        let _ = write!(self.out, " = {},", v.val);
                    }
                }
            }
            TypeKind::Enum64(e) => {
                for v in &e.values {
                    let name = self.name(v.name_off);
                    let dup = Self::name_dups(&mut self.ident_names, name);
                    self.out.push(b'\n');
                    self.p(pfx(lvl + 1));
                    self.p(name);
                    if dup > 1 {
                        let _ = write!(self.out, "___{dup}");
                    }
                    if signed {
                        let _ = write!(self.out, " = {}LL,", v.val as i64);
                    } else {
                        let _ = write!(self.out, " = {}ULL,", v.val);
                    }
                    if v.val >> 32 != 0 {
                        needs_word_mode = false;
                    }
                }
            }
            _ => {}
        }
        self.out.push(b'\n');
        self.p(pfx(lvl));
        self.p(b"}");
        if !self.upstream {
            // Debian's 6.1 libbpf lacks e6e0e3fd: no mode() attributes.
        } else if size == 1 {
            self.p(b" __attribute__((mode(byte)))");
        } else if size == 8 && self.ptr_sz == 8 && needs_word_mode {
            self.p(b" __attribute__((mode(word)))");
        }
    }

    fn emit_typedef_def(&mut self, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
        let TypeKind::Typedef(target) = &t.kind else { return Ok(()) };
        let n = self.resolve_name(id, true);
        let name = self.name_bytes(n).to_vec();
        if target.0 == 0 && name == b"__gnuc_va_list" {
            self.p(b"typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.p(b"typedef ");
        self.emit_type_decl(target.0, &name, lvl)
    }

    fn emit_type_decl(&mut self, id: u32, fname: &[u8], lvl: usize) -> Result<()> {
        let mut decls: Vec<u32> = self.pool.pop().unwrap_or_default();
        decls.clear();
        let mut id = id;
        let limit = self.btf.type_count() as usize + 1;
        loop {
            decls.push(id);
            if id == 0 {
                break;
            }
            if decls.len() > limit {
                return Err(Error::Invalid(format!("type [{id}]: declaration chain loops")));
            }
            let Some(t) = self.t(id) else { break };
            match &t.kind {
                TypeKind::Ptr(n) | TypeKind::Volatile(n) | TypeKind::Const(n) | TypeKind::Restrict(n) | TypeKind::TypeTag { ty: n, .. } => {
                    id = n.0
                }
                TypeKind::FuncProto(p) => id = p.ret.0,
                TypeKind::Array(a) => id = a.elem.0,
                _ => break,
            }
        }
        self.enter(id)?;
        let r = self.emit_type_chain(&mut decls, fname, lvl);
        self.leave();
        self.pool.push(decls);
        r
    }

    fn emit_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            let s: &[u8] = match self.t(id).map(|t| &t.kind) {
                Some(TypeKind::Volatile(_)) => b"volatile ",
                Some(TypeKind::Const(_)) => b"const ",
                Some(TypeKind::Restrict(_)) => b"restrict ",
                _ => return,
            };
            self.p(s);
            decls.pop();
        }
    }

    fn drop_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            if !is_mod(self.t(id)) {
                return;
            }
            decls.pop();
        }
    }

    fn emit_name(&mut self, name: &[u8], last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.push(b' ');
        }
        self.p(name);
    }

    fn emit_type_chain(&mut self, decls: &mut Vec<u32>, fname: &[u8], lvl: usize) -> Result<()> {
        let mut last_was_ptr = true;
        while let Some(id) = decls.pop() {
            if id == 0 {
                self.emit_mods(decls);
                self.p(b"void");
                last_was_ptr = false;
                continue;
            }
            let Some(t) = self.t(id) else { return Ok(()) };
            let mut is_ptr = false;
            match &t.kind {
                TypeKind::Int(_) | TypeKind::Float { .. } => {
                    self.emit_mods(decls);
                    let n = self.name(t.name_off);
                    self.p(n);
                }
                TypeKind::Struct(_) | TypeKind::Union(_) => {
                    self.emit_mods(decls);
                    if t.name_off == 0 {
                        self.enter(id)?;
                        let r = self.emit_struct_def(id, t, lvl);
                        self.leave();
                        r?;
                    } else {
                        self.emit_struct_fwd(id, t);
                    }
                }
                TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                    self.emit_mods(decls);
                    if t.name_off == 0 {
                        self.emit_enum_def(id, t, lvl);
                    } else {
                        self.p(b"enum ");
                        self.emit_type_name(id);
                    }
                }
                TypeKind::Fwd { .. } => {
                    self.emit_mods(decls);
                    self.emit_fwd_def(id, t);
                }
                TypeKind::Typedef(_) => {
                    self.emit_mods(decls);
                    self.emit_ident_name(id);
                }
                TypeKind::Ptr(_) => {
                    self.p(if last_was_ptr { b"*" } else { b" *" });
                    is_ptr = true;
                }
                TypeKind::Volatile(_) => self.p(b" volatile"),
                TypeKind::Const(_) => self.p(b" const"),
                TypeKind::Restrict(_) => self.p(b" restrict"),
                TypeKind::TypeTag { .. } => {
                    self.emit_mods(decls);
                    let n = self.name(t.name_off);
                    self.p(b" __attribute__((btf_type_tag(\"");
                    self.p(n);
                    self.p(b"\")))");
                }
                TypeKind::Array(a) => {
                    self.drop_mods(decls);
                    if decls.is_empty() {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{}]", a.nelems);
                        return Ok(());
                    }
                    let next = decls.last().copied().unwrap_or(0);
                    let multidim = matches!(self.t(next).map(|t| &t.kind), Some(TypeKind::Array(_)));
                    if !fname.is_empty() && !last_was_ptr {
                        self.p(b" ");
                    }
                    if !multidim {
                        self.p(b"(");
                    }
                    self.enter(id)?;
                    let r = self.emit_type_chain(decls, fname, lvl);
                    self.leave();
                    r?;
                    if !multidim {
                        self.p(b")");
                    }
                    let _ = write!(self.out, "[{}]", a.nelems);
                    return Ok(());
                }
                TypeKind::FuncProto(p) => {
                    self.drop_mods(decls);
                    if !decls.is_empty() {
                        self.p(b" (");
                        self.enter(id)?;
                        let r = self.emit_type_chain(decls, fname, lvl);
                        self.leave();
                        r?;
                        self.p(b")");
                    } else {
                        self.emit_name(fname, last_was_ptr);
                    }
                    self.p(b"(");
                    // Debian's bpftool 7.1 carries libbpf's later fix
                    // (205e86de): no-args prototypes print `(void)`.
                    if !self.upstream && p.params.is_empty() {
                        self.p(b"void)");
                        return Ok(());
                    }
                    if p.params.len() == 1 && p.params[0].ty.0 == 0 {
                        self.p(if self.upstream { b")" } else { b"void)" });
                        return Ok(());
                    }
                    let n = p.params.len();
                    for (i, prm) in p.params.iter().enumerate() {
                        if i > 0 {
                            self.p(b", ");
                        }
                        if i == n - 1 && prm.ty.0 == 0 {
                            self.p(b"...");
                            break;
                        }
                        let name = self.name(prm.name_off);
                        self.emit_type_decl(prm.ty.0, name, lvl)?;
                    }
                    self.p(b")");
                    return Ok(());
                }
                _ => return Ok(()),
            }
            last_was_ptr = is_ptr;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }
}

