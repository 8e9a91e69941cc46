//! The kernel's BTF verifier (`btf_parse()` of `kernel/bpf/btf.c`, Linux
//! 6.18), run offline over the model: the meta checks of every type, the
//! resolve pass with its 32-deep explicit stack and visit states, the
//! FUNC_PROTO checks and the type-tag order check, with the kernel's
//! messages. The kernel stops at the first problem; this checker goes on
//! and reports every problem, skipping those that only follow from an
//! earlier one (a type referencing a type already found invalid).
//!
//! The algorithm is the kernel's, step for step (that is what makes its
//! verdicts the kernel's, corner cases included: a pointer loop through
//! modifiers, a 33-deep chain of by-value types, a modifier resolved to a
//! pointer that loops back); the code and its words are btfkit's own.

use crate::btf::{Btf, Composite, Kind, Member, StrOff, Type, TypeId, TypeKind};

use super::Violation;

/// Depth of the kernel's resolve stack (`MAX_RESOLVE_DEPTH`).
pub const MAX_RESOLVE_DEPTH: usize = 32;
/// Longest name (`KSYM_NAME_LEN`): names of up to 512 bytes are valid (checked against the running kernel).
pub const KSYM_NAME_LEN: usize = 512;
/// Largest type id (`BTF_MAX_TYPE`).
const BTF_MAX_TYPE: u32 = 0x000f_ffff;
/// Largest string offset (`BTF_MAX_NAME_OFFSET`).
pub(super) const BTF_MAX_NAME_OFFSET: u32 = 0x00ff_ffff;
/// `BPF_BTF_LOAD` refuses bigger BTF (`BTF_MAX_SIZE`).
pub(super) const BTF_MAX_SIZE: usize = 16 * 1024 * 1024;
/// Bits of `info` the kernel allows (`BTF_INFO_MASK`).
const BTF_INFO_MASK: u32 = 0x9f00_ffff;
/// Bits of an INT's data word the kernel allows (`BTF_INT_MASK`).
const BTF_INT_MASK: u32 = 0x0fff_ffff;

// ---- names ----

/// The kernel's `ctype` classes of a byte (Latin-1 above 127), as bits:
/// 1 = may start an identifier, 2 = may continue one, 4 = printable.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || (c >= 192 && c != 215 && c != 247);
        let digit = b.is_ascii_digit();
        let print = (c >= 32 && c <= 126) || c >= 160;
        let mut v = 0;
        if alpha || b == b'_' || b == b'.' {
            v |= 1 | 2;
        }
        if digit {
            v |= 2;
        }
        if print {
            v |= 4;
        }
        t[c] = v;
        c += 1;
    }
    t
};

/// `btf_name_valid_identifier`: a C identifier (dots allowed), at most 512 bytes.
pub(crate) fn valid_identifier(s: &[u8]) -> bool {
    match s.split_first() {
        Some((&f, rest)) => {
            CLASS[f as usize] & 1 != 0 && s.len() <= KSYM_NAME_LEN && rest.iter().all(|&c| CLASS[c as usize] & 2 != 0)
        }
        None => false,
    }
}

/// `btf_name_valid_section`: printable characters, not empty, at most 512 bytes.
pub(crate) fn valid_section_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= KSYM_NAME_LEN && s.iter().all(|&c| CLASS[c as usize] & 4 != 0)
}

// ---- the type line ----

fn name_of(btf: &Btf, off: StrOff) -> String {
    if off.is_empty() {
        return "(anon)".into();
    }
    match btf.str_bytes(off) {
        Some(s) if off.get() <= BTF_MAX_NAME_OFFSET => String::from_utf8_lossy(s).into_owned(),
        _ => "(invalid-name-offset)".into(),
    }
}

fn raw_vlen(t: &Type) -> u32 {
    t.info() & 0xffff
}

fn raw_kflag(t: &Type) -> bool {
    t.info() >> 31 != 0
}

/// What the kernel's `log_details` prints for a type.
fn details(btf: &Btf, t: &Type) -> String {
    match &t.kind {
        TypeKind::Int(_) => {
            let d = t.int_data();
            let enc = match (d >> 24) & 0xf {
                0 => "(none)",
                1 => "SIGNED",
                2 => "CHAR",
                4 => "BOOL",
                _ => "UNKN",
            };
            format!("size={} bits_offset={} nr_bits={} encoding={enc}", t.size_or_type(), (d >> 16) & 0xff, d & 0xff)
        }
        TypeKind::Ptr(_)
        | TypeKind::Typedef(_)
        | TypeKind::Volatile(_)
        | TypeKind::Const(_)
        | TypeKind::Restrict(_)
        | TypeKind::TypeTag { .. }
        | TypeKind::Func { .. } => format!("type_id={}", t.size_or_type()),
        TypeKind::Array(a) => format!("type_id={} index_type_id={} nr_elems={}", a.elem.0, a.index.0, a.nelems),
        TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Datasec(_) => {
            format!("size={} vlen={}", t.size_or_type(), raw_vlen(t))
        }
        TypeKind::Fwd { .. } => (if raw_kflag(t) { "union" } else { "struct" }).into(),
        TypeKind::FuncProto(p) => {
            let mut s = format!("return={} args=(", p.ret.0);
            let n = p.params.len();
            if n == 0 {
                s.push_str("void");
            } else if n == 1 && p.params[0].ty.0 == 0 {
                s.push_str("vararg");
            } else {
                s.push_str(&format!("{} {}", p.params[0].ty.0, name_of(btf, p.params[0].name_off)));
                for a in p.params.iter().take(n - 1).skip(1) {
                    s.push_str(&format!(", {} {}", a.ty.0, name_of(btf, a.name_off)));
                }
                if n > 1 {
                    let last = &p.params[n - 1];
                    if last.ty.0 != 0 {
                        s.push_str(&format!(", {} {}", last.ty.0, name_of(btf, last.name_off)));
                    } else {
                        s.push_str(", vararg");
                    }
                }
            }
            s.push(')');
            s
        }
        TypeKind::Var { ty, linkage } => format!("type_id={} linkage={linkage}", ty.0),
        TypeKind::Float { size } => format!("size={size}"),
        TypeKind::DeclTag { ty, component_idx, .. } => format!("type={} component_idx={component_idx}", ty.0),
    }
}

/// `[12] STRUCT foo size=4 vlen=1`, as `btf_verifier_log_type` prints a type.
pub(crate) fn type_line(btf: &Btf, id: u32) -> String {
    match btf.type_by_id(TypeId(id)) {
        Some(t) => format!("[{id}] {} {} {}", t.kind().name(), name_of(btf, t.name_off), details(btf, t)),
        None => format!("[{id}]"),
    }
}

/// The type line without details (`btf_verifier_log_basic`).
fn basic_line(btf: &Btf, id: u32) -> String {
    match btf.type_by_id(TypeId(id)) {
        Some(t) => format!("[{id}] {} {}", t.kind().name(), name_of(btf, t.name_off)),
        None => format!("[{id}]"),
    }
}

fn member_line(btf: &Btf, c: &Composite, m: &Member) -> String {
    if c.kflag {
        format!(
            "\t{} type_id={} bitfield_size={} bits_offset={}",
            name_of(btf, m.name_off),
            m.ty.0,
            m.offset >> 24,
            m.offset & 0x00ff_ffff
        )
    } else {
        format!("\t{} type_id={} bits_offset={}", name_of(btf, m.name_off), m.ty.0, m.offset)
    }
}

// ---- type views ----

/// A type as the kernel's `btf_type_by_id` sees it: void for id 0.
#[derive(Clone, Copy)]
enum N<'a> {
    Void,
    T(&'a Type),
}

impl<'a> N<'a> {
    fn kind(self) -> Option<Kind> {
        match self {
            N::Void => None,
            N::T(t) => Some(t.kind()),
        }
    }
    fn t(self) -> Option<&'a Type> {
        match self {
            N::Void => None,
            N::T(t) => Some(t),
        }
    }
    fn is(self, k: Kind) -> bool {
        self.kind() == Some(k)
    }
    fn is_void(self) -> bool {
        matches!(self, N::Void)
    }
    fn is_modifier(self) -> bool {
        matches!(self.kind(), Some(Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag))
    }
    fn is_struct(self) -> bool {
        matches!(self.kind(), Some(Kind::Struct | Kind::Union))
    }
    fn size(self) -> u32 {
        self.t().map_or(0, |t| t.size_or_type())
    }
    fn nosize(self) -> bool {
        self.is_void() || matches!(self.kind(), Some(Kind::Fwd | Kind::Func | Kind::FuncProto))
    }
    fn needs_resolve(self) -> bool {
        self.is_modifier()
            || matches!(
                self.kind(),
                Some(
                    Kind::Ptr
                        | Kind::Struct
                        | Kind::Union
                        | Kind::Array
                        | Kind::Var
                        | Kind::Func
                        | Kind::DeclTag
                        | Kind::Datasec
                )
            )
    }
    fn resolve_source_only(self) -> bool {
        matches!(self.kind(), Some(Kind::Var | Kind::DeclTag | Kind::Datasec))
    }
    fn decl_tag_target(self) -> bool {
        matches!(self.kind(), Some(Kind::Func | Kind::Struct | Kind::Union | Kind::Var | Kind::Typedef))
    }
    fn int_regular(self) -> bool {
        match self.t() {
            Some(t @ Type { kind: TypeKind::Int(_), .. }) => {
                let d = t.int_data();
                let bits = d & 0xff;
                let bytes = bits.div_ceil(8);
                bits % 8 == 0 && (d >> 16) & 0xff == 0 && matches!(bytes, 1 | 2 | 4 | 8 | 16)
            }
            _ => false,
        }
    }
    /// The `type` word (for referencing kinds).
    fn ref_id(self) -> u32 {
        self.t().map_or(0, |t| t.size_or_type())
    }
}

fn roundup_bytes(bits: u32) -> u32 {
    (bits >> 3) + (bits & 7 != 0) as u32
}

// ---- the checker ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tbd,
    Ptr,
    StructOrArray,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum E {
    /// -EINVAL, already logged (or silenced).
    Inval,
    /// The resolve stack is full (-E2BIG).
    Depth,
    /// Pushing a type already on the stack or a base type (-EEXIST).
    Loop,
}

const NOT_VISITED: u8 = 0;
const VISITED: u8 = 1;
const RESOLVED: u8 = 2;

struct Vertex {
    id: u32,
    next_member: u32,
}

struct Env<'a> {
    btf: &'a Btf,
    /// First own type id (the kernel's `start_id`; 0 for a base BTF, whose
    /// void is never pushed).
    start: u32,
    visit: Vec<u8>,
    rid: Vec<u32>,
    rsize: Vec<u32>,
    /// Types found invalid: problems reached only through them are not reported again.
    tainted: Vec<bool>,
    stack: Vec<Vertex>,
    mode: Mode,
    out: Vec<Violation>,
    quiet: bool,
    /// `param_name_ok`'s cache: (string offset, valid).
    name_cache: Vec<(u32, bool)>,
    /// This BTF's own string bytes and the offset of their first byte.
    strs: &'a [u8],
    str_start: u32,
    /// This BTF's own types and the id of the first.
    types: &'a [Type],
    first: u32,
}

type R = Result<(), E>;

/// Runs the kernel's checks on `btf` (own types; the base, if any, is taken as
/// the kernel's already loaded vmlinux).
pub(super) fn check(btf: &Btf) -> Vec<Violation> {
    check_sized(btf, None)
}

/// [`check`], given the type section's length in bytes when the caller read
/// it from a header (else it is summed over the types).
pub(super) fn check_sized(btf: &Btf, type_len: Option<usize>) -> Vec<Violation> {
    let total = btf.type_count();
    let start = btf.start_id().0;
    let n = total as usize;
    let mut env = Env::new(btf, 0, n);
    // A split BTF's base was resolved when it was loaded: do the same here,
    // silently, so its types carry the kernel's resolved ids and sizes.
    if start > 1 {
        env.quiet = true;
        env.resolve_pass(1, start);
        env.quiet = false;
        for v in &mut env.visit[..start as usize] {
            *v = RESOLVED;
        }
        env.tainted[..start as usize].fill(false);
        env.start = start;
    }
    // The meta checks (parallel over chunks of types) run next to the resolve
    // pass, which does not depend on them: a type that fails its meta check is
    // reported by it first, and the resolve pass's findings on it are dropped.
    // The first problem is the kernel's either way (it stops after the meta
    // pass when that finds one).
    let ((found, n_checked, type_bytes), ()) =
        rayon::join(|| meta_collect(btf, start, type_len.is_none()), || env.resolve_pass(start, total));
    let type_bytes = type_len.unwrap_or(type_bytes);
    let resolved_out = std::mem::take(&mut env.out);
    if btf.base().is_none() {
        // BTF_MAX_SIZE, checked before anything else.
        let layout = btf.layout().map_or(0, |l| l.len() * 4);
        let size = btf.hdr_len() as usize + type_bytes + layout + btf.strings().len();
        if size > BTF_MAX_SIZE {
            env.push_violation(
                0,
                String::new(),
                None,
                format!("BTF is larger than 16 MiB ({size} bytes): BPF_BTF_LOAD fails with E2BIG"),
            );
        }
    }
    let mut meta_bad = vec![false; n];
    for v in found {
        meta_bad[v.id.0 as usize] = true;
        env.taint(v.id.0);
        env.push_violation(v.id.0, v.type_line, v.detail, v.message);
    }
    let own = btf.types().len();
    if n_checked < own {
        let id = start + n_checked as u32;
        env.push_violation(id, format!("[{id}]"), None, "Exceeded max num of types".into());
        for k in n_checked..own {
            env.taint(start + k as u32);
            meta_bad[(start as usize) + k] = true;
        }
    }
    env.out.extend(resolved_out.into_iter().filter(|v| !meta_bad.get(v.id.0 as usize).copied().unwrap_or(false)));
    env.type_tag_pass(start);
    // Program BTF whose types pass: the special fields (btf_parse_struct_metas).
    if env.out.is_empty() && btf.base().is_none() {
        super::special::check(btf, &mut env.out);
    }
    env.out
}

/// The meta checks of every own type (in parallel chunks for big inputs),
/// in id order, and how many types were checked (the kernel stops at
/// `BTF_MAX_TYPE`).
fn meta_collect(btf: &Btf, start: u32, sum_bytes: bool) -> (Vec<Violation>, usize, usize) {
    use rayon::prelude::*;
    const CHUNK: usize = 4096;
    let this = Env::new(btf, start, 0);
    let types = btf.types();
    let max_own = BTF_MAX_TYPE.saturating_sub(if start > 1 { start } else { 1 }) as usize;
    let n = types.len().min(max_own);
    let check = |range: std::ops::Range<usize>| {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for i in range {
            this.meta(start + i as u32, &types[i], &mut out);
            if sum_bytes {
                bytes += types[i].encoded_len();
            }
        }
        (out, bytes)
    };
    let (found, bytes) = if n < 2 * CHUNK {
        check(0..n)
    } else {
        let parts: Vec<(Vec<Violation>, usize)> =
            (0..n.div_ceil(CHUNK)).into_par_iter().map(|c| check(c * CHUNK..((c + 1) * CHUNK).min(n))).collect();
        let bytes = parts.iter().map(|p| p.1).sum();
        (parts.into_iter().flat_map(|p| p.0).collect(), bytes)
    };
    let rest: usize = types[n..].iter().map(|t| t.encoded_len()).sum();
    (found, n, bytes + rest)
}

/// What a name offset names, by the kernel's rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Name {
    /// Not a valid string offset.
    BadOffset,
    /// A string, not an identifier.
    Other,
    /// A C identifier (dots allowed) of at most `KSYM_NAME_LEN` bytes.
    Ident,
}

/// Whether `s` (a string with its NUL and whatever follows) starts with an
/// identifier of at most `KSYM_NAME_LEN` bytes: one pass, no separate search
/// for the NUL, eight ASCII bytes at a time.
fn ident_prefix(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Bit 7 of each byte of `v` (all below 0x80) set when the byte is in `lo..=hi`.
    fn in_range(v: u64, lo: u64, hi: u64) -> u64 {
        v.wrapping_add(ONES * (0x80 - lo)) & !v.wrapping_add(ONES * (0x7f - hi)) & HIGH
    }
    let Some(&f) = s.first() else { return false };
    if CLASS[f as usize] & 1 == 0 {
        return false;
    }
    let mut i = 1;
    while let Some(chunk) = s.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        let x = u64::from_le_bytes(bytes);
        if x & HIGH != 0 {
            break; // Latin-1 letters: the byte loop below
        }
        let ok = in_range(x | (ONES * 0x20), 0x61, 0x7a)
            | in_range(x, 0x30, 0x39)
            | in_range(x, 0x5f, 0x5f)
            | in_range(x, 0x2e, 0x2e);
        if ok != HIGH {
            // The first byte that cannot continue an identifier ends it: a NUL or not.
            let end = i + ((!ok & HIGH).trailing_zeros() / 8) as usize;
            return s.get(end) == Some(&0) && end <= KSYM_NAME_LEN;
        }
        i += 8;
        if i > KSYM_NAME_LEN {
            return false;
        }
    }
    for (k, &c) in s.iter().enumerate().skip(i) {
        if CLASS[c as usize] & 2 == 0 {
            return c == 0 && k <= KSYM_NAME_LEN;
        }
    }
    false
}

impl<'a> Env<'a> {
    /// An environment over `btf` with resolve state for `n` ids (0: none).
    fn new(btf: &'a Btf, start: u32, n: usize) -> Self {
        Env {
            btf,
            start,
            visit: vec![NOT_VISITED; n],
            rid: vec![0; n],
            rsize: vec![0; n],
            tainted: vec![false; n],
            stack: Vec::with_capacity(MAX_RESOLVE_DEPTH),
            mode: Mode::Tbd,
            out: Vec::new(),
            quiet: false,
            name_cache: Vec::new(),
            strs: btf.strings().as_bytes(),
            str_start: btf.start_str_off(),
            types: btf.types(),
            first: btf.start_id().0,
        }
    }

    /// What the name at `off` is, by the kernel's rules (offset in range,
    /// `btf_name_valid_identifier`).
    fn name(&self, off: StrOff) -> Name {
        let off = off.get();
        if off > BTF_MAX_NAME_OFFSET {
            return Name::BadOffset;
        }
        if off >= self.str_start {
            let rel = (off - self.str_start) as usize;
            if rel >= self.strs.len() {
                return Name::BadOffset;
            }
            return if ident_prefix(&self.strs[rel..]) { Name::Ident } else { Name::Other };
        }
        if !self.btf.is_valid_str_off(StrOff(off)) {
            return Name::BadOffset;
        }
        if valid_identifier(self.str_at(StrOff(off))) { Name::Ident } else { Name::Other }
    }

    #[inline]
    fn get(&self, id: u32) -> Option<N<'a>> {
        // `first` is at least 1.
        if id >= self.first {
            self.types.get((id - self.first) as usize).map(N::T)
        } else if id == 0 {
            Some(N::Void)
        } else {
            self.btf.type_by_id(TypeId(id)).map(N::T)
        }
    }

    fn str_at(&self, off: StrOff) -> &'a [u8] {
        self.btf.str_bytes(off).unwrap_or(b"")
    }

    fn push_violation(&mut self, id: u32, type_line: String, detail: Option<String>, message: String) {
        if !self.quiet {
            self.out.push(Violation { id: TypeId(id), type_line, detail, message });
        }
    }

    /// `btf_verifier_log_type`.
    fn log_type(&mut self, id: u32, msg: impl Into<String>) {
        let line = type_line(self.btf, id);
        self.push_violation(id, line, None, msg.into());
    }

    /// `btf_verifier_log_basic`.
    fn log_basic(&mut self, id: u32, msg: impl Into<String>) {
        let line = basic_line(self.btf, id);
        self.push_violation(id, line, None, msg.into());
    }

    fn log_member(&mut self, id: u32, c: &Composite, m: &Member, msg: &str) {
        let line = type_line(self.btf, id);
        let detail = member_line(self.btf, c, m);
        self.push_violation(id, line, Some(detail), msg.into());
    }

    fn log_vsi(&mut self, id: u32, v: &crate::btf::VarSecinfo, msg: &str) {
        let line = type_line(self.btf, id);
        let detail = format!("\t type_id={} offset={} size={}", v.ty.0, v.offset, v.size);
        self.push_violation(id, line, Some(detail), msg.into());
    }

    fn mk_type(&self, id: u32, msg: impl Into<String>) -> Violation {
        Violation { id: TypeId(id), type_line: type_line(self.btf, id), detail: None, message: msg.into() }
    }

    fn mk_basic(&self, id: u32, msg: impl Into<String>) -> Violation {
        Violation { id: TypeId(id), type_line: basic_line(self.btf, id), detail: None, message: msg.into() }
    }

    fn mk_id_only(&self, id: u32, msg: impl Into<String>) -> Violation {
        Violation { id: TypeId(id), type_line: format!("[{id}]"), detail: None, message: msg.into() }
    }

    fn mk_member(&self, id: u32, c: &Composite, m: &Member, msg: &str) -> Violation {
        Violation {
            id: TypeId(id),
            type_line: type_line(self.btf, id),
            detail: Some(member_line(self.btf, c, m)),
            message: msg.into(),
        }
    }

    fn mk_vsi(&self, id: u32, v: &crate::btf::VarSecinfo, msg: &str) -> Violation {
        Violation {
            id: TypeId(id),
            type_line: type_line(self.btf, id),
            detail: Some(format!("\t type_id={} offset={} size={}", v.ty.0, v.offset, v.size)),
            message: msg.into(),
        }
    }

    // ---- meta checks (btf_check_all_metas) ----

    fn taint(&mut self, id: u32) {
        if let Some(x) = self.tainted.get_mut(id as usize) {
            *x = true;
        }
        if let Some(v) = self.visit.get_mut(id as usize) {
            *v = RESOLVED;
        }
    }

    /// One type's meta checks, in the kernel's order; logs the first problem.
    fn meta(&self, id: u32, t: &'a Type, out: &mut Vec<Violation>) {
        // The model's own bits of `info` are always allowed; only bits kept
        // from odd input can be outside the mask.
        let qinfo = t.quirks.as_deref().map_or(0, |q| q.info);
        if qinfo & !BTF_INFO_MASK != 0 {
            let info = t.info();
            return out.push(self.mk_id_only(id, format!("Invalid btf_info:{info:x}")));
        }
        let tname = self.name(t.name_off);
        if tname == Name::BadOffset {
            return out.push(self.mk_id_only(id, format!("Invalid name_offset:{}", t.name_off)));
        }
        let vlen = (t.vlen() | qinfo) & 0xffff;
        let kflag = t.kflag() || qinfo >> 31 != 0;
        let word = t.size_or_type();
        let named = !t.name_off.is_empty();
        let ident = |_: &Self| tname == Name::Ident;
        match &t.kind {
            TypeKind::Int(_) => {
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if kflag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                let d = t.int_data();
                if d & !BTF_INT_MASK != 0 {
                    return out.push(self.mk_basic(id, format!("Invalid int_data:{d:x}")));
                }
                let nr_bits = (d & 0xff) + ((d >> 16) & 0xff);
                if nr_bits > 128 {
                    return out.push(self.mk_type(id, "nr_bits exceeds 128"));
                }
                if roundup_bytes(nr_bits) > word {
                    return out.push(self.mk_type(id, "nr_bits exceeds type_size"));
                }
                if !matches!((d >> 24) & 0xf, 0 | 1 | 2 | 4) {
                    out.push(self.mk_type(id, "Unsupported encoding"));
                }
            }
            TypeKind::Ptr(_)
            | TypeKind::Typedef(_)
            | TypeKind::Volatile(_)
            | TypeKind::Const(_)
            | TypeKind::Restrict(_)
            | TypeKind::TypeTag { .. } => {
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if kflag && t.kind() != Kind::TypeTag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                if word > BTF_MAX_TYPE {
                    return out.push(self.mk_type(id, "Invalid type_id"));
                }
                let bad_name = match t.kind() {
                    Kind::Typedef => !named || !ident(self),
                    Kind::TypeTag => self.str_at(t.name_off).is_empty(),
                    _ => named,
                };
                if bad_name {
                    out.push(self.mk_type(id, "Invalid name"));
                }
            }
            TypeKind::Array(a) => {
                if named {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if kflag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                if word != 0 {
                    return out.push(self.mk_type(id, "size != 0"));
                }
                if a.elem.0 == 0 || a.elem.0 > BTF_MAX_TYPE {
                    return out.push(self.mk_type(id, "Invalid elem"));
                }
                if a.index.0 == 0 || a.index.0 > BTF_MAX_TYPE {
                    out.push(self.mk_type(id, "Invalid index"));
                }
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                if named && !ident(self) {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                let is_union = t.kind() == Kind::Union;
                let mut last = 0u32;
                for m in c.members.iter() {
                    let mname = self.name(m.name_off);
                    if mname == Name::BadOffset {
                        return out.push(self.mk_member(
                            id,
                            c,
                            m,
                            &format!("Invalid member name_offset:{}", m.name_off),
                        ));
                    }
                    if !m.name_off.is_empty() && mname != Name::Ident {
                        return out.push(self.mk_member(id, c, m, "Invalid name"));
                    }
                    if m.ty.0 == 0 || m.ty.0 > BTF_MAX_TYPE {
                        return out.push(self.mk_member(id, c, m, "Invalid type_id"));
                    }
                    let off = c.bit_offset(m);
                    if is_union && off != 0 {
                        return out.push(self.mk_member(id, c, m, "Invalid member bits_offset"));
                    }
                    if last > off {
                        return out.push(self.mk_member(id, c, m, "Invalid member bits_offset"));
                    }
                    if roundup_bytes(off) > word {
                        return out.push(self.mk_member(id, c, m, "Member bits_offset exceeds its struct size"));
                    }
                    last = off;
                }
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                if word > 8 || !word.is_power_of_two() {
                    return out.push(self.mk_type(id, "Unexpected size"));
                }
                if named && !ident(self) {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                let value = |off: StrOff| -> Option<Violation> {
                    match self.name(off) {
                        Name::BadOffset => Some(Violation {
                            id: TypeId(id),
                            type_line: type_line(self.btf, id),
                            detail: Some(String::new()),
                            message: format!("Invalid name_offset:{off}"),
                        }),
                        Name::Ident if !off.is_empty() => None,
                        _ => Some(self.mk_type(id, "Invalid name")),
                    }
                };
                let bad = match &t.kind {
                    TypeKind::Enum(e) => e.values.iter().find_map(|v| value(v.name_off)),
                    TypeKind::Enum64(e) => e.values.iter().find_map(|v| value(v.name_off)),
                    _ => None,
                };
                if let Some(v) = bad {
                    out.push(v);
                }
            }
            TypeKind::Fwd { .. } => {
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if word != 0 {
                    return out.push(self.mk_type(id, "type != 0"));
                }
                if !named || !ident(self) {
                    out.push(self.mk_type(id, "Invalid name"));
                }
            }
            TypeKind::FuncProto(_) => {
                if named {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                if kflag {
                    out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
            }
            TypeKind::Func { .. } => {
                if !named || !ident(self) {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                if vlen > 1 {
                    return out.push(self.mk_type(id, "Invalid func linkage"));
                }
                if kflag {
                    out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
            }
            TypeKind::Var { ty, linkage } => {
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if kflag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                if !named || !ident(self) {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                if ty.0 == 0 || ty.0 > BTF_MAX_TYPE {
                    return out.push(self.mk_type(id, "Invalid type_id"));
                }
                if *linkage > 1 {
                    out.push(self.mk_type(id, "Linkage not supported"));
                }
            }
            TypeKind::Datasec(d) => {
                if word == 0 {
                    return out.push(self.mk_type(id, "size == 0"));
                }
                if kflag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                if !named || !valid_section_name(self.str_at(t.name_off)) {
                    return out.push(self.mk_type(id, "Invalid name"));
                }
                let (mut last_end, mut sum) = (0u64, 0u64);
                for v in d.vars.iter() {
                    if v.ty.0 == 0 || v.ty.0 > BTF_MAX_TYPE {
                        return out.push(self.mk_vsi(id, v, "Invalid type_id"));
                    }
                    if (v.offset as u64) < last_end || v.offset >= word {
                        return out.push(self.mk_vsi(id, v, "Invalid offset"));
                    }
                    if v.size == 0 || v.size > word {
                        return out.push(self.mk_vsi(id, v, "Invalid size"));
                    }
                    last_end = v.offset as u64 + v.size as u64;
                    if last_end > word as u64 {
                        return out.push(self.mk_vsi(id, v, "Invalid offset+size"));
                    }
                    sum += v.size as u64;
                }
                if (word as u64) < sum {
                    out.push(self.mk_type(id, "Invalid btf_info size"));
                }
            }
            TypeKind::Float { size } => {
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if kflag {
                    return out.push(self.mk_type(id, "Invalid btf_info kind_flag"));
                }
                if !matches!(size, 2 | 4 | 8 | 12 | 16) {
                    out.push(self.mk_type(id, "Invalid type_size"));
                }
            }
            TypeKind::DeclTag { component_idx, .. } => {
                if self.str_at(t.name_off).is_empty() {
                    return out.push(self.mk_type(id, "Invalid value"));
                }
                if vlen != 0 {
                    return out.push(self.mk_type(id, "vlen != 0"));
                }
                if *component_idx < -1 {
                    out.push(self.mk_type(id, "Invalid component_idx"));
                }
            }
        }
    }

    /// A valid offset naming an identifier, with a small cache (parameter
    /// names repeat a lot: `ctx`, `skb`, `dev`...).
    fn param_name_ok(&mut self, off: StrOff) -> bool {
        let off = off.get();
        const BITS: u32 = 12;
        if self.name_cache.is_empty() {
            self.name_cache = vec![(u32::MAX, false); 1 << BITS];
        }
        let slot = (off.wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize;
        let (k, v) = self.name_cache[slot];
        if k == off {
            return v;
        }
        let ok = self.name(StrOff(off)) == Name::Ident;
        self.name_cache[slot] = (off, ok);
        ok
    }

    // ---- the resolve state ----

    fn is_resolved(&self, id: u32) -> bool {
        id < self.start || self.visit.get(id as usize) == Some(&RESOLVED)
    }

    fn is_sink(&self, n: N) -> bool {
        Self::sink_in(self.mode, n)
    }

    fn sink_in(mode: Mode, n: N) -> bool {
        match mode {
            Mode::Tbd => !n.needs_resolve(),
            Mode::Ptr => !n.is_modifier() && !n.is(Kind::Ptr),
            Mode::StructOrArray => !n.is_modifier() && !n.is(Kind::Array) && !n.is_struct(),
        }
    }

    fn push(&mut self, id: u32) -> R {
        if self.stack.len() == MAX_RESOLVE_DEPTH {
            return Err(E::Depth);
        }
        if id < self.start || self.visit.get(id as usize) != Some(&NOT_VISITED) {
            return Err(E::Loop);
        }
        self.visit[id as usize] = VISITED;
        self.stack.push(Vertex { id, next_member: 0 });
        if self.mode == Mode::Tbd {
            let n = self.get(id).unwrap_or(N::Void);
            if n.is(Kind::Ptr) {
                self.mode = Mode::Ptr;
            } else if n.is_struct() || n.is(Kind::Array) {
                self.mode = Mode::StructOrArray;
            }
        }
        Ok(())
    }

    fn pop_resolved(&mut self, rid: u32, rsize: u32) {
        if let Some(v) = self.stack.pop() {
            let i = v.id as usize;
            self.rid[i] = rid;
            self.rsize[i] = rsize;
            self.visit[i] = RESOLVED;
        }
    }

    fn set_next_member(&mut self, next: u32) {
        if let Some(v) = self.stack.last_mut() {
            v.next_member = next;
        }
    }

    fn resolved_id(&self, id: u32) -> u32 {
        self.rid.get(id as usize).copied().unwrap_or(0)
    }

    fn resolved_size(&self, id: u32) -> u32 {
        self.rsize.get(id as usize).copied().unwrap_or(0)
    }

    /// `btf_type_id_size`: the sized type `id` stands for and its size.
    fn id_size(&self, id: u32) -> Option<(u32, u32)> {
        let n = self.get(id)?;
        self.id_size_of(id, n)
    }

    /// [`Self::id_size`] of `id`, whose type `n` is at hand.
    fn id_size_of(&self, id: u32, n: N<'a>) -> Option<(u32, u32)> {
        let t = n.t()?;
        match &t.kind {
            TypeKind::Typedef(_)
            | TypeKind::Volatile(_)
            | TypeKind::Const(_)
            | TypeKind::Restrict(_)
            | TypeKind::TypeTag { .. }
            | TypeKind::Var { .. } => {
                let rid = self.resolved_id(id);
                self.own_size(rid, self.get(rid)?.t()?).map(|s| (rid, s))
            }
            _ => self.own_size(id, t).map(|s| (id, s)),
        }
    }

    /// The size of type `id` (`t`) when it has one of its own, not through a
    /// modifier: INT, STRUCT, UNION, ENUM, ENUM64, DATASEC and FLOAT their
    /// `size`, an ARRAY its resolved size, a PTR 8; otherwise none.
    fn own_size(&self, id: u32, t: &Type) -> Option<u32> {
        match &t.kind {
            TypeKind::Int(_)
            | TypeKind::Struct(_)
            | TypeKind::Union(_)
            | TypeKind::Enum(_)
            | TypeKind::Enum64(_)
            | TypeKind::Datasec(_)
            | TypeKind::Float { .. } => Some(t.size_or_type()),
            TypeKind::Array(_) => Some(self.resolved_size(id)),
            TypeKind::Ptr(_) => Some(8),
            _ => None,
        }
    }

    /// Whether a problem found while resolving the top of the stack only
    /// follows from a type already found invalid.
    fn follows_from_taint(&self) -> bool {
        self.stack.iter().any(|v| {
            let mut hit = self.tainted.get(v.id as usize) == Some(&true);
            if let Some(t) = self.btf.type_by_id(TypeId(v.id)) {
                t.for_each_ref(|r| hit |= self.tainted.get(r.0 as usize) == Some(&true));
            }
            hit
        })
    }

    // ---- the resolve pass (btf_check_all_types) ----

    fn resolve_pass(&mut self, from: u32, to: u32) {
        for id in from..to {
            let Some(n) = self.get(id) else { continue };
            if self.tainted.get(id as usize) == Some(&true) {
                continue;
            }
            if n.needs_resolve() && !self.is_resolved(id) {
                // A FUNC whose prototype passes `btf_func_check` resolves in
                // one step (`btf_func_resolve`): set the state `resolve` would
                // leave without going through the stack.
                let quick = match n.t() {
                    Some(Type { kind: TypeKind::Func { proto, .. }, .. }) => self.func_ok(proto.0).then_some(proto.0),
                    Some(t) => self.ref_in_one_step(t),
                    None => None,
                };
                if let Some(rid) = quick {
                    let i = id as usize;
                    self.visit[i] = RESOLVED;
                    self.rid[i] = rid;
                    self.rsize[i] = 0;
                    continue;
                }
                if self.resolve(id).is_err() {
                    continue;
                }
            }
            if n.is(Kind::FuncProto) {
                let _ = self.func_proto_check(id);
            }
        }
    }

    /// `btf_resolve`: resolves `root` and everything it needs.
    fn resolve(&mut self, root: u32) -> R {
        self.mode = Mode::Tbd;
        let _ = self.push(root);
        let mut err: R = Ok(());
        // Problems are logged as they are found; decide afterwards whether
        // they are new or follow from an earlier one.
        let before = self.out.len();
        while err.is_ok() {
            let Some(top) = self.stack.last() else { break };
            let (id, next) = (top.id, top.next_member);
            err = self.resolve_one(id, next);
        }
        match err {
            Err(E::Depth) => self.log_type(root, format!("Exceeded max resolving depth:{MAX_RESOLVE_DEPTH}")),
            Err(E::Loop) => self.log_type(root, "Loop detected"),
            _ => {}
        }
        if err.is_ok() && !self.resolve_valid(root) {
            self.log_type(root, "Invalid resolve state");
            err = Err(E::Inval);
        }
        if err.is_err() {
            if self.follows_from_taint() {
                self.out.truncate(before);
            }
            let ids: Vec<u32> = self.stack.drain(..).map(|v| v.id).collect();
            for id in ids {
                self.taint(id);
            }
            self.taint(root);
        }
        err
    }

    fn resolve_one(&mut self, id: u32, next_member: u32) -> R {
        let Some(N::T(t)) = self.get(id) else { return Err(E::Inval) };
        match &t.kind {
            TypeKind::Typedef(_)
            | TypeKind::Volatile(_)
            | TypeKind::Const(_)
            | TypeKind::Restrict(_)
            | TypeKind::TypeTag { .. } => self.resolve_ref(id, t.size_or_type(), RefKind::Modifier),
            TypeKind::Ptr(x) => self.resolve_ref(id, x.0, RefKind::Ptr),
            TypeKind::Var { ty, .. } => self.resolve_ref(id, ty.0, RefKind::Var),
            TypeKind::Array(a) => self.resolve_array(id, a.elem.0, a.index.0, a.nelems),
            TypeKind::Struct(c) | TypeKind::Union(c) => self.resolve_struct(id, c, next_member),
            TypeKind::Datasec(d) => self.resolve_datasec(id, d, next_member),
            TypeKind::Func { proto, .. } => {
                self.func_check(id, proto.0)?;
                self.pop_resolved(proto.0, 0);
                Ok(())
            }
            TypeKind::DeclTag { ty, component_idx, .. } => self.resolve_decl_tag(id, ty.0, *component_idx),
            _ => {
                self.log_basic(id, "Unsupported resolve");
                Err(E::Inval)
            }
        }
    }

    /// Modifiers, PTR and VAR (`btf_modifier_resolve`, `btf_ptr_resolve`, `btf_var_resolve`).
    fn resolve_ref(&mut self, id: u32, next_id: u32, how: RefKind) -> R {
        let next = match self.get(next_id) {
            Some(n) if !n.resolve_source_only() => n,
            _ => {
                self.log_type(id, "Invalid type_id");
                return Err(E::Inval);
            }
        };
        if !self.is_sink(next) && !self.is_resolved(next_id) {
            return self.push(next_id);
        }
        if how != RefKind::Modifier && next.is_modifier() {
            // Carry on from a modifier that stopped at a pointer, so that the
            // pointer cannot lead back here.
            let rid = self.resolved_id(next_id);
            if let Some(r) = self.get(rid)
                && r.is(Kind::Ptr)
                && !self.is_sink(r)
                && !self.is_resolved(rid)
            {
                return self.push(rid);
            }
        }
        let mut next_id = next_id;
        match self.id_size(next_id) {
            Some((sid, _)) => next_id = sid,
            None if how == RefKind::Var => {
                self.log_type(id, "Invalid type_id");
                return Err(E::Inval);
            }
            None => {
                let mut nt = Some(next);
                if self.is_resolved(next_id) {
                    next_id = self.resolved_id(next_id);
                    nt = self.get(next_id);
                }
                let ok = nt.is_some_and(|n| n.is_void() || n.is(Kind::Fwd) || n.is(Kind::FuncProto));
                if !ok {
                    self.log_type(id, "Invalid type_id");
                    return Err(E::Inval);
                }
            }
        }
        self.pop_resolved(next_id, 0);
        Ok(())
    }

    fn resolve_array(&mut self, id: u32, elem: u32, index: u32, nelems: u32) -> R {
        let it = match self.get(index) {
            Some(n) if !n.nosize() && !n.resolve_source_only() => n,
            _ => {
                self.log_type(id, "Invalid index");
                return Err(E::Inval);
            }
        };
        if !self.is_sink(it) && !self.is_resolved(index) {
            return self.push(index);
        }
        let ok = self.id_size(index).and_then(|(i, _)| self.get(i)).is_some_and(|n| n.is(Kind::Int) && n.int_regular());
        if !ok {
            self.log_type(id, "Invalid index");
            return Err(E::Inval);
        }
        let et = match self.get(elem) {
            Some(n) if !n.nosize() && !n.resolve_source_only() => n,
            _ => {
                self.log_type(id, "Invalid elem");
                return Err(E::Inval);
            }
        };
        if !self.is_sink(et) && !self.is_resolved(elem) {
            return self.push(elem);
        }
        let Some((eid, esize)) = self.id_size(elem) else {
            self.log_type(id, "Invalid elem");
            return Err(E::Inval);
        };
        let e = self.get(eid).unwrap_or(N::Void);
        if e.is(Kind::Int) && !e.int_regular() {
            self.log_type(id, "Invalid array of int");
            return Err(E::Inval);
        }
        if nelems != 0 && esize > u32::MAX / nelems {
            self.log_type(id, "Array size overflows U32_MAX");
            return Err(E::Inval);
        }
        self.pop_resolved(eid, esize.wrapping_mul(nelems));
        Ok(())
    }

    fn resolve_struct(&mut self, id: u32, c: &'a Composite, next_member: u32) -> R {
        let st = self.get(id).map_or(0, |n| n.size());
        if next_member > 0 {
            let Some(last) = c.members.get(next_member as usize - 1) else { return Err(E::Inval) };
            if !self.is_resolved(last.ty.0) {
                return Err(E::Inval);
            }
            let lt = self.get(last.ty.0).unwrap_or(N::Void);
            self.check_member(id, c, st, *last, lt, c.kflag)?;
        }
        for (i, m) in c.members.iter().enumerate().skip(next_member as usize) {
            let mt = match self.get(m.ty.0) {
                Some(n) if !n.nosize() && !n.resolve_source_only() => n,
                _ => {
                    self.log_member(id, c, m, "Invalid member");
                    return Err(E::Inval);
                }
            };
            if !self.is_sink(mt) && !self.is_resolved(m.ty.0) {
                self.set_next_member(i as u32 + 1);
                return self.push(m.ty.0);
            }
            self.check_member(id, c, st, *m, mt, c.kflag)?;
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    fn resolve_datasec(&mut self, id: u32, d: &'a crate::btf::Datasec, next: u32) -> R {
        self.mode = Mode::Tbd;
        for (i, v) in d.vars.iter().enumerate().skip(next as usize) {
            let vt = match self.get(v.ty.0) {
                Some(n) if n.is(Kind::Var) => n,
                _ => {
                    self.log_vsi(id, v, "Not a VAR kind member");
                    return Err(E::Inval);
                }
            };
            if !self.is_sink(vt) && !self.is_resolved(v.ty.0) {
                self.set_next_member(i as u32 + 1);
                return self.push(v.ty.0);
            }
            let Some((_, size)) = self.id_size(vt.ref_id()) else {
                self.log_vsi(id, v, "Invalid type");
                return Err(E::Inval);
            };
            if v.size < size {
                self.log_vsi(id, v, "Invalid size");
                return Err(E::Inval);
            }
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    fn resolve_decl_tag(&mut self, id: u32, next_id: u32, component_idx: i32) -> R {
        let next = match self.get(next_id) {
            Some(n) if n.decl_tag_target() => n,
            _ => {
                self.log_type(id, "Invalid type_id");
                return Err(E::Inval);
            }
        };
        if !self.is_sink(next) && !self.is_resolved(next_id) {
            return self.push(next_id);
        }
        if component_idx != -1 {
            if next.is(Kind::Var) || next.is(Kind::Typedef) {
                self.log_type(id, "Invalid component_idx");
                return Err(E::Inval);
            }
            let vlen = if next.is_struct() {
                next.t().map_or(0, raw_vlen)
            } else {
                self.get(next.ref_id()).and_then(|p| p.t()).map_or(0, raw_vlen)
            };
            if component_idx as u32 >= vlen {
                self.log_type(id, "Invalid component_idx");
                return Err(E::Inval);
            }
        }
        self.pop_resolved(next_id, 0);
        Ok(())
    }

    /// For a PTR, modifier or VAR `t` about to be resolved as a root: the
    /// resolved id that `resolve` would give it when that takes one step
    /// (the target needs no push) and succeeds; None when it would push,
    /// fail or take the rarer paths (then `resolve` runs). Side-effect free.
    fn ref_in_one_step(&self, t: &'a Type) -> Option<u32> {
        let (next_id, how, mode) = match &t.kind {
            TypeKind::Ptr(x) => (x.0, RefKind::Ptr, Mode::Ptr),
            TypeKind::Typedef(x) | TypeKind::Volatile(x) | TypeKind::Const(x) | TypeKind::Restrict(x) => {
                (x.0, RefKind::Modifier, Mode::Tbd)
            }
            TypeKind::TypeTag { ty, .. } => (ty.0, RefKind::Modifier, Mode::Tbd),
            TypeKind::Var { ty, .. } => (ty.0, RefKind::Var, Mode::Tbd),
            _ => return None,
        };
        let next = self.get(next_id)?;
        if next.resolve_source_only() {
            return None;
        }
        if !Self::sink_in(mode, next) && !self.is_resolved(next_id) {
            return None;
        }
        if how != RefKind::Modifier && next.is_modifier() {
            let rid = self.resolved_id(next_id);
            if let Some(r) = self.get(rid)
                && r.is(Kind::Ptr)
                && !Self::sink_in(mode, r)
                && !self.is_resolved(rid)
            {
                return None;
            }
        }
        let target = match self.id_size_of(next_id, next) {
            Some((sid, _)) => sid,
            None if how == RefKind::Var => return None,
            None => {
                let (tid, nt) = if self.is_resolved(next_id) {
                    (self.resolved_id(next_id), self.get(self.resolved_id(next_id)))
                } else {
                    (next_id, Some(next))
                };
                if !nt.is_some_and(|n| n.is_void() || n.is(Kind::Fwd) || n.is(Kind::FuncProto)) {
                    return None;
                }
                tid
            }
        };
        // `btf_resolve_valid` for PTR, modifiers and VAR.
        let r = self.get(target)?;
        if r.is_modifier() || r.is(Kind::Var) || r.is(Kind::Datasec) {
            return None;
        }
        Some(target)
    }

    /// Whether `btf_func_check` passes for a FUNC of prototype `proto`.
    fn func_ok(&self, proto: u32) -> bool {
        match self.get(proto).and_then(|n| n.t()) {
            Some(Type { kind: TypeKind::FuncProto(p), .. }) => {
                p.params.iter().all(|a| !a.name_off.is_empty() || a.ty.0 == 0)
            }
            _ => false,
        }
    }

    /// `btf_func_check`: a FUNC's prototype, every named argument.
    fn func_check(&mut self, id: u32, proto: u32) -> R {
        let p = match self.get(proto).and_then(|n| n.t()) {
            Some(Type { kind: TypeKind::FuncProto(p), .. }) => p,
            _ => {
                self.log_type(id, "Invalid type_id");
                return Err(E::Inval);
            }
        };
        for (i, a) in p.params.iter().enumerate() {
            if a.name_off.is_empty() && a.ty.0 != 0 {
                self.log_type(id, format!("Invalid arg#{}", i + 1));
                return Err(E::Inval);
            }
        }
        Ok(())
    }

    /// `btf_resolve_valid`: the final sanity check of a resolved type.
    fn resolve_valid(&self, id: u32) -> bool {
        if !self.is_resolved(id) {
            return false;
        }
        let Some(n) = self.get(id) else { return false };
        let (rid, rsize) = (self.resolved_id(id), self.resolved_size(id));
        if n.is_struct() || n.is(Kind::Datasec) {
            return rid == 0 && rsize == 0;
        }
        if n.is(Kind::DeclTag) || n.is(Kind::Func) {
            return rid != 0 && rsize == 0;
        }
        if n.is_modifier() || n.is(Kind::Ptr) || n.is(Kind::Var) {
            return self.get(rid).is_some_and(|r| !r.is_modifier() && !r.is(Kind::Var) && !r.is(Kind::Datasec));
        }
        if let Some(Type { kind: TypeKind::Array(a), .. }) = n.t() {
            return match self.id_size(a.elem.0) {
                Some((eid, esize)) => {
                    self.get(eid).is_some_and(|e| !e.is_modifier()) && a.nelems.wrapping_mul(esize) == rsize
                }
                None => false,
            };
        }
        false
    }

    // ---- members (check_member / check_kflag_member) ----

    fn member_fail(&mut self, sid: u32, c: &Composite, m: &Member, msg: &str) -> R {
        self.log_member(sid, c, m, msg);
        Err(E::Inval)
    }

    fn check_member(&mut self, sid: u32, c: &Composite, size: u32, m: Member, mt: N<'a>, kflag: bool) -> R {
        let Some(t) = mt.t() else { return self.member_fail(sid, c, &m, "Invalid member") };
        if mt.is_modifier() {
            let Some((rid, _)) = self.id_size_of(m.ty.0, mt) else {
                return self.member_fail(sid, c, &m, "Invalid member");
            };
            let rm = Member { ty: TypeId(rid), ..m };
            let rt = self.get(rid).unwrap_or(N::Void);
            return self.check_member(sid, c, size, rm, rt, kflag);
        }
        if kflag {
            match t.kind() {
                Kind::Int => return self.int_kflag_member(sid, c, size, &m, t),
                Kind::Enum | Kind::Enum64 => return self.enum_kflag_member(sid, c, size, &m),
                Kind::Ptr | Kind::Array | Kind::Struct | Kind::Union | Kind::Float => {
                    if m.offset >> 24 != 0 {
                        return self.member_fail(sid, c, &m, "Invalid member bitfield_size");
                    }
                }
                _ => {
                    self.log_basic(sid, "Unsupported check_kflag_member");
                    return Err(E::Inval);
                }
            }
        }
        let off = m.offset;
        let bytes = off / 8;
        match t.kind() {
            Kind::Int => {
                let d = t.int_data();
                let int_off = (d >> 16) & 0xff;
                if u32::MAX - off < int_off {
                    return self.member_fail(sid, c, &m, "bits_offset exceeds U32_MAX");
                }
                let bits_off = off + int_off;
                let bytes = bits_off / 8;
                let copy = (d & 0xff) + bits_off % 8;
                if copy > 128 {
                    return self.member_fail(sid, c, &m, "nr_copy_bits exceeds 128");
                }
                if size < bytes || size - bytes < roundup_bytes(copy) {
                    return self.member_fail(sid, c, &m, "Member exceeds struct_size");
                }
                Ok(())
            }
            Kind::Ptr | Kind::Array | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                if !off.is_multiple_of(8) {
                    return self.member_fail(sid, c, &m, "Member is not byte aligned");
                }
                let need = match t.kind() {
                    Kind::Ptr => 8,
                    Kind::Array => self.id_size_of(m.ty.0, mt).map_or(0, |(_, s)| s),
                    _ => t.size_or_type(),
                };
                if size.wrapping_sub(bytes) < need {
                    return self.member_fail(sid, c, &m, "Member exceeds struct_size");
                }
                Ok(())
            }
            Kind::Float => {
                let fsize = t.size_or_type() as u64;
                let align_bits = fsize.min(8) * 8;
                if align_bits != 0 && !(off as u64).is_multiple_of(align_bits) {
                    return self.member_fail(sid, c, &m, "Member is not properly aligned");
                }
                if off as u64 / 8 + fsize > size as u64 {
                    return self.member_fail(sid, c, &m, "Member exceeds struct_size");
                }
                Ok(())
            }
            _ => {
                self.log_basic(sid, "Unsupported check_member");
                Err(E::Inval)
            }
        }
    }

    fn int_kflag_member(&mut self, sid: u32, c: &Composite, size: u32, m: &Member, t: &Type) -> R {
        if !N::T(t).int_regular() {
            return self.member_fail(sid, c, m, "Invalid member base type");
        }
        let mut nr_bits = m.offset >> 24;
        let bits_off = m.offset & 0x00ff_ffff;
        let int_bits = t.int_data() & 0xff;
        if nr_bits == 0 {
            if !bits_off.is_multiple_of(8) {
                return self.member_fail(sid, c, m, "Invalid member offset");
            }
            nr_bits = int_bits;
        } else if nr_bits > int_bits {
            return self.member_fail(sid, c, m, "Invalid member bitfield_size");
        }
        let bytes = bits_off / 8;
        let copy = nr_bits + bits_off % 8;
        if copy > 128 {
            return self.member_fail(sid, c, m, "nr_copy_bits exceeds 128");
        }
        if size < bytes || size - bytes < roundup_bytes(copy) {
            return self.member_fail(sid, c, m, "Member exceeds struct_size");
        }
        Ok(())
    }

    fn enum_kflag_member(&mut self, sid: u32, c: &Composite, size: u32, m: &Member) -> R {
        let bits_off = m.offset & 0x00ff_ffff;
        let mut nr_bits = m.offset >> 24;
        if nr_bits == 0 {
            if !bits_off.is_multiple_of(8) {
                return self.member_fail(sid, c, m, "Member is not byte aligned");
            }
            nr_bits = 32;
        } else if nr_bits > 32 {
            return self.member_fail(sid, c, m, "Invalid member bitfield_size");
        }
        if size < roundup_bytes(bits_off + nr_bits) {
            return self.member_fail(sid, c, m, "Member exceeds struct_size");
        }
        Ok(())
    }

    // ---- FUNC_PROTO (btf_func_proto_check) ----

    fn func_proto_check(&mut self, id: u32) -> R {
        let Some(N::T(Type { kind: TypeKind::FuncProto(p), .. })) = self.get(id) else { return Ok(()) };
        let tainted_ref = |s: &Self, r: u32| s.tainted.get(r as usize) == Some(&true);
        if p.ret.0 != 0 {
            let ret = p.ret.0;
            match self.get(ret) {
                Some(n) if !n.resolve_source_only() => {
                    if n.needs_resolve() && !self.is_resolved(ret) {
                        self.resolve(ret)?;
                    }
                }
                _ => {
                    self.log_type(id, "Invalid return type");
                    return Err(E::Inval);
                }
            }
            if self.id_size(ret).is_none() {
                if !tainted_ref(self, ret) {
                    self.log_type(id, "Invalid return type");
                }
                return Err(E::Inval);
            }
        }
        let mut n = p.params.len();
        if n == 0 {
            return Ok(());
        }
        if p.params[n - 1].ty.0 == 0 {
            if !p.params[n - 1].name_off.is_empty() {
                self.log_type(id, format!("Invalid arg#{n}"));
                return Err(E::Inval);
            }
            n -= 1;
        }
        for (i, a) in p.params.iter().take(n).enumerate() {
            let bad = |s: &mut Self| {
                s.log_type(id, format!("Invalid arg#{}", i + 1));
                Err(E::Inval)
            };
            let at = match self.get(a.ty.0) {
                Some(t) if !t.resolve_source_only() => t,
                _ => return bad(self),
            };
            if !a.name_off.is_empty() && !self.param_name_ok(a.name_off) {
                return bad(self);
            }
            if at.needs_resolve() && !self.is_resolved(a.ty.0) {
                self.resolve(a.ty.0)?;
            }
            if self.id_size_of(a.ty.0, at).is_none() {
                if tainted_ref(self, a.ty.0) {
                    return Err(E::Inval);
                }
                return bad(self);
            }
        }
        Ok(())
    }

    // ---- type tags (btf_check_type_tags) ----

    fn type_tag_pass(&mut self, start: u32) {
        let mut good = start.saturating_sub(1);
        let first = self.first;
        for (k, ty) in self.types.iter().enumerate() {
            if !matches!(
                ty.kind,
                TypeKind::Typedef(_)
                    | TypeKind::Volatile(_)
                    | TypeKind::Const(_)
                    | TypeKind::Restrict(_)
                    | TypeKind::TypeTag { .. }
            ) {
                continue;
            }
            let i = first + k as u32;
            if i < start {
                continue;
            }
            let mut t = N::T(ty);
            let mut in_tags = t.is(Kind::TypeTag);
            let mut limit = 32u32;
            let mut cur = i;
            let mut failed = false;
            while t.is_modifier() {
                if limit == 0 {
                    if !self.chain_tainted(i) {
                        self.push_violation(i, String::new(), None, "Max chain length or cycle detected".into());
                    }
                    failed = true;
                    break;
                }
                limit -= 1;
                if t.is(Kind::TypeTag) {
                    if !in_tags {
                        if !self.chain_tainted(i) {
                            self.push_violation(i, String::new(), None, "Type tags don't precede modifiers".into());
                        }
                        failed = true;
                        break;
                    }
                } else if in_tags {
                    in_tags = false;
                }
                if cur <= good {
                    break;
                }
                cur = t.ref_id();
                match self.get(cur) {
                    Some(n) => t = n,
                    None => {
                        failed = true;
                        break;
                    }
                }
            }
            if !failed {
                good = i;
            }
        }
    }

    fn chain_tainted(&self, id: u32) -> bool {
        let mut cur = id;
        for _ in 0..34 {
            if self.tainted.get(cur as usize) == Some(&true) {
                return true;
            }
            match self.get(cur) {
                Some(n) if n.is_modifier() => cur = n.ref_id(),
                _ => return false,
            }
        }
        false
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Modifier,
    Ptr,
    Var,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-bytes-at-a-time identifier scan says what the byte-wise
    /// `valid_identifier` says, for every length around the chunk edges and
    /// the 512-byte limit, with every byte value in every position class.
    #[test]
    fn ident_prefix_matches_the_bytewise_check() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<u8> =
            b"azAZ09_.-$ \x01\x7f".iter().copied().chain([0x80, 0xc0, 0xd7, 0xe9, 0xf7, 0xff]).collect();
        let mut checked = 0;
        for len in (0..40).chain(505..520) {
            for _ in 0..300 {
                let mut s: Vec<u8> = (0..len)
                    .map(|_| {
                        if next() % 4 == 0 {
                            alphabet[(next() % alphabet.len() as u64) as usize]
                        } else {
                            b'a' + (next() % 26) as u8
                        }
                    })
                    .collect();
                if next() % 3 == 0 && len > 0 {
                    let at = (next() % len as u64) as usize;
                    s[at] = (next() % 256) as u8;
                }
                let want = valid_identifier(&s) && !s.contains(&0);
                let mut with_nul = s.clone();
                with_nul.push(0);
                with_nul.extend((0..(next() % 12)).map(|_| (next() % 256) as u8));
                let nul = s.iter().position(|&c| c == 0).unwrap_or(s.len());
                let want_prefix = valid_identifier(&s[..nul]);
                assert_eq!(ident_prefix(&with_nul), want_prefix, "{s:?}");
                if !s.contains(&0) {
                    assert_eq!(ident_prefix(&with_nul), want, "{s:?}");
                    // No NUL at all: never an identifier.
                    assert!(!ident_prefix(&s), "{s:?}");
                }
                checked += 1;
            }
        }
        for b in 0..=255u8 {
            assert_eq!(ident_prefix(&[b'a', b, 0]), valid_identifier(&[b'a', b]) || b == 0, "byte {b}");
            assert_eq!(ident_prefix(&[b, 0]), valid_identifier(&[b]), "byte {b}");
        }
        assert!(checked > 10_000);
    }
}
