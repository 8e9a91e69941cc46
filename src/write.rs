//! [`Btf`] → raw BTF bytes (header, types, optional kind layout, strings),
//! in the BTF's byte order.

use object::{BigEndian, Endian, LittleEndian};

use crate::btf::*;

/// Serializes `btf` (its own types and strings; a split BTF stays split).
pub fn to_bytes(btf: &Btf) -> Vec<u8> {
    match btf.endian() {
        Endianness::Little => write_with(LittleEndian, btf),
        Endianness::Big => write_with(BigEndian, btf),
    }
}

/// Serializes `btf` in the given byte order.
pub fn to_bytes_endian(btf: &Btf, endian: Endianness) -> Vec<u8> {
    match endian {
        Endianness::Little => write_with(LittleEndian, btf),
        Endianness::Big => write_with(BigEndian, btf),
    }
}

/// Length of the type section.
pub fn type_section_len(btf: &Btf) -> usize {
    btf.types().iter().map(Type::encoded_len).sum()
}

fn write_with<E: Endian>(e: E, btf: &Btf) -> Vec<u8> {
    let type_len = type_section_len(btf);
    let layout = btf.layout().unwrap_or(&[]);
    let layout_len = layout.len() * 4;
    let strs = btf.strings().as_bytes();
    let mut hdr_len = btf.hdr_len().max(HEADER_LEN) as usize;
    if !layout.is_empty() {
        hdr_len = hdr_len.max(HEADER_LEN_LAYOUT as usize);
    }
    let mut out = Vec::with_capacity(hdr_len + type_len + layout_len + strs.len());
    let w32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&e.write_u32(v));
    out.extend_from_slice(&e.write_u16(MAGIC));
    out.push(1);
    out.push(0);
    w32(&mut out, hdr_len as u32);
    w32(&mut out, 0);
    w32(&mut out, type_len as u32);
    w32(&mut out, (type_len + layout_len) as u32);
    w32(&mut out, strs.len() as u32);
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
    out
}

/// Appends one encoded type.
pub fn write_type<E: Endian>(e: E, t: &Type, out: &mut Vec<u8>) {
    let mut w = |v: u32| out.extend_from_slice(&e.write_u32(v));
    w(t.name_off);
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
                w(m.name_off);
                w(m.ty.0);
                w(m.offset);
            }
        }
        TypeKind::Enum(en) => {
            for v in &en.values {
                w(v.name_off);
                w(v.val);
            }
        }
        TypeKind::Enum64(en) => {
            for v in &en.values {
                w(v.name_off);
                w(v.val as u32);
                w((v.val >> 32) as u32);
            }
        }
        TypeKind::FuncProto(p) => {
            for p in &p.params {
                w(p.name_off);
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

/// Grows raw BTF `bytes` to exactly `target` bytes without changing what
/// it describes: the slack goes into a zero-filled header extension (which
/// the kernel and libbpf accept: unknown header bytes must be zero) and, for
/// the last 0–3 bytes that keep the type section 4-byte aligned, into extra
/// NULs at the end of the string section. Used to rewrite an allocated
/// `.BTF` (whose size is fixed by the link) in place.
pub fn pad_to(bytes: &[u8], target: usize) -> crate::Result<Vec<u8>> {
    let h = crate::parse::parse_header(bytes, 0)?;
    if target < bytes.len() {
        return Err(crate::Error::Invalid(format!("the BTF ({} bytes) does not fit in {target} bytes", bytes.len())));
    }
    let slack = target - bytes.len();
    let (grow_hdr, grow_str) = (slack & !3, slack & 3);
    let new_hdr_len = u32::try_from(h.hdr_len as usize + grow_hdr)
        .map_err(|_| crate::Error::Invalid("padding too large for the header".into()))?;
    let e = h.endian;
    let w32 = |v: u32| match e {
        Endianness::Little => LittleEndian.write_u32(v),
        Endianness::Big => BigEndian.write_u32(v),
    };
    let hdr = h.hdr_len as usize;
    let mut out = Vec::with_capacity(target);
    out.extend_from_slice(&bytes[..hdr]);
    out[4..8].copy_from_slice(&w32(new_hdr_len));
    out[20..24].copy_from_slice(&w32(h.str_len + grow_str as u32));
    out.resize(hdr + grow_hdr, 0);
    out.extend_from_slice(&bytes[hdr..]);
    out.resize(target, 0);
    Ok(out)
}
