//! `bpftool btf dump file F` (format raw), byte for byte.

use std::io::{self, Write};

use super::{func_linkage_str, int_encoding_str, name_or_anon, var_linkage_str};
use crate::btf::{Btf, TypeId, TypeKind};

/// Writes every own type of `btf` (a split BTF lists only its own types).
pub fn dump(btf: &Btf, out: &mut impl Write) -> io::Result<()> {
    for (id, _) in btf.iter() {
        dump_type(btf, id, out)?;
    }
    Ok(())
}

/// Writes the given types (bpftool's `root_id`), in the order given.
pub fn dump_ids(btf: &Btf, ids: &[TypeId], out: &mut impl Write) -> io::Result<()> {
    for &id in ids {
        dump_type(btf, id, out)?;
    }
    Ok(())
}

/// One type: `[id] KIND 'name' ...` and its member lines.
pub fn dump_type(btf: &Btf, id: TypeId, out: &mut impl Write) -> io::Result<()> {
    let Some(t) = btf.type_by_id(id) else {
        return writeln!(out, "[{}] UNKNOWN '(anon)'", id.0);
    };
    write!(out, "[{}] {} '", id.0, t.kind().name())?;
    out.write_all(name_or_anon(btf, t.name_off))?;
    out.write_all(b"'")?;
    match &t.kind {
        TypeKind::Int(i) => write!(
            out,
            " size={} bits_offset={} nr_bits={} encoding={}",
            i.size,
            i.offset,
            i.bits,
            int_encoding_str(i.encoding)
        )?,
        TypeKind::Ptr(x)
        | TypeKind::Const(x)
        | TypeKind::Volatile(x)
        | TypeKind::Restrict(x)
        | TypeKind::Typedef(x)
        | TypeKind::TypeTag { ty: x, .. } => write!(out, " type_id={}", x.0)?,
        TypeKind::Array(a) => {
            write!(out, " type_id={} index_type_id={} nr_elems={}", a.elem.0, a.index.0, a.nelems)?
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            write!(out, " size={} vlen={}", c.size, c.members.len())?;
            for m in &c.members {
                out.write_all(b"\n\t'")?;
                out.write_all(name_or_anon(btf, m.name_off))?;
                write!(out, "' type_id={} bits_offset={}", m.ty.0, c.bit_offset(m))?;
                let bs = c.bitfield_size(m);
                if bs != 0 {
                    write!(out, " bitfield_size={bs}")?;
                }
            }
        }
        TypeKind::Enum(e) => {
            let enc = if e.signed { "SIGNED" } else { "UNSIGNED" };
            write!(out, " encoding={enc} size={} vlen={}", e.size, e.values.len())?;
            for v in &e.values {
                out.write_all(b"\n\t'")?;
                out.write_all(name_or_anon(btf, v.name_off))?;
                if e.signed {
                    write!(out, "' val={}", v.val as i32)?;
                } else {
                    write!(out, "' val={}", v.val)?;
                }
            }
        }
        TypeKind::Enum64(e) => {
            let enc = if e.signed { "SIGNED" } else { "UNSIGNED" };
            write!(out, " encoding={enc} size={} vlen={}", e.size, e.values.len())?;
            for v in &e.values {
                out.write_all(b"\n\t'")?;
                out.write_all(name_or_anon(btf, v.name_off))?;
                if e.signed {
                    write!(out, "' val={}LL", v.val as i64)?;
                } else {
                    write!(out, "' val={}ULL", v.val)?;
                }
            }
        }
        TypeKind::Fwd { union } => write!(out, " fwd_kind={}", if *union { "union" } else { "struct" })?,
        TypeKind::Func { proto, linkage } => {
            write!(out, " type_id={} linkage={}", proto.0, func_linkage_str(*linkage))?
        }
        TypeKind::FuncProto(p) => {
            write!(out, " ret_type_id={} vlen={}", p.ret.0, p.params.len())?;
            for p in &p.params {
                out.write_all(b"\n\t'")?;
                out.write_all(name_or_anon(btf, p.name_off))?;
                write!(out, "' type_id={}", p.ty.0)?;
            }
        }
        TypeKind::Var { ty, linkage } => write!(out, " type_id={}, linkage={}", ty.0, var_linkage_str(*linkage))?,
        TypeKind::Datasec(d) => {
            write!(out, " size={} vlen={}", d.size, d.vars.len())?;
            for v in &d.vars {
                write!(out, "\n\ttype_id={} offset={} size={}", v.ty.0, v.offset, v.size)?;
                if let Some(vt) = btf.type_by_id(v.ty) {
                    write!(out, " ({} '", vt.kind().name())?;
                    out.write_all(name_or_anon(btf, vt.name_off))?;
                    out.write_all(b"')")?;
                } else if v.ty.0 == 0 {
                    out.write_all(b" (UNKNOWN '(anon)')")?;
                }
            }
        }
        TypeKind::Float { size } => write!(out, " size={size}")?,
        TypeKind::DeclTag { ty, component_idx, .. } => {
            write!(out, " type_id={} component_idx={}", ty.0, component_idx)?
        }
    }
    out.write_all(b"\n")
}
