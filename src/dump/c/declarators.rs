//! Declarators (libbpf btf_dump.c's `btf_dump_emit_type_decl`,
//! `_type_chain`, the parameter lists and member lines), written from an
//! explicit stack of output tasks.

use std::io::Write as _;

use super::*;

/// Where a declaration's name comes from: the name the output walk was
/// started with (a typedef's resolved name), or a member/param name.
#[derive(Clone, Copy)]
pub(super) enum FieldName<'a> {
    Top,
    Str(&'a [u8]),
}

/// Output still to write for a declaration or definition, innermost last
/// (libbpf's `btf_dump_emit_type_decl`/`_type_chain`/`_struct_def`).
pub(super) enum OutTask<'a> {
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
pub(super) struct MembersAt<'a> {
    pub(super) id: u32,
    pub(super) c: &'a Composite,
    pub(super) is_struct: bool,
    pub(super) packed: bool,
    pub(super) align: i32,
    pub(super) next: usize,
    pub(super) off: i64,
    pub(super) prev_bitfield: bool,
    pub(super) lvl: usize,
}

impl<'a> Dumper<'a> {
    /// A declaration of type `id` named `fname` (libbpf's
    /// `btf_dump_emit_type_decl`).
    pub(super) fn emit_type_decl(&mut self, id: u32, fname: &[u8], lvl: usize) -> Result<()> {
        self.emit_out(OutTask::Decl { id, name: FieldName::Top, lvl }, fname)
    }

    /// Writes `first` and all it needs, on an explicit stack ([`OutTask`])
    /// where libbpf recurses (arrays and prototypes within a type chain,
    /// parameter lists, anonymous structs/unions defined in place).
    /// `top` is the name [`FieldName::Top`] stands for.
    pub(super) fn emit_out(&mut self, first: OutTask<'a>, top: &[u8]) -> Result<()> {
        let mut stack = std::mem::take(&mut self.out_stack);
        stack.clear();
        stack.push(first);
        let r = self.out_walk(&mut stack, top);
        self.out_stack = stack;
        r
    }

    #[inline(never)]
    pub(super) fn out_walk(&mut self, stack: &mut Vec<OutTask<'a>>, top: &[u8]) -> Result<()> {
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
    pub(super) fn decl_chain(&mut self, id: u32) -> Result<Vec<u32>> {
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
                return Err(Error::DeclarationLoop { id: TypeId(id) });
            }
            let Some(t) = self.t(id) else { break };
            match &t.kind {
                TypeKind::Ptr(n)
                | TypeKind::Volatile(n)
                | TypeKind::Const(n)
                | TypeKind::Restrict(n)
                | TypeKind::TypeTag { ty: n, .. } => id = n.0,
                TypeKind::FuncProto(p) => id = p.ret.0,
                TypeKind::Array(a) => id = a.elem.0,
                _ => break,
            }
        }
        self.step(id)?;
        Ok(decls)
    }

    pub(super) fn emit_mods(&mut self, decls: &mut Vec<u32>) {
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

    pub(super) fn drop_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            if !is_mod(self.t(id)) {
                return;
            }
            decls.pop();
        }
    }

    pub(super) fn emit_name(&mut self, name: &[u8], last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.push(b' ');
        }
        self.p(name);
    }

    /// libbpf's `btf_dump_emit_type_chain` over `decls`: where it recurses
    /// for an array's or a prototype's inner declarator, this pushes what
    /// follows that declarator and goes on with the same chain; an
    /// anonymous struct/union pauses the chain behind its definition.
    pub(super) fn out_chain(
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
                    if t.name_off.is_empty() {
                        self.step(id)?;
                        let rest = OutTask::Chain { decls, name, lvl, last_was_ptr: false };
                        push_frame(stack, rest, max, id)?;
                        return push_frame(stack, OutTask::StructDef { id, t, lvl }, max, id);
                    }
                    self.emit_struct_fwd(id, t);
                }
                TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                    self.emit_mods(&mut decls);
                    if t.name_off.is_empty() {
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
    pub(super) fn out_params_start(
        &mut self,
        stack: &mut Vec<OutTask<'a>>,
        p: &'a FuncProto,
        lvl: usize,
    ) -> Result<()> {
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
    pub(super) fn out_params(
        &mut self,
        stack: &mut Vec<OutTask<'a>>,
        params: &'a [Param],
        next: usize,
        lvl: usize,
    ) -> Result<()> {
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
