//! `bpftool -j btf dump file F` (and `-p`), byte for byte: a small copy of
//! the semantics of bpftool's json_writer, including its escaping quirks
//! (a backslash is written as `\n`, a single quote as `\'`).

use std::io::{self, Write};

use super::{Text, func_linkage_str, int_encoding_str, name_or_anon, var_linkage_str};
use crate::btf::{Btf, TypeId, TypeKind};

/// A JSON writer into memory with bpftool's layout rules.
pub struct JsonWriter {
    out: Vec<u8>,
    depth: usize,
    pretty: bool,
    sep: bool,
}

impl JsonWriter {
    /// A writer at the top level; `pretty` selects bpftool's indented layout (`-p`) over the compact one.
    pub fn new(pretty: bool) -> Self {
        JsonWriter { out: Vec::new(), depth: 0, pretty, sep: false }
    }

    /// A writer that continues a document at `depth`, after a value when `sep`.
    pub fn resume(pretty: bool, depth: usize, sep: bool) -> Self {
        JsonWriter { out: Vec::with_capacity(1 << 16), depth, pretty, sep }
    }

    /// The JSON text written so far.
    pub fn into_inner(self) -> Vec<u8> {
        self.out
    }

    fn eol(&mut self) {
        if self.pretty {
            self.out.push(b'\n');
            for _ in 0..self.depth {
                self.out.extend_from_slice(b"    ");
            }
        }
    }

    fn eor(&mut self) {
        if self.sep {
            self.out.push(b',');
        }
        self.sep = true;
    }

    fn begin(&mut self, c: u8) {
        self.eor();
        self.out.push(c);
        self.depth += 1;
        self.sep = false;
    }

    fn end(&mut self, c: u8) {
        self.depth = self.depth.saturating_sub(1);
        if self.sep {
            self.eol();
        }
        self.out.push(c);
        self.sep = true;
    }

    /// Writes `{`, starting an object (after a separator if needed).
    pub fn start_object(&mut self) {
        self.begin(b'{')
    }
    /// Writes `}`, ending the current object.
    pub fn end_object(&mut self) {
        self.end(b'}')
    }
    /// Writes `[`, starting an array (after a separator if needed).
    pub fn start_array(&mut self) {
        self.begin(b'[')
    }
    /// Writes `]`, ending the current array.
    pub fn end_array(&mut self) {
        self.end(b']')
    }

    fn puts(&mut self, s: &[u8]) {
        // Bytes bpftool's writer escapes.
        const fn table() -> [bool; 256] {
            let mut t = [false; 256];
            t[b'\t' as usize] = true;
            t[b'\n' as usize] = true;
            t[b'\r' as usize] = true;
            t[0x0c] = true;
            t[0x08] = true;
            t[b'\\' as usize] = true;
            t[b'"' as usize] = true;
            t[b'\'' as usize] = true;
            t
        }
        static ESCAPED: [bool; 256] = table();
        self.out.push(b'"');
        if !s.iter().any(|&b| ESCAPED[b as usize]) {
            self.out.extend_from_slice(s);
            self.out.push(b'"');
            return;
        }
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
            self.out.extend_from_slice(&s[start..i]);
            self.out.extend_from_slice(esc);
            start = i + 1;
        }
        self.out.extend_from_slice(&s[start..]);
        self.out.push(b'"');
    }

    /// Writes an object key `name` and its colon; the value follows.
    pub fn name(&mut self, name: &str) {
        self.eor();
        self.eol();
        self.sep = false;
        self.puts(name.as_bytes());
        self.out.s(if self.pretty { ": " } else { ":" });
    }

    /// Writes `"name": "val"`, escaping `val` as bpftool does (bytes need not be UTF-8).
    pub fn string_field(&mut self, name: &str, val: impl AsRef<[u8]>) {
        self.name(name);
        self.eor();
        self.puts(val.as_ref());
    }

    /// Writes `"name": v` for an unsigned integer.
    pub fn uint_field(&mut self, name: &str, v: impl Into<u64>) {
        self.name(name);
        self.eor();
        self.out.u(v.into());
    }

    /// Writes `"name": v` for a signed integer.
    pub fn int_field(&mut self, name: &str, v: i64) {
        self.name(name);
        self.eor();
        self.out.u(v);
    }

    /// bpftool's `jsonw_destroy`: a final newline.
    pub fn finish(&mut self) {
        self.out.push(b'\n');
    }
}

/// The whole JSON document bpftool prints for `btf dump` (own types of a split BTF).
pub fn dump(btf: &Btf, pretty: bool, out: &mut impl Write) -> io::Result<()> {
    let ids: Vec<TypeId> = btf.iter().map(|(id, _)| id).collect();
    dump_ids(btf, &ids, pretty, out)
}

/// The JSON document for the given type ids.
pub fn dump_ids(btf: &Btf, ids: &[TypeId], pretty: bool, out: &mut impl Write) -> io::Result<()> {
    let mut head = JsonWriter::new(pretty);
    head.start_object();
    head.name("types");
    head.start_array();
    out.write_all(&head.into_inner())?;
    super::render_chunks(ids, out, |chunk, buf| {
        let sep = !std::ptr::eq(chunk.as_ptr(), ids.as_ptr());
        let mut w = JsonWriter::resume(pretty, 2, sep);
        std::mem::swap(&mut w.out, buf);
        for &id in chunk {
            dump_type(btf, id, &mut w);
        }
        std::mem::swap(&mut w.out, buf);
    })?;
    let mut tail = JsonWriter::resume(pretty, 2, !ids.is_empty());
    tail.end_array();
    tail.end_object();
    tail.finish();
    out.write_all(&tail.into_inner())
}

fn dump_type(btf: &Btf, id: TypeId, w: &mut JsonWriter) {
    w.start_object();
    w.uint_field("id", id.0);
    let Some(t) = btf.type_by_id(id) else {
        w.string_field("kind", b"UNKNOWN");
        w.string_field("name", b"(anon)");
        w.end_object();
        return;
    };
    w.string_field("kind", t.kind().name().as_bytes());
    w.string_field("name", name_or_anon(btf, t.name_off));
    match &t.kind {
        TypeKind::Int(i) => {
            w.uint_field("size", i.size);
            w.uint_field("bits_offset", i.offset as u32);
            w.uint_field("nr_bits", i.bits as u32);
            w.string_field("encoding", int_encoding_str(i.encoding).as_bytes());
        }
        TypeKind::Ptr(x)
        | TypeKind::Const(x)
        | TypeKind::Volatile(x)
        | TypeKind::Restrict(x)
        | TypeKind::Typedef(x)
        | TypeKind::TypeTag { ty: x, .. } => w.uint_field("type_id", x.0),
        TypeKind::Array(a) => {
            w.uint_field("type_id", a.elem.0);
            w.uint_field("index_type_id", a.index.0);
            w.uint_field("nr_elems", a.nelems);
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            w.uint_field("size", c.size);
            w.uint_field("vlen", c.members.len() as u32);
            w.name("members");
            w.start_array();
            for m in &c.members {
                w.start_object();
                w.string_field("name", name_or_anon(btf, m.name_off));
                w.uint_field("type_id", m.ty.0);
                w.uint_field("bits_offset", c.bit_offset(m));
                let bs = c.bitfield_size(m);
                if bs != 0 {
                    w.uint_field("bitfield_size", bs);
                }
                w.end_object();
            }
            w.end_array();
        }
        TypeKind::Enum(e) => {
            w.string_field("encoding", if e.signed { "SIGNED" } else { "UNSIGNED" });
            w.uint_field("size", e.size);
            w.uint_field("vlen", e.values.len() as u32);
            w.name("values");
            w.start_array();
            for v in &e.values {
                w.start_object();
                w.string_field("name", name_or_anon(btf, v.name_off));
                // bpftool passes the __s32 value on, so an unsigned field
                // sign-extends to 64 bits.
                if e.signed {
                    w.int_field("val", v.val as i32 as i64);
                } else {
                    w.uint_field("val", v.val as i32 as i64 as u64);
                }
                w.end_object();
            }
            w.end_array();
        }
        TypeKind::Enum64(e) => {
            w.string_field("encoding", if e.signed { "SIGNED" } else { "UNSIGNED" });
            w.uint_field("size", e.size);
            w.uint_field("vlen", e.values.len() as u32);
            w.name("values");
            w.start_array();
            for v in &e.values {
                w.start_object();
                w.string_field("name", name_or_anon(btf, v.name_off));
                if e.signed {
                    w.int_field("val", v.val as i64);
                } else {
                    w.uint_field("val", v.val);
                }
                w.end_object();
            }
            w.end_array();
        }
        TypeKind::Fwd { union } => {
            w.string_field("fwd_kind", if *union { "union" } else { "struct" });
        }
        TypeKind::Func { proto, linkage } => {
            w.uint_field("type_id", proto.0);
            w.string_field("linkage", func_linkage_str(*linkage).as_bytes());
        }
        TypeKind::FuncProto(p) => {
            w.uint_field("ret_type_id", p.ret.0);
            w.uint_field("vlen", p.params.len() as u32);
            w.name("params");
            w.start_array();
            for p in &p.params {
                w.start_object();
                w.string_field("name", name_or_anon(btf, p.name_off));
                w.uint_field("type_id", p.ty.0);
                w.end_object();
            }
            w.end_array();
        }
        TypeKind::Var { ty, linkage } => {
            w.uint_field("type_id", ty.0);
            w.string_field("linkage", var_linkage_str(*linkage).as_bytes());
        }
        TypeKind::Datasec(d) => {
            w.uint_field("size", d.size);
            w.uint_field("vlen", d.vars.len() as u32);
            w.name("vars");
            w.start_array();
            for v in &d.vars {
                w.start_object();
                w.uint_field("type_id", v.ty.0);
                w.uint_field("offset", v.offset);
                w.uint_field("size", v.size);
                w.end_object();
            }
            w.end_array();
        }
        TypeKind::Float { size } => w.uint_field("size", *size),
        TypeKind::DeclTag { ty, component_idx, .. } => {
            w.uint_field("type_id", ty.0);
            w.int_field("component_idx", *component_idx as i64);
        }
    }
    w.end_object()
}
