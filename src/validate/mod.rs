//! Validation of a [`Btf`] model, at the two levels of [`Validation`].
//!
//! - [`Validation::Libbpf`]: what libbpf's `btf__new` checks (type ids and
//!   string offsets in range, FUNC → FUNC_PROTO), plus no reference loop
//!   without a pointer (which btfkit's consumers rely on). The first problem
//!   is reported.
//! - [`Validation::Kernel`]: every check `btf_parse()` in the kernel's
//!   `kernel/bpf/btf.c` (Linux 6.18) applies on `BPF_BTF_LOAD` — the
//!   per-kind meta checks, the resolve pass (sizes, member layout, "Loop
//!   detected", the 32-deep resolve stack), the FUNC_PROTO checks and the
//!   type-tag order check — and, for split BTF, the checks the kernel applies
//!   to module BTF over vmlinux. Every violation is reported, each with the
//!   kernel's message and its type line as the verifier log prints it; the
//!   first one is the one the kernel itself reports.
//!
//! Violations name type ids; the parser maps them to byte offsets.
//! `find_cycle` is the one cycle finder of the crate (used here and by the
//! dedup's input check).

mod kernel;
mod special;

use std::fmt;

use crate::btf::{Btf, Type, TypeId, TypeKind};
use crate::error::{Error, Result};
pub use crate::parse::Validation;

pub use kernel::{KSYM_NAME_LEN, MAX_RESOLVE_DEPTH};

/// One reason the kernel (or libbpf) would reject a BTF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The type it concerns; [`TypeId::VOID`] for the header and the sections.
    pub id: TypeId,
    /// The type as the kernel's verifier log prints it, e.g.
    /// `[12] STRUCT foo size=4 vlen=1` (empty for header problems).
    pub type_line: String,
    /// For a member or DATASEC entry: its line (`\tname type_id=3 bits_offset=0`);
    /// empty when the kernel prints the message alone on an indented line.
    pub detail: Option<String>,
    /// The kernel's message, e.g. `Member exceeds struct_size`.
    pub message: String,
}

impl fmt::Display for Violation {
    /// The lines the kernel logs for it: the type line, then the member or
    /// entry line when there is one, the message at the end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut head = self.type_line.as_str();
        if head.is_empty() && self.detail.is_none() {
            return f.write_str(&self.message);
        }
        if let Some(d) = &self.detail {
            if !head.is_empty() {
                writeln!(f, "{head}")?;
            }
            if d.is_empty() {
                // The kernel prints the message alone, indented.
                return write!(f, "\t{}", self.message);
            }
            head = d;
        }
        write!(f, "{head} {}", self.message)
    }
}

impl Violation {
    /// Renders as one JSON object (`id`, `type`, `detail`, `message`).
    pub fn to_json(&self) -> String {
        let detail = match &self.detail {
            Some(d) => json_str(d.trim_start_matches('\t')),
            None => "null".into(),
        };
        format!(
            "{{\"id\":{},\"type\":{},\"detail\":{},\"message\":{}}}",
            self.id,
            json_str(&self.type_line),
            detail,
            json_str(&self.message)
        )
    }
}

/// `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    json_str(s)
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Btf {
    /// Checks this BTF at `level` and returns every violation found (empty:
    /// valid). At [`Validation::Kernel`] the first violation is the one
    /// `BPF_BTF_LOAD` would report (for split BTF: the kernel loading it as
    /// module BTF over its base); the others are what the kernel would find
    /// once that one is fixed, as far as they do not follow from it.
    /// At [`Validation::Libbpf`] at most one is reported.
    pub fn validate(&self, level: Validation) -> Vec<Violation> {
        match level {
            Validation::Kernel => kernel::check(self),
            Validation::Libbpf => match libbpf_checks(self, None) {
                Ok(()) => Vec::new(),
                Err(e) => {
                    let (id, message) = match &e {
                        Error::BadStringOffset { id, .. }
                        | Error::BadTypeId { id, .. }
                        | Error::RefLoop { id, .. }
                        | Error::BadType { id, .. } => (id.0, e.to_string()),
                        _ => (0, e.to_string()),
                    };
                    vec![Violation {
                        id: TypeId(id),
                        type_line: if id == 0 { String::new() } else { kernel::type_line(self, id) },
                        detail: None,
                        message,
                    }]
                }
            },
        }
    }
}

/// The kernel-level checks of a BTF read from bytes whose type section is
/// `type_len` bytes long (saves summing it for the 16 MiB limit).
pub(crate) fn kernel_check_sized(btf: &Btf, type_len: usize) -> Vec<Violation> {
    kernel::check_sized(btf, Some(type_len))
}

/// Checks of the header fields that the model does not keep, by the kernel's
/// rules (`btf_parse_hdr`, `btf_parse_str_sec`): what [`crate::parse`] accepts
/// at both levels and the kernel does not. `_data_len` is the BTF's size in bytes
/// (the 16 MiB limit is checked on the model, by [`Btf::validate`]).
pub fn header_violations(h: &crate::parse::Header, _data_len: usize, split: bool) -> Vec<Violation> {
    let mut out = Vec::new();
    let v = |m: &str| Violation { id: TypeId::VOID, type_line: String::new(), detail: None, message: m.to_string() };
    if h.hdr_len > crate::btf::HEADER_LEN && (h.layout_off != 0 || h.layout_len != 0) {
        out.push(v("Unsupported btf_header"));
    }
    if !split && h.type_len == 0 {
        out.push(v("No type found"));
    }
    if h.str_len != 0 && h.str_len - 1 > kernel::BTF_MAX_NAME_OFFSET {
        out.push(v("Invalid string section"));
    }
    out
}

/// Decodes `data` (raw BTF, base or split over `base`) and returns every
/// reason the kernel would reject it, in the kernel's words (empty: the
/// kernel accepts it). Fails only when the bytes cannot be decoded as BTF at
/// all (header, section layout, truncated types, unknown kinds).
pub fn verify_bytes(data: &[u8], base: Option<std::sync::Arc<Btf>>) -> Result<Vec<Violation>> {
    let h = crate::parse::parse_header(data, 0)?;
    let total = (h.total_len() as usize).min(data.len());
    let btf = crate::parse::decode(&data[..total], base)?;
    let split = btf.base().is_some();
    let v = |m: &str| Violation { id: TypeId::VOID, type_line: String::new(), detail: None, message: m.to_string() };
    let mut out = Vec::new();
    if h.endian != crate::btf::Endianness::default() {
        // The kernel reads BTF in its own byte order only.
        out.push(v("Invalid magic"));
    }
    if total < data.len() {
        // Bytes past the last section (a BTF archive, for one).
        out.push(v("Unsupported section found"));
    }
    out.extend(header_violations(&h, data.len(), split));
    out.extend(kernel::check(&btf));
    Ok(out)
}

// ---- libbpf level ----

/// libbpf's `btf_sanity_check` (string offsets, type ids, FUNC → FUNC_PROTO)
/// and no reference loop without a pointer. `offs` gives each own type's byte
/// offset for messages (None: offset 0).
pub(crate) fn libbpf_checks(btf: &Btf, offs: Option<&[usize]>) -> Result<()> {
    use rayon::prelude::*;
    const PAR_MIN: usize = 8192;
    const PAR_CHUNK: usize = 4096;
    let start = btf.start_id().0;
    let check_range = |range: std::ops::Range<usize>| -> Result<()> {
        for i in range {
            let off = offs.and_then(|o| o.get(i).copied()).unwrap_or(0);
            libbpf_type(btf, TypeId(start + i as u32), &btf.types()[i], off)?;
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
    match find_cycle(btf, |_| true, value_edge) {
        Some(cycle) => Err(Error::RefLoop { id: TypeId(cycle[cycle.len() - 1]), path: cycle_path(btf, &cycle) }),
        None => Ok(()),
    }
}

fn libbpf_type(btf: &Btf, id: TypeId, t: &Type, off: usize) -> Result<()> {
    let max = btf.type_count() - 1;
    let mut err = None;
    t.for_each_str(|s, what| {
        if err.is_none() && !btf.is_valid_str_off(s) {
            err = Some(Error::BadStringOffset { id, what, str_off: s });
        }
    });
    t.for_each_ref(|r| {
        if err.is_none() && r.0 > max {
            err = Some(Error::BadTypeId { id, target: r, max });
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    if let TypeKind::Func { proto, .. } = &t.kind
        && btf.type_by_id(*proto).is_none_or(|p| p.kind() != crate::btf::Kind::FuncProto)
    {
        return Err(Error::BadType {
            offset: off,
            id,
            kind: t.kind().name(),
            why: format!("referenced type [{}] is not FUNC_PROTO", proto.0),
        });
    }
    Ok(())
}

/// The `i`-th by-value edge of a type (typedef/modifier/type-tag target,
/// array element, struct/union member): the ones a cycle must not use.
pub(crate) fn value_edge(t: &Type, i: usize) -> Option<u32> {
    match &t.kind {
        TypeKind::Typedef(x) | TypeKind::Volatile(x) | TypeKind::Const(x) | TypeKind::Restrict(x) => {
            (i == 0).then_some(x.0)
        }
        TypeKind::TypeTag { ty, .. } => (i == 0).then_some(ty.0),
        TypeKind::Array(a) => (i == 0).then_some(a.elem.0),
        TypeKind::Struct(c) | TypeKind::Union(c) => c.members.get(i).map(|m| m.ty.0),
        _ => None,
    }
}

// ---- the one cycle finder ----

/// Finds a cycle among this BTF's own types through the edges `edge(t, i)`
/// (i = 0, 1, ... until None), considering only types for which `include`
/// holds (edges to other types, to base types and to out-of-range ids are
/// ignored). Returns the ids of the cycle, starting and ending with the same
/// id, or None. Iterative depth-first search with an explicit stack: each
/// type is visited once, memory is two words per stacked type.
pub(crate) fn find_cycle(
    btf: &Btf,
    include: impl Fn(&Type) -> bool,
    edge: impl Fn(&Type, usize) -> Option<u32>,
) -> Option<Vec<u32>> {
    find_cycle_in(btf, 0..btf.types().len(), include, edge)
}

/// [`find_cycle`] among the own types at indices `within` only (edges
/// leaving it are not followed): the same answer as over the whole BTF when
/// no edge leaves it, e.g. for one member of a merge.
pub(crate) fn find_cycle_in(
    btf: &Btf,
    within: std::ops::Range<usize>,
    include: impl Fn(&Type) -> bool,
    edge: impl Fn(&Type, usize) -> Option<u32>,
) -> Option<Vec<u32>> {
    let start = btf.start_id().0;
    let types = btf.types().get(within.clone()).unwrap_or_default();
    // Ids of `types[i]`: `first + i`.
    let first = start + within.start as u32;
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; types.len()];
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in 0..types.len() {
        if state[root] != 0 || !include(&types[root]) {
            continue;
        }
        state[root] = 1;
        stack.push((root as u32, 0));
        while let Some(top) = stack.last_mut() {
            let (cur, e) = (top.0 as usize, top.1 as usize);
            match edge(&types[cur], e) {
                Some(next) => {
                    top.1 += 1;
                    if next < first {
                        continue; // base types were checked with the base
                    }
                    let next = (next - first) as usize;
                    if next >= types.len() || !include(&types[next]) {
                        continue;
                    }
                    match state[next] {
                        0 => {
                            state[next] = 1;
                            stack.push((next as u32, 0));
                        }
                        1 => {
                            let pos = stack.iter().position(|f| f.0 as usize == next).unwrap_or(0);
                            let mut cycle: Vec<u32> = stack[pos..].iter().map(|f| f.0 + first).collect();
                            cycle.push(next as u32 + first);
                            return Some(cycle);
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
    None
}

/// `[1] TYPEDEF -> [2] CONST -> [1]` for a cycle from [`find_cycle`] (at most
/// 8 types named, then the count).
pub(crate) fn cycle_path(btf: &Btf, cycle: &[u32]) -> String {
    let body = &cycle[..cycle.len().saturating_sub(1)];
    let mut path: Vec<String> = body
        .iter()
        .take(8)
        .map(|&id| {
            let k = btf.type_by_id(TypeId(id)).map(|t| t.kind().name()).unwrap_or("?");
            format!("[{id}] {k}")
        })
        .collect();
    if body.len() > 8 {
        path.push(format!("... ({} types)", body.len()));
    }
    if let Some(last) = cycle.last() {
        path.push(format!("[{last}]"));
    }
    path.join(" -> ")
}
