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
    pub offset: usize,
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
            why: format!("section {name} at offset {offset} size {size} runs past the end of the file ({} bytes)", data.len()),
        });
    }
    Ok(Some(SectionRange { offset, size }))
}
