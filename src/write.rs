//! [`Btf`] → raw BTF bytes (header, types, optional kind layout, strings),
//! in the BTF's byte order.

use object::{BigEndian, Endian, LittleEndian};

use crate::btf::*;

/// Serializes `btf` (its own types and strings; a split BTF stays split).
pub fn to_bytes(btf: &Btf) -> Vec<u8> {
    to_bytes_endian(btf, btf.endian())
}

/// Serializes `btf` in the given byte order.
pub fn to_bytes_endian(btf: &Btf, endian: Endianness) -> Vec<u8> {
    let pad = Padding::default();
    match endian {
        Endianness::Little => write_with(LittleEndian, btf, pad),
        Endianness::Big => write_with(BigEndian, btf, pad),
    }
}

/// Serializes `btf` to exactly `target` bytes, describing the same BTF as
/// [`to_bytes`]: the slack goes into a zero-filled header extension (which
/// the kernel and libbpf accept: unknown header bytes must be zero) and, for
/// the last 0–3 bytes that keep the type section 4-byte aligned, into extra
/// NULs at the end of the string section. Used to rewrite an allocated
/// `.BTF` (whose size is fixed by the link) in place. An error when the BTF
/// needs more than `target` bytes.
pub fn to_bytes_padded(btf: &Btf, target: usize) -> crate::Result<Vec<u8>> {
    let len = written_len(btf, Padding::default());
    if target < len {
        return Err(crate::Error::DoesNotFit { len, target });
    }
    let slack = target - len;
    let pad = Padding { header: slack & !3, strings: slack & 3 };
    if u32::try_from(header_len(btf) + pad.header).is_err() {
        return Err(crate::Error::PaddingTooLarge { padding: pad.header });
    }
    Ok(match btf.endian() {
        Endianness::Little => write_with(LittleEndian, btf, pad),
        Endianness::Big => write_with(BigEndian, btf, pad),
    })
}

/// Zero bytes added to the header and to the end of the string section.
#[derive(Clone, Copy, Default)]
struct Padding {
    header: usize,
    strings: usize,
}

/// The header length the writer writes (before padding).
fn header_len(btf: &Btf) -> usize {
    let hdr_len = btf.hdr_len().max(HEADER_LEN) as usize;
    if btf.layout().is_some_and(|l| !l.is_empty()) { hdr_len.max(HEADER_LEN_LAYOUT as usize) } else { hdr_len }
}

/// The length of what the writer writes.
fn written_len(btf: &Btf, pad: Padding) -> usize {
    let layout_len = btf.layout().map_or(0, |l| l.len() * 4);
    header_len(btf) + pad.header + btf.type_section_len() + layout_len + btf.strings().len() + pad.strings
}

fn write_with<E: Endian>(e: E, btf: &Btf, pad: Padding) -> Vec<u8> {
    let type_len = btf.type_section_len();
    let layout = btf.layout().unwrap_or(&[]);
    let layout_len = layout.len() * 4;
    let strs = btf.strings().as_bytes();
    let hdr_len = header_len(btf) + pad.header;
    let mut out = Vec::with_capacity(written_len(btf, pad));
    let w32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&e.write_u32(v));
    out.extend_from_slice(&e.write_u16(MAGIC));
    out.push(1);
    out.push(0);
    w32(&mut out, hdr_len as u32);
    w32(&mut out, 0);
    w32(&mut out, type_len as u32);
    w32(&mut out, (type_len + layout_len) as u32);
    w32(&mut out, (strs.len() + pad.strings) as u32);
    if hdr_len >= HEADER_LEN_LAYOUT as usize {
        w32(&mut out, if layout.is_empty() { 0 } else { type_len as u32 });
        w32(&mut out, layout_len as u32);
    }
    out.resize(hdr_len, 0);
    for t in btf.types() {
        write_type(e, t, &mut out);
    }
    for l in layout {
        out.push(l.info_sz);
        out.push(l.elem_sz);
        out.extend_from_slice(&e.write_u16(l.flags));
    }
    out.extend_from_slice(strs);
    out.resize(out.len() + pad.strings, 0);
    out
}

/// Appends one encoded type.
pub(crate) fn write_type<E: Endian>(e: E, t: &Type, out: &mut Vec<u8>) {
    let mut w = |v: u32| out.extend_from_slice(&e.write_u32(v));
    w(t.name_off.get());
    w(t.info());
    w(t.size_or_type());
    match &t.kind {
        TypeKind::Int(_) => w(t.int_data()),
        TypeKind::Array(a) => {
            w(a.elem.0);
            w(a.index.0);
            w(a.nelems);
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            for m in &c.members {
                w(m.name_off.get());
                w(m.ty.0);
                w(m.offset);
            }
        }
        TypeKind::Enum(en) => {
            for v in &en.values {
                w(v.name_off.get());
                w(v.val);
            }
        }
        TypeKind::Enum64(en) => {
            for v in &en.values {
                w(v.name_off.get());
                w(v.val as u32);
                w((v.val >> 32) as u32);
            }
        }
        TypeKind::FuncProto(p) => {
            for p in &p.params {
                w(p.name_off.get());
                w(p.ty.0);
            }
        }
        TypeKind::Var { linkage, .. } => w(*linkage),
        TypeKind::Datasec(d) => {
            for v in &d.vars {
                w(v.ty.0);
                w(v.offset);
                w(v.size);
            }
        }
        TypeKind::DeclTag { component_idx, .. } => w(*component_idx as u32),
        _ => {}
    }
}
