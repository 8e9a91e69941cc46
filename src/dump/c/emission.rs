//! Emission (libbpf btf_dump.c's `btf_dump_emit_type` and the definitions it
//! writes: forward declarations, STRUCT/UNION, ENUM/ENUM64 and TYPEDEF).

use std::io::Write as _;

use super::declarators::{FieldName, MembersAt, OutTask};
use super::*;

/// A pending call of libbpf's `btf_dump_emit_type` (arguments: type id,
/// `cont_id`).
pub(super) enum EmitFrame<'a> {
    /// TYPEDEF `id` (emitting): its definition follows its target's.
    Typedef { id: u32, t: &'a Type },
    /// STRUCT/UNION `id` (emitting): members from `next` on are left, all
    /// visited with `cont`; `top_level` is whether it gets defined.
    Composite { id: u32, t: &'a Type, members: &'a [Member], next: usize, cont: u32, top_level: bool },
    /// FUNC_PROTO: return type visited, params from `next` on left.
    Proto { params: &'a [Param], next: usize, cont: u32 },
}

impl<'a> Dumper<'a> {
    /// libbpf's `btf_dump_emit_type`: the same calls, in the same order, on
    /// an explicit stack ([`EmitFrame`]).
    pub(super) fn emit_type(&mut self, id: u32, cont_id: u32) -> Result<()> {
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
    pub(super) fn emit_walk(&mut self, stack: &mut Vec<EmitFrame<'a>>, id: u32, cont_id: u32) -> Result<()> {
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
    pub(super) fn emit_enter(
        &mut self,
        stack: &mut Vec<EmitFrame<'a>>,
        id: u32,
        cont_id: u32,
    ) -> Result<Walk<(u32, u32), ()>> {
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
                    if id == cont_id || t.name_off.is_empty() {
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
            TypeKind::Ptr(n)
            | TypeKind::Volatile(n)
            | TypeKind::Const(n)
            | TypeKind::Restrict(n)
            | TypeKind::TypeTag { ty: n, .. } => {
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
                if top_level_def || t.name_off.is_empty() {
                    let cont = if t.name_off.is_empty() { cont_id } else { id };
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
    pub(super) fn emit_resume(&mut self, f: &mut EmitFrame<'a>) -> Result<Walk<(u32, u32), ()>> {
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
    pub(super) fn emit_composite_done(&mut self, id: u32, t: &'a Type, top_level_def: bool) -> Result<()> {
        if top_level_def {
            self.emit_struct_def(id, t, 0)?;
            self.p(b";\n\n");
            self.state(id).emit = DONE;
        } else {
            self.state(id).emit = NOT;
        }
        Ok(())
    }

    pub(super) fn emit_struct_fwd(&mut self, id: u32, t: &Type) {
        self.p(if matches!(t.kind, TypeKind::Struct(_)) { b"struct" } else { b"union" });
        if !t.name_off.is_empty() {
            self.p(b" ");
        }
        self.emit_type_name(id);
    }

    pub(super) fn emit_fwd_def(&mut self, id: u32, t: &Type) {
        self.p(if t.kflag() { b"union " } else { b"struct " });
        self.emit_type_name(id);
    }

    /// A STRUCT/UNION definition (libbpf's `btf_dump_emit_struct_def`).
    pub(super) fn emit_struct_def(&mut self, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
        self.emit_out(OutTask::StructDef { id, t, lvl }, b"")
    }

    /// A definition's header; its members follow as [`OutTask::Members`].
    pub(super) fn out_struct_head(
        &mut self,
        stack: &mut Vec<OutTask<'a>>,
        id: u32,
        t: &'a Type,
        lvl: usize,
    ) -> Result<()> {
        let Some(c) = t.as_composite() else { return Ok(()) };
        let is_struct = matches!(t.kind, TypeKind::Struct(_));
        let align = self.align_of(id)?;
        let packed = if is_struct { self.is_struct_packed(c)? } else { false };
        self.p(if is_struct { b"struct" } else { b"union" });
        if !t.name_off.is_empty() {
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
    pub(super) fn out_members(&mut self, stack: &mut Vec<OutTask<'a>>, mut at: MembersAt<'a>) -> Result<()> {
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
    pub(super) fn member_end(&mut self, bits: i64) {
        if bits != 0 {
            let _ = write!(self.out, ": {bits}");
        }
        self.p(b";");
    }

    /// An enumerator's line up to its value: newline, indent, name (with
    /// its `___N` suffix when the name was taken).
    pub(super) fn emit_enumerator_name(&mut self, name_off: StrOff, lvl: usize) {
        let name = self.name(name_off);
        let dup = Self::name_dups(&mut self.ident_names, name);
        self.out.push(b'\n');
        self.p(pfx(lvl + 1));
        self.p(name);
        if dup > 1 {
            let _ = write!(self.out, "___{dup}");
        }
    }

    pub(super) fn emit_enum_def(&mut self, id: u32, t: &'a Type, lvl: usize) {
        self.p(b"enum");
        if !t.name_off.is_empty() {
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

    pub(super) fn emit_typedef_def(&mut self, id: u32, t: &'a Type, lvl: usize) -> Result<()> {
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
}
