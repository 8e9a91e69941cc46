//! Questions a BPF loader asks of a BTF: which type has this name and kind
//! ([`TypeIndex`]), what a typedef or modifier stands for
//! ([`Btf::resolve`]), how big and how aligned a type is ([`Layout`],
//! [`Btf::size_of`], [`Btf::align_of`]), and where a member lies
//! ([`Btf::find_member`], [`Btf::member_offset`]).
//!
//! Sizes and alignments follow libbpf (`btf__resolve_size`,
//! `btf__align_of`, `determine_ptr_size`), which the C dumper also uses, so
//! they agree with the layout of a `vmlinux.h` as a C compiler sees it.
//! Every walk is a loop or an explicit stack, bounded whatever the input.

use std::collections::HashMap;

use super::{Btf, Composite, Kind, Member, Type, TypeId, TypeKind};
use crate::error::{Error, Result};

/// Most typedef/modifier/array steps [`Btf::resolve`] and the size
/// computation follow (libbpf's `MAX_RESOLVE_DEPTH`).
pub const MAX_RESOLVE_DEPTH: usize = 32;

impl Btf {
    /// The type behind typedefs, CONST/VOLATILE/RESTRICT, TYPE_TAG, VAR and
    /// DECL_TAG (libbpf's `btf__resolve_type`): `id` itself when it is none
    /// of those. `None` for an invalid id or a chain longer than
    /// [`MAX_RESOLVE_DEPTH`]; `Some(TypeId::VOID)` when the chain ends at void.
    pub fn resolve(&self, id: TypeId) -> Option<TypeId> {
        let mut id = id;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            if id == TypeId::VOID {
                return Some(id);
            }
            match &self.type_by_id(id)?.kind {
                TypeKind::Typedef(n)
                | TypeKind::Volatile(n)
                | TypeKind::Const(n)
                | TypeKind::Restrict(n)
                | TypeKind::Var { ty: n, .. }
                | TypeKind::DeclTag { ty: n, .. }
                | TypeKind::TypeTag { ty: n, .. } => id = *n,
                _ => return Some(id),
            }
        }
        None
    }

    /// The size of a pointer in this BTF's target (libbpf's
    /// `determine_ptr_size`): the size of the first 4- or 8-byte INT named
    /// like `long`/`unsigned long`, else 8. Looks at types in id order until
    /// it finds one (in a vmlinux, among the first few).
    pub fn pointer_size(&self) -> u32 {
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
        for id in 1..self.type_count() {
            if let Some(Type { name_off, kind: TypeKind::Int(i), .. }) = self.type_by_id(TypeId(id)) {
                if i.size != 4 && i.size != 8 {
                    continue;
                }
                if LONGS.contains(&self.str_bytes(*name_off).unwrap_or(b"")) {
                    return i.size;
                }
            }
        }
        8
    }

    /// The size in bytes of type `id` (libbpf's `btf__resolve_size`): through
    /// typedefs and modifiers, arrays multiplied out, pointers of
    /// [`Btf::pointer_size`]. `None` for void, FUNC, FUNC_PROTO, FWD, an
    /// invalid id, a chain past [`MAX_RESOLVE_DEPTH`] or a size over 4 GiB.
    /// For many queries, make one [`Layout`].
    pub fn size_of(&self, id: TypeId) -> Option<u32> {
        resolve_size(self, self.pointer_size(), id)
    }

    /// The alignment in bytes of type `id` (libbpf's `btf__align_of`): a
    /// scalar's own size capped at the pointer size, a struct's largest
    /// member alignment, 1 for a packed struct. `None` for void, FUNC,
    /// FUNC_PROTO, FWD, DATASEC, VAR and invalid ids. For many queries, make
    /// one [`Layout`] (it remembers what it computed).
    pub fn align_of(&self, id: TypeId) -> Option<u32> {
        Layout::new(self).align_of(id)
    }

    /// Member `name` of the STRUCT/UNION `id` (typedefs and modifiers
    /// resolved first), looked for as C does: in declaration order, and
    /// inside anonymous struct/union members too. The location is relative
    /// to the start of `id`. `None` if `id` is not a struct/union or has no
    /// such member.
    pub fn find_member(&self, id: TypeId, name: &str) -> Option<MemberLoc> {
        let id = self.resolve(id)?;
        let want = name.as_bytes();
        if want.is_empty() {
            return None;
        }
        // Depth-first over anonymous members with an explicit stack; an
        // anonymous type already searched (reached again through another
        // member) does not hold the name either, so each is searched once.
        let mut searched: Vec<TypeId> = Vec::new();
        let mut stack: Vec<(&Composite, usize, u32)> = vec![(self.type_by_id(id)?.as_composite()?, 0, 0)];
        while let Some((c, next, base)) = stack.pop() {
            let Some(m) = c.members.get(next) else { continue };
            stack.push((c, next + 1, base));
            let bit_offset = base.checked_add(c.bit_offset(m))?;
            if !m.name_off.is_empty() {
                if self.str_bytes(m.name_off) == Some(want) {
                    return Some(MemberLoc { ty: m.ty, bit_offset, bitfield_size: c.bitfield_size(m) });
                }
                continue;
            }
            let Some(inner) = self.resolve(m.ty) else { continue };
            if searched.contains(&inner) {
                continue;
            }
            if let Some(ic) = self.type_by_id(inner).and_then(Type::as_composite) {
                searched.push(inner);
                stack.push((ic, 0, bit_offset));
            }
        }
        None
    }

    /// A member reached through a dotted path of member names from the
    /// STRUCT/UNION `id` (`"sk.__sk_common.skc_family"`), each step as
    /// [`Btf::find_member`]; the offsets add up. Steps go through members
    /// held by value (not through pointers). `None` if a step fails.
    pub fn member_offset(&self, id: TypeId, path: &str) -> Option<MemberLoc> {
        let mut loc = MemberLoc { ty: id, bit_offset: 0, bitfield_size: 0 };
        for name in path.split('.') {
            let m = self.find_member(loc.ty, name)?;
            loc = MemberLoc {
                ty: m.ty,
                bit_offset: loc.bit_offset.checked_add(m.bit_offset)?,
                bitfield_size: m.bitfield_size,
            };
        }
        Some(loc)
    }

    /// The first type named `name` of kind `kind`, in id order (base types
    /// first). A linear scan: for many lookups, build a [`TypeIndex`].
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<TypeId> {
        (1..self.type_count()).map(TypeId).find(|&id| {
            self.type_by_id(id).is_some_and(|t| {
                !t.name_off.is_empty() && t.kind() == kind && self.str_bytes(t.name_off) == Some(name.as_bytes())
            })
        })
    }

    /// An index of this BTF's types (base included) by name.
    pub fn index(&self) -> TypeIndex<'_> {
        TypeIndex::new(self)
    }
}

/// Where a member lies, as found by [`Btf::find_member`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemberLoc {
    /// The member's type (unresolved: it may be a typedef or modifier).
    pub ty: TypeId,
    /// Offset in bits from the start of the outer type.
    pub bit_offset: u32,
    /// Width in bits of a bitfield; 0 when the member is not a bitfield.
    pub bitfield_size: u32,
}

impl MemberLoc {
    /// The byte offset (the bit offset divided by 8, rounded down: a
    /// bitfield's byte).
    pub fn byte_offset(&self) -> u32 {
        self.bit_offset / 8
    }
}

/// The types of a BTF (base included) by name, for lookups by name and kind
/// in constant time. Built in one pass ([`Btf::index`]); it borrows the BTF,
/// so the BTF cannot change while the index lives.
pub struct TypeIndex<'a> {
    btf: &'a Btf,
    /// Named type ids grouped by name, in id order within a name.
    ids: Vec<TypeId>,
    /// Name → range of `ids`.
    by_name: HashMap<&'a [u8], (u32, u32)>,
}

impl<'a> TypeIndex<'a> {
    /// Indexes every named type of `btf` and of its bases.
    pub fn new(btf: &'a Btf) -> TypeIndex<'a> {
        let mut named: Vec<(&'a [u8], TypeId)> = Vec::new();
        for id in (1..btf.type_count()).map(TypeId) {
            if let Some(t) = btf.type_by_id(id)
                && !t.name_off.is_empty()
                && let Some(name) = btf.str_bytes(t.name_off)
            {
                named.push((name, id));
            }
        }
        // Stable: ids stay in order within a name.
        named.sort_by(|a, b| a.0.cmp(b.0));
        let mut by_name = HashMap::with_capacity(named.len());
        let mut start = 0;
        while start < named.len() {
            let name = named[start].0;
            let mut end = start + 1;
            while end < named.len() && named[end].0 == name {
                end += 1;
            }
            by_name.insert(name, (start as u32, end as u32));
            start = end;
        }
        TypeIndex { btf, ids: named.into_iter().map(|(_, id)| id).collect(), by_name }
    }

    /// The BTF this index is over.
    pub fn btf(&self) -> &'a Btf {
        self.btf
    }

    /// Every type named `name`, in id order.
    pub fn all(&self, name: &str) -> &[TypeId] {
        match self.by_name.get(name.as_bytes()) {
            Some(&(s, e)) => &self.ids[s as usize..e as usize],
            None => &[],
        }
    }

    /// The first type named `name`, in id order.
    pub fn find(&self, name: &str) -> Option<TypeId> {
        self.all(name).first().copied()
    }

    /// The first type named `name` of kind `kind`, in id order.
    pub fn find_kind(&self, name: &str, kind: Kind) -> Option<TypeId> {
        self.all(name).iter().copied().find(|&id| self.btf.type_by_id(id).is_some_and(|t| t.kind() == kind))
    }

    /// The STRUCT named `name` (the common case of a loader relocating a
    /// field access: `find_kind(name, Kind::Struct)`).
    pub fn find_struct(&self, name: &str) -> Option<TypeId> {
        self.find_kind(name, Kind::Struct)
    }
}

/// libbpf's `btf__resolve_size` with a known pointer size.
#[inline]
pub(crate) fn resolve_size(btf: &Btf, ptr_size: u32, id: TypeId) -> Option<u32> {
    let mut id = id;
    let mut nelems: u64 = 1;
    for _ in 0..MAX_RESOLVE_DEPTH {
        let t = if id == TypeId::VOID { None } else { btf.type_by_id(id) }?;
        let size = match &t.kind {
            TypeKind::Int(i) => i.size,
            TypeKind::Struct(c) | TypeKind::Union(c) => c.size,
            TypeKind::Enum(e) => e.size,
            TypeKind::Enum64(e) => e.size,
            TypeKind::Datasec(d) => d.size,
            TypeKind::Float { size } => *size,
            TypeKind::Ptr(_) => ptr_size,
            TypeKind::Typedef(n)
            | TypeKind::Volatile(n)
            | TypeKind::Const(n)
            | TypeKind::Restrict(n)
            | TypeKind::Var { ty: n, .. }
            | TypeKind::DeclTag { ty: n, .. }
            | TypeKind::TypeTag { ty: n, .. } => {
                id = *n;
                continue;
            }
            TypeKind::Array(a) => {
                if nelems != 0 && a.nelems as u64 > u32::MAX as u64 / nelems {
                    return None;
                }
                nelems *= a.nelems as u64;
                id = a.elem;
                continue;
            }
            _ => return None,
        };
        if nelems != 0 && size as u64 > u32::MAX as u64 / nelems {
            return None;
        }
        return u32::try_from(nelems * size as u64).ok();
    }
    None
}

/// A pending alignment of STRUCT/UNION `id`, which was asked for `req` (`id`
/// or a modifier/typedef/array chain ending at it); `pending` is the member
/// whose alignment is being computed.
struct AlignFrame<'a> {
    id: u32,
    req: u32,
    c: &'a Composite,
    next: usize,
    pending: Option<&'a Member>,
    max_align: i32,
}

/// Sizes and alignments of one BTF's types, with the pointer size found
/// once and every alignment remembered (libbpf's `btf__align_of` recomputes
/// a struct's members each time; this computes each type once, so asking
/// for all types takes linear time). Struct members are walked on an
/// explicit stack.
pub struct Layout<'a> {
    btf: &'a Btf,
    ptr_size: u32,
    /// Memoized alignments (-1: not computed; 0: none).
    align: Vec<i32>,
    stack: Vec<AlignFrame<'a>>,
}

impl<'a> Layout<'a> {
    /// Layout queries over `btf`.
    pub fn new(btf: &'a Btf) -> Layout<'a> {
        Layout { btf, ptr_size: btf.pointer_size(), align: vec![-1; btf.type_count() as usize], stack: Vec::new() }
    }

    /// The pointer size used (see [`Btf::pointer_size`]).
    pub fn pointer_size(&self) -> u32 {
        self.ptr_size
    }

    /// As [`Btf::size_of`].
    pub fn size_of(&self, id: TypeId) -> Option<u32> {
        resolve_size(self.btf, self.ptr_size, id)
    }

    /// As [`Btf::align_of`].
    pub fn align_of(&mut self, id: TypeId) -> Option<u32> {
        let max = (self.btf.type_count() as usize).saturating_mul(4).saturating_add(10_000);
        match self.align_with(id.0, max, &mut |_| Ok(())) {
            Ok(a) if a > 0 => Some(a as u32),
            _ => None,
        }
    }

    /// libbpf's `btf__align_of` of `id` (0 where it fails), memoized.
    /// `step(id)` is called for each STRUCT/UNION whose members are walked
    /// (the C dumper counts them against its work limit); a walk deeper
    /// than `max_frames` structs (only through a by-value loop) is an error.
    #[inline]
    pub(crate) fn align_with(
        &mut self,
        id: u32,
        max_frames: usize,
        step: &mut dyn FnMut(u32) -> Result<()>,
    ) -> Result<i32> {
        if let Some(&a) = self.align.get(id as usize)
            && a >= 0
        {
            return Ok(a);
        }
        self.align_slow(id, max_frames, step)
    }

    #[inline(never)]
    fn align_slow(&mut self, id: u32, max_frames: usize, step: &mut dyn FnMut(u32) -> Result<()>) -> Result<i32> {
        if let Ok(v) = self.align_chain(id) {
            self.memo(id, v);
            return Ok(v);
        }
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        let r = self.align_walk(&mut stack, id, max_frames, step);
        self.stack = stack;
        r
    }

    fn align_walk(
        &mut self,
        stack: &mut Vec<AlignFrame<'a>>,
        id: u32,
        max_frames: usize,
        step: &mut dyn FnMut(u32) -> Result<()>,
    ) -> Result<i32> {
        let mut req = id;
        loop {
            // Descend from `req` to a known alignment or a new composite.
            let mut v = match self.align_chain(req) {
                Ok(v) => v,
                Err((sid, c)) => {
                    step(sid)?;
                    stack.push(AlignFrame { id: sid, req, c, next: 0, pending: None, max_align: 1 });
                    if stack.len() > max_frames {
                        return Err(Error::WalkTooDeep { id: TypeId(sid), walk: "alignment walk", max: max_frames });
                    }
                    -1
                }
            };
            if v >= 0 {
                self.memo(req, v);
            }
            // Hand results up until some frame wants another member.
            loop {
                let Some(f) = stack.last_mut() else { return Ok(v) };
                match Self::composite_step(f, (v >= 0).then_some(v)) {
                    Ok(next) => {
                        req = next;
                        break;
                    }
                    Err(a) => {
                        let (sid, freq) = (f.id, f.req);
                        stack.pop();
                        self.memo(sid, a);
                        self.memo(freq, a);
                        v = a;
                    }
                }
            }
        }
    }

    fn memo(&mut self, id: u32, v: i32) {
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
            if let Some(&a) = self.align.get(cur as usize)
                && a >= 0
            {
                return Ok(a);
            }
            let btf: &'a Btf = self.btf;
            let Some(t) = (if cur == 0 { None } else { btf.type_by_id(TypeId(cur)) }) else { return Ok(0) };
            match &t.kind {
                TypeKind::Int(i) => return Ok(self.ptr_size.min(i.size) as i32),
                TypeKind::Enum(e) => return Ok(self.ptr_size.min(e.size) as i32),
                TypeKind::Enum64(e) => return Ok(self.ptr_size.min(e.size) as i32),
                TypeKind::Float { size } => return Ok(self.ptr_size.min(*size) as i32),
                TypeKind::Ptr(_) => return Ok(self.ptr_size as i32),
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
    fn composite_step(f: &mut AlignFrame<'a>, got: Option<i32>) -> std::result::Result<u32, i32> {
        if let (Some(m), Some(align)) = (f.pending.take(), got) {
            if align <= 0 {
                return Err(align);
            }
            f.max_align = f.max_align.max(align);
            if f.c.bitfield_size(m) == 0 && !(m.offset as u64).is_multiple_of(8 * align as u64) {
                return Err(1);
            }
        }
        if let Some(m) = f.c.members.get(f.next) {
            f.next += 1;
            f.pending = Some(m);
            return Ok(m.ty.0);
        }
        if !f.c.size.is_multiple_of(f.max_align as u32) {
            return Err(1);
        }
        Err(f.max_align)
    }
}
