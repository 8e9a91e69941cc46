//! The kernel's special-field checks at `BPF_BTF_LOAD` time
//! (`btf_parse_struct_metas` and `btf_check_and_fixup_fields` in
//! `kernel/bpf/btf.c`, run by `btf_parse()` for program BTF once the type
//! checks pass).
//!
//! When a program BTF defines one of the structs `bpf_spin_lock`,
//! `bpf_list_head`, `bpf_list_node`, `bpf_rb_root`, `bpf_rb_node`,
//! `bpf_refcount`, or a pointer tagged `kptr`/`kptr_untrusted`/`percpu_kptr`,
//! every struct or union with a member of exactly such a type id has its
//! special fields parsed (`btf_parse_fields`): nested structs and arrays are
//! walked, unique fields may appear once, fields may not overlap, graph roots
//! need a `contains:TYPE:FIELD` decl tag naming a struct with a suitably
//! placed node, and so on. The kernel logs nothing for these failures (only
//! the errno), so the messages here are btfkit's own, all starting with
//! `Special fields:` and naming the errno.
//!
//! Not modelled (docs/ROBUSTNESS.md): what depends on the running kernel's own
//! BTF. A kptr whose pointee's name and kind also exist in vmlinux or a loaded
//! module is looked up there and, for a referenced kptr, needs a registered
//! destructor kfunc; btfkit assumes the pointee is program-local.
//!
//! Recursion is bounded by the kernel's own nesting limit (32 levels).

use crate::btf::{Btf, Composite, Kind, StrOff, Type, TypeId, TypeKind};

use super::Violation;

/// `MAX_RESOLVE_DEPTH`, the nesting and array-walk limit.
const MAX_DEPTH: u32 = 32;
/// `BTF_FIELDS_MAX`.
const FIELDS_MAX: usize = 11;

/// The special field types that matter at load time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum F {
    SpinLock,
    ResSpinLock,
    ListHead,
    ListNode,
    RbRoot,
    RbNode,
    Refcount,
    Kptr,
}

impl F {
    fn name(self) -> &'static str {
        match self {
            F::SpinLock => "bpf_spin_lock",
            F::ResSpinLock => "bpf_res_spin_lock",
            F::ListHead => "bpf_list_head",
            F::ListNode => "bpf_list_node",
            F::RbRoot => "bpf_rb_root",
            F::RbNode => "bpf_rb_node",
            F::Refcount => "bpf_refcount",
            F::Kptr => "kptr",
        }
    }
    /// (size, alignment) of the field, as the kernel's uapi structs have them.
    fn size_align(self) -> (u32, u32) {
        match self {
            // bpf_res_spin_lock: 4 bytes on 6.18 (checked with BPF_BTF_LOAD).
            F::SpinLock | F::ResSpinLock | F::Refcount => (4, 4),
            F::Kptr => (8, 8),
            F::ListHead | F::RbRoot => (16, 8),
            F::ListNode => (24, 8),
            F::RbNode => (32, 8),
        }
    }
    fn unique(self) -> bool {
        matches!(self, F::SpinLock | F::ResSpinLock)
    }
    fn graph_root(self) -> bool {
        matches!(self, F::ListHead | F::RbRoot)
    }
    fn graph_node(self) -> bool {
        matches!(self, F::ListNode | F::RbNode)
    }
}

/// A found field: its type, byte offset, and for graph roots the value
/// struct's id and the node member's name.
#[derive(Clone, Copy, Debug)]
struct Field<'a> {
    ty: F,
    off: u32,
    value: u32,
    node: &'a [u8],
}

/// A failure: the errno name and what it is about.
type Fail = (&'static str, String);

fn fail<T>(errno: &'static str, what: impl Into<String>) -> Result<T, Fail> {
    Err((errno, what.into()))
}

struct Ctx<'a> {
    btf: &'a Btf,
}

impl<'a> Ctx<'a> {
    fn ty(&self, id: u32) -> Option<&'a Type> {
        self.btf.type_by_id(TypeId(id))
    }
    fn name(&self, off: StrOff) -> &'a [u8] {
        self.btf.str_bytes(off).unwrap_or(b"")
    }
    /// `__btf_type_is_struct`: a STRUCT (not a UNION).
    fn is_struct(t: Option<&Type>) -> bool {
        matches!(t.map(|t| t.kind()), Some(Kind::Struct))
    }
    fn comp(t: &Type) -> Option<&Composite> {
        match &t.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => Some(c),
            _ => None,
        }
    }
    /// `btf_find_by_name_kind(.., STRUCT)`: the first STRUCT of that name.
    fn find_struct(&self, name: &[u8]) -> Option<u32> {
        let start = self.btf.start_id().0;
        self.btf
            .types()
            .iter()
            .position(|t| t.kind() == Kind::Struct && self.name(t.name_off) == name)
            .map(|i| start + i as u32)
    }
    /// `btf_type_skip_modifiers`.
    fn skip_modifiers(&self, mut id: u32) -> (u32, Option<&'a Type>) {
        for _ in 0..=MAX_DEPTH * 1024 {
            match self.ty(id) {
                Some(t)
                    if matches!(
                        t.kind(),
                        Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
                    ) =>
                {
                    id = t.size_or_type()
                }
                t => return (id, t),
            }
        }
        (id, None)
    }

    /// `btf_find_kptr`: Ok(None) ignored, Ok(Some) a kptr, Err an invalid one.
    fn find_kptr(&self, t: &'a Type) -> Result<Option<()>, Fail> {
        let mut t = t;
        if t.kind() == Kind::Volatile {
            match self.ty(t.size_or_type()) {
                Some(x) => t = x,
                None => return Ok(None),
            }
        }
        if t.kind() != Kind::Ptr {
            return Ok(None);
        }
        let Some(tag) = self.ty(t.size_or_type()) else { return Ok(None) };
        if tag.kind() != Kind::TypeTag || tag.kflag() {
            return Ok(None);
        }
        if self.ty(tag.size_or_type()).is_some_and(|x| x.kind() == Kind::TypeTag) {
            return fail("EINVAL", "a kptr pointer with two type tags");
        }
        let v = self.name(tag.name_off);
        match v {
            b"kptr_untrusted" | b"kptr" | b"percpu_kptr" => {}
            b"uptr" => return Ok(None), // not a kptr for the struct metas
            _ => return fail("EINVAL", format!("pointer type tag `{}` is not a kptr tag", String::from_utf8_lossy(v))),
        }
        let (_, base) = self.skip_modifiers(tag.size_or_type());
        if !Self::is_struct(base) {
            return fail("EINVAL", "a kptr must point to a struct");
        }
        Ok(Some(()))
    }

    /// `btf_get_field_type` for the struct-metas mask: the field type a
    /// member type stands for by its name (Ok(None): none).
    fn field_type(&self, t: &'a Type, seen: &mut u32) -> Result<Option<F>, Fail> {
        let name = self.name(t.name_off);
        for f in [F::SpinLock, F::ResSpinLock, F::ListHead, F::ListNode, F::RbRoot, F::RbNode, F::Refcount] {
            if name == f.name().as_bytes() {
                if f.unique() {
                    let bit = 1 << (f as u32);
                    if *seen & bit != 0 {
                        return fail("E2BIG", format!("more than one {}", f.name()));
                    }
                    *seen |= bit;
                }
                return Ok(Some(f));
            }
        }
        if !Self::is_struct(Some(t)) {
            return Ok(Some(F::Kptr));
        }
        Ok(None)
    }

    /// `btf_find_decl_tag_value(pt, comp_idx, "contains:")`.
    fn contains_tag(&self, pt: u32, comp_idx: i32) -> Result<&'a [u8], Fail> {
        let start = self.btf.start_id().0;
        let mut found = None;
        for (i, t) in self.btf.types().iter().enumerate() {
            if let TypeKind::DeclTag { ty, component_idx, .. } = &t.kind
                && ty.0 == pt
                && *component_idx == comp_idx
                && self.name(t.name_off).starts_with(b"contains:")
            {
                if found.is_some() {
                    return fail("EINVAL", "two contains: decl tags on one graph root");
                }
                found = Some(start + i as u32);
            }
        }
        match found.and_then(|id| self.ty(id)) {
            Some(t) => Ok(&self.name(t.name_off)[b"contains:".len()..]),
            None => fail("EINVAL", "a graph root without a contains: decl tag"),
        }
    }

    /// `btf_find_field_one` for a struct member of type `mt` at byte `off`.
    #[allow(clippy::too_many_arguments)]
    fn field_one(
        &self,
        pt: u32,
        idx: usize,
        mid: u32,
        off: u32,
        seen: &mut u32,
        out: &mut Vec<Field<'a>>,
        room: usize,
        level: u32,
    ) -> Result<usize, Fail> {
        let mut tid = mid;
        let mut t = self.ty(mid);
        let mut nelems: u32 = 1;
        let mut i = 0;
        while i < MAX_DEPTH {
            match t {
                Some(Type { kind: TypeKind::Array(a), .. }) => {
                    nelems = nelems.wrapping_mul(a.nelems);
                    tid = a.elem.0;
                    t = self.ty(tid);
                }
                _ => break,
            }
            i += 1;
        }
        if i == MAX_DEPTH {
            return fail("E2BIG", "arrays nested more than 32 deep");
        }
        if nelems == 0 {
            return Ok(0);
        }
        let Some(t) = t else { return Ok(0) };
        let ft = self.field_type(t, seen)?;
        let Some(ft) = ft else {
            // A struct without a special name: look inside.
            if !Self::is_struct(Some(t)) {
                return Ok(0);
            }
            if level + 1 >= MAX_DEPTH {
                return fail("E2BIG", "structs nested more than 32 deep");
            }
            let before = out.len();
            let n = self.struct_fields(tid, t, out, room, level + 1)?;
            if n == 0 {
                return Ok(0);
            }
            for f in &mut out[before..] {
                f.off = f.off.wrapping_add(off);
            }
            if nelems > 1 {
                self.repeat(out, before, n, nelems - 1, t.size_or_type(), room)?;
                return Ok(n * nelems as usize);
            }
            return Ok(n);
        };
        let (sz, align) = ft.size_align();
        if !off.is_multiple_of(align) {
            return Ok(0);
        }
        let mut field = Field { ty: ft, off, value: 0, node: b"" };
        let found = match ft {
            F::Kptr => self.find_kptr(t)?.is_some(),
            F::ListHead | F::RbRoot => {
                if !Self::is_struct(Some(t)) || t.size_or_type() != sz {
                    false
                } else {
                    let v = self.contains_tag(pt, idx as i32)?;
                    let Some(colon) = v.iter().position(|&c| c == b':') else {
                        return fail("EINVAL", "a contains: decl tag without a node name");
                    };
                    let Some(value) = self.find_struct(&v[..colon]) else {
                        return fail("ENOENT", "a contains: decl tag naming no struct");
                    };
                    let node = &v[colon + 1..];
                    if node.is_empty() {
                        return fail("EINVAL", "a contains: decl tag with an empty node name");
                    }
                    field.value = value;
                    field.node = node;
                    true
                }
            }
            _ => Self::is_struct(Some(t)) && t.size_or_type() == sz,
        };
        if !found {
            return Ok(0);
        }
        if room == out.len() {
            return fail("E2BIG", format!("more than {FIELDS_MAX} special fields"));
        }
        let before = out.len();
        out.push(field);
        if nelems > 1 {
            self.repeat(out, before, 1, nelems - 1, sz, room)?;
        }
        Ok(nelems as usize)
    }

    /// `btf_repeat_fields`: the fields `out[from..from+n]` repeated `times`
    /// more times, `elem` bytes apart.
    fn repeat(
        &self,
        out: &mut Vec<Field<'a>>,
        from: usize,
        n: usize,
        times: u32,
        elem: u32,
        room: usize,
    ) -> Result<(), Fail> {
        if let Some(f) = out[from..from + n].iter().find(|f| !matches!(f.ty, F::Kptr | F::ListHead | F::RbRoot)) {
            return fail("EINVAL", format!("an array of {}", f.ty.name()));
        }
        let total = (n as u64) * (times as u64 + 1);
        if total > (room - from) as u64 {
            return fail("E2BIG", format!("more than {FIELDS_MAX} special fields"));
        }
        for k in 0..times {
            for j in 0..n {
                let mut f = out[from + j];
                f.off = f.off.wrapping_add((k + 1).wrapping_mul(elem));
                out.push(f);
            }
        }
        Ok(())
    }

    /// `btf_find_struct_field`: the fields of struct `t` (appended to `out`).
    fn struct_fields(
        &self,
        pt: u32,
        t: &'a Type,
        out: &mut Vec<Field<'a>>,
        room: usize,
        level: u32,
    ) -> Result<usize, Fail> {
        let Some(c) = Self::comp(t) else { return Ok(0) };
        let mut seen = 0u32;
        let mut n = 0;
        for (i, m) in c.members.iter().enumerate() {
            let off = c.bit_offset(m);
            if !off.is_multiple_of(8) {
                return fail("EINVAL", "a member that is not byte aligned");
            }
            n += self.field_one(pt, i, m.ty.0, off / 8, &mut seen, out, room, level)?;
        }
        Ok(n)
    }

    /// `btf_parse_graph_root`: the value struct has exactly one member named
    /// `node`, a struct called `node_type`, byte- and 8-aligned.
    fn graph_root(&self, f: &Field, node_type: &str) -> Result<(), Fail> {
        let Some(c) = self.ty(f.value).and_then(Self::comp) else { return fail("EINVAL", "bad value type") };
        let mut seen = false;
        for m in c.members.iter() {
            if self.name(m.name_off) != f.node {
                continue;
            }
            if seen {
                return fail("EINVAL", "two members named like the graph node");
            }
            seen = true;
            let n = self.ty(m.ty.0);
            if !Self::is_struct(n) || n.is_some_and(|n| self.name(n.name_off) != node_type.as_bytes()) {
                return fail("EINVAL", format!("the contains: node member is not a struct {node_type}"));
            }
            // The kernel reads the offset with the node type's kind_flag.
            let nk = n.and_then(Self::comp).is_some_and(|c| c.kflag);
            let off = if nk { m.offset & 0x00ff_ffff } else { m.offset };
            if !off.is_multiple_of(8) || !(off / 8).is_multiple_of(8) {
                return fail("EINVAL", "the contains: node member is not 8-byte aligned");
            }
        }
        if !seen {
            return fail("ENOENT", "no member of the value type named like the contains: node");
        }
        Ok(())
    }

    /// `btf_parse_fields` of struct `t` (the struct-metas mask).
    fn parse_fields(&self, id: u32, t: &'a Type) -> Result<Vec<Field<'a>>, Fail> {
        let mut fields = Vec::new();
        self.struct_fields(id, t, &mut fields, FIELDS_MAX, 0)?;
        if fields.is_empty() {
            return fail("EFAULT", "a member of a special type but no valid special field");
        }
        let size = t.size_or_type();
        let mut next = 0u64;
        let (mut lock, mut res_lock) = (false, false);
        for f in &fields {
            let (sz, _) = f.ty.size_align();
            let end = f.off as u64 + sz as u64;
            if end > size as u64 {
                return fail("EFAULT", format!("{} past the end of the struct", f.ty.name()));
            }
            if (f.off as u64) < next {
                return fail("EEXIST", format!("{} overlaps another special field", f.ty.name()));
            }
            next = end;
            match f.ty {
                F::SpinLock => lock = true,
                F::ResSpinLock => res_lock = true,
                F::ListHead => self.graph_root(f, "bpf_list_node")?,
                F::RbRoot => self.graph_root(f, "bpf_rb_node")?,
                _ => {}
            }
        }
        let has = |x: F| fields.iter().any(|f| f.ty == x);
        if lock && res_lock {
            return fail("EINVAL", "both bpf_spin_lock and bpf_res_spin_lock");
        }
        if (has(F::ListHead) || has(F::RbRoot)) && !lock && !res_lock {
            return fail("EINVAL", "a graph root without a bpf_spin_lock");
        }
        if !has(F::Refcount) && has(F::ListNode) && has(F::RbNode) {
            return fail("EINVAL", "bpf_list_node and bpf_rb_node without bpf_refcount");
        }
        Ok(fields)
    }
}

/// Runs the checks on a program (base) BTF whose type checks passed.
#[inline(never)]
pub(super) fn check(btf: &Btf, out: &mut Vec<Violation>) {
    let cx = Ctx { btf };
    let start = btf.start_id().0;
    // One pass: the first STRUCT of each alloc_obj_fields name, and the kptrs.
    const NAMES: [&[u8]; 6] =
        [b"bpf_spin_lock", b"bpf_list_head", b"bpf_list_node", b"bpf_rb_root", b"bpf_rb_node", b"bpf_refcount"];
    let mut first = [None; 6];
    let mut aof: Vec<u32> = Vec::new();
    let (strs, str_start) = (btf.strings().as_bytes(), btf.start_str_off());
    // Most names do not start with `bpf_`: tell without looking for their end.
    let maybe_bpf =
        |off: u32| off < str_start || strs.get((off - str_start) as usize..).is_none_or(|s| s.starts_with(b"bpf_"));
    for (i, t) in btf.types().iter().enumerate() {
        match &t.kind {
            TypeKind::Struct(_) if maybe_bpf(t.name_off.get()) => {
                let name = cx.name(t.name_off);
                if name.starts_with(b"bpf_")
                    && let Some(k) = NAMES.iter().position(|n| *n == name)
                    && first[k].is_none()
                {
                    first[k] = Some(start + i as u32);
                }
            }
            TypeKind::Ptr(_) | TypeKind::Volatile(_) => {
                if matches!(cx.find_kptr(t), Ok(Some(()))) {
                    aof.push(start + i as u32);
                }
            }
            _ => {}
        }
    }
    aof.extend(first.iter().flatten());
    if aof.is_empty() {
        return;
    }
    aof.sort_unstable();
    let mut special = vec![false; btf.type_count() as usize];
    for &id in &aof {
        if let Some(f) = special.get_mut(id as usize) {
            *f = true;
        }
    }
    // The struct metas table: (id, fields) in id order.
    let mut tab: Vec<(u32, Vec<Field>)> = Vec::new();
    let mut failed = false;
    for (i, t) in btf.types().iter().enumerate() {
        let TypeKind::Struct(c) = &t.kind else { continue };
        if !c.members.iter().any(|m| special.get(m.ty.0 as usize) == Some(&true)) {
            continue;
        }
        let id = start + i as u32;
        match cx.parse_fields(id, t) {
            Ok(f) => tab.push((id, f)),
            Err((errno, what)) => {
                failed = true;
                out.push(violation(btf, id, errno, &what));
            }
        }
    }
    if failed {
        return;
    }
    // btf_check_and_fixup_fields, in table order.
    for (id, fields) in &tab {
        let has_node = fields.iter().any(|f| f.ty.graph_node());
        for f in fields.iter().filter(|f| f.ty.graph_root()) {
            match tab.binary_search_by_key(&f.value, |e| e.0) {
                Err(_) => {
                    out.push(violation(btf, *id, "EFAULT", "the contains: value type has no special fields"));
                    return;
                }
                Ok(k) => {
                    if has_node && tab[k].1.iter().any(|g| g.ty.graph_root()) {
                        out.push(violation(btf, *id, "ELOOP", "a graph node owning a graph root (ownership cycle)"));
                        return;
                    }
                }
            }
        }
    }
}

fn violation(btf: &Btf, id: u32, errno: &str, what: &str) -> Violation {
    Violation {
        id: TypeId(id),
        type_line: super::kernel::type_line(btf, id),
        detail: None,
        message: format!("Special fields: {what} (-{errno}; the kernel logs no message)"),
    }
}
