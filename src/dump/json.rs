//! `bpftool -j btf dump file F` (and `-p`), byte for byte: a small copy of
//! the semantics of bpftool's json_writer, including its escaping quirks
//! (a backslash is written as `\n`, a single quote as `\'`).

use std::io::{self, Write};

use super::{func_linkage_str, int_encoding_str, name_or_anon, var_linkage_str};
use crate::btf::{Btf, TypeId, TypeKind};

/// A streaming JSON writer with bpftool's layout rules.
pub struct JsonWriter<W: Write> {
    out: W,
    depth: usize,
    pretty: bool,
    sep: bool,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(out: W, pretty: bool) -> Self {
        JsonWriter { out, depth: 0, pretty, sep: false }
    }

    fn eol(&mut self) -> io::Result<()> {
        if self.pretty {
            self.out.write_all(b"\n")?;
            for _ in 0..self.depth {
                self.out.write_all(b"    ")?;
            }
        }
        Ok(())
    }

    fn eor(&mut self) -> io::Result<()> {
        if self.sep {
            self.out.write_all(b",")?;
        }
        self.sep = true;
        Ok(())
    }

    fn begin(&mut self, c: u8) -> io::Result<()> {
        self.eor()?;
        self.out.write_all(&[c])?;
        self.depth += 1;
        self.sep = false;
        Ok(())
    }

    fn end(&mut self, c: u8) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.sep {
            self.eol()?;
        }
        self.out.write_all(&[c])?;
        self.sep = true;
        Ok(())
    }

    pub fn start_object(&mut self) -> io::Result<()> {
        self.begin(b'{')
    }
    pub fn end_object(&mut self) -> io::Result<()> {
        self.end(b'}')
    }
    pub fn start_array(&mut self) -> io::Result<()> {
        self.begin(b'[')
    }
    pub fn end_array(&mut self) -> io::Result<()> {
        self.end(b']')
    }

    fn puts(&mut self, s: &[u8]) -> io::Result<()> {
        self.out.write_all(b"\"")?;
        let mut start = 0;
        for (i, &b) in s.iter().enumerate() {
            let esc: &[u8] = match b {
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                0x0c => b"\\f",
                0x08 => b"\\b",
                b'\\' => b"\\n",
                b'"' => b"\\\"",
                b'\'' => b"\\'",
                _ => continue,
            };
            self.out.write_all(&s[start..i])?;
            self.out.write_all(esc)?;
            start = i + 1;
        }
        self.out.write_all(&s[start..])?;
        self.out.write_all(b"\"")
    }

    pub fn name(&mut self, name: &str) -> io::Result<()> {
        self.eor()?;
        self.eol()?;
        self.sep = false;
        self.puts(name.as_bytes())?;
        self.out.write_all(if self.pretty { b": " } else { b":" })
    }

    pub fn string_field(&mut self, name: &str, val: &[u8]) -> io::Result<()> {
        self.name(name)?;
        self.eor()?;
        self.puts(val)
    }

    pub fn uint_field(&mut self, name: &str, v: u64) -> io::Result<()> {
        self.name(name)?;
        self.eor()?;
        write!(self.out, "{v}")
    }

    pub fn int_field(&mut self, name: &str, v: i64) -> io::Result<()> {
        self.name(name)?;
        self.eor()?;
        write!(self.out, "{v}")
    }

    /// bpftool's `jsonw_destroy`: a final newline.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n")?;
        Ok(self.out)
    }
}

/// The whole JSON document bpftool prints for `btf dump` (own types of a split BTF).
pub fn dump(btf: &Btf, pretty: bool, out: &mut impl Write) -> io::Result<()> {
    let ids: Vec<TypeId> = btf.iter().map(|(id, _)| id).collect();
    dump_ids(btf, &ids, pretty, out)
}

/// The JSON document for the given type ids.
pub fn dump_ids(btf: &Btf, ids: &[TypeId], pretty: bool, out: &mut impl Write) -> io::Result<()> {
    let mut w = JsonWriter::new(out, pretty);
    w.start_object()?;
    w.name("types")?;
    w.start_array()?;
    for &id in ids {
        dump_type(btf, id, &mut w)?;
    }
    w.end_array()?;
    w.end_object()?;
    w.finish()?;
    Ok(())
}

fn dump_type<W: Write>(btf: &Btf, id: TypeId, w: &mut JsonWriter<W>) -> io::Result<()> {
    w.start_object()?;
    w.uint_field("id", id.0 as u64)?;
    let Some(t) = btf.type_by_id(id) else {
        w.string_field("kind", b"UNKNOWN")?;
        w.string_field("name", b"(anon)")?;
        return w.end_object();
    };
    w.string_field("kind", t.kind().name().as_bytes())?;
    w.string_field("name", name_or_anon(btf, t.name_off))?;
    match &t.kind {
        TypeKind::Int(i) => {
            w.uint_field("size", i.size as u64)?;
            w.uint_field("bits_offset", i.offset as u64)?;
            w.uint_field("nr_bits", i.bits as u64)?;
            w.string_field("encoding", int_encoding_str(i.encoding).as_bytes())?;
        }
        TypeKind::Ptr(x)
        | TypeKind::Const(x)
        | TypeKind::Volatile(x)
        | TypeKind::Restrict(x)
        | TypeKind::Typedef(x)
        | TypeKind::TypeTag { ty: x, .. } => w.uint_field("type_id", x.0 as u64)?,
        TypeKind::Array(a) => {
            w.uint_field("type_id", a.elem.0 as u64)?;
            w.uint_field("index_type_id", a.index.0 as u64)?;
            w.uint_field("nr_elems", a.nelems as u64)?;
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            w.uint_field("size", c.size as u64)?;
            w.uint_field("vlen", c.members.len() as u64)?;
            w.name("members")?;
            w.start_array()?;
            for m in &c.members {
                w.start_object()?;
                w.string_field("name", name_or_anon(btf, m.name_off))?;
                w.uint_field("type_id", m.ty.0 as u64)?;
                w.uint_field("bits_offset", c.bit_offset(m) as u64)?;
                let bs = c.bitfield_size(m);
                if bs != 0 {
                    w.uint_field("bitfield_size", bs as u64)?;
                }
                w.end_object()?;
            }
            w.end_array()?;
        }
        TypeKind::Enum(e) => {
            w.string_field("encoding", if e.signed { b"SIGNED" } else { b"UNSIGNED" })?;
            w.uint_field("size", e.size as u64)?;
            w.uint_field("vlen", e.values.len() as u64)?;
            w.name("values")?;
            w.start_array()?;
            for v in &e.values {
                w.start_object()?;
                w.string_field("name", name_or_anon(btf, v.name_off))?;
                // bpftool passes the __s32 value on, so an unsigned field
                // sign-extends to 64 bits.
                if e.signed {
                    w.int_field("val", v.val as i32 as i64)?;
                } else {
                    w.uint_field("val", v.val as i32 as i64 as u64)?;
                }
                w.end_object()?;
            }
            w.end_array()?;
        }
        TypeKind::Enum64(e) => {
            w.string_field("encoding", if e.signed { b"SIGNED" } else { b"UNSIGNED" })?;
            w.uint_field("size", e.size as u64)?;
            w.uint_field("vlen", e.values.len() as u64)?;
            w.name("values")?;
            w.start_array()?;
            for v in &e.values {
                w.start_object()?;
                w.string_field("name", name_or_anon(btf, v.name_off))?;
                if e.signed {
                    w.int_field("val", v.val as i64)?;
                } else {
                    w.uint_field("val", v.val)?;
                }
                w.end_object()?;
            }
            w.end_array()?;
        }
        TypeKind::Fwd { union } => {
            w.string_field("fwd_kind", if *union { b"union" } else { b"struct" })?;
        }
        TypeKind::Func { proto, linkage } => {
            w.uint_field("type_id", proto.0 as u64)?;
            w.string_field("linkage", func_linkage_str(*linkage).as_bytes())?;
        }
        TypeKind::FuncProto(p) => {
            w.uint_field("ret_type_id", p.ret.0 as u64)?;
            w.uint_field("vlen", p.params.len() as u64)?;
            w.name("params")?;
            w.start_array()?;
            for p in &p.params {
                w.start_object()?;
                w.string_field("name", name_or_anon(btf, p.name_off))?;
                w.uint_field("type_id", p.ty.0 as u64)?;
                w.end_object()?;
            }
            w.end_array()?;
        }
        TypeKind::Var { ty, linkage } => {
            w.uint_field("type_id", ty.0 as u64)?;
            w.string_field("linkage", var_linkage_str(*linkage).as_bytes())?;
        }
        TypeKind::Datasec(d) => {
            w.uint_field("size", d.size as u64)?;
            w.uint_field("vlen", d.vars.len() as u64)?;
            w.name("vars")?;
            w.start_array()?;
            for v in &d.vars {
                w.start_object()?;
                w.uint_field("type_id", v.ty.0 as u64)?;
                w.uint_field("offset", v.offset as u64)?;
                w.uint_field("size", v.size as u64)?;
                w.end_object()?;
            }
            w.end_array()?;
        }
        TypeKind::Float { size } => w.uint_field("size", *size as u64)?,
        TypeKind::DeclTag { ty, component_idx, .. } => {
            w.uint_field("type_id", ty.0 as u64)?;
            w.int_field("component_idx", *component_idx as i64)?;
        }
    }
    w.end_object()
}
