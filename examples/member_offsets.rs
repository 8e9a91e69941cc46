//! What a BPF loader does before relocating a field access: find a struct
//! in the kernel's BTF by name and kind, and read where its members lie.
//!
//! Usage: member_offsets [--btf FILE] STRUCT [MEMBER[.MEMBER...]]...
//!
//! Prints the struct's size and alignment, then one line per member (all
//! named members, anonymous struct/union members looked into, when none are
//! given): `member<TAB>byte offset<TAB>bit offset<TAB>bitfield bits<TAB>size<TAB>type`.
//!
//! `cargo run --release --example member_offsets -- task_struct pid tgid se.vruntime`

use std::path::PathBuf;
use std::process::ExitCode;

use btfkit::btf::{Kind, Layout, TypeKind};
use btfkit::{Btf, TypeId};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = PathBuf::from("/sys/kernel/btf/vmlinux");
    if args.first().is_some_and(|a| a == "--btf") && args.len() > 1 {
        file = PathBuf::from(args.remove(1));
        args.remove(0);
    }
    let Some((name, members)) = args.split_first() else {
        eprintln!("usage: member_offsets [--btf FILE] STRUCT [MEMBER[.MEMBER...]]...");
        return ExitCode::from(2);
    };
    match run(&file, name, members) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("member_offsets: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(file: &std::path::Path, name: &str, members: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    // Raw BTF, an ELF's .BTF, a compressed module: the loader finds it.
    let btf = btfkit::input::load(file, None)?;
    let s = describe(&btf, name, members).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("{name}\tsize {}\talign {}", s.size, s.align);
    for m in &s.members {
        println!("{}\t{}\t{}\t{}\t{}\t{}", m.path, m.byte_offset, m.bit_offset, m.bitfield_size, m.size, m.ty);
    }
    Ok(())
}

/// A struct's layout as a loader sees it.
pub struct StructLayout {
    /// `sizeof`.
    pub size: u32,
    /// `_Alignof` (libbpf's `btf__align_of`).
    pub align: u32,
    /// The members asked for, in order.
    pub members: Vec<MemberRow>,
}

/// Where one member lies.
pub struct MemberRow {
    /// The member path (`se.vruntime`).
    pub path: String,
    /// `offsetof` (for a bitfield, the byte holding its first bit).
    pub byte_offset: u32,
    /// The offset in bits.
    pub bit_offset: u32,
    /// Bitfield width, 0 when not a bitfield.
    pub bitfield_size: u32,
    /// `sizeof` the member's type.
    pub size: u32,
    /// The member's type, C-like.
    pub ty: String,
}

/// The layout of the struct (or union) `name` and of `members` (every named
/// member, anonymous members looked into, when empty).
pub fn describe(btf: &Btf, name: &str, members: &[String]) -> Result<StructLayout, String> {
    // One index for all lookups (a loader looks up many names).
    let index = btf.index();
    let id = index
        .find_kind(name, Kind::Struct)
        .or_else(|| index.find_kind(name, Kind::Union))
        .ok_or_else(|| format!("no struct or union named '{name}'"))?;
    // One layout for all sizes and alignments (it remembers them).
    let mut layout = Layout::new(btf);
    let paths: Vec<String> = if members.is_empty() { all_member_names(btf, id) } else { members.to_vec() };
    let mut rows = Vec::new();
    for path in paths {
        let loc = btf.member_offset(id, &path).ok_or_else(|| format!("{name} has no member '{path}'"))?;
        rows.push(MemberRow {
            byte_offset: loc.byte_offset(),
            bit_offset: loc.bit_offset,
            bitfield_size: loc.bitfield_size,
            size: layout.size_of(loc.ty).unwrap_or(0),
            ty: type_name(btf, loc.ty),
            path,
        });
    }
    Ok(StructLayout { size: layout.size_of(id).unwrap_or(0), align: layout.align_of(id).unwrap_or(0), members: rows })
}

/// The names of every named member, looking into anonymous members (each
/// name is what C code would write after `.`).
fn all_member_names(btf: &Btf, id: TypeId) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![(id, 0usize)];
    while let Some((sid, next)) = stack.pop() {
        let Some(c) = btf.type_by_id(sid).and_then(|t| t.as_composite()) else { continue };
        let Some(m) = c.members.get(next) else { continue };
        stack.push((sid, next + 1));
        if !m.name_off.is_empty() {
            names.push(btf.name(m.name_off).into_owned());
        } else if let Some(inner) = btf.resolve(m.ty) {
            stack.push((inner, 0));
        }
    }
    names
}

/// A short C-like name of a type, for display (at most a few levels deep).
fn type_name(btf: &Btf, id: TypeId) -> String {
    type_name_depth(btf, id, 8)
}

fn type_name_depth(btf: &Btf, id: TypeId, depth: u32) -> String {
    if depth == 0 {
        return "...".into();
    }
    let type_name = |to: TypeId| type_name_depth(btf, to, depth - 1);
    let Some(t) = btf.type_by_id(id) else { return "void".into() };
    let name = btf.name(t.name_off);
    match &t.kind {
        TypeKind::Struct(_) => format!("struct {name}"),
        TypeKind::Union(_) => format!("union {name}"),
        TypeKind::Enum(_) | TypeKind::Enum64(_) => format!("enum {name}"),
        TypeKind::Ptr(to) => format!("{} *", type_name(*to)),
        TypeKind::Const(to) => format!("const {}", type_name(*to)),
        TypeKind::Volatile(to) => format!("volatile {}", type_name(*to)),
        TypeKind::Array(a) => format!("{}[{}]", type_name(a.elem), a.nelems),
        _ if name.is_empty() => t.kind().name().to_ascii_lowercase(),
        _ => name.into_owned(),
    }
}
