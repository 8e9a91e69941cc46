//! C header output, byte-identical to Debian's bpftool 7.1 `btf dump file F
//! format c` (libbpf 1.1's `btf_dump.c` as shipped in Linux 6.1; see
//! [`Options`]), plus bpftool 7.5's sorted order as an option (the order
//! only: 7.5's extra `__ksym`/`__weak` prelude and kfunc prototypes are not
//! printed) and bpftool's `root_id` selection.
//!
//! The algorithm follows libbpf's: types are visited in id order (or the
//! given root/sorted order); for each, a topological ordering pass
//! (`ordering`, libbpf's `btf_dump_order_type`) queues the named definitions it needs, then each
//! queued type is emitted (`emission`) with forward declarations
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
//!
//! The files follow libbpf's `btf_dump.c` sections: `sort` (bpftool's
//! sorted order), `ordering` (`btf_dump_order_type`), `emission`
//! (`btf_dump_emit_type` and the definitions), `declarators` (type
//! declarations, parameter lists, member lines), `layout` (size,
//! alignment, packing, bit padding) and `names` (`___N` suffixes); this file
//! holds the entry points, the dumper's state and its bounds.

mod declarators;
mod emission;
mod layout;
mod names;
mod ordering;
mod sort;

pub use sort::{disambig_hash, sort_name, sorted_order, str_hash, type_rank};

use declarators::OutTask;
use emission::EmitFrame;
use ordering::OrderFrame;

use std::collections::HashMap;

use crate::btf::{Btf, Composite, FuncProto, Layout, Member, Param, StrOff, Type, TypeId, TypeKind};
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
#[non_exhaustive]
pub struct Options {
    /// bpftool 7.5+'s sorted order instead of id order.
    pub sort: bool,
    /// Only these types and what they depend on (bpftool's `root_id`), in
    /// this order. Empty: every type.
    pub roots: Vec<TypeId>,
    /// Plain libbpf v1.1.x output instead of Debian bpftool 7.1's.
    pub upstream_libbpf_1_1: bool,
}

impl Options {
    /// bpftool 7.5+'s sorted order (`true`) or id order.
    pub fn with_sort(mut self, sort: bool) -> Options {
        self.sort = sort;
        self
    }

    /// Only these types and what they depend on, in this order.
    pub fn with_roots(mut self, roots: Vec<TypeId>) -> Options {
        self.roots = roots;
        self
    }

    /// Plain libbpf v1.1.x output (`true`) instead of Debian bpftool 7.1's.
    pub fn with_upstream_libbpf_1_1(mut self, upstream: bool) -> Options {
        self.upstream_libbpf_1_1 = upstream;
        self
    }
}

const HEADER: &str = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n";
const FOOTER: &str =
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// Resolves a `--root` argument: a type id, or the name of a type (the
/// first type with that name, in id order).
pub fn resolve_root(btf: &Btf, arg: &str) -> Result<TypeId> {
    if let Ok(n) = arg.parse::<u32>() {
        if n == 0 || n >= btf.type_count() {
            return Err(Error::BadRoot { id: TypeId(n), count: btf.type_count() });
        }
        return Ok(TypeId(n));
    }
    btf.find_by_name(arg).ok_or_else(|| Error::NoTypeNamed { name: arg.to_string() })
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
            return Err(Error::BadRoot { id: *r, count: btf.type_count() });
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
                d.dump_type(id.0)?;
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
    out.write_all(&buf).map_err(Error::Write)?;
    r
}

fn ty(btf: &Btf, id: u32) -> Option<&Type> {
    if id == 0 { None } else { btf.type_by_id(TypeId(id)) }
}

fn name_of(btf: &Btf, off: StrOff) -> &[u8] {
    btf.str_bytes(off).unwrap_or(b"")
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
        return Err(Error::WalkTooDeep { id: TypeId(id), walk: "C dump walk", max });
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
    /// [`OutTask`]; alignment walks keep theirs in [`Layout`]).
    order_stack: Vec<OrderFrame<'a>>,
    emit_stack: Vec<EmitFrame<'a>>,
    out_stack: Vec<OutTask<'a>>,
    /// Deepest walk stack accepted (see [`max_frames`]).
    max_frames: usize,
    /// Plain libbpf 1.1 flavour (see [`Options`]).
    upstream: bool,
    /// Sizes and alignments (memoized `btf__align_of`).
    layout: Layout<'a>,
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
    let own = btf.type_section_len() as u64 + btf.strings().len() as u64;
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

/// Counts one walk step at type `id` against `work_limit`, and checks the
/// output written so far against `out_limit`.
#[inline]
fn check_step(work: &mut u64, work_limit: u64, out_len: usize, out_limit: usize, id: u32) -> Result<()> {
    *work += 1;
    if *work > work_limit {
        return Err(Error::WorkLimit { id: TypeId(id), limit: work_limit });
    }
    if out_len > out_limit {
        return Err(Error::OutputLimit { id: TypeId(id), limit: out_limit, why: "type graph blows up".into() });
    }
    Ok(())
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
            ptr_sz: btf.pointer_size(),
            st,
            cached: HashMap::default(),
            type_names: HashMap::with_capacity_and_hasher(n / 4, Fnv),
            ident_names: HashMap::with_capacity_and_hasher(n / 4, Fnv),
            queue: Vec::new(),
            out: Vec::with_capacity((n * 48).clamp(1 << 16, 64 << 20)),
            layout: Layout::new(btf),
            upstream: false,
            pool: Vec::new(),
            order_stack: Vec::new(),
            emit_stack: Vec::new(),
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

    fn name(&self, off: StrOff) -> &'a [u8] {
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
    #[inline]
    fn step(&mut self, id: u32) -> Result<()> {
        check_step(&mut self.work, self.work_limit, self.out.len(), self.out_limit, id)
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
            return Err(Error::TypeCycle { id: TypeId(id) });
        }
        let q = std::mem::take(&mut self.queue);
        for &qid in &q {
            self.emit_type(qid, 0)?;
        }
        self.queue = q;
        Ok(())
    }
}
