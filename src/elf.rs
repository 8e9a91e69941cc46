//! ELF input: finding the `.BTF` section of relocatable objects (`.o`,
//! `.ko`), executables (vmlinux) and shared objects, with the `object` crate.

use std::path::Path;

use object::{Object, ObjectSection};

use crate::error::{Error, Result};

/// ELF magic.
pub const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// Whether `data` starts like an ELF file.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(ELF_MAGIC)
}

/// Where the `.BTF` section's bytes are in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionRange {
    /// Byte offset of the section's data in the file.
    pub offset: usize,
    /// Size of the section's data in bytes.
    pub size: usize,
}

/// Finds the `.BTF` section of an ELF file; `path` is for messages.
pub fn find_btf_section(data: &[u8], path: &Path) -> Result<SectionRange> {
    find_section(data, path, ".BTF")?.ok_or_else(|| Error::NoBtfSection { path: path.to_owned() })
}

/// Finds a named section's file range (None when absent or without file data).
pub fn find_section(data: &[u8], path: &Path, name: &str) -> Result<Option<SectionRange>> {
    let file = object::File::parse(data).map_err(|e| Error::Elf { path: path.to_owned(), why: e.to_string() })?;
    let Some(sec) = file.section_by_name(name) else { return Ok(None) };
    let Some((offset, size)) = sec.file_range() else { return Ok(None) };
    let (offset, size) = (offset as usize, size as usize);
    if offset.checked_add(size).is_none_or(|end| end > data.len()) {
        return Err(Error::Elf {
            path: path.to_owned(),
            why: format!(
                "section {name} at offset {offset} size {size} runs past the end of the file ({} bytes)",
                data.len()
            ),
        });
    }
    Ok(Some(SectionRange { offset, size }))
}

/// How [`replace_section`] placed the new contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// Written over the old contents; the unused tail was zeroed.
    InPlace {
        /// Bytes of the old section left unused (and zeroed) after the new contents.
        freed: usize,
    },
    /// Appended at the end of the file (the old bytes were zeroed).
    Appended {
        /// File offset where the new contents start.
        offset: usize,
    },
}

/// Replaces the contents of the non-allocated section `name` with `new`,
/// leaving every other section's bytes and offsets, the symbols and the
/// program headers as they were. The section header's `sh_size` (and
/// `sh_offset` when the new data must go to the end) are updated.
///
/// Allocated sections are refused: in an executable such as vmlinux an
/// allocated `.BTF` sits inside a loaded segment and the kernel finds it
/// through the link-time symbols `__start_BTF`/`__stop_BTF`, whose values
/// are already resolved into the code; changing its size needs a relink
/// (the kernel's link-vmlinux.sh step), not a section edit.
pub fn replace_section(data: &[u8], path: &Path, name: &str, new: &[u8]) -> Result<(Vec<u8>, Placement)> {
    let f = find_replaceable(data, path, name, false)?;
    replace_found(data, &f, new, path)
}

/// Writes `new` over the contents of section `name`, whose size it must
/// have (a BTF is brought to that size by [`crate::write::to_bytes_padded`]).
/// Works for allocated sections too — a linked vmlinux keeps its layout and
/// its `__start_BTF`/`__stop_BTF` — at the price of not reclaiming space.
pub fn replace_section_same_size(data: &[u8], path: &Path, name: &str, new: &[u8]) -> Result<Vec<u8>> {
    let f = find_replaceable(data, path, name, true)?;
    if new.len() as u64 != f.size {
        return Err(Error::Elf {
            path: path.to_owned(),
            why: format!("the new {name} ({} bytes) does not have the section's size ({} bytes)", new.len(), f.size),
        });
    }
    let (out, _) = replace_found(data, &f, new, path)?;
    Ok(out)
}

/// Where a replaceable section's header and data are.
struct Found {
    index: usize,
    offset: u64,
    size: u64,
    alloc: bool,
    align: u64,
    shoff: u64,
    shentsize: u64,
    is64: bool,
    little: bool,
}

/// Checks that `name` exists and is not allocated (see [`replace_section`]),
/// without changing anything.
pub fn check_replaceable(data: &[u8], path: &Path, name: &str, allow_alloc: bool) -> Result<()> {
    find_replaceable(data, path, name, allow_alloc).map(|_| ())
}

fn find_replaceable(data: &[u8], path: &Path, name: &str, allow_alloc: bool) -> Result<Found> {
    use object::read::elf::{FileHeader, SectionHeader};
    let elf_err = |why: String| Error::Elf { path: path.to_owned(), why };
    let kind = object::FileKind::parse(data).map_err(|e| elf_err(e.to_string()))?;
    fn find<H: FileHeader>(data: &[u8], name: &str) -> std::result::Result<(Option<Found>, H::Endian), String> {
        let h = H::parse(data).map_err(|e| e.to_string())?;
        let e = h.endian().map_err(|e| e.to_string())?;
        let secs = h.sections(e, data).map_err(|e| e.to_string())?;
        for (i, s) in secs.iter().enumerate() {
            if secs.section_name(e, s).map_err(|e| e.to_string())? == name.as_bytes() {
                if s.sh_type(e) != object::elf::SHT_PROGBITS {
                    return Err(format!(
                        "{name} is not a PROGBITS section (type {}): refusing to write over it",
                        s.sh_type(e)
                    ));
                }
                let shstrndx = h.shstrndx(e, data).map_err(|e| e.to_string())?;
                if i == shstrndx as usize {
                    return Err(format!("{name} is the section name table: refusing to write over it"));
                }
                if let Some(j) =
                    secs.iter().position(|o| o.sh_link(e) as usize == i && o.sh_type(e) != object::elf::SHT_NULL)
                {
                    return Err(format!("section [{j}] links to {name} (sh_link): refusing to write over it"));
                }
                let (off, size): (u64, u64) = (s.sh_offset(e).into(), s.sh_size(e).into());
                // Writing over the section must not touch anything else.
                let end = off.saturating_add(size);
                let overlaps = |a: u64, b: u64| size > 0 && b > a && off < b && a < end;
                let ehsize = std::mem::size_of::<H>() as u64;
                let phoff: u64 = h.e_phoff(e).into();
                let ph_end = phoff.saturating_add(h.e_phnum(e) as u64 * h.e_phentsize(e) as u64);
                let shoff: u64 = h.e_shoff(e).into();
                let sh_end = shoff.saturating_add(secs.len() as u64 * h.e_shentsize(e) as u64);
                let mut clash = None;
                if overlaps(0, ehsize) {
                    clash = Some("the ELF header".to_string());
                } else if overlaps(phoff, ph_end) {
                    clash = Some("the program headers".to_string());
                } else if overlaps(shoff, sh_end) {
                    clash = Some("the section headers".to_string());
                } else {
                    for (j, o) in secs.iter().enumerate() {
                        if j == i || o.sh_type(e) == object::elf::SHT_NOBITS {
                            continue;
                        }
                        let (a, n): (u64, u64) = (o.sh_offset(e).into(), o.sh_size(e).into());
                        if overlaps(a, a.saturating_add(n)) {
                            let oname = secs.section_name(e, o).map(|b| String::from_utf8_lossy(b).into_owned());
                            clash = Some(format!("section [{j}] {}", oname.unwrap_or_default()));
                            break;
                        }
                    }
                }
                if let Some(what) = clash {
                    return Err(format!(
                        "{name} (file offset {off}, size {size}) overlaps {what}: refusing to write over it"
                    ));
                }
                let f = Found {
                    index: i,
                    offset: s.sh_offset(e).into(),
                    size: s.sh_size(e).into(),
                    alloc: s.sh_flags(e).contains(object::elf::SHF_ALLOC),
                    align: s.sh_addralign(e).into(),
                    shoff: h.e_shoff(e).into(),
                    shentsize: h.e_shentsize(e) as u64,
                    is64: false,
                    little: false,
                };
                return Ok((Some(f), e));
            }
        }
        Ok((None, e))
    }
    let (mut found, is64, little) = match kind {
        object::FileKind::Elf32 => {
            let (f, e) = find::<object::elf::FileHeader32<object::Endianness>>(data, name).map_err(elf_err)?;
            (f, false, e == object::Endianness::Little)
        }
        object::FileKind::Elf64 => {
            let (f, e) = find::<object::elf::FileHeader64<object::Endianness>>(data, name).map_err(elf_err)?;
            (f, true, e == object::Endianness::Little)
        }
        _ => return Err(elf_err("not an ELF file".into())),
    };
    let Some(f) = found.as_mut() else {
        return Err(Error::Elf { path: path.to_owned(), why: format!("no {name} section") });
    };
    f.is64 = is64;
    f.little = little;
    if f.alloc && !allow_alloc {
        return Err(elf_err(format!(
            "{name} is an allocated section (SHF_ALLOC): in an executable it lies inside a loaded segment and is \
             located through link-time symbols, so its size cannot change without relinking; use --keep-size to \
             write it in place padded to its old size, or write the BTF with --detached and link it in (as the \
             kernel's link-vmlinux.sh does with .btf.vmlinux.bin.o)"
        )));
    }
    if (f.offset as usize).checked_add(f.size as usize).is_none_or(|end| end > data.len()) {
        return Err(elf_err(format!("{name} runs past the end of the file")));
    }
    found.ok_or_else(|| elf_err(format!("no {name} section")))
}

fn replace_found(data: &[u8], f: &Found, new: &[u8], path: &Path) -> Result<(Vec<u8>, Placement)> {
    let elf_err = |why: String| Error::Elf { path: path.to_owned(), why };
    let (is64, little) = (f.is64, f.little);
    let (old_off, old_size) = (f.offset as usize, f.size as usize);
    let mut out = data.to_vec();
    let placement = if new.len() <= old_size {
        out[old_off..old_off + new.len()].copy_from_slice(new);
        out[old_off + new.len()..old_off + old_size].fill(0);
        Placement::InPlace { freed: old_size - new.len() }
    } else {
        out[old_off..old_off + old_size].fill(0);
        let align = f.align.clamp(1, 4096) as usize;
        let at = out.len().div_ceil(align) * align;
        out.resize(at, 0);
        out.extend_from_slice(new);
        Placement::Appended { offset: at }
    };
    let new_off = match placement {
        Placement::InPlace { .. } => old_off,
        Placement::Appended { offset } => offset,
    };
    let hdr = f.shoff as usize + f.index * f.shentsize as usize;
    let put = |out: &mut Vec<u8>, at: usize, v: u64, wide: bool| -> Result<()> {
        let bytes: Vec<u8> = match (wide, little) {
            (true, true) => v.to_le_bytes().to_vec(),
            (true, false) => v.to_be_bytes().to_vec(),
            (false, true) => {
                u32::try_from(v).map_err(|_| elf_err("value too large for ELF32".into()))?.to_le_bytes().to_vec()
            }
            (false, false) => {
                u32::try_from(v).map_err(|_| elf_err("value too large for ELF32".into()))?.to_be_bytes().to_vec()
            }
        };
        let dst = out.get_mut(at..at + bytes.len()).ok_or_else(|| elf_err("section header out of range".into()))?;
        dst.copy_from_slice(&bytes);
        Ok(())
    };
    // sh_offset / sh_size positions in Elf64_Shdr (24, 32) and Elf32_Shdr (16, 20).
    let (off_at, size_at) = if is64 { (hdr + 24, hdr + 32) } else { (hdr + 16, hdr + 20) };
    put(&mut out, off_at, new_off as u64, is64)?;
    put(&mut out, size_at, new.len() as u64, is64)?;
    Ok((out, placement))
}
