//! Layout (libbpf's `btf__resolve_size`, `btf__align_of`, packed-struct
//! detection and btf_dump.c's bit padding between members).

use std::io::Write as _;

use super::*;

/// A pending `btf__align_of` of STRUCT/UNION `id`, which was asked for
/// `req` (`id` or a modifier/typedef/array chain ending at it); `pending`
/// is the member whose alignment is being computed.
pub(super) struct AlignFrame<'a> {
    pub(super) id: u32,
    pub(super) req: u32,
    pub(super) c: &'a Composite,
    pub(super) next: usize,
    pub(super) pending: Option<&'a Member>,
    pub(super) max_align: i32,
}

impl<'a> Dumper<'a> {

    /// libbpf's `btf__resolve_size`, clamped at 0 on error as its caller does.
    pub(super) fn resolve_size(&self, mut id: u32) -> i64 {
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
    pub(super) fn align_of(&mut self, id: u32) -> Result<i32> {
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

    pub(super) fn align_walk(&mut self, stack: &mut Vec<AlignFrame<'a>>, id: u32) -> Result<i32> {
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

    pub(super) fn memo_align(&mut self, id: u32, v: i32) {
        if let Some(slot) = self.align.get_mut(id as usize) {
            *slot = v;
        }
    }

    /// The alignment of `id` as far as a loop finds it: `Ok` if known,
    /// `Err` with a STRUCT/UNION whose members must be looked at.
    pub(super) fn align_chain(&self, id: u32) -> std::result::Result<i32, (u32, &'a Composite)> {
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
    pub(super) fn composite_align_step(f: &mut AlignFrame<'a>, got: Option<i32>) -> std::result::Result<u32, i32> {
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

    pub(super) fn is_struct_packed(&mut self, c: &'a Composite) -> Result<bool> {
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

    /// Padding fields from bit `cur_off` to `next_off`. A struct may be
    /// 4 GiB large: its padding would be 2^29 `long: 64;` lines, so the
    /// output limit is checked as they are written.
    pub(super) fn emit_bit_padding(
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
}
