//! Raw BTF bytes → validated [`Btf`].
//!
//! The reader is generic over the byte order (`object`'s `LittleEndian` /
//! `BigEndian`), chosen from the magic. Every count read from the input is
//! checked against the bytes that remain before anything is allocated, and
//! no step recurses on input-controlled depth.

use std::sync::Arc;

use object::{BigEndian, Endian, LittleEndian};
use rayon::prelude::*;

use crate::btf::*;
use crate::error::{Error, Result};

/// The fields of a BTF header, in host order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `BTF_MAGIC` (0xeb9f): the byte order has been taken from it.
    pub magic: u16,
    /// Format version (1).
    pub version: u8,
    /// Header flags.
    pub flags: u8,
    /// Header length in bytes; the sections start right after it.
    pub hdr_len: u32,
    /// Offset of the type section, relative to the end of the header.
    pub type_off: u32,
    /// Length of the type section in bytes.
    pub type_len: u32,
    /// Offset of the string section, relative to the end of the header.
    pub str_off: u32,
    /// Length of the string section in bytes.
    pub str_len: u32,
    /// Offset of the kind-layout section relative to the end of the header (0 when the header has no such field).
    pub layout_off: u32,
    /// Length of the kind-layout section in bytes (0 when absent).
    pub layout_len: u32,
    /// Byte order of the data, from the magic.
    pub endian: Endianness,
}

impl Header {
    /// Bytes this BTF occupies: header plus the end of its last section.
    pub fn total_len(&self) -> u64 {
        let sec_end = (self.type_off as u64 + self.type_len as u64)
            .max(self.str_off as u64 + self.str_len as u64)
            .max(self.layout_off as u64 + self.layout_len as u64);
        self.hdr_len as u64 + sec_end
    }
}

fn rd32<E: Endian>(e: E, d: &[u8], off: usize) -> u32 {
    // Callers check bounds first; a short slice reads as zero rather than panicking.
    match d.get(off..off + 4) {
        Some(b) => e.read_u32([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Reads and checks the header of the BTF that starts at `data[0]`.
/// `base_off` is added to offsets in errors (position in the enclosing file).
pub fn parse_header(data: &[u8], base_off: usize) -> Result<Header> {
    if data.len() < HEADER_LEN as usize {
        return Err(Error::TruncatedHeader { offset: base_off, len: data.len() });
    }
    let magic_le = u16::from_le_bytes([data[0], data[1]]);
    let endian = if magic_le == MAGIC {
        Endianness::Little
    } else if magic_le == MAGIC.swap_bytes() {
        Endianness::Big
    } else {
        return Err(Error::BadMagic { offset: base_off, magic: magic_le });
    };
    match endian {
        Endianness::Little => header_with(LittleEndian, data, base_off),
        Endianness::Big => header_with(BigEndian, data, base_off),
    }
}

fn header_with<E: Endian>(e: E, data: &[u8], base_off: usize) -> Result<Header> {
    let mut h = Header {
        magic: MAGIC,
        version: data[2],
        flags: data[3],
        hdr_len: rd32(e, data, 4),
        type_off: rd32(e, data, 8),
        type_len: rd32(e, data, 12),
        str_off: rd32(e, data, 16),
        str_len: rd32(e, data, 20),
        layout_off: 0,
        layout_len: 0,
        endian: if e.is_little_endian() { Endianness::Little } else { Endianness::Big },
    };
    if h.version != 1 {
        return Err(Error::BadVersion { offset: base_off + 2, version: h.version });
    }
    if h.flags != 0 {
        return Err(Error::BadFlags { offset: base_off + 3, flags: h.flags });
    }
    let bad_len = |why| Error::BadHeaderLen { offset: base_off + 4, hdr_len: h.hdr_len, why };
    if h.hdr_len < HEADER_LEN {
        return Err(bad_len("shorter than 24 bytes"));
    }
    if h.hdr_len % 4 != 0 {
        return Err(bad_len("not a multiple of 4"));
    }
    if h.hdr_len as usize > data.len() {
        return Err(bad_len("longer than the data"));
    }
    let mut known = HEADER_LEN as usize;
    if h.hdr_len >= HEADER_LEN_LAYOUT {
        h.layout_off = rd32(e, data, 24);
        h.layout_len = rd32(e, data, 28);
        known = HEADER_LEN_LAYOUT as usize;
    }
    if let Some(i) = data[known..h.hdr_len as usize].iter().position(|&b| b != 0) {
        return Err(Error::BadHeaderLen {
            offset: base_off + known + i,
            hdr_len: h.hdr_len,
            why: "unknown non-zero header bytes past the known fields",
        });
    }
    let sec = |why: String| Error::BadSections { offset: base_off + 8, why };
    if h.type_off % 4 != 0 {
        return Err(sec(format!("type section offset {} is not 4-byte aligned", h.type_off)));
    }
    if h.type_off != 0 {
        return Err(sec(format!("gap of {} bytes between the header and the type section", h.type_off)));
    }
    let type_end = h.type_off as u64 + h.type_len as u64;
    if h.type_len % 4 != 0 {
        return Err(sec(format!("type section length {} is not a multiple of 4", h.type_len)));
    }
    let mut str_expected = type_end;
    if h.layout_len != 0 {
        if h.layout_off % 4 != 0 {
            return Err(sec(format!("layout section offset {} is not 4-byte aligned", h.layout_off)));
        }
        if h.layout_off as u64 != type_end {
            return Err(sec(format!(
                "layout section at {} does not follow the type section (ends at {type_end})",
                h.layout_off
            )));
        }
        if h.layout_len % 4 != 0 {
            return Err(sec(format!("layout section length {} is not a multiple of 4", h.layout_len)));
        }
        str_expected = h.layout_off as u64 + h.layout_len as u64;
    } else if h.layout_off != 0 && h.layout_off as u64 != type_end {
        return Err(sec(format!("empty layout section with stray offset {}", h.layout_off)));
    }
    if h.str_off as u64 != str_expected {
        return Err(sec(format!(
            "string section at {} does not follow the previous section (ends at {str_expected})",
            h.str_off
        )));
    }
    let avail = (data.len() - h.hdr_len as usize) as u64;
    let need = h.str_off as u64 + h.str_len as u64;
    if need > avail {
        return Err(sec(format!(
            "sections end at byte {} but only {} bytes are present",
            h.hdr_len as u64 + need,
            data.len()
        )));
    }
    Ok(h)
}

/// How strictly [`parse_with`] checks the types.
///
/// Both levels check everything btfkit needs to be memory safe and
/// terminating: the header and section layout (the kernel's rules: version 1,
/// no flags, zero unknown header bytes, sections back to back), counts
/// against the bytes present, known kinds, type ids in range, string offsets
/// inside the string section, FUNC → FUNC_PROTO, and no reference loop
/// without a pointer (typedef/modifier/array/by-value member cycles, which
/// consumers that follow such chains rely on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Validation {
    /// The kernel BTF verifier's rules, those btfkit checks (the default): in addition,
    /// INT size/encoding/bit layout, unused fields, vlen and kind_flag zero
    /// where the kind has none, FUNC linkage, ENUM sizes, member offsets
    /// within the struct, bitfield sizes, decl tag values and components.
    #[default]
    Kernel,
    /// What libbpf 1.7's `btf__new` accepts for the types (what bpftool and
    /// gcc 12 live with): only the checks listed above for both levels. Bits
    /// in fields a kind does not use are kept in [`Type::quirks`] and written
    /// back. A BTF of the other byte order needs a 24-byte header, as libbpf
    /// requires. Deliberate differences from libbpf: reference loops and a
    /// FUNC_PROTO's return type id are checked (libbpf checks neither), and
    /// the header keeps the kernel's rules (libbpf also takes any version and
    /// flags, gaps between sections, trailing bytes and non-zero unknown
    /// header bytes, which the canonical writer could not reproduce).
    Libbpf,
}

/// Options for [`parse_with`].
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// How strictly types are checked (kernel rules by default).
    pub validation: Validation,
    /// Base BTF for split BTF.
    pub base: Option<Arc<Btf>>,
    /// Accept bytes after the end of the BTF (the caller handles them, e.g. archives).
    pub allow_trailing: bool,
    /// Offset of `data[0]` in the enclosing file, for error messages.
    pub file_offset: usize,
}

/// Parses one base BTF that must span all of `data`.
pub fn parse(data: &[u8]) -> Result<Btf> {
    parse_with(data, &ParseOptions::default()).map(|(b, _)| b)
}

/// Parses a split BTF over `base` that must span all of `data`.
pub fn parse_split(data: &[u8], base: Arc<Btf>) -> Result<Btf> {
    parse_with(data, &ParseOptions { base: Some(base), ..Default::default() }).map(|(b, _)| b)
}

/// Parses the BTF at the start of `data`; returns it and the bytes it spans.
pub fn parse_with(data: &[u8], opts: &ParseOptions) -> Result<(Btf, usize)> {
    let h = parse_header(data, opts.file_offset)?;
    let total = h.total_len() as usize;
    if total < data.len() && !opts.allow_trailing {
        return Err(Error::BadSections {
            offset: opts.file_offset + total,
            why: format!(
                "{} trailing bytes after the end of the BTF (a BTF archive? see `btfkit archive list`)",
                data.len() - total
            ),
        });
    }
    if let Some(b) = &opts.base {
        if b.endian() != h.endian {
            return Err(Error::Invalid(format!(
                "split BTF is {:?}-endian but its base is {:?}-endian",
                h.endian,
                b.endian()
            )));
        }
    }
    if opts.validation == Validation::Libbpf && h.endian != Endianness::default() && h.hdr_len != HEADER_LEN {
        return Err(Error::BadHeaderLen {
            offset: opts.file_offset + 4,
            hdr_len: h.hdr_len,
            why: "libbpf reads a BTF of the other byte order only with a 24-byte header",
        });
    }
    let btf = match h.endian {
        Endianness::Little => parse_body(LittleEndian, data, &h, opts)?,
        Endianness::Big => parse_body(BigEndian, data, &h, opts)?,
    };
    validate(&btf, &h, opts)?;
    Ok((btf, total))
}

fn parse_body<E: Endian + Send + Sync>(e: E, data: &[u8], h: &Header, opts: &ParseOptions) -> Result<Btf> {
    let hdr = h.hdr_len as usize;
    let fo = opts.file_offset;
    // Strings.
    let s_start = hdr + h.str_off as usize;
    let strs = &data[s_start..s_start + h.str_len as usize];
    let split = opts.base.is_some();
    if !(split && strs.is_empty()) {
        if strs.is_empty() {
            return Err(Error::BadStrings { offset: fo + s_start, why: "empty (needs at least the empty string)" });
        }
        if h.str_len - 1 > MAX_STR_OFFSET {
            return Err(Error::BadStrings { offset: fo + s_start, why: "larger than the maximum string offset" });
        }
        if strs[strs.len() - 1] != 0 {
            return Err(Error::BadStrings { offset: fo + s_start + strs.len() - 1, why: "last string is not NUL-terminated" });
        }
        if !split && strs[0] != 0 {
            return Err(Error::BadStrings {
                offset: fo + s_start,
                why: "does not start with the empty string (split BTF without its base?)",
            });
        }
    }
    if let Some(b) = &opts.base {
        let total = b.start_str_off() as u64 + b.strings().len() as u64 + strs.len() as u64;
        if total > MAX_STR_OFFSET as u64 {
            return Err(Error::BadStrings { offset: fo + s_start, why: "base plus split strings exceed the maximum offset" });
        }
    }
    // Layout section.
    let layout = if h.layout_len != 0 {
        let l_start = hdr + h.layout_off as usize;
        let raw = &data[l_start..l_start + h.layout_len as usize];
        Some(
            raw.chunks_exact(4)
                .map(|c| KindLayout { info_sz: c[0], elem_sz: c[1], flags: e.read_u16([c[2], c[3]]) })
                .collect(),
        )
    } else {
        None
    };
    // Types.
    let t_start = hdr + h.type_off as usize;
    let tdata = &data[t_start..t_start + h.type_len as usize];
    let start_id = opts.base.as_ref().map(|b| b.type_count()).unwrap_or(1);
    // Pass 1: where each type starts (a cheap sequential walk over kind and
    // vlen). It stops at the first type it cannot size; parsing that one
    // below reports the precise error.
    let mut offs: Vec<usize> = Vec::with_capacity(tdata.len() / 16);
    let mut pos = 0usize;
    while pos < tdata.len() {
        offs.push(pos);
        match encoded_len_at(e, &tdata[pos..]) {
            Some(n) if n <= tdata.len() - pos => pos += n,
            _ => break,
        }
    }
    let last_id = start_id as u64 + offs.len() as u64 - (!offs.is_empty()) as u64;
    if last_id > MAX_TYPE_ID as u64 {
        return Err(Error::TooManyTypes(last_id as usize));
    }
    // Pass 2: decode the types, in parallel chunks for big inputs; the first
    // error in id order wins, so messages do not depend on scheduling.
    let parse_range = |range: std::ops::Range<usize>| -> Result<Vec<Type>> {
        range
            .map(|i| parse_type(e, &tdata[offs[i]..], start_id + i as u32, fo + t_start + offs[i], opts.validation))
            .collect()
    };
    let types: Vec<Type> = if offs.len() < PAR_MIN {
        parse_range(0..offs.len())?
    } else {
        let chunks: Vec<Result<Vec<Type>>> = (0..offs.len().div_ceil(PAR_CHUNK))
            .into_par_iter()
            .map(|c| parse_range(c * PAR_CHUNK..((c + 1) * PAR_CHUNK).min(offs.len())))
            .collect();
        let mut types = Vec::with_capacity(offs.len());
        for c in chunks {
            types.extend(c?);
        }
        types
    };
    let strings = StringTable::from_bytes(strs.to_vec());
    Ok(Btf::from_parts(types, strings, opts.base.clone(), h.endian, h.hdr_len, layout))
}

/// Inputs with fewer types are parsed and checked on one thread.
const PAR_MIN: usize = 8192;
/// Types per parallel work item.
const PAR_CHUNK: usize = 4096;

/// Encoded length of the type at `d[0]`, from its kind and vlen; None for
/// an unknown kind or a truncated header.
fn encoded_len_at<E: Endian>(e: E, d: &[u8]) -> Option<usize> {
    if d.len() < 12 {
        return None;
    }
    let info = rd32(e, d, 4);
    let vlen = (info & 0xffff) as usize;
    let extra = match Kind::from_u32((info >> 24) & 0x1f)? {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Enum64 | Kind::Datasec => 12 * vlen,
        Kind::Enum | Kind::FuncProto => 8 * vlen,
        _ => 0,
    };
    Some(12 + extra)
}

fn parse_type<E: Endian>(e: E, d: &[u8], id: u32, off: usize, level: Validation) -> Result<Type> {
    let strict = level == Validation::Kernel;
    if d.len() < 12 {
        return Err(Error::TruncatedType { offset: off, id, need: 12, have: d.len() });
    }
    let name_off = rd32(e, d, 0);
    let info = rd32(e, d, 4);
    let st = rd32(e, d, 8);
    let vlen = info & 0xffff;
    let kflag = info >> 31 != 0;
    let kind_no = (info >> 24) & 0x1f;
    let Some(kind) = Kind::from_u32(kind_no) else {
        return Err(Error::UnknownKind { offset: off, id, kind: kind_no });
    };
    let bad = |why: String| Error::BadType { offset: off, id, kind: kind.name(), why };
    if strict && info & 0x60ff_0000 != 0 {
        return Err(bad(format!("unused bits set in info {info:#010x}")));
    }
    let elem = match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Enum64 | Kind::Datasec => 12 * vlen as usize,
        Kind::Enum => 8 * vlen as usize,
        Kind::FuncProto => 8 * vlen as usize,
        _ => 0,
    };
    let need = 12 + elem;
    if d.len() < need {
        return Err(Error::TruncatedType { offset: off, id, need, have: d.len() });
    }
    let has_vlen = matches!(
        kind,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::FuncProto | Kind::Datasec | Kind::Func
    );
    if strict && !has_vlen && vlen != 0 {
        return Err(bad(format!("vlen {vlen} must be 0")));
    }
    let kflag_ok = matches!(
        kind,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::DeclTag | Kind::TypeTag
    );
    if strict && kflag && !kflag_ok {
        return Err(bad("kind_flag must be 0".into()));
    }
    let x = &d[12..need];
    let r = |i: usize| rd32(e, x, i);
    let tid = TypeId;
    let kind = match kind {
        Kind::Int => {
            let v = r(0);
            if strict && v & 0xf000_ff00 != 0 {
                return Err(bad(format!("unused bits set in int data {v:#010x}")));
            }
            TypeKind::Int(Int { size: st, encoding: (v >> 24) as u8 & 0xf, offset: (v >> 16) as u8, bits: v as u8 })
        }
        Kind::Ptr => TypeKind::Ptr(tid(st)),
        Kind::Array => {
            if strict && st != 0 {
                return Err(bad(format!("size/type field {st} must be 0")));
            }
            TypeKind::Array(Array { elem: tid(r(0)), index: tid(r(4)), nelems: r(8) })
        }
        Kind::Struct | Kind::Union => {
            let members = x
                .chunks_exact(12)
                .map(|m| Member { name_off: rd32(e, m, 0), ty: tid(rd32(e, m, 4)), offset: rd32(e, m, 8) })
                .collect();
            let c = Composite { size: st, kflag, members };
            if kind == Kind::Struct { TypeKind::Struct(c) } else { TypeKind::Union(c) }
        }
        Kind::Enum => TypeKind::Enum(Enum {
            size: st,
            signed: kflag,
            values: x.chunks_exact(8).map(|v| EnumValue { name_off: rd32(e, v, 0), val: rd32(e, v, 4) }).collect(),
        }),
        Kind::Enum64 => TypeKind::Enum64(Enum64 {
            size: st,
            signed: kflag,
            values: x
                .chunks_exact(12)
                .map(|v| Enum64Value {
                    name_off: rd32(e, v, 0),
                    val: ((rd32(e, v, 8) as u64) << 32) | rd32(e, v, 4) as u64,
                })
                .collect(),
        }),
        Kind::Fwd => {
            if strict && st != 0 {
                return Err(bad(format!("size/type field {st} must be 0")));
            }
            TypeKind::Fwd { union: kflag }
        }
        Kind::Typedef => TypeKind::Typedef(tid(st)),
        Kind::Volatile => TypeKind::Volatile(tid(st)),
        Kind::Const => TypeKind::Const(tid(st)),
        Kind::Restrict => TypeKind::Restrict(tid(st)),
        Kind::Func => TypeKind::Func { proto: tid(st), linkage: vlen as u16 },
        Kind::FuncProto => TypeKind::FuncProto(FuncProto {
            ret: tid(st),
            params: x.chunks_exact(8).map(|p| Param { name_off: rd32(e, p, 0), ty: tid(rd32(e, p, 4)) }).collect(),
        }),
        Kind::Var => TypeKind::Var { ty: tid(st), linkage: r(0) },
        Kind::Datasec => TypeKind::Datasec(Datasec {
            size: st,
            vars: x
                .chunks_exact(12)
                .map(|v| VarSecinfo { ty: tid(rd32(e, v, 0)), offset: rd32(e, v, 4), size: rd32(e, v, 8) })
                .collect(),
        }),
        Kind::Float => TypeKind::Float { size: st },
        Kind::DeclTag => TypeKind::DeclTag { ty: tid(st), component_idx: r(0) as i32, attr: kflag },
        Kind::TypeTag => TypeKind::TypeTag { ty: tid(st), attr: kflag },
        Kind::Unknown => return Err(Error::UnknownKind { offset: off, id, kind: 0 }),
    };
    let mut t = Type::new(name_off, kind);
    if !strict {
        // Whatever the model does not reproduce from the kind data is kept
        // as is (the strict checks above guarantee there is none).
        let q = Quirks {
            info: info ^ t.info(),
            size_or_type: if matches!(t.kind, TypeKind::Array(_) | TypeKind::Fwd { .. }) { st } else { 0 },
            int_data: if let TypeKind::Int(_) = t.kind { r(0) & 0xf000_ff00 } else { 0 },
        };
        if !q.is_empty() {
            t.quirks = Some(Box::new(q));
        }
    }
    Ok(t)
}

/// Checks what libbpf's `btf_sanity_check` checks (string offsets, type ids,
/// FUNC → FUNC_PROTO) and rejects reference loops without a pointer; with
/// [`Validation::Kernel`] also a subset of the kernel's rules that any valid
/// BTF meets (INT layout, decl tag components, ...).
fn validate(btf: &Btf, h: &Header, opts: &ParseOptions) -> Result<()> {
    let level = opts.validation;
    let first = opts.file_offset + h.hdr_len as usize + h.type_off as usize;
    let mut offs = Vec::with_capacity(btf.types().len());
    let mut off = first;
    for t in btf.types() {
        offs.push(off);
        off += t.encoded_len();
    }
    let start = btf.start_id();
    let check_range = |range: std::ops::Range<usize>| -> Result<()> {
        for i in range {
            validate_type(btf, TypeId(start + i as u32), &btf.types()[i], offs[i], level)?;
        }
        Ok(())
    };
    let n = btf.types().len();
    if n < PAR_MIN {
        check_range(0..n)?;
    } else {
        let results: Vec<Result<()>> = (0..n.div_ceil(PAR_CHUNK))
            .into_par_iter()
            .map(|c| check_range(c * PAR_CHUNK..((c + 1) * PAR_CHUNK).min(n)))
            .collect();
        results.into_iter().collect::<Result<()>>()?;
    }
    check_loops(btf)
}

/// The per-type checks of [`validate`].
fn validate_type(btf: &Btf, id: TypeId, t: &Type, off: usize, level: Validation) -> Result<()> {
    let max = btf.type_count() - 1;
    let bad = |why: String| Error::BadType { offset: off, id: id.0, kind: t.kind().name(), why };
    let mut err = None;
    t.for_each_str(|s, what| {
        if err.is_none() && !btf.is_valid_str_off(s) {
            err = Some(Error::BadStringOffset { id: id.0, what, str_off: s });
        }
    });
    t.for_each_ref(|r| {
        if err.is_none() && r.0 > max {
            err = Some(Error::BadTypeId { id: id.0, target: r.0, max });
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    if level == Validation::Libbpf {
        if let TypeKind::Func { proto, .. } = &t.kind {
            if btf.type_by_id(*proto).is_none_or(|p| p.kind() != Kind::FuncProto) {
                return Err(bad(format!("referenced type [{}] is not FUNC_PROTO", proto.0)));
            }
        }
        return Ok(());
    }
    match &t.kind {
        TypeKind::Int(i) => {
            if !matches!(i.size, 1 | 2 | 4 | 8 | 16) {
                return Err(bad(format!("size {} is not 1, 2, 4, 8 or 16", i.size)));
            }
            if i.bits as u32 + i.offset as u32 > i.size * 8 {
                return Err(bad(format!(
                    "bits_offset {} + nr_bits {} exceed size {} bytes",
                    i.offset, i.bits, i.size
                )));
            }
            if i.bits > 128 {
                return Err(bad(format!("nr_bits {} exceeds 128", i.bits)));
            }
            if i.encoding.count_ones() > 1 || i.encoding > 7 {
                return Err(bad(format!("invalid encoding {:#x}", i.encoding)));
            }
        }
        TypeKind::Func { proto, linkage } => {
            if *linkage > func_linkage::EXTERN {
                return Err(bad(format!("invalid linkage {linkage}")));
            }
            match btf.type_by_id(*proto) {
                Some(p) if p.kind() == Kind::FuncProto => {}
                _ => return Err(bad(format!("referenced type [{}] is not FUNC_PROTO", proto.0))),
            }
        }
        TypeKind::DeclTag { ty, component_idx, .. } => {
            if btf.str_bytes(t.name_off).is_none_or(|v| v.is_empty()) {
                return Err(bad("decl tag has an empty value".into()));
            }
            if *component_idx < -1 {
                return Err(bad(format!("component_idx {component_idx} below -1")));
            }
            if *component_idx >= 0 {
                let n = match btf.type_by_id(*ty).map(|t| &t.kind) {
                    Some(TypeKind::Struct(c) | TypeKind::Union(c)) => c.members.len(),
                    Some(TypeKind::Func { proto, .. }) => match btf.type_by_id(*proto).map(|t| &t.kind) {
                        Some(TypeKind::FuncProto(p)) => p.params.len(),
                        _ => 0,
                    },
                    _ => return Err(bad(format!("component_idx {component_idx} on a type that has no components"))),
                };
                if *component_idx as usize >= n {
                    return Err(bad(format!("component_idx {component_idx} out of range ({n} components)")));
                }
            }
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            for (i, m) in c.members.iter().enumerate() {
                if c.bit_offset(m) as u64 > c.size as u64 * 8 {
                    return Err(bad(format!(
                        "member {i} bit offset {} beyond the type's size {}",
                        c.bit_offset(m),
                        c.size
                    )));
                }
                if c.bitfield_size(m) > 128 {
                    return Err(bad(format!("member {i} bitfield size {} exceeds 128", c.bitfield_size(m))));
                }
            }
        }
        TypeKind::Enum(en) => {
            if !matches!(en.size, 1 | 2 | 4 | 8) {
                return Err(bad(format!("size {} is not 1, 2, 4 or 8", en.size)));
            }
        }
        TypeKind::Enum64(en) => {
            if !matches!(en.size, 1 | 2 | 4 | 8) {
                return Err(bad(format!("size {} is not 1, 2, 4 or 8", en.size)));
            }
        }
        _ => {}
    }
    Ok(())
}


/// The `i`-th by-value edge of a type (typedef/modifier/type-tag target,
/// array element, struct/union member): the ones a cycle must not use.
fn value_edge(t: &Type, i: usize) -> Option<TypeId> {
    match &t.kind {
        TypeKind::Typedef(x) | TypeKind::Volatile(x) | TypeKind::Const(x) | TypeKind::Restrict(x) => {
            (i == 0).then_some(*x)
        }
        TypeKind::TypeTag { ty, .. } => (i == 0).then_some(*ty),
        TypeKind::Array(a) => (i == 0).then_some(a.elem),
        TypeKind::Struct(c) | TypeKind::Union(c) => c.members.get(i).map(|m| m.ty),
        _ => None,
    }
}

/// Rejects cycles of non-pointer references (typedef/modifier/array chains,
/// structs containing themselves by value), as the kernel does. Iterative
/// depth-first search with an explicit stack of (type, next edge): each type
/// is visited once, memory is two words per stacked type.
fn check_loops(btf: &Btf) -> Result<()> {
    let start = btf.start_id();
    let types = btf.types();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; types.len()];
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in 0..types.len() {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        stack.push((root as u32, 0));
        while let Some(top) = stack.last_mut() {
            let (cur, edge) = (top.0 as usize, top.1 as usize);
            match value_edge(&types[cur], edge) {
                Some(next) => {
                    top.1 += 1;
                    if next.0 < start {
                        continue; // base types were checked with the base
                    }
                    let next = (next.0 - start) as usize;
                    match state[next] {
                        0 => {
                            state[next] = 1;
                            stack.push((next as u32, 0));
                        }
                        1 => {
                            let pos = stack.iter().position(|f| f.0 as usize == next).unwrap_or(0);
                            let mut path: Vec<String> = stack[pos..]
                                .iter()
                                .take(8)
                                .map(|f| format!("[{}] {}", f.0 + start, types[f.0 as usize].kind().name()))
                                .collect();
                            if stack.len() - pos > 8 {
                                path.push(format!("... ({} types)", stack.len() - pos));
                            }
                            path.push(format!("[{}]", next as u32 + start));
                            return Err(Error::RefLoop { id: next as u32 + start, path: path.join(" -> ") });
                        }
                        _ => {}
                    }
                }
                None => {
                    state[cur] = 2;
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}
