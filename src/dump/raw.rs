//! `bpftool btf dump file F` (format raw), byte for byte.
//!
//! Types are rendered into memory in chunks, in parallel, and written in
//! id order, so the output does not depend on the number of threads.

use std::io::{self, Write};

use super::{Text, func_linkage_str, int_encoding_str, name_or_anon, var_linkage_str};
use crate::btf::{Btf, TypeId, TypeKind};

/// Writes every own type of `btf` (a split BTF lists only its own types).
pub fn dump(btf: &Btf, out: &mut impl Write) -> io::Result<()> {
    let ids: Vec<TypeId> = btf.iter().map(|(id, _)| id).collect();
    dump_ids(btf, &ids, out)
}

/// Writes the given types (bpftool's `root_id`), in the order given.
pub fn dump_ids(btf: &Btf, ids: &[TypeId], out: &mut impl Write) -> io::Result<()> {
    super::render_chunks(ids, out, |chunk, buf| {
        for &id in chunk {
            dump_type(btf, id, buf);
        }
    })
}

/// Renders one type into `buf`: `[id] KIND 'name' ...` and its member lines.
pub fn dump_type(btf: &Btf, id: TypeId, buf: &mut Vec<u8>) {
    let b = buf;
    let Some(t) = btf.type_by_id(id) else {
        b.s("[").u(id.0).s("] UNKNOWN '(anon)'\n");
        return;
    };
    b.s("[").u(id.0).s("] ").s(t.kind().name()).s(" '").s(name_or_anon(btf, t.name_off)).s("'");
    match &t.kind {
        TypeKind::Int(i) => {
            b.s(" size=").u(i.size).s(" bits_offset=").u(i.offset).s(" nr_bits=").u(i.bits);
            b.s(" encoding=").s(int_encoding_str(i.encoding));
        }
        TypeKind::Ptr(x)
        | TypeKind::Const(x)
        | TypeKind::Volatile(x)
        | TypeKind::Restrict(x)
        | TypeKind::Typedef(x)
        | TypeKind::TypeTag { ty: x, .. } => {
            b.s(" type_id=").u(x.0);
        }
        TypeKind::Array(a) => {
            b.s(" type_id=").u(a.elem.0).s(" index_type_id=").u(a.index.0).s(" nr_elems=").u(a.nelems);
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            b.s(" size=").u(c.size).s(" vlen=").u(c.members.len());
            for m in &c.members {
                b.s("\n\t'").s(name_or_anon(btf, m.name_off)).s("' type_id=").u(m.ty.0);
                b.s(" bits_offset=").u(c.bit_offset(m));
                let bs = c.bitfield_size(m);
                if bs != 0 {
                    b.s(" bitfield_size=").u(bs);
                }
            }
        }
        TypeKind::Enum(e) => {
            b.s(" encoding=").s(if e.signed { "SIGNED" } else { "UNSIGNED" });
            b.s(" size=").u(e.size).s(" vlen=").u(e.values.len());
            for v in &e.values {
                b.s("\n\t'").s(name_or_anon(btf, v.name_off)).s("' val=");
                if e.signed {
                    b.u(v.val as i32)
                } else {
                    b.u(v.val)
                };
            }
        }
        TypeKind::Enum64(e) => {
            b.s(" encoding=").s(if e.signed { "SIGNED" } else { "UNSIGNED" });
            b.s(" size=").u(e.size).s(" vlen=").u(e.values.len());
            for v in &e.values {
                b.s("\n\t'").s(name_or_anon(btf, v.name_off)).s("' val=");
                if e.signed {
                    b.u(v.val as i64).s("LL")
                } else {
                    b.u(v.val).s("ULL")
                };
            }
        }
        TypeKind::Fwd { union } => {
            b.s(" fwd_kind=").s(if *union { "union" } else { "struct" });
        }
        TypeKind::Func { proto, linkage } => {
            b.s(" type_id=").u(proto.0).s(" linkage=").s(func_linkage_str(*linkage));
        }
        TypeKind::FuncProto(p) => {
            b.s(" ret_type_id=").u(p.ret.0).s(" vlen=").u(p.params.len());
            for p in &p.params {
                b.s("\n\t'").s(name_or_anon(btf, p.name_off)).s("' type_id=").u(p.ty.0);
            }
        }
        TypeKind::Var { ty, linkage } => {
            b.s(" type_id=").u(ty.0).s(", linkage=").s(var_linkage_str(*linkage));
        }
        TypeKind::Datasec(d) => {
            b.s(" size=").u(d.size).s(" vlen=").u(d.vars.len());
            for v in &d.vars {
                b.s("\n\ttype_id=").u(v.ty.0).s(" offset=").u(v.offset).s(" size=").u(v.size);
                if let Some(vt) = btf.type_by_id(v.ty) {
                    b.s(" (").s(vt.kind().name()).s(" '").s(name_or_anon(btf, vt.name_off)).s("')");
                } else if v.ty.0 == 0 {
                    b.s(" (UNKNOWN '(anon)')");
                }
            }
        }
        TypeKind::Float { size } => {
            b.s(" size=").u(*size);
        }
        TypeKind::DeclTag { ty, component_idx, .. } => {
            b.s(" type_id=").u(ty.0).s(" component_idx=").u(*component_idx);
        }
    }
    b.s("\n");
}
