//! Merging and deduplicating inputs where later members are byte-for-byte
//! copies of earlier ones (an archive given twice, the same file passed
//! several times), with the result of the whole merge but without the work
//! and memory of every copy.
//!
//! libbpf's dedup is not idempotent on copies: a copy's VARs and DATASECs
//! are never deduplicated, and processing a copy can re-point a canonical
//! forward declaration (`tests/dedup_unit.rs`,
//! `a_copy_of_a_unit_can_change_the_result`). So copies are not simply
//! dropped. The merge is split as `P ++ Q`, where every member of `Q` is a
//! copy of a member of `P` (copies inside `P` are merged as they are). The
//! dedup runs on `P` plus `Q1`, the first copy in `Q` of each distinct
//! member, and watches each of those first copies, pass by pass:
//!
//! - it must leave every type id below it resolving to the same canonical
//!   type as before (and mapped where it was), and
//! - it must add no canonical type (VAR and DATASEC are always their own).
//!
//! `Q1`'s types get ids after `P`'s but are not kept: for its turn in a
//! pass, a first copy's types are made from its original's (a window), with
//! the original reference slots saved before the reference pass rewrites
//! them. So memory follows `P` (plus the map's 8 bytes per `Q1` id), not the
//! input.
//!
//! Each pass decides from the resolved map (where ids resolve, and whether
//! they are mapped yet), the candidate table and the types' contents only (a first copy's turn reads only its own types and
//! `P`'s; asking for any other type fails its check). When every first copy passes its checks, a later
//! copy of the same member starts its turn in a state that resolves alike
//! with an identical candidate table, so it takes the same decisions with
//! its own ids, also changes nothing, and maps every type where its first
//! copy's twin maps. The whole merge's result is then `P`'s canonical types
//! followed by every `Q` member's VARs and DATASECs in order: the first
//! copies' ones, repeated with their references to each other shifted. When
//! a check fails, the caller merges everything and deduplicates that; so it
//! does up front when a FWD carries a non-zero size/type word (libbpf remaps
//! it as an id of the whole merge) or when the whole merge has too many
//! types.
//!
//! With more than one thread, the prim and struct passes run along the
//! merge, member by member, on a thread of their own (see
//! [`super::Stream`]): the merge moves each member's merged types there (a
//! copy inside `P` is made there from its original) and goes on with the
//! next member while the passes run over this one; at the end the types
//! come back, and the dedup (with or without a plan) runs the remaining
//! passes.
//!
//! Copies are recognised by a BLAKE3 digest of their raw bytes, before they
//! are parsed. A copy inside `P` is made from the merged types of its
//! original (type ids shifted; the strings are those already interned),
//! as appending it would have made it.

use std::collections::HashMap;

use super::append::Merger;
use super::{Dedup, DedupOptions, DedupStats, MergeStats, Stream};
use crate::btf::{Btf, MAX_TYPE_ID, Type, TypeId, TypeKind};
use crate::error::{Error, Result};
use crate::feed::{Digest, Fed, Seen};

/// Where a member's types landed in the merge.
#[derive(Clone, Copy)]
struct Orig {
    first: u32,
    len: u32,
    str_bytes: usize,
    /// It has a FWD with a non-zero size/type word.
    fwd_word: bool,
}

/// The part of a merge left out of the dedup: `q_start` is the first id
/// of `Q1` (see the module documentation; its members' ids follow one
/// another), `q1` its members as their originals' id ranges in `P` (first
/// id, count), `order` every `Q` member in order as an index into `q1`.
pub(crate) struct CopyPlan {
    pub(crate) q_start: u32,
    pub(crate) q1: Vec<(u32, u32)>,
    pub(crate) order: Vec<u32>,
}

/// What a [`CopyMerger`] merged: the merge of `P`, the plan for the copies
/// after it (if any), the stats, and every member's own type indices.
struct Merged {
    btf: Btf,
    plan: Option<CopyPlan>,
    stats: MergeStats,
    ranges: Vec<std::ops::Range<usize>>,
    /// Member 0 was appended too (no base): every type was appended or
    /// copied from appended ones, so its ids and strings were checked.
    appended: bool,
    /// The passes streamed along the merge, when they still hold.
    stream: Option<Stream>,
}

/// A [`Merger`] that takes [`Fed`] members and holds back trailing copies.
#[derive(Default)]
struct CopyMerger {
    merger: Option<Merger>,
    origs: HashMap<Digest, Orig>,
    /// Copies not followed (yet) by a new member.
    pending: Vec<Digest>,
    stats: MergeStats,
    /// Whether member 0, when kept as parsed (with a base: its strings not
    /// re-interned), may be cloned.
    member0_ok: Option<bool>,
    /// Member 0's strings were interned too (no base).
    interned0: bool,
    /// A copy could not be materialised exactly: merge everything instead.
    need_full: bool,
    /// Every member merged, in order, as indices of the merged own types.
    ranges: Vec<std::ops::Range<usize>>,
    /// A FWD with a non-zero size/type word was merged: the dedup remaps
    /// that word like a type id of the whole merge, which a plan (ids of
    /// `P ++ Q1`) cannot stand for.
    fwd_words: bool,
    /// The prim and struct passes, run member by member as they are
    /// merged, on a thread of their own that the merged types are moved to;
    /// when they are back, the stream, if it still holds.
    piped: Option<Piped>,
    stream: Option<Stream>,
}

/// A [`Stream`] on a thread of its own: the merge moves each member's
/// merged types there (see [`Merger::detach`]) and goes on with the next
/// member while the passes run over this one.
struct Piped {
    /// Both `Some` until [`Piped::stop`] or the drop.
    tx: Option<std::sync::mpsc::Sender<Msg>>,
    thread: Option<std::thread::JoinHandle<Stream>>,
    /// Set when the passes are no longer wanted (the merge failed or will
    /// be redone): the thread then only empties its queue.
    abort: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What the merge sends the passes' thread, member by member, in order:
/// the merged types (its own type indices, the types), or the copy to make
/// of earlier ones (its indices, the original's, how far ids move).
enum Msg {
    Types(std::ops::Range<usize>, Vec<Type>),
    Copy(std::ops::Range<usize>, std::ops::Range<usize>, u32),
}

impl Piped {
    /// `None` when no thread can be made (the stream is then dropped: the
    /// whole merge is deduplicated at the end).
    fn start(mut s: Stream) -> Option<Piped> {
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        let abort = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let aborted = abort.clone();
        let thread = std::thread::Builder::new()
            .name("btfkit-passes".into())
            .spawn(move || {
                for msg in rx {
                    if aborted.load(std::sync::atomic::Ordering::Relaxed) {
                        continue;
                    }
                    match msg {
                        Msg::Types(range, types) => {
                            s.add(types);
                            s.pass(range);
                        }
                        Msg::Copy(range, orig, delta) => {
                            let copied = match s.types().get(orig) {
                                Some(src) => src.iter().map(|t| shifted(t, 1, delta)).collect(),
                                // Cannot happen; the merge then reports lost types.
                                None => Vec::new(),
                            };
                            s.add(copied);
                            s.pass(range);
                        }
                    }
                }
                s
            })
            .ok()?;
        Some(Piped { tx: Some(tx), thread: Some(thread), abort })
    }

    /// Waits for the passes to catch up; the stream, holding every type
    /// sent (`None` cannot happen: the thread is there until now).
    fn stop(mut self) -> Option<Stream> {
        drop(self.tx.take());
        match self.thread.take()?.join() {
            Ok(s) => Some(s),
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    fn send(&self, msg: Msg) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(msg).is_ok())
    }
}

impl Drop for Piped {
    /// Not stopped (an error, or a merge to redo): the passes' work is not
    /// wanted; the thread empties its queue without it and ends.
    fn drop(&mut self) {
        self.abort.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl CopyMerger {
    /// With the passes streamed along the merge on a thread of their own
    /// when the thread pool has more than one thread (on one, the passes
    /// run after the merge, with the caches to themselves).
    fn new(opts: &DedupOptions) -> CopyMerger {
        let piped = match Stream::new(opts) {
            Some(s) if rayon::current_num_threads() > 1 => Piped::start(s),
            _ => None,
        };
        CopyMerger { piped, ..CopyMerger::default() }
    }

    fn add(&mut self, m: Fed) -> Result<()> {
        if self.need_full {
            return Ok(());
        }
        self.stats.members += 1;
        match m {
            Fed::Copy(d) => {
                let Some(o) = self.origs.get(&d) else {
                    return Err(Error::Dedup { id: TypeId(0), why: "a copy of a BTF not fed before".into() });
                };
                self.stats.types_in += o.len as usize;
                self.stats.str_bytes_in += o.str_bytes;
                self.pending.push(d);
            }
            Fed::New(b, d, refs) => {
                for p in std::mem::take(&mut self.pending) {
                    if self.materialize(&p)?.is_none() {
                        self.need_full = true;
                        // Everything is merged again: drop the passes' work.
                        self.piped = None;
                        return Ok(());
                    }
                }
                self.stats.types_in += b.types().len();
                self.stats.str_bytes_in += b.strings().len();
                let fwd_word =
                    b.types().iter().any(|t| matches!(t.kind, TypeKind::Fwd { .. }) && t.quirks().size_or_type != 0);
                self.fwd_words |= fwd_word;
                let (len, str_bytes) = (b.types().len() as u32, b.strings().len());
                let first = match &mut self.merger {
                    None if b.base().is_none() => {
                        // Member 0's strings are interned like every other
                        // member's (its header, endianness and layout kept):
                        // the merged strings are then those the types use, in
                        // first-reference order, which is what the dedup's
                        // string pass would make of them.
                        let mut b = b;
                        let mut src = Btf::new();
                        *src.types_mut() = std::mem::take(b.types_mut());
                        *src.strings_mut() = std::mem::replace(b.strings_mut(), Btf::new().strings().clone());
                        let mut m = Merger::new(b);
                        let first = m.append_with(src, refs.as_ref())?.0;
                        self.merger = Some(m);
                        self.interned0 = true;
                        first
                    }
                    None => {
                        let first = b.start_id().0;
                        self.merger = Some(Merger::new(b));
                        first
                    }
                    Some(m) => m.append_with(b, refs.as_ref())?.0,
                };
                if let Some(d) = d {
                    self.origs.entry(d).or_insert(Orig { first, len, str_bytes, fwd_word });
                }
                self.note_range(first, len, None)?;
            }
        }
        Ok(())
    }

    /// Appends a copy of the member with digest `d`, as appending its
    /// parsed self would; `None` when that cannot be done exactly.
    fn materialize(&mut self, d: &Digest) -> Result<Option<(u32, u32)>> {
        let Some(o) = self.origs.get(d).copied() else { return Ok(None) };
        if !self.cloneable(o) {
            return Ok(None);
        }
        let Some(m) = self.merger.as_mut() else { return Ok(None) };
        let start = m.btf().start_id().0;
        let lo = (o.first - start) as usize;
        let first = m.next_id();
        if o.len > 0 && first as u64 + o.len as u64 - 1 > MAX_TYPE_ID as u64 {
            return Err(Error::TooManyTypes((first as u64 + o.len as u64 - 1) as usize));
        }
        if self.piped.is_some() {
            // The original's types are with the passes: the copy is made there.
            m.skip(o.len);
            self.note_range(first, o.len, Some((lo..lo + o.len as usize, first - o.first)))?;
            return Ok(Some((first, o.len)));
        }
        let btf = m.btf_mut();
        let Some(src) = btf.types().get(lo..lo + o.len as usize) else { return Ok(None) };
        let copied: Vec<Type> = src.iter().map(|t| shifted(t, start, first - o.first)).collect();
        crate::btf::unchecked::types_mut(btf).extend(copied);
        self.note_range(first, o.len, None)?;
        Ok(Some((first, o.len)))
    }

    /// Records the member just merged (ids from `first`), and hands it to
    /// the passes; `copy`: it is a copy, not yet made, of the own types
    /// `copy.0`, ids moved by `copy.1` (only while the passes have a thread).
    fn note_range(&mut self, first: u32, len: u32, copy: Option<(std::ops::Range<usize>, u32)>) -> Result<()> {
        let Some(m) = &mut self.merger else { return Ok(()) };
        let lo = (first - m.btf().start_id().0) as usize;
        let range = lo..lo + len as usize;
        self.ranges.push(range.clone());
        if m.btf().base().is_some() {
            // The stream is for a merge without a base.
            self.rejoin()?;
            self.stream = None;
            return Ok(());
        }
        if self.piped.is_some() {
            let msg = match copy {
                Some((orig, delta)) => Msg::Copy(range, orig, delta),
                None => Msg::Types(range, m.detach()),
            };
            self.send(msg)?;
        }
        Ok(())
    }

    /// Sends `msg` to the passes' thread, if there is one.
    fn send(&mut self, msg: Msg) -> Result<()> {
        let Some(p) = &self.piped else { return Ok(()) };
        if !p.send(msg) {
            // The thread is gone: it panicked, and `stop` says so.
            if let Some(p) = self.piped.take() {
                p.stop();
            }
            return Err(lost_types());
        }
        Ok(())
    }

    /// Brings the passes' thread, if any, back: its types return to the
    /// merge, and its stream is kept when it still holds.
    fn rejoin(&mut self) -> Result<()> {
        let Some(p) = self.piped.take() else { return Ok(()) };
        let Some(mut s) = p.stop() else { return Err(lost_types()) };
        let types = s.take_types();
        if let Some(m) = &mut self.merger
            && !m.reattach(types)
        {
            return Err(lost_types());
        }
        self.stream = s.ok().then_some(s);
        Ok(())
    }

    /// Whether a copy of `o` made from its merged types is what appending
    /// the copy parsed would give.
    fn cloneable(&mut self, o: Orig) -> bool {
        let Some(m) = self.merger.as_ref() else { return false };
        let start = m.btf().start_id().0;
        // libbpf shifts a FWD's size/type word unchecked; only a member
        // whose parsed words are all 0 is copied alike here.
        if o.fwd_word {
            return false;
        }
        // Member 0 keeps its parsed string offsets; a copy appended would
        // re-intern them. Alike only when each offset is where interning
        // its string lands.
        self.interned0
            || o.first != start
            || o.len == 0
            || *self.member0_ok.get_or_insert_with(|| member0_interns_alike(m, o))
    }

    /// The merge of `P` and the plan for `Q` (`None`: no trailing copies,
    /// or a base, so the merge is the whole merge); `Ok(None)` when
    /// everything must be merged instead.
    fn finish(mut self) -> Result<Option<Merged>> {
        self.rejoin()?;
        if self.need_full {
            return Ok(None);
        }
        let pending = std::mem::take(&mut self.pending);
        let has_base = self.merger.as_ref().is_some_and(|m| m.btf().base().is_some());
        // The whole merge's last id, copies included: past the limit, the
        // whole merge fails, so merge everything and let it say so.
        let pending_len: u64 = pending.iter().filter_map(|p| self.origs.get(p)).map(|o| o.len as u64).sum();
        let whole_end = self.merger.as_ref().map_or(1, |m| m.btf().type_count()) as u64 + pending_len;
        if whole_end > MAX_TYPE_ID as u64 + 1 || (!pending.is_empty() && self.fwd_words) {
            return Ok(None);
        }
        let plan = if pending.is_empty() {
            None
        } else if has_base {
            for p in &pending {
                if self.materialize(p)?.is_none() {
                    return Ok(None);
                }
            }
            None
        } else {
            let q_start = self.merger.as_ref().map_or(1, |m| m.btf().type_count());
            let mut index: HashMap<Digest, u32> = HashMap::new();
            let mut q1 = Vec::new();
            let mut order = Vec::with_capacity(pending.len());
            let mut q_len = 0u64;
            for p in &pending {
                let k = match index.get(p) {
                    Some(&k) => k,
                    None => {
                        let Some(o) = self.origs.get(p).copied() else { return Ok(None) };
                        if !self.cloneable(o) {
                            return Ok(None);
                        }
                        q_len += o.len as u64;
                        q1.push((o.first, o.len));
                        index.insert(*p, q1.len() as u32 - 1);
                        q1.len() as u32 - 1
                    }
                };
                order.push(k);
            }
            // The first copies' ids must exist, as in the whole merge.
            if q_start as u64 + q_len > MAX_TYPE_ID as u64 + 1 {
                return Err(Error::TooManyTypes((q_start as u64 + q_len - 1) as usize));
            }
            self.stats.copies_left_out = order.len() - q1.len();
            Some(CopyPlan { q_start, q1, order })
        };
        let merger = self.merger.ok_or(Error::NothingToMerge)?;
        let mut btf = merger.finish();
        if self.interned0 {
            btf.set_strs_deduped(true);
        }
        Ok(Some(Merged {
            btf,
            plan,
            stats: self.stats,
            ranges: self.ranges,
            appended: self.interned0,
            stream: self.stream,
        }))
    }
}

fn member0_interns_alike(m: &Merger, o: Orig) -> bool {
    let btf = m.btf();
    let str_start = btf.start_str_off();
    let lo = (o.first - btf.start_id().0) as usize;
    let Some(types) = btf.types().get(lo..lo + o.len as usize) else { return false };
    let mut ok = true;
    for t in types {
        t.for_each_str(|off, _| {
            if !ok || off.get() == 0 {
                return;
            }
            let Some(s) = btf.str_bytes(off) else {
                ok = false;
                return;
            };
            ok = match btf.base().and_then(|b| b.find_str(s)) {
                Some(b) => b == off,
                None => off.get() >= str_start && m.interns_at(s, off.get() - str_start),
            };
        });
        if !ok {
            break;
        }
    }
    ok
}

/// `t` with every own type id (`>= start`, not VOID) moved by `delta`.
fn shifted(t: &Type, start: u32, delta: u32) -> Type {
    let mut t = t.clone();
    t.for_each_ref_mut(|r| {
        if r.0 >= start {
            r.0 = r.0.wrapping_add(delta);
        }
    });
    t
}

/// The reference slots of the reference types of every first copy's
/// original, in order, before the reference pass rewrites them.
pub(super) fn save_ref_slots(d: &Dedup, p: &CopyPlan) -> Vec<Vec<u32>> {
    p.q1.iter()
        .map(|&(orig, n)| {
            let mut v = Vec::new();
            for id in orig..orig + n {
                let Some(t) = d.t(id) else { continue };
                if super::is_ref_kind(t) {
                    v.extend((0..).map_while(|k| super::ref_slot(t, k)));
                }
            }
            v
        })
        .collect()
}

/// Makes the window of the first copy `p.q1[k]` (ids from `first`) from
/// its original's types; `saved`: the original reference slots, in the
/// reference pass.
pub(super) fn load_window(d: &mut Dedup, p: &CopyPlan, k: usize, first: u32, saved: Option<&Vec<Vec<u32>>>) {
    let (orig, n) = p.q1[k];
    let lo = (orig - d.start) as usize;
    let mut win = std::mem::take(&mut d.win);
    win.clear();
    let delta = first.wrapping_sub(orig);
    let mut slots = saved.and_then(|s| s.get(k)).map(|v| v.iter().copied());
    for t in d.own.get(lo..lo + n as usize).unwrap_or_default() {
        let mut t = t.clone();
        if let Some(slots) = &mut slots
            && super::is_ref_kind(&t)
        {
            let mut k = 0;
            while super::ref_slot(&t, k).is_some() {
                if let Some(v) = slots.next() {
                    super::set_ref_slot(&mut t, k, v);
                }
                k += 1;
            }
        }
        win.push(shifted(&t, d.start, delta));
    }
    d.win = win;
    d.win_first = first;
}

/// The compaction of a planned dedup (see the module documentation):
/// checks that no first copy has a canonical type besides VARs and
/// DATASECs, compacts `P`, then lays out every `Q` member's VARs and
/// DATASECs. `Ok(None)`: a first copy kept a type of its own.
pub(super) fn compact_planned(d: &mut Dedup, p: &CopyPlan) -> Result<Option<Vec<Type>>> {
    // Each first copy's VARs and DATASECs (canonical by definition): the
    // ids of its window.
    let mut kept: Vec<Vec<u32>> = Vec::with_capacity(p.q1.len());
    let mut first = p.q_start;
    for &(orig, n) in &p.q1 {
        let mut ids = Vec::new();
        for i in 0..n {
            let id = first + i;
            if d.map.get(id as usize) == Some(&id) {
                if !d.t(orig + i).is_some_and(super::is_var_or_datasec) {
                    return Ok(None);
                }
                ids.push(id);
            }
        }
        kept.push(ids);
        first += n;
    }
    let start = d.start;
    // Their types, made from the originals before the compaction takes
    // `own` (VARs and DATASECs are not rewritten by the passes).
    let mut first = p.q_start;
    let mut vd: Vec<Vec<Type>> = Vec::with_capacity(p.q1.len());
    for (&(orig, n), ids) in p.q1.iter().zip(&kept) {
        let mut v = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(t) = d.t(orig + (id - first)) else {
                return Err(Error::Dedup { id: TypeId(id), why: "copy plan: type out of range".into() });
            };
            v.push(shifted(t, start, first.wrapping_sub(orig)));
        }
        vd.push(v);
        first += n;
    }
    let mut out = d.compact_and_remap()?;
    // `d.hypot` is now old id -> new id for the canonical types of `P`.
    for &k in &p.order {
        let (ids, types) = (&kept[k as usize], &vd[k as usize]);
        let block = start + out.len() as u32;
        for t in types {
            let mut t = t.clone();
            let mut bad = None;
            t.for_each_ref_mut(|r| {
                if let Ok(j) = ids.binary_search(&r.0) {
                    r.0 = block + j as u32;
                } else {
                    match d.hypot.get(d.resolve(r.0) as usize).copied().filter(|&n| super::is_mapped_val(n)) {
                        Some(n) => r.0 = n,
                        None => {
                            bad.get_or_insert(r.0);
                        }
                    }
                }
            });
            if let Some(r) = bad {
                return Err(Error::Dedup { id: TypeId(r), why: "no canonical type after dedup".into() });
            }
            out.push(t);
        }
    }
    Ok(Some(out))
}

/// Merges the BTFs that `feed` hands over and deduplicates the merge: the
/// BTF that [`super::merge_all`] followed by [`Btf::dedup`] with `opts`
/// gives, byte for byte, but trailing members that are copies of earlier
/// ones are neither parsed nor kept (see the module documentation). Errors
/// are those of the merge and the dedup; their wording may differ from the
/// two-step path's.
///
/// `feed` gets a [`Seen`] and the sink: it computes each BTF's
/// [`Digest`] (when [`Seen::enabled`]), asks [`Seen::is_copy`] and hands
/// over [`Fed::Copy`] or the parsed [`Fed::New`], in order (what
/// [`crate::input::Loader::for_each_member_fed`] does for a file). It is
/// called a second time, with copies disabled, when the copies' checks fail
/// or the dedup of the shortened merge fails (so that an error names the
/// ids of the whole merge), and must then hand over the same BTFs. A feed
/// that never reports a copy (e.g. one reading a pipe) is called once.
pub fn dedup_fed<F>(feed: F, opts: &DedupOptions) -> Result<(Btf, MergeStats, DedupStats)>
where
    F: Fn(&mut Seen, &mut (dyn FnMut(Fed) -> Result<()> + Send)) -> Result<()>,
{
    let fast = {
        let mut cm = CopyMerger::new(opts);
        feed(&mut Seen::new(), &mut |m| cm.add(m))?;
        match cm.finish()? {
            None => None,
            Some(Merged { mut btf, plan: None, stats: mut mstats, ranges, appended, stream }) => {
                let (stats, streamed) =
                    btf.dedup_inner(opts, None, Some(&ranges), appended, stream)?.ok_or_else(no_plan)?;
                mstats.passes_streamed = streamed;
                return Ok((btf, mstats, stats));
            }
            Some(Merged { mut btf, plan: Some(plan), stats: mut mstats, ranges, appended, stream }) => {
                match btf.dedup_inner(opts, Some(&plan), Some(&ranges), appended, stream) {
                    Ok(Some((mut stats, streamed))) => {
                        stats.types_in = mstats.types_in;
                        mstats.passes_streamed = streamed;
                        Some((btf, mstats, stats))
                    }
                    Ok(None) | Err(_) => None,
                }
            }
        }
    };
    if let Some(done) = fast {
        return Ok(done);
    }
    let mut cm = CopyMerger::new(opts);
    feed(&mut Seen::disabled(), &mut |m| cm.add(m))?;
    let Some(Merged { mut btf, stats: mut mstats, ranges, appended, stream, .. }) = cm.finish()? else {
        return Err(Error::Dedup { id: TypeId(0), why: "a copy fed with copies disabled".into() });
    };
    let (stats, streamed) = btf.dedup_inner(opts, None, Some(&ranges), appended, stream)?.ok_or_else(no_plan)?;
    mstats.passes_streamed = streamed;
    Ok((btf, mstats, stats))
}

/// A type count that does not add up when the merged types come back
/// from the passes' thread (cannot happen).
fn lost_types() -> Error {
    Error::Dedup { id: TypeId(0), why: "internal: merged types lost between threads".into() }
}

/// `Ok(None)` from a dedup without a copy plan (cannot happen).
pub(super) fn no_plan() -> Error {
    Error::Dedup { id: TypeId(0), why: "internal: a copy check without a copy plan".into() }
}
