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
//! libbpf recurses along the type graph; this port walks it with explicit
//! heap stacks instead (one frame where libbpf's call has work left after
//! its child returns, none for tail calls through modifiers), so a
//! million-long CONST/PTR/TYPEDEF/ARRAY chain dumps on an ordinary thread.
//! Every step libbpf would recurse counts against a work limit and the
//! output against a size limit, and a stack past [`max_frames`] (only
//! reachable through a loop libbpf would follow forever) stops the walk:
//! cyclic or exponential input yields an [`Error`] naming a type id.

use std::collections::HashMap;
use std::io::Write as _;

use crate::btf::{Btf, Composite, FuncProto, Member, Param, Type, TypeId, TypeKind};
use crate::error::{Error, Result};

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
/// cycle, or a type graph past the work, output or stack bounds), `buf`
/// holds what was produced before it, like bpftool's partial output.
///
/// Runs on the calling thread: the walks keep their stacks on the heap.
pub fn render(btf: &Btf, opts: &Options, buf: &mut Vec<u8>) -> Result<()> {
    render_here(btf, opts, buf)
}

/// The same as [`render`] (which once ran on a thread of its own).
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

// ---- walk frames ----

/// What a walk does next: return a value to the frame below (popping the
/// frame when resuming one), or visit a child for the frame on top (a tail
/// call when entering a type that pushed no frame).
enum Walk<A, R> {
    Ret(R),
    Visit(A),
}

/// A pending call of libbpf's `btf_dump_order_type`, waiting for the
/// result of its child (arguments: type id, `through_ptr`).
enum OrderFrame<'a> {
    /// PTR `id`: marked ordered once its target is.
    Ptr(u32),
    /// STRUCT/UNION `id` (ordering): members from `next` on are left.
    Composite { id: u32, named: bool, members: &'a [Member], next: usize },
    /// TYPEDEF `id`, reached with `through_ptr`.
    Typedef { id: u32, through_ptr: bool },
    /// FUNC_PROTO: return type first, then params from `next` on; `strong`
    /// is whether any of them returned > 0.
    Proto { params: &'a [Param], through_ptr: bool, next: usize, strong: bool },
}

/// A pending call of libbpf's `btf_dump_emit_type` (arguments: type id,
/// `cont_id`).
enum EmitFrame<'a> {
    /// TYPEDEF `id` (emitting): its definition follows its target's.
    Typedef { id: u32, t: &'a Type },
    /// STRUCT/UNION `id` (emitting): members from `next` on are left, all
    /// visited with `cont`; `top_level` is whether it gets defined.
    Composite { id: u32, t: &'a Type, members: &'a [Member], next: usize, cont: u32, top_level: bool },
    /// FUNC_PROTO: return type visited, params from `next` on left.
    Proto { params: &'a [Param], next: usize, cont: u32 },
}

/// A pending `btf__align_of` of STRUCT/UNION `id`, which was asked for
/// `req` (`id` or a modifier/typedef/array chain ending at it); `pending`
/// is the member whose alignment is being computed.
struct AlignFrame<'a> {
    id: u32,
    req: u32,
    c: &'a Composite,
    next: usize,
    pending: Option<&'a Member>,
    max_align: i32,
}

/// Where a declaration's name comes from: the name the output walk was
/// started with (a typedef's resolved name), or a member/param name.
#[derive(Clone, Copy)]
enum FieldName<'a> {
    Top,
    Str(&'a [u8]),
}

/// Output still to write for a declaration or definition, innermost last
/// (libbpf's `btf_dump_emit_type_decl`/`_type_chain`/`_struct_def`).
enum OutTask<'a> {
    /// Declare type `id` with `name` (`btf_dump_emit_type_decl`).
    Decl { id: u32, name: FieldName<'a>, lvl: usize },
    /// Resume a type chain (`btf_dump_emit_type_chain`): `decls` holds
    /// the types left, innermost last.
    Chain { decls: Vec<u32>, name: FieldName<'a>, lvl: usize, last_was_ptr: bool },
    /// After an array's inner declarator: `)` (unless the array is part of
    /// a multi-dimensional one) and `[nelems]`.
    ArrayEnd { multidim: bool, nelems: u32 },
    /// After a prototype's inner declarator: `)` and the parameter list.
    ProtoEnd { p: &'a FuncProto, lvl: usize },
    /// Parameters from `next` on (the `(` is written).
    Params { params: &'a [Param], next: usize, lvl: usize },
    /// A STRUCT/UNION definition.
    StructDef { id: u32, t: &'a Type, lvl: usize },
    /// Its members from `next` on; `off` is the bit offset reached.
    Members(MembersAt<'a>),
    /// After a member's declarator: `: bits` for a bitfield, and `;`.
    MemberEnd { bits: i64 },
}

/// Progress through a STRUCT/UNION definition's members.
#[derive(Clone, Copy)]
struct MembersAt<'a> {
    id: u32,
    c: &'a Composite,
    is_struct: bool,
    packed: bool,
    align: i32,
    next: usize,
    off: i64,
    prev_bitfield: bool,
    lvl: usize,
}

/// Pushes a walk frame; `id` names the type in the error past `max`.
#[inline]
fn push_frame<T>(stack: &mut Vec<T>, frame: T, max: usize, id: u32) -> Result<()> {
    stack.push(frame);
    check_depth(stack, max, id)
}

/// Fails once a walk's stack is deeper than `max` (`id` names the type).
#[inline]
fn check_depth<T>(stack: &[T], max: usize, id: u32) -> Result<()> {
    if stack.len() > max {
        return Err(Error::Invalid(format!(
            "type [{id}]: C dump walk deeper than {max} frames (type graph loops)"
        )));
    }
    Ok(())
}

/// Inserts a walk frame at `at`, under the frames pushed since the stack
/// was `at` long (they run first).
fn push_under<T>(stack: &mut Vec<T>, at: usize, frame: T, max: usize, id: u32) -> Result<()> {
    stack.insert(at.min(stack.len()), frame);
    check_depth(stack, max, id)
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
    /// Reusable declaration stacks.
    pool: Vec<Vec<u32>>,
    /// Reusable walk stacks (see [`OrderFrame`], [`EmitFrame`],
    /// [`AlignFrame`], [`OutTask`]).
    order_stack: Vec<OrderFrame<'a>>,
    emit_stack: Vec<EmitFrame<'a>>,
    align_stack: Vec<AlignFrame<'a>>,
    out_stack: Vec<OutTask<'a>>,
    /// Deepest walk stack accepted (see [`max_frames`]).
    max_frames: usize,
    /// Plain libbpf 1.1 flavour (see [`Options`]).
    upstream: bool,
    /// Memoized `btf__align_of` (-1: not computed).
    align: Vec<i32>,
    /// Walk steps taken so far (one per call of libbpf's recursion), and
    /// the most allowed: libbpf's walk
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

/// Deepest walk stack accepted: a few frames per type. A walk only gets
/// deeper by meeting a type again along its path in the same situation,
/// i.e. by following a loop that libbpf would follow until its stack
/// overflows (the work limit would stop it later, after using memory in
/// proportion to that limit).
pub fn max_frames(btf: &Btf) -> usize {
    (btf.type_count() as usize).saturating_mul(4).saturating_add(10_000)
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

/// Most walk steps accepted (see [`Dumper::work`]).
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
            align: vec![-1; n],
            upstream: false,
            pool: Vec::new(),
            order_stack: Vec::new(),
            emit_stack: Vec::new(),
            align_stack: Vec::new(),
            out_stack: Vec::new(),
            max_frames: max_frames(btf),
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

    /// One walk step at type `id` (where libbpf makes a recursive call):
    /// checks the work and output limits.
    fn step(&mut self, id: u32) -> Result<()> {
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

    /// libbpf's `btf__align_of` (0 for unsupported kinds), memoized. Chains
    /// of modifiers/typedefs/arrays are followed in a loop; STRUCT/UNION
    /// members on an explicit stack ([`AlignFrame`]).
    fn align_of(&mut self, id: u32) -> Result<i32> {
        if let Some(&a) = self.align.get(id as usize) {
            if a >= 0 {
                return Ok(a);
            }
        }
        if let Ok(v) = self.align_chain(id) {
            self.memo_align(id, v);
            return Ok(v);
        }
        let mut stack = std::mem::take(&mut self.align_stack);
        stack.clear();
        let r = self.align_walk(&mut stack, id);
        self.align_stack = stack;
        r
    }

    fn align_walk(&mut self, stack: &mut Vec<AlignFrame<'a>>, id: u32) -> Result<i32> {
        let mut req = id;
        loop {
            // Descend from `req` to a known alignment or a new composite.
            let mut v = match self.align_chain(req) {
                Ok(v) => v,
                Err((sid, c)) => {
                    self.step(sid)?;
                    let f = AlignFrame { id: sid, req, c, next: 0, pending: None, max_align: 1 };
                    push_frame(stack, f, self.max_frames, sid)?;
                    -1
                }
            };
            if v >= 0 {
                self.memo_align(req, v);
            }
            // Hand results up until some frame wants another member.
            loop {
                let Some(f) = stack.last_mut() else { return Ok(v) };
                match Self::composite_align_step(f, (v >= 0).then_some(v)) {
                    Ok(next) => {
                        req = next;
                        break;
                    }
                    Err(a) => {
                        let (sid, freq) = (f.id, f.req);
                        stack.pop();
                        self.memo_align(sid, a);
                        self.memo_align(freq, a);
                        v = a;
                    }
                }
            }
        }
    }

    fn memo_align(&mut self, id: u32, v: i32) {
        if let Some(slot) = self.align.get_mut(id as usize) {
            *slot = v;
        }
    }

    /// The alignment of `id` as far as a loop finds it: `Ok` if known,
    /// `Err` with a STRUCT/UNION whose members must be looked at.
    fn align_chain(&self, id: u32) -> std::result::Result<i32, (u32, &'a Composite)> {
        let mut cur = id;
        let mut steps = 0u32;
        loop {
            steps += 1;
            if steps > self.btf.type_count() + 1 {
                return Ok(0);
            }
            if let Some(&a) = self.align.get(cur as usize) {
                if a >= 0 {
                    return Ok(a);
                }
            }
            let Some(t) = self.t(cur) else { return Ok(0) };
            match &t.kind {
                TypeKind::Int(i) => return Ok(self.ptr_sz.min(i.size) as i32),
                TypeKind::Enum(e) => return Ok(self.ptr_sz.min(e.size) as i32),
                TypeKind::Enum64(e) => return Ok(self.ptr_sz.min(e.size) as i32),
                TypeKind::Float { size } => return Ok(self.ptr_sz.min(*size) as i32),
                TypeKind::Ptr(_) => return Ok(self.ptr_sz as i32),
                TypeKind::Typedef(n)
                | TypeKind::Volatile(n)
                | TypeKind::Const(n)
                | TypeKind::Restrict(n)
                | TypeKind::TypeTag { ty: n, .. } => cur = n.0,
                TypeKind::Array(a) => cur = a.elem.0,
                TypeKind::Struct(c) | TypeKind::Union(c) => return Err((cur, c)),
                _ => return Ok(0),
            }
        }
    }

    /// One step of a composite's alignment (libbpf's struct case of
    /// `btf__align_of`): takes the pending member's alignment `got`, then
    /// `Ok` with the next member's type to look at, or `Err` with the
    /// composite's alignment.
    fn composite_align_step(f: &mut AlignFrame<'a>, got: Option<i32>) -> std::result::Result<u32, i32> {
        if let (Some(m), Some(align)) = (f.pending.take(), got) {
            if align <= 0 {
                return Err(align);
            }
            f.max_align = f.max_align.max(align);
            if f.c.bitfield_size(m) == 0 && m.offset as u64 % (8 * align as u64) != 0 {
                return Err(1);
            }
        }
        if let Some(m) = f.c.members.get(f.next) {
            f.next += 1;
            f.pending = Some(m);
            return Ok(m.ty.0);
        }
        if f.c.size % f.max_align as u32 != 0 {
            return Err(1);
        }
        Err(f.max_align)
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

    /// libbpf's `btf_dump_order_type`: the same calls, in the same order,
    /// with the same results, on an explicit stack ([`OrderFrame`]).
    fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<i32> {
        if self.state(id).order == DONE {
            // Most calls (one per type id): no stack needed.
            self.step(id)?;
            return Ok(1);
        }
        let mut stack = std::mem::take(&mut self.order_stack);
        stack.clear();
        let r = self.order_walk(&mut stack, id, through_ptr);
        self.order_stack = stack;
        r
    }

    #[inline(never)]
    fn order_walk(&mut self, stack: &mut Vec<OrderFrame<'a>>, id: u32, through_ptr: bool) -> Result<i32> {
        let mut next = Walk::Visit((id, through_ptr));
        loop {
            next = match next {
                Walk::Visit((id, tp)) => {
                    self.step(id)?;
                    let w = self.order_enter(stack, id, tp);
                    check_depth(stack, self.max_frames, id)?;
                    w
                }
                Walk::Ret(r) => {
                    let Some(f) = stack.last_mut() else { return Ok(r) };
                    let w = self.order_resume(f, r);
                    if matches!(w, Walk::Ret(_)) {
                        stack.pop();
                    }
                    w
                }
            };
        }
    }

    /// The start of a call of `btf_dump_order_type(id, through_ptr)`.
    /// Pushes a frame if the call has work left after its child.
    #[inline(always)]
    fn order_enter(&mut self, stack: &mut Vec<OrderFrame<'a>>, id: u32, through_ptr: bool) -> Walk<(u32, bool), i32> {
        let os = self.state(id).order;
        if os == DONE {
            return Walk::Ret(1);
        }
        let Some(t) = self.t(id) else { return Walk::Ret(-1) };
        if os == ING {
            if matches!(t.kind, TypeKind::Struct(_) | TypeKind::Union(_)) && through_ptr && t.name_off != 0 {
                return Walk::Ret(0);
            }
            return Walk::Ret(-1);
        }
        match &t.kind {
            TypeKind::Int(_) | TypeKind::Float { .. } => {
                self.state(id).order = DONE;
                Walk::Ret(0)
            }
            TypeKind::Ptr(n) => {
                stack.push(OrderFrame::Ptr(id));
                Walk::Visit((n.0, true))
            }
            TypeKind::Array(a) => Walk::Visit((a.elem.0, false)),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let named = t.name_off != 0;
                if through_ptr && named {
                    return Walk::Ret(0);
                }
                self.state(id).order = ING;
                match c.members.first() {
                    Some(m) => {
                        stack.push(OrderFrame::Composite { id, named, members: &c.members, next: 1 });
                        Walk::Visit((m.ty.0, false))
                    }
                    None => Walk::Ret(self.order_composite_done(id, named)),
                }
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Fwd { .. } => {
                if t.name_off != 0 || !self.state(id).referenced {
                    self.queue.push(id);
                }
                self.state(id).order = DONE;
                Walk::Ret(1)
            }
            TypeKind::Typedef(n) => {
                stack.push(OrderFrame::Typedef { id, through_ptr });
                Walk::Visit((n.0, through_ptr))
            }
            TypeKind::Volatile(n) | TypeKind::Const(n) | TypeKind::Restrict(n) | TypeKind::TypeTag { ty: n, .. } => {
                Walk::Visit((n.0, through_ptr))
            }
            TypeKind::FuncProto(p) => {
                stack.push(OrderFrame::Proto { params: &p.params, through_ptr, next: 0, strong: false });
                Walk::Visit((p.ret.0, through_ptr))
            }
            TypeKind::Func { .. } | TypeKind::Var { .. } | TypeKind::Datasec(_) | TypeKind::DeclTag { .. } => {
                self.state(id).order = DONE;
                Walk::Ret(0)
            }
        }
    }

    /// A call of `btf_dump_order_type` continuing with its child's result
    /// `r`: `Ret` ends it (the caller pops the frame), `Visit` keeps it.
    #[inline(always)]
    fn order_resume(&mut self, f: &mut OrderFrame<'a>, r: i32) -> Walk<(u32, bool), i32> {
        match f {
            OrderFrame::Ptr(id) => {
                self.state(*id).order = DONE;
                Walk::Ret(r)
            }
            OrderFrame::Composite { id, named, members, next } => {
                if r < 0 {
                    return Walk::Ret(r);
                }
                if let Some(m) = members.get(*next) {
                    *next += 1;
                    return Walk::Visit((m.ty.0, false));
                }
                Walk::Ret(self.order_composite_done(*id, *named))
            }
            OrderFrame::Typedef { id, through_ptr } => {
                if r < 0 {
                    return Walk::Ret(r);
                }
                if *through_ptr && r == 0 {
                    return Walk::Ret(0);
                }
                self.queue.push(*id);
                self.state(*id).order = DONE;
                Walk::Ret(1)
            }
            OrderFrame::Proto { params, through_ptr, next, strong } => {
                if r < 0 {
                    return Walk::Ret(r);
                }
                if r > 0 {
                    *strong = true;
                }
                if let Some(p) = params.get(*next) {
                    *next += 1;
                    return Walk::Visit((p.ty.0, *through_ptr));
                }
                Walk::Ret(*strong as i32)
            }
        }
    }

    /// A STRUCT/UNION's members are ordered: queue it if named.
    fn order_composite_done(&mut self, id: u32, named: bool) -> i32 {
        if named {
            self.queue.push(id);
        }
        self.state(id).order = DONE;
        1
    }

    // ---- emitting ----

    /// libbpf's `btf_dump_emit_type`: the same calls, in the same order, on
    /// an explicit stack ([`EmitFrame`]).
    fn emit_type(&mut self, id: u32, cont_id: u32) -> Result<()> {
        if self.state(id).emit == DONE {
            self.step(id)?;
            return Ok(());
        }
        let mut stack = std::mem::take(&mut self.emit_stack);
        stack.clear();
        let r = self.emit_walk(&mut stack, id, cont_id);
        self.emit_stack = stack;
        r
    }

    #[inline(never)]
    fn emit_walk(&mut self, stack: &mut Vec<EmitFrame<'a>>, id: u32, cont_id: u32) -> Result<()> {
        let mut next = Walk::Visit((id, cont_id));
        loop {
            next = match next {
                Walk::Visit((id, cont)) => {
                    self.step(id)?;
                    let w = self.emit_enter(stack, id, cont)?;
                    check_depth(stack, self.max_frames, id)?;
                    w
                }
                Walk::Ret(()) => {
                    let Some(f) = stack.last_mut() else { return Ok(()) };
                    let w = self.emit_resume(f)?;
                    if matches!(w, Walk::Ret(_)) {
                        stack.pop();
                    }
                    w
                }
            };
        }
    }

    /// The start of a call of `btf_dump_emit_type(id, cont_id)`.
    /// Pushes a frame if the call has work left after its child.
    fn emit_enter(&mut self, stack: &mut Vec<EmitFrame<'a>>, id: u32, cont_id: u32) -> Result<Walk<(u32, u32), ()>> {
        let s = *self.state(id);
        if s.emit == DONE {
            return Ok(Walk::Ret(()));
        }
        let top_level_def = cont_id == 0;
        let Some(t) = self.t(id) else { return Ok(Walk::Ret(())) };
        if s.emit == ING {
            if s.fwd_emitted {
                return Ok(Walk::Ret(()));
            }
            match &t.kind {
                TypeKind::Struct(_) | TypeKind::Union(_) => {
                    if id == cont_id || t.name_off == 0 {
                        return Ok(Walk::Ret(()));
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
            return Ok(Walk::Ret(()));
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
                return Ok(Walk::Visit((n.0, cont_id)));
            }
            TypeKind::Array(a) => return Ok(Walk::Visit((a.elem.0, cont_id))),
            TypeKind::Fwd { .. } => {
                self.emit_fwd_def(id, t);
                self.p(b";\n\n");
                self.state(id).emit = DONE;
            }
            TypeKind::Typedef(n) => {
                self.state(id).emit = ING;
                stack.push(EmitFrame::Typedef { id, t });
                return Ok(Walk::Visit((n.0, id)));
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                self.state(id).emit = ING;
                if top_level_def || t.name_off == 0 {
                    let cont = if t.name_off == 0 { cont_id } else { id };
                    if let Some(m) = c.members.first() {
                        let f = EmitFrame::Composite {
                            id,
                            t,
                            members: &c.members,
                            next: 1,
                            cont,
                            top_level: top_level_def,
                        };
                        stack.push(f);
                        return Ok(Walk::Visit((m.ty.0, cont)));
                    }
                } else if !self.state(id).fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, t);
                    self.p(b";\n\n");
                    self.state(id).fwd_emitted = true;
                }
                self.emit_composite_done(id, t, top_level_def)?;
            }
            TypeKind::FuncProto(p) => {
                let f = EmitFrame::Proto { params: &p.params, next: 0, cont: cont_id };
                stack.push(f);
                return Ok(Walk::Visit((p.ret.0, cont_id)));
            }
            _ => {}
        }
        Ok(Walk::Ret(()))
    }

    /// A call of `btf_dump_emit_type` continuing after a child: `Ret` ends
    /// it (the caller pops the frame), `Visit` keeps it.
    fn emit_resume(&mut self, f: &mut EmitFrame<'a>) -> Result<Walk<(u32, u32), ()>> {
        match f {
            EmitFrame::Typedef { id, t } => {
                let (id, t) = (*id, *t);
                if !self.state(id).fwd_emitted && !self.is_blacklisted(id) {
                    self.emit_typedef_def(id, t, 0)?;
                    self.p(b";\n\n");
                }
                self.state(id).emit = DONE;
            }
            EmitFrame::Composite { id, t, members, next, cont, top_level } => {
                if let Some(m) = members.get(*next) {
                    *next += 1;
                    return Ok(Walk::Visit((m.ty.0, *cont)));
                }
                self.emit_composite_done(*id, t, *top_level)?;
            }
            EmitFrame::Proto { params, next, cont } => {
                if let Some(p) = params.get(*next) {
                    *next += 1;
                    return Ok(Walk::Visit((p.ty.0, *cont)));
                }
            }
        }
        Ok(Walk::Ret(()))
    }

    /// A STRUCT/UNION's members are emitted: define it at the top level,
    /// else leave it to be emitted again.
    fn emit_composite_done(&mut self, id: u32, t: &'a Type, top_level_def: bool) -> Result<()> {
        if top_level_def {
            self.emit_struct_def(id, t, 0)?;
            self.p(b";\n\n");
            self.state(id).emit = DONE;
        } else {
            self.state(id).emit = NOT;
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

    /// A STRUCT/UNION definition (libbpf's `btf_dump_emit_struct_def`).
    fn emit_struct_def(&mut self, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
        self.emit_out(OutTask::StructDef { id, t, lvl }, b"")
    }

    /// A definition's header; its members follow as [`OutTask::Members`].
    fn out_struct_head(&mut self, stack: &mut Vec<OutTask<'a>>, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
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
        let at = MembersAt { id, c, is_struct, packed, align, next: 0, off: 0, prev_bitfield: false, lvl };
        push_frame(stack, OutTask::Members(at), self.max_frames, id)
    }

    /// A definition's members from `at.next` on (padding, then the
    /// declaration), and its end. A member whose declaration leaves work on
    /// the stack (nested declarators, an anonymous struct/union) puts the
    /// rest of the definition under that work.
    fn out_members(&mut self, stack: &mut Vec<OutTask<'a>>, mut at: MembersAt<'a>) -> Result<()> {
        let MembersAt { id, c, packed, lvl, .. } = at;
        while let Some(m) = c.members.get(at.next) {
            let fname = self.name(m.name_off);
            let m_sz = c.bitfield_size(m) as i64;
            let m_off = c.bit_offset(m) as i64;
            let m_align = if packed { 1 } else { self.align_of(m.ty.0)? };
            let in_bitfield = at.prev_bitfield && m_sz != 0;
            self.emit_bit_padding(id, at.off, m_off, m_align, in_bitfield, lvl + 1)?;
            self.out.push(b'\n');
            self.p(pfx(lvl + 1));
            at.next += 1;
            (at.off, at.prev_bitfield) =
                if m_sz != 0 { (m_off + m_sz, true) } else { (m_off + self.resolve_size(m.ty.0) * 8, false) };
            let base = stack.len();
            let decls = self.decl_chain(m.ty.0)?;
            self.out_chain(stack, decls, FieldName::Str(fname), lvl + 1, true, b"")?;
            if stack.len() != base {
                let max = self.max_frames;
                push_under(stack, base, OutTask::MemberEnd { bits: m_sz }, max, id)?;
                return push_under(stack, base, OutTask::Members(at), max, id);
            }
            self.member_end(m_sz);
        }
        if at.is_struct {
            self.emit_bit_padding(id, at.off, c.size as i64 * 8, at.align, false, lvl + 1)?;
        }
        if !c.members.is_empty() || c.size != 0 {
            self.out.push(b'\n');
            self.p(pfx(lvl));
        }
        self.p(b"}");
        if packed {
            self.p(b" __attribute__((packed))");
        }
        Ok(())
    }

    /// After a member's declarator: `: bits` for a bitfield, and `;`.
    fn member_end(&mut self, bits: i64) {
        if bits != 0 {
            let _ = write!(self.out, ": {bits}");
        }
        self.p(b";");
    }

    /// An enumerator's line up to its value: newline, indent, name (with
    /// its `___N` suffix when the name was taken).
    fn emit_enumerator_name(&mut self, name_off: u32, lvl: usize) {
        let name = self.name(name_off);
        let dup = Self::name_dups(&mut self.ident_names, name);
        self.out.push(b'\n');
        self.p(pfx(lvl + 1));
        self.p(name);
        if dup > 1 {
            let _ = write!(self.out, "___{dup}");
        }
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
                    self.emit_enumerator_name(v.name_off, lvl);
                    if signed {
                        let _ = write!(self.out, " = {},", v.val as i32);
                    } else {
                        let _ = write!(self.out, " = {},", v.val);
                    }
                }
            }
            TypeKind::Enum64(e) => {
                for v in &e.values {
                    self.emit_enumerator_name(v.name_off, lvl);
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

    /// A declaration of type `id` named `fname` (libbpf's
    /// `btf_dump_emit_type_decl`).
    fn emit_type_decl(&mut self, id: u32, fname: &[u8], lvl: usize) -> Result<()> {
        self.emit_out(OutTask::Decl { id, name: FieldName::Top, lvl }, fname)
    }

    /// Writes `first` and all it needs, on an explicit stack ([`OutTask`])
    /// where libbpf recurses (arrays and prototypes within a type chain,
    /// parameter lists, anonymous structs/unions defined in place).
    /// `top` is the name [`FieldName::Top`] stands for.
    fn emit_out(&mut self, first: OutTask<'a>, top: &[u8]) -> Result<()> {
        let mut stack = std::mem::take(&mut self.out_stack);
        stack.clear();
        stack.push(first);
        let r = self.out_walk(&mut stack, top);
        self.out_stack = stack;
        r
    }

    #[inline(never)]
    fn out_walk(&mut self, stack: &mut Vec<OutTask<'a>>, top: &[u8]) -> Result<()> {
        while let Some(task) = stack.pop() {
            match task {
                OutTask::Decl { id, name, lvl } => {
                    let decls = self.decl_chain(id)?;
                    self.out_chain(stack, decls, name, lvl, true, top)?;
                }
                OutTask::Chain { decls, name, lvl, last_was_ptr } => {
                    self.out_chain(stack, decls, name, lvl, last_was_ptr, top)?;
                }
                OutTask::ArrayEnd { multidim, nelems } => {
                    if !multidim {
                        self.p(b")");
                    }
                    let _ = write!(self.out, "[{nelems}]");
                }
                OutTask::ProtoEnd { p, lvl } => {
                    self.p(b")");
                    self.out_params_start(stack, p, lvl)?;
                }
                OutTask::Params { params, next, lvl } => self.out_params(stack, params, next, lvl)?,
                OutTask::StructDef { id, t, lvl } => self.out_struct_head(stack, id, t, lvl)?,
                OutTask::Members(at) => self.out_members(stack, at)?,
                OutTask::MemberEnd { bits } => self.member_end(bits),
            }
        }
        Ok(())
    }

    /// The types a declaration of `id` goes through, outermost first (one
    /// walk step, at the innermost).
    fn decl_chain(&mut self, id: u32) -> Result<Vec<u32>> {
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
        self.step(id)?;
        Ok(decls)
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

    /// libbpf's `btf_dump_emit_type_chain` over `decls`: where it recurses
    /// for an array's or a prototype's inner declarator, this pushes what
    /// follows that declarator and goes on with the same chain; an
    /// anonymous struct/union pauses the chain behind its definition.
    fn out_chain(
        &mut self,
        stack: &mut Vec<OutTask<'a>>,
        mut decls: Vec<u32>,
        name: FieldName<'a>,
        lvl: usize,
        mut last_was_ptr: bool,
        top: &[u8],
    ) -> Result<()> {
        let fname = match name {
            FieldName::Top => top,
            FieldName::Str(s) => s,
        };
        let max = self.max_frames;
        while let Some(id) = decls.pop() {
            if id == 0 {
                self.emit_mods(&mut decls);
                self.p(b"void");
                last_was_ptr = false;
                continue;
            }
            let Some(t) = self.t(id) else {
                self.pool.push(decls);
                return Ok(());
            };
            let mut is_ptr = false;
            match &t.kind {
                TypeKind::Int(_) | TypeKind::Float { .. } => {
                    self.emit_mods(&mut decls);
                    let n = self.name(t.name_off);
                    self.p(n);
                }
                TypeKind::Struct(_) | TypeKind::Union(_) => {
                    self.emit_mods(&mut decls);
                    if t.name_off == 0 {
                        self.step(id)?;
                        let rest = OutTask::Chain { decls, name, lvl, last_was_ptr: false };
                        push_frame(stack, rest, max, id)?;
                        return push_frame(stack, OutTask::StructDef { id, t, lvl }, max, id);
                    }
                    self.emit_struct_fwd(id, t);
                }
                TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                    self.emit_mods(&mut decls);
                    if t.name_off == 0 {
                        self.emit_enum_def(id, t, lvl);
                    } else {
                        self.p(b"enum ");
                        self.emit_type_name(id);
                    }
                }
                TypeKind::Fwd { .. } => {
                    self.emit_mods(&mut decls);
                    self.emit_fwd_def(id, t);
                }
                TypeKind::Typedef(_) => {
                    self.emit_mods(&mut decls);
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
                    self.emit_mods(&mut decls);
                    let n = self.name(t.name_off);
                    self.p(b" __attribute__((btf_type_tag(\"");
                    self.p(n);
                    self.p(b"\")))");
                }
                TypeKind::Array(a) => {
                    self.drop_mods(&mut decls);
                    if decls.is_empty() {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{}]", a.nelems);
                        self.pool.push(decls);
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
                    self.step(id)?;
                    push_frame(stack, OutTask::ArrayEnd { multidim, nelems: a.nelems }, max, id)?;
                    // The inner declarator: the rest of this chain, afresh.
                    last_was_ptr = true;
                    continue;
                }
                TypeKind::FuncProto(p) => {
                    self.drop_mods(&mut decls);
                    if !decls.is_empty() {
                        self.p(b" (");
                        self.step(id)?;
                        push_frame(stack, OutTask::ProtoEnd { p, lvl }, max, id)?;
                        last_was_ptr = true;
                        continue;
                    }
                    self.emit_name(fname, last_was_ptr);
                    self.pool.push(decls);
                    return self.out_params_start(stack, p, lvl);
                }
                _ => {
                    self.pool.push(decls);
                    return Ok(());
                }
            }
            last_was_ptr = is_ptr;
        }
        self.emit_name(fname, last_was_ptr);
        self.pool.push(decls);
        Ok(())
    }

    /// A prototype's parameter list from its `(`.
    fn out_params_start(&mut self, stack: &mut Vec<OutTask<'a>>, p: &'a FuncProto, lvl: usize) -> Result<()> {
        self.p(b"(");
        // Debian's bpftool 7.1 carries libbpf's later fix (205e86de):
        // no-args prototypes print `(void)`.
        if !self.upstream && p.params.is_empty() {
            self.p(b"void)");
            return Ok(());
        }
        if p.params.len() == 1 && p.params[0].ty.0 == 0 {
            self.p(if self.upstream { b")" } else { b"void)" });
            return Ok(());
        }
        self.out_params(stack, &p.params, 0, lvl)
    }

    /// Parameters from `next` on, and the list's `)`. A parameter whose
    /// declaration leaves work on the stack puts the rest of the list
    /// under that work.
    fn out_params(&mut self, stack: &mut Vec<OutTask<'a>>, params: &'a [Param], next: usize, lvl: usize) -> Result<()> {
        let mut next = next;
        while let Some(prm) = params.get(next) {
            if next > 0 {
                self.p(b", ");
            }
            if next + 1 == params.len() && prm.ty.0 == 0 {
                self.p(b"...");
                break;
            }
            next += 1;
            let base = stack.len();
            let decls = self.decl_chain(prm.ty.0)?;
            self.out_chain(stack, decls, FieldName::Str(self.name(prm.name_off)), lvl, true, b"")?;
            if stack.len() != base {
                return push_under(stack, base, OutTask::Params { params, next, lvl }, self.max_frames, prm.ty.0);
            }
        }
        self.p(b")");
        Ok(())
    }
}
