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
    /// The blob is shorter than the fixed 24-byte `struct btf_header`.
    #[error("offset {offset}: data too short for the BTF header ({len} bytes, need 24)")]
    TruncatedHeader {
        /// Byte offset of the header in the input.
        offset: usize,
        /// Number of bytes actually available.
        len: usize,
    },
    /// The header's magic is not `0xeb9f` (`BTF_MAGIC`) in either byte order.
    #[error("offset {offset}: bad BTF magic {magic:#06x} (expected 0xeb9f)")]
    BadMagic {
        /// Byte offset of the header (where the magic is).
        offset: usize,
        /// The 16-bit value found, read little-endian.
        magic: u16,
    },
    /// The header's version is not 1 (`BTF_VERSION`).
    #[error("offset {offset}: unsupported BTF version {version}")]
    BadVersion {
        /// Byte offset of the version field.
        offset: usize,
        /// The version byte found.
        version: u8,
    },
    /// The header's flags byte has bits this crate does not understand.
    #[error("offset {offset}: unsupported BTF flags {flags:#x}")]
    BadFlags {
        /// Byte offset of the flags field.
        offset: usize,
        /// The flags byte found.
        flags: u8,
    },
    /// `hdr_len` is too small, misaligned, past the end of the data, or
    /// covers non-zero bytes this crate does not know.
    #[error("offset {offset}: bad BTF header length {hdr_len}: {why}")]
    BadHeaderLen {
        /// Byte offset of the `hdr_len` field.
        offset: usize,
        /// The header length found, in bytes.
        hdr_len: u32,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// The type, string or layout sections (offsets and lengths relative to
    /// the end of the header) overlap, are misaligned, or run past the data.
    #[error("offset {offset}: bad BTF section layout: {why}")]
    BadSections {
        /// Byte offset of the section fields in the header.
        offset: usize,
        /// Which rule the sections break.
        why: String,
    },
    /// The string section is malformed (e.g. does not start with an empty
    /// string or does not end with a NUL byte).
    #[error("offset {offset}: bad BTF string section: {why}")]
    BadStrings {
        /// Byte offset in the input where the problem is.
        offset: usize,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// A type's fixed part or its trailing records (members, params, ...)
    /// run past the end of the type section.
    #[error("offset {offset}: type [{id}] is truncated: needs {need} bytes, {have} left in the type section")]
    TruncatedType {
        /// Byte offset of the type in the input.
        offset: usize,
        /// The type's id.
        id: u32,
        /// Bytes the type needs, from its start.
        need: usize,
        /// Bytes left in the type section from its start.
        have: usize,
    },
    /// A type's kind number (bits 24..29 of `info`) is not a known `BTF_KIND_*`.
    #[error("offset {offset}: type [{id}] has unknown kind {kind}")]
    UnknownKind {
        /// Byte offset of the type in the input.
        offset: usize,
        /// The type's id.
        id: u32,
        /// The kind number found.
        kind: u32,
    },
    /// A type breaks a rule of its kind (bad size, vlen, kind_flag,
    /// encoding, bitfield, name, ...).
    #[error("offset {offset}: type [{id}] ({kind}): {why}")]
    BadType {
        /// Byte offset of the type in the input (0 if the type was built in memory).
        offset: usize,
        /// The type's id.
        id: u32,
        /// The kind's name, e.g. `"STRUCT"`.
        kind: &'static str,
        /// Which rule it breaks.
        why: String,
    },
    /// A name offset of a type (or of one of its members, values, params)
    /// does not point at the start of a string in the string section.
    #[error("type [{id}]: invalid {what} string offset {str_off}")]
    BadStringOffset {
        /// The type's id.
        id: u32,
        /// Which kind of name is bad, e.g. `"string"`.
        what: &'static str,
        /// The offending offset into the string section.
        str_off: u32,
    },
    /// A type refers to a type id that does not exist.
    #[error("type [{id}]: referenced type id {target} out of range (last valid id is {max})")]
    BadTypeId {
        /// The referring type's id.
        id: u32,
        /// The id it refers to.
        target: u32,
        /// The largest valid id (including the base BTF's ids for split BTF).
        max: u32,
    },
    /// A chain of type references comes back to its start without passing
    /// a pointer, so the type would have infinite size.
    #[error("type [{id}]: reference loop through {path} that does not go through a pointer")]
    RefLoop {
        /// A type id on the loop.
        id: u32,
        /// The loop's ids, for the message.
        path: String,
    },
    /// Dedup found a reference loop not broken by a struct or union (e.g.
    /// through a pointer-to-function-prototype chain), which it cannot
    /// canonicalize.
    #[error(
        "type [{id}]: reference loop through {path} that does not go through a struct or union; dedup cannot resolve it (libbpf's cannot either)"
    )]
    DedupLoop {
        /// A type id on the loop.
        id: u32,
        /// The loop's ids, for the message.
        path: String,
    },
    /// A type id (given: the last one needed) would exceed the largest id BTF allows.
    #[error("too many types: {0}")]
    TooManyTypes(usize),
    /// The string section would reach the given size or offset (in bytes),
    /// past the largest string offset BTF allows.
    #[error("string table too large ({0} bytes)")]
    StringsTooLarge(usize),
    /// Any other invalid argument or input, with a complete message.
    #[error("{0}")]
    Invalid(String),
    /// Another error, tagged with the file it came from.
    #[error("{path}: {source}")]
    File {
        /// The input file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// An ELF file is malformed, or could not be rewritten.
    #[error("{path}: ELF: {why}")]
    Elf {
        /// The ELF file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// An ELF file has no `.BTF` section to read.
    #[error("{path}: ELF file has no .BTF section")]
    NoBtfSection {
        /// The ELF file.
        path: PathBuf,
    },
    /// A compressed input (or compressed ELF section) could not be decompressed.
    #[error("{path}: {why}")]
    Decompress {
        /// The input file.
        path: PathBuf,
        /// The decompressor's message.
        why: String,
    },
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
