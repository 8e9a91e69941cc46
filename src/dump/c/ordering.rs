//! Topological ordering (libbpf btf_dump.c's `btf_dump_order_type`): which
//! named definitions a type needs before it, queued in emission order.

use super::*;

/// A pending call of libbpf's `btf_dump_order_type`, waiting for the
/// result of its child (arguments: type id, `through_ptr`).
pub(super) enum OrderFrame<'a> {
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

impl<'a> Dumper<'a> {
    /// libbpf's `btf_dump_order_type`: the same calls, in the same order,
    /// with the same results, on an explicit stack ([`OrderFrame`]).
    pub(super) fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<i32> {
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
    pub(super) fn order_walk(&mut self, stack: &mut Vec<OrderFrame<'a>>, id: u32, through_ptr: bool) -> Result<i32> {
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
    pub(super) fn order_enter(
        &mut self,
        stack: &mut Vec<OrderFrame<'a>>,
        id: u32,
        through_ptr: bool,
    ) -> Walk<(u32, bool), i32> {
        let os = self.state(id).order;
        if os == DONE {
            return Walk::Ret(1);
        }
        let Some(t) = self.t(id) else { return Walk::Ret(-1) };
        if os == ING {
            if matches!(t.kind, TypeKind::Struct(_) | TypeKind::Union(_)) && through_ptr && !t.name_off.is_empty() {
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
                let named = !t.name_off.is_empty();
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
                if !t.name_off.is_empty() || !self.state(id).referenced {
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
    pub(super) fn order_resume(&mut self, f: &mut OrderFrame<'a>, r: i32) -> Walk<(u32, bool), i32> {
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
    pub(super) fn order_composite_done(&mut self, id: u32, named: bool) -> i32 {
        if named {
            self.queue.push(id);
        }
        self.state(id).order = DONE;
        1
    }
}
