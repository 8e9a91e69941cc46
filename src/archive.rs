//! BTF archives: several raw BTF blobs back to back, as an unmodified
//! linker makes when every object file carries its own `.BTF` section.
//!
//! A blob's extent is its header length plus the end of its last section;
//! anything after it is the next member. Zero bytes between members (input
//! section alignment) are skipped and counted.

use std::sync::Arc;

use rayon::prelude::*;

use crate::btf::{Btf, Endianness};
use crate::error::{Error, Result};
use crate::feed::{Digest, Fed, Seen};
use crate::parse::{self, Header, ParseOptions};

/// One member of an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Position of the member in the archive, from 0.
    pub index: usize,
    /// Offset of the member's header within the archive bytes.
    pub offset: usize,
    /// Bytes the member spans (header + sections).
    pub size: usize,
    /// Zero bytes skipped before this member.
    pub pad_before: usize,
    /// The member's parsed BTF header.
    pub header: Header,
}

/// The layout of an archive (or of a single BTF: one member).
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// The members in file order.
    pub members: Vec<Member>,
    /// Zero bytes after the last member.
    pub pad_after: usize,
    /// With `lenient`, where the walk stopped on bytes that are not BTF, and why.
    pub stopped: Option<(usize, String)>,
}

impl Layout {
    /// True when there is more than one member.
    pub fn is_archive(&self) -> bool {
        self.members.len() > 1
    }
    /// Byte order of the first member (`None` when there are no members).
    pub fn endian(&self) -> Option<Endianness> {
        self.members.first().map(|m| m.header.endian)
    }
}

/// Walks the members of `data`. `file_offset` is the position of `data` in
/// its file (for messages). Bytes after the last member that are neither
/// zero padding nor a BTF header are an error, unless `lenient` (then the
/// walk stops there and records why).
pub fn walk(data: &[u8], file_offset: usize, lenient: bool) -> Result<Layout> {
    walk_releasing(data, file_offset, lenient, |_| {})
}

/// Bytes walked between two calls of `walk_releasing`'s `done`.
const WALK_RELEASE: usize = 32 << 20;

/// [`walk`], handing `done` every range of `data` it has walked past (in
/// pieces of a few MiB), which it does not read again: reading a header
/// faults in the pages around it, so a caller with a mapped file releases
/// them (see [`crate::input::Source::release`]).
pub fn walk_releasing(
    data: &[u8],
    file_offset: usize,
    lenient: bool,
    done: impl Fn(std::ops::Range<usize>),
) -> Result<Layout> {
    let mut layout = Layout::default();
    let mut pos = 0usize;
    let mut pad = 0usize;
    let mut released = 0usize;
    while pos < data.len() {
        if pos - released >= WALK_RELEASE {
            done(released..pos);
            released = pos;
        }
        let header = match parse::parse_header(&data[pos..], file_offset + pos) {
            Ok(h) => h,
            Err(e) if layout.members.is_empty() => return Err(e),
            Err(e) => {
                if lenient {
                    layout.stopped = Some((file_offset + pos, e.to_string()));
                    return Ok(layout);
                }
                return Err(Error::BadSections {
                    offset: file_offset + pos,
                    why: format!(
                        "{} trailing bytes after archive member {} are not a BTF header ({e})",
                        data.len() - pos,
                        layout.members.len() - 1
                    ),
                });
            }
        };
        if let Some(first) = layout.members.first()
            && first.header.endian != header.endian
        {
            return Err(Error::MixedEndian {
                offset: file_offset + pos,
                member: layout.members.len(),
                endian: header.endian,
                first: first.header.endian,
            });
        }
        let size = header.total_len() as usize;
        layout.members.push(Member { index: layout.members.len(), offset: pos, size, pad_before: pad, header });
        pos += size;
        let zeros = data[pos..].iter().take_while(|&&b| b == 0).count();
        pad = zeros;
        pos += zeros;
    }
    done(released..data.len());
    layout.pad_after = pad;
    Ok(layout)
}

impl Member {
    /// The member's bytes within `data` (the bytes [`walk`] walked).
    pub fn bytes<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.offset..self.offset + self.size]
    }
}

impl Layout {
    /// The members with their bytes, in file order (`data`: the bytes [`walk`] walked).
    pub fn members_in<'a>(&'a self, data: &'a [u8]) -> impl ExactSizeIterator<Item = (&'a Member, &'a [u8])> + 'a {
        self.members.iter().map(move |m| (m, m.bytes(data)))
    }
}

/// Parses one member: `opts` as given, except that the member must span its bytes exactly
/// and that positions are offsets in the file (`opts.file_offset` is where `data` starts).
fn parse_member(data: &[u8], m: &Member, opts: &ParseOptions) -> Result<Btf> {
    let opts = opts.clone().with_allow_trailing(false).with_file_offset(opts.file_offset + m.offset);
    parse::parse_with(m.bytes(data), &opts).map(|(b, _)| b)
}

/// Parses every member in parallel, each as `opts` says (split over
/// `opts.base` when given, at `opts.validation`; `opts.file_offset` is
/// where `data` starts in its file). The result is in member order and
/// independent of the number of threads.
pub fn parse_members(data: &[u8], layout: &Layout, opts: &ParseOptions) -> Result<Vec<Btf>> {
    layout.members.par_iter().map(|m| parse_member(data, m, opts)).collect()
}

/// Members parsed at a time by [`for_each_member`].
const WINDOW: usize = 64;

/// Parses the members (as [`parse_members`] does) and hands them to
/// `f` in member order. Members are parsed in parallel, a window of them at
/// a time, the next window while `f` consumes the current one: memory holds
/// two windows, not the whole archive, and parsing overlaps the consumer.
/// After each window, `done` gets the byte range of `data` it spanned, which
/// is not read again (the caller may release those pages).
pub fn for_each_member(
    data: &[u8],
    layout: &Layout,
    opts: &ParseOptions,
    f: impl FnMut(Btf) -> Result<()> + Send,
    done: impl Fn(std::ops::Range<usize>),
) -> Result<()> {
    let parse_window =
        |w: &[Member]| -> Result<Vec<Btf>> { w.par_iter().map(|m| parse_member(data, m, opts)).collect() };
    windowed(layout, parse_window, f, done)
}

/// The window loop of [`for_each_member`]: `parse_window` makes the items
/// of a window (in parallel with `f` consuming the previous window's).
fn windowed<T: Send>(
    layout: &Layout,
    parse_window: impl Fn(&[Member]) -> Result<Vec<T>> + Sync,
    mut f: impl FnMut(T) -> Result<()> + Send,
    done: impl Fn(std::ops::Range<usize>),
) -> Result<()> {
    let span = |w: &[Member]| match (w.first(), w.last()) {
        (Some(a), Some(b)) => a.offset..b.offset + b.size,
        _ => 0..0,
    };
    let mut windows = layout.members.chunks(WINDOW);
    let Some(mut window) = windows.next() else { return Ok(()) };
    let mut current = parse_window(window)?;
    loop {
        let next = windows.next();
        let (consumed, parsed) = rayon::join(|| current.drain(..).try_for_each(&mut f), || next.map(&parse_window));
        consumed?;
        done(span(window));
        match (parsed, next) {
            (Some(p), Some(w)) => {
                current = p?;
                window = w;
            }
            _ => return Ok(()),
        }
    }
}

/// [`for_each_member`] for [`crate::dedup::dedup_fed`]: a member whose
/// bytes are a copy of a member met before (in this archive or earlier in
/// the feed, by `seen`) is handed over as [`Fed::Copy`] without being
/// parsed; the others are parsed and handed over with their digest (none
/// when [`Seen::one_source`] and no other member has its size).
pub fn for_each_member_fed(
    data: &[u8],
    layout: &Layout,
    opts: &ParseOptions,
    seen: &mut Seen,
    f: impl FnMut(Fed) -> Result<()> + Send,
    done: impl Fn(std::ops::Range<usize>),
) -> Result<()> {
    // Windows are made one at a time, in order: the digest set sees the
    // members in order.
    // With one source, only members whose size another member shares can
    // repeat or be repeated: the others are not digested.
    let one_source = seen.one_source();
    let mut sizes: std::collections::HashMap<usize, u32> = std::collections::HashMap::new();
    if one_source {
        for m in &layout.members {
            *sizes.entry(m.size).or_default() += 1;
        }
    }
    let wanted = |m: &Member| !one_source || sizes.get(&m.size).is_some_and(|&n| n > 1);
    let seen = std::sync::Mutex::new(seen);
    let parse_window = |w: &[Member]| -> Result<Vec<Fed>> {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.enabled() {
            return w.par_iter().map(|m| Ok(Fed::parsed(parse_member(data, m, opts)?, None))).collect();
        }
        let digests: Vec<Option<Digest>> = w.par_iter().map(|m| wanted(m).then(|| Digest::of(m.bytes(data)))).collect();
        let copy: Vec<bool> = digests.iter().map(|d| d.as_ref().is_some_and(|d| seen.is_copy(d))).collect();
        drop(seen);
        w.par_iter()
            .zip(digests)
            .zip(copy)
            .map(|((m, d), c)| match (c, d) {
                (true, Some(d)) => Ok(Fed::Copy(d)),
                (_, d) => Ok(Fed::parsed(parse_member(data, m, opts)?, d)),
            })
            .collect()
    };
    windowed(layout, parse_window, f, done)
}

/// Parses a base+children archive: member 0 is the base, every other
/// member is split BTF over it (in parallel). `opts.base` is not used;
/// the rest of `opts` applies to every member.
pub fn parse_split_members(data: &[u8], layout: &Layout, opts: &ParseOptions) -> Result<(Arc<Btf>, Vec<Btf>)> {
    let Some(first) = layout.members.first() else {
        return Err(Error::EmptyArchive);
    };
    let base = Arc::new(parse_member(data, first, &opts.clone().with_base(None))?);
    let child_opts = opts.clone().with_base(Some(base.clone()));
    let children = layout.members[1..].par_iter().map(|m| parse_member(data, m, &child_opts)).collect::<Result<_>>()?;
    Ok((base, children))
}

/// Parses the members as standalone BTFs or, when that fails, as a
/// base+children archive (see [`parse_split_members`]): what `btfkit archive
/// list` shows. Returns the members in order, member 0 first, and whether
/// they were read as base+children. When neither reading works, the error
/// is the standalone one.
pub fn parse_members_or_split(data: &[u8], layout: &Layout, opts: &ParseOptions) -> Result<(Vec<Btf>, bool)> {
    match parse_members(data, layout, opts) {
        Ok(m) => Ok((m, false)),
        Err(e) => match parse_split_members(data, layout, opts) {
            Ok((base, children)) => {
                // The children hold the base: member 0 is a copy.
                Ok((std::iter::once((*base).clone()).chain(children).collect(), true))
            }
            Err(_) => Err(e),
        },
    }
}

/// Concatenates raw BTF blobs into an archive (no padding).
pub fn build(blobs: &[Vec<u8>]) -> Vec<u8> {
    blobs.concat()
}

/// A base+children archive: `base` written as member 0, then every child
/// (split BTF over `base`) in order (what [`parse_split_members`] reads).
pub fn build_split(base: &Btf, children: &[Btf]) -> Vec<u8> {
    let mut blobs = vec![crate::write::to_bytes(base)];
    blobs.extend(children.iter().map(crate::write::to_bytes));
    build(&blobs)
}

/// The `archive list` report.
pub struct Report {
    /// One row per member, in file order.
    pub rows: Vec<Row>,
    /// Zero bytes after the last member.
    pub pad_after: usize,
}

/// One member's row.
pub struct Row {
    /// Position of the member, from 0.
    pub index: usize,
    /// Byte offset of the member's header within the archive.
    pub offset: usize,
    /// Bytes the member spans (header and sections).
    pub size: usize,
    /// Zero bytes skipped before this member.
    pub pad_before: usize,
    /// Number of the member's own types.
    pub types: usize,
    /// Size of the member's string section in bytes.
    pub str_bytes: usize,
    /// Up to three `kind name` labels that identify the member (functions and variables first).
    pub first_names: Vec<String>,
}

/// Names that tell members apart: functions and variables first (they are
/// the object's own), then other named types.
fn first_names(b: &Btf, n: usize) -> Vec<String> {
    let named = |t: &&crate::Type| !t.name_off.is_empty();
    let own = b.types().iter().filter(named).filter(|t| matches!(t.kind(), crate::Kind::Func | crate::Kind::Var));
    let rest = b.types().iter().filter(named).filter(|t| !matches!(t.kind(), crate::Kind::Func | crate::Kind::Var));
    own.chain(rest).take(n).map(|t| format!("{} {}", t.kind().name().to_lowercase(), b.name(t.name_off))).collect()
}

impl Report {
    /// Builds the report from the walked layout and the parsed members (same order).
    pub fn new(layout: &Layout, members: &[Btf]) -> Report {
        let rows = layout
            .members
            .iter()
            .zip(members)
            .map(|(m, b)| Row {
                index: m.index,
                offset: m.offset,
                size: m.size,
                pad_before: m.pad_before,
                types: b.types().len(),
                str_bytes: b.strings().len(),
                first_names: first_names(b, 3),
            })
            .collect();
        Report { rows, pad_after: layout.pad_after }
    }

    /// The report as an aligned text table followed by a totals line.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>6} {:>10} {:>9} {:>4} {:>7} {:>9}  first types",
            "member", "offset", "size", "pad", "types", "strings"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:>6} {:>10} {:>9} {:>4} {:>7} {:>9}  {}",
                r.index,
                r.offset,
                r.size,
                r.pad_before,
                r.types,
                r.str_bytes,
                r.first_names.join(", ")
            );
        }
        let types: usize = self.rows.iter().map(|r| r.types).sum();
        let bytes: usize = self.rows.iter().map(|r| r.size).sum();
        let pad: usize = self.rows.iter().map(|r| r.pad_before).sum::<usize>() + self.pad_after;
        let _ = writeln!(s, "total: {} members, {bytes} bytes, {types} types, {pad} padding bytes", self.rows.len());
        s
    }

    /// The report as one JSON document (compact): the member rows, totals and the trailing padding.
    pub fn to_json(&self) -> String {
        self.json_value().to_string()
    }

    fn json_value(&self) -> serde_json::Value {
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "index": r.index, "offset": r.offset, "size": r.size, "pad_before": r.pad_before,
                    "types": r.types, "str_bytes": r.str_bytes, "first_types": r.first_names,
                })
            })
            .collect();
        serde_json::json!({
            "members": rows,
            "total_members": self.rows.len(),
            "total_types": self.rows.iter().map(|r| r.types).sum::<usize>(),
            "total_bytes": self.rows.iter().map(|r| r.size).sum::<usize>(),
            "pad_after": self.pad_after,
        })
    }
}
