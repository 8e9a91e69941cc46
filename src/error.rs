//! The one error type of btfkit.
//!
//! Every variant that comes from bad input names where the problem is: a byte
//! offset into the BTF blob, a type id, or both. Errors about files are
//! wrapped in [`Error::File`] by the loader so the message also names the path.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading, validating, transforming or writing BTF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("offset {offset}: data too short for the BTF header ({len} bytes, need 24)")]
    TruncatedHeader { offset: usize, len: usize },
    #[error("offset {offset}: bad BTF magic {magic:#06x} (expected 0xeb9f)")]
    BadMagic { offset: usize, magic: u16 },
    #[error("offset {offset}: unsupported BTF version {version}")]
    BadVersion { offset: usize, version: u8 },
    #[error("offset {offset}: unsupported BTF flags {flags:#x}")]
    BadFlags { offset: usize, flags: u8 },
    #[error("offset {offset}: bad BTF header length {hdr_len}: {why}")]
    BadHeaderLen { offset: usize, hdr_len: u32, why: &'static str },
    #[error("offset {offset}: bad BTF section layout: {why}")]
    BadSections { offset: usize, why: String },
    #[error("offset {offset}: bad BTF string section: {why}")]
    BadStrings { offset: usize, why: &'static str },
    #[error("offset {offset}: type [{id}] is truncated: needs {need} bytes, {have} left in the type section")]
    TruncatedType { offset: usize, id: u32, need: usize, have: usize },
    #[error("offset {offset}: type [{id}] has unknown kind {kind}")]
    UnknownKind { offset: usize, id: u32, kind: u32 },
    #[error("offset {offset}: type [{id}] ({kind}): {why}")]
    BadType { offset: usize, id: u32, kind: &'static str, why: String },
    #[error("type [{id}]: invalid {what} string offset {str_off}")]
    BadStringOffset { id: u32, what: &'static str, str_off: u32 },
    #[error("type [{id}]: referenced type id {target} out of range (last valid id is {max})")]
    BadTypeId { id: u32, target: u32, max: u32 },
    #[error("type [{id}]: reference loop through {path} that does not go through a pointer")]
    RefLoop { id: u32, path: String },
    #[error("type [{id}]: reference loop through {path} that does not go through a struct or union; dedup cannot resolve it (libbpf's cannot either)")]
    DedupLoop { id: u32, path: String },
    #[error("too many types: {0}")]
    TooManyTypes(usize),
    #[error("string table too large ({0} bytes)")]
    StringsTooLarge(usize),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    File { path: PathBuf, #[source] source: Box<Error> },
    #[error("{path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error("{path}: ELF: {why}")]
    Elf { path: PathBuf, why: String },
    #[error("{path}: ELF file has no .BTF section")]
    NoBtfSection { path: PathBuf },
    #[error("{path}: {why}")]
    Decompress { path: PathBuf, why: String },
}

impl Error {
    /// Wrap an error with the file it came from (unless it already names one).
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        match self {
            e @ (Error::File { .. }
            | Error::Io { .. }
            | Error::Elf { .. }
            | Error::NoBtfSection { .. }
            | Error::Decompress { .. }) => e,
            e => Error::File { path: path.into(), source: Box::new(e) },
        }
    }
}
