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
use crate::validate::Violation;

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
    if !h.hdr_len.is_multiple_of(4) {
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
    if !h.type_off.is_multiple_of(4) {
        return Err(sec(format!("type section offset {} is not 4-byte aligned", h.type_off)));
    }
    if h.type_off != 0 {
        return Err(sec(format!("gap of {} bytes between the header and the type section", h.type_off)));
    }
    let type_end = h.type_off as u64 + h.type_len as u64;
    if !h.type_len.is_multiple_of(4) {
        return Err(sec(format!("type section length {} is not a multiple of 4", h.type_len)));
    }
    let mut str_expected = type_end;
    if h.layout_len != 0 {
        if !h.layout_off.is_multiple_of(4) {
            return Err(sec(format!("layout section offset {} is not 4-byte aligned", h.layout_off)));
        }
        if h.layout_off as u64 != type_end {
            return Err(sec(format!(
                "layout section at {} does not follow the type section (ends at {type_end})",
                h.layout_off
            )));
        }
        if !h.layout_len.is_multiple_of(4) {
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
    /// Every check of the kernel's BTF verifier (`btf_parse()` of Linux 6.18,
    /// as `BPF_BTF_LOAD` applies it; for split BTF, the module BTF rules): see
    /// [`crate::validate`]. The first problem is the error; `Btf::validate`
    /// and [`crate::validate::verify_bytes`] list them all.
    Kernel,
    /// What libbpf 1.7's `btf__new` accepts for the types (what bpftool and
    /// gcc 12 live with, and what clang leaves for libbpf to fix up): only the
    /// checks listed above for both levels (the default, as for bpftool). Bits
    /// in fields a kind does not use are kept in [`Type::quirks`] and written
    /// back. A BTF of the other byte order needs a 24-byte header, as libbpf
    /// requires. Deliberate differences from libbpf: reference loops and a
    /// FUNC_PROTO's return type id are checked (libbpf checks neither), and
    /// the header keeps the kernel's rules (libbpf also takes any version and
    /// flags, gaps between sections, trailing bytes and non-zero unknown
    /// header bytes, which the canonical writer could not reproduce).
    #[default]
    Libbpf,
}

/// Options for [`parse_with`]: `ParseOptions::default()` (or [`ParseOptions::new`])
/// and the `with_*` methods.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// How strictly types are checked (libbpf's rules by default).
    pub validation: Validation,
    /// Base BTF for split BTF.
    pub base: Option<Arc<Btf>>,
    /// Accept bytes after the end of the BTF (the caller handles them, e.g. archives).
    pub allow_trailing: bool,
    /// Offset of `data[0]` in the enclosing file, for error messages.
    pub file_offset: usize,
}

impl ParseOptions {
    /// The defaults: a base BTF, libbpf's level, no trailing bytes, offset 0.
    pub fn new() -> ParseOptions {
        ParseOptions::default()
    }

    /// Checks the types at level `v`.
    pub fn with_validation(mut self, v: Validation) -> ParseOptions {
        self.validation = v;
        self
    }

    /// Reads split BTF over `base` (or standalone BTF with `None`).
    pub fn with_base(mut self, base: Option<Arc<Btf>>) -> ParseOptions {
        self.base = base;
        self
    }

    /// Accepts (`true`) or refuses bytes after the end of the BTF.
    pub fn with_allow_trailing(mut self, allow: bool) -> ParseOptions {
        self.allow_trailing = allow;
        self
    }

    /// Names positions in errors as offsets from `off` (where the data starts in its file).
    pub fn with_file_offset(mut self, off: usize) -> ParseOptions {
        self.file_offset = off;
        self
    }
}

/// Parses one base BTF that must span all of `data`, at the default
/// (libbpf) level; see [`parse_with`] for the kernel's rules.
pub fn parse(data: &[u8]) -> Result<Btf> {
    parse_with(data, &ParseOptions::default()).map(|(b, _)| b)
}

/// Parses a split BTF over `base` that must span all of `data`.
pub fn parse_split(data: &[u8], base: Arc<Btf>) -> Result<Btf> {
    parse_with(data, &ParseOptions::new().with_base(Some(base))).map(|(b, _)| b)
}

/// Parses the BTF at the start of `data`; returns it and the bytes it spans.
pub fn parse_with(data: &[u8], opts: &ParseOptions) -> Result<(Btf, usize)> {
    parse_checked(data, opts, false).map(|(btf, total, _)| (btf, total))
}

/// [`parse_with`], plus the kernel verifier's verdict on the result: the
/// problems `btf.validate(Validation::Kernel)` lists. One pass of checks: at
/// [`Validation::Libbpf`] the kernel's rules run first, and the libbpf-level
/// checks only when they find a problem (what the kernel accepts passes the
/// libbpf-level checks: it checks ids, strings, FUNC -> FUNC_PROTO and loops
/// too), so the parse accepts and refuses exactly what [`parse_with`] does.
pub fn parse_with_verdict(data: &[u8], opts: &ParseOptions) -> Result<(Btf, usize, Vec<Violation>)> {
    parse_checked(data, opts, true).map(|(btf, total, v)| (btf, total, v.unwrap_or_default()))
}

fn parse_checked(data: &[u8], opts: &ParseOptions, verdict: bool) -> Result<(Btf, usize, Option<Vec<Violation>>)> {
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
    if let Some(b) = &opts.base
        && b.endian() != h.endian
    {
        return Err(Error::BaseEndian { offset: opts.file_offset, endian: h.endian, base: b.endian() });
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
    let verdict = match (verdict, opts.validation) {
        (true, Validation::Libbpf) => {
            let v = btf.validate(Validation::Kernel);
            if !v.is_empty() {
                validate(&btf, &h, opts, total)?;
            }
            Some(v)
        }
        (true, Validation::Kernel) => {
            validate(&btf, &h, opts, total)?;
            Some(Vec::new())
        }
        (false, _) => {
            validate(&btf, &h, opts, total)?;
            None
        }
    };
    Ok((btf, total, verdict))
}

/// Decodes the BTF spanning all of `data` without checking what the types
/// say (only what decoding needs: header, sections, counts, kinds): for
/// [`crate::validate::verify_bytes`], which reports every problem itself.
pub(crate) fn decode(data: &[u8], base: Option<Arc<Btf>>) -> Result<Btf> {
    let opts = ParseOptions { validation: Validation::Libbpf, base, ..Default::default() };
    let h = parse_header(data, 0)?;
    let total = h.total_len() as usize;
    if total < data.len() {
        return Err(Error::BadSections {
            offset: total,
            why: format!("{} trailing bytes after the end of the BTF", data.len() - total),
        });
    }
    if let Some(b) = &opts.base
        && b.endian() != h.endian
    {
        return Err(Error::BaseEndian { offset: 0, endian: h.endian, base: b.endian() });
    }
    match h.endian {
        Endianness::Little => parse_body(LittleEndian, data, &h, &opts),
        Endianness::Big => parse_body(BigEndian, data, &h, &opts),
    }
}

/// The libbpf-level checks (both levels), then at [`Validation::Kernel`] the
/// kernel's: the first problem becomes the error, at its type's byte offset.
fn validate(btf: &Btf, h: &Header, opts: &ParseOptions, total: usize) -> Result<()> {
    let first = opts.file_offset + h.hdr_len as usize + h.type_off as usize;
    // Each type's byte offset, for messages.
    let offsets = || {
        let mut offs = Vec::with_capacity(btf.types().len());
        let mut off = first;
        for t in btf.types() {
            offs.push(off);
            off += t.encoded_len();
        }
        offs
    };
    if opts.validation == Validation::Libbpf {
        return crate::validate::libbpf_checks(btf, Some(&offsets()));
    }
    let split = btf.base().is_some();
    let mut v = crate::validate::header_violations(h, total, split);
    if v.is_empty() {
        v = crate::validate::kernel_check_sized(btf, h.type_len as usize);
    }
    if v.is_empty() {
        // What the kernel accepts passes the libbpf-level checks too (ids, strings,
        // FUNC -> FUNC_PROTO, loops: the kernel checks all of them).
        return Ok(());
    }
    // A libbpf-level error, if any, comes first (the same error at both levels).
    let offs = offsets();
    crate::validate::libbpf_checks(btf, Some(&offs))?;
    let Some(v) = v.into_iter().next() else { return Ok(()) };
    let why = match &v.detail {
        Some(d) => format!("{}: {}", d.trim(), v.message),
        None => v.message.clone(),
    };
    let start = btf.start_id().0;
    match btf.type_by_id(v.id).filter(|_| v.id.0 >= start) {
        Some(t) => Err(Error::BadType {
            offset: offs.get((v.id.0 - start) as usize).copied().unwrap_or(first),
            id: v.id,
            kind: t.kind().name(),
            why,
        }),
        None => {
            Err(Error::BadSections { offset: opts.file_offset, why: format!("rejected by the kernel's rules: {why}") })
        }
    }
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
            return Err(Error::BadStrings {
                offset: fo + s_start + strs.len() - 1,
                why: "last string is not NUL-terminated",
            });
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
            return Err(Error::BadStrings {
                offset: fo + s_start,
                why: "base plus split strings exceed the maximum offset",
            });
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
        // Sized up front (collecting `Result`s would grow it step by step).
        let mut v = Vec::with_capacity(range.len());
        for i in range {
            v.push(parse_type(e, &tdata[offs[i]..], start_id + i as u32, fo + t_start + offs[i])?);
        }
        Ok(v)
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

fn parse_type<E: Endian>(e: E, d: &[u8], id: u32, off: usize) -> Result<Type> {
    if d.len() < 12 {
        return Err(Error::TruncatedType { offset: off, id: TypeId(id), need: 12, have: d.len() });
    }
    let name_off = rd32(e, d, 0);
    let info = rd32(e, d, 4);
    let st = rd32(e, d, 8);
    let vlen = info & 0xffff;
    let kflag = info >> 31 != 0;
    let kind_no = (info >> 24) & 0x1f;
    let Some(kind) = Kind::from_u32(kind_no) else {
        return Err(Error::UnknownKind { offset: off, id: TypeId(id), kind: kind_no });
    };
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
        return Err(Error::TruncatedType { offset: off, id: TypeId(id), need, have: d.len() });
    }
    let x = &d[12..need];
    let r = |i: usize| rd32(e, x, i);
    let tid = TypeId;
    let kind = match kind {
        Kind::Int => {
            let v = r(0);
            TypeKind::Int(Int { size: st, encoding: (v >> 24) as u8 & 0xf, offset: (v >> 16) as u8, bits: v as u8 })
        }
        Kind::Ptr => TypeKind::Ptr(tid(st)),
        Kind::Array => TypeKind::Array(Array { elem: tid(r(0)), index: tid(r(4)), nelems: r(8) }),
        Kind::Struct | Kind::Union => {
            let members = x
                .chunks_exact(12)
                .map(|m| Member { name_off: StrOff(rd32(e, m, 0)), ty: tid(rd32(e, m, 4)), offset: rd32(e, m, 8) })
                .collect();
            let c = Composite { size: st, kflag, members };
            if kind == Kind::Struct { TypeKind::Struct(c) } else { TypeKind::Union(c) }
        }
        Kind::Enum => TypeKind::Enum(Enum {
            size: st,
            signed: kflag,
            values: x
                .chunks_exact(8)
                .map(|v| EnumValue { name_off: StrOff(rd32(e, v, 0)), val: rd32(e, v, 4) })
                .collect(),
        }),
        Kind::Enum64 => TypeKind::Enum64(Enum64 {
            size: st,
            signed: kflag,
            values: x
                .chunks_exact(12)
                .map(|v| Enum64Value {
                    name_off: StrOff(rd32(e, v, 0)),
                    val: ((rd32(e, v, 8) as u64) << 32) | rd32(e, v, 4) as u64,
                })
                .collect(),
        }),
        Kind::Fwd => TypeKind::Fwd { union: kflag },
        Kind::Typedef => TypeKind::Typedef(tid(st)),
        Kind::Volatile => TypeKind::Volatile(tid(st)),
        Kind::Const => TypeKind::Const(tid(st)),
        Kind::Restrict => TypeKind::Restrict(tid(st)),
        Kind::Func => TypeKind::Func { proto: tid(st), linkage: vlen as u16 },
        Kind::FuncProto => TypeKind::FuncProto(FuncProto {
            ret: tid(st),
            params: x
                .chunks_exact(8)
                .map(|p| Param { name_off: StrOff(rd32(e, p, 0)), ty: tid(rd32(e, p, 4)) })
                .collect(),
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
        Kind::Unknown => return Err(Error::UnknownKind { offset: off, id: TypeId(id), kind: 0 }),
    };
    let mut t = Type::new(StrOff(name_off), kind);
    // Whatever the model does not reproduce from the kind data is kept as is
    // (the kernel level then rejects what the kernel rejects of it).
    let q = Quirks {
        info: info ^ t.info(),
        size_or_type: if matches!(t.kind, TypeKind::Array(_) | TypeKind::Fwd { .. }) { st } else { 0 },
        int_data: if let TypeKind::Int(_) = t.kind { r(0) & 0xf000_ff00 } else { 0 },
    };
    if !q.is_empty() {
        t.quirks = Some(Box::new(q));
    }
    Ok(t)
}
