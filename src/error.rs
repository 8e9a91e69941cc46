//! The one error type of btfkit.
//!
//! Every variant that comes from bad input names where the problem is: a byte
//! offset into the BTF blob, a type id, or both. Errors about files are
//! wrapped in [`Error::File`] by the loader so the message also names the path.
//!
//! The variants are grouped by meaning: the reader's (header, sections,
//! strings, types, references), the builder's and editor's ([`Error::Build`]
//! names the `add_*` method and the type id), archives, merge and dedup, the
//! C dump's lookups and bounds, writing ([`Error::Write`] keeps the
//! `io::Error` as its source, so a closed pipe stays recognizable), kernel
//! images and modules (naming the section or symbol), and files. Callers
//! match on the variant and its fields; the messages are for people.
//! Command-line misuse is not a library error: the CLI has its own.

use std::path::PathBuf;

use crate::btf::{StrOff, TypeId};

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
        id: TypeId,
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
        id: TypeId,
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
        id: TypeId,
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
        id: TypeId,
        /// Which kind of name is bad, e.g. `"string"`.
        what: &'static str,
        /// The offending offset into the string section.
        str_off: StrOff,
    },
    /// A type refers to a type id that does not exist.
    #[error("type [{id}]: referenced type id {target} out of range (last valid id is {max})")]
    BadTypeId {
        /// The referring type's id.
        id: TypeId,
        /// The id it refers to.
        target: TypeId,
        /// The largest valid id (including the base BTF's ids for split BTF).
        max: u32,
    },
    /// A chain of type references comes back to its start without passing
    /// a pointer, so the type would have infinite size.
    #[error("type [{id}]: reference loop through {path} that does not go through a pointer")]
    RefLoop {
        /// A type id on the loop.
        id: TypeId,
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
        id: TypeId,
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

    // ---- Building and editing a `Btf` in memory ----
    /// A builder method (`Btf::add_*`) was given something BTF cannot encode,
    /// or was called when the last type is not of the kind it extends.
    #[error("{op}: type [{id}]: {why}")]
    Build {
        /// The method, e.g. `"add_field"`.
        op: &'static str,
        /// The type being built or extended: the id the new type would get,
        /// or the last type's id for the methods that extend it (`add_field`,
        /// `add_param`, ...), or the referenced id that is too large.
        id: TypeId,
        /// What is wrong.
        why: String,
    },
    /// A string to intern (`Btf::add_str`) contains a NUL byte.
    #[error("string contains a NUL byte (at byte {at})")]
    NulInString {
        /// Index of the first NUL byte in the string.
        at: usize,
    },
    /// `Btf::remove_types` was given a type this BTF does not own (void, a
    /// base type, or past the last type).
    #[error("cannot remove type [{id}]: not an own type of this BTF")]
    NotOwnType {
        /// The type id given.
        id: TypeId,
    },
    /// `Btf::remove_types` would leave a kept type referring to a removed
    /// type that has no replacement.
    #[error("type [{id}] refers to type [{target}], which is removed without a replacement")]
    RemovedTarget {
        /// The kept type.
        id: TypeId,
        /// The removed type it refers to.
        target: TypeId,
    },

    // ---- Archives, merging and dedup ----
    /// An archive member's byte order differs from member 0's.
    #[error("offset {offset}: archive member {member} is {endian:?}-endian but member 0 is {first:?}-endian")]
    MixedEndian {
        /// Byte offset of the member in the input.
        offset: usize,
        /// Index of the member.
        member: usize,
        /// The member's byte order.
        endian: crate::btf::Endianness,
        /// Member 0's byte order.
        first: crate::btf::Endianness,
    },
    /// Split BTF whose byte order differs from its base's.
    #[error("offset {offset}: split BTF is {endian:?}-endian but its base is {base:?}-endian")]
    BaseEndian {
        /// Byte offset of the split BTF's header in the input.
        offset: usize,
        /// The split BTF's byte order.
        endian: crate::btf::Endianness,
        /// The base's byte order.
        base: crate::btf::Endianness,
    },
    /// An archive with no member where one is needed (a base+children archive needs its base).
    #[error("empty archive")]
    EmptyArchive,
    /// An archive member index past the last member.
    #[error("no member {index} (the archive has {count})")]
    NoMember {
        /// The index asked for.
        index: usize,
        /// How many members the archive has.
        count: usize,
    },
    /// An error in one archive member, tagged with its index and place.
    #[error("archive member {index} (file offset {offset}): {source}")]
    Member {
        /// Index of the member (0 is the first).
        index: usize,
        /// Byte offset of the member in the file.
        offset: usize,
        /// The member's error.
        #[source]
        source: Box<Error>,
    },
    /// A split BTF was appended (`btf__add_btf`) to a BTF over another base.
    #[error("append: a split BTF can only be appended to a BTF with the same base")]
    BaseMismatch,
    /// A merge was given no BTF at all.
    #[error("no BTF to merge (empty input)")]
    NothingToMerge,
    /// Dedup met a type graph its input checks should have refused (an
    /// internal consistency check; input that passes [`crate::Btf::validate`]
    /// does not get here).
    #[error("dedup: type [{id}]: {why}")]
    Dedup {
        /// The type where the walk stopped.
        id: TypeId,
        /// What is inconsistent.
        why: String,
    },

    // ---- Lookups and the C dump's bounds ----
    /// A root type of the C dump (`dump::c::Options` roots, `dump::c::resolve_root`)
    /// that is void or past the last type.
    #[error("root type id {id} out of range (1..{count})")]
    BadRoot {
        /// The id given.
        id: TypeId,
        /// The number of type ids, void included (valid ids are below it).
        count: u32,
    },
    /// No type has the name asked for.
    #[error("no type named '{name}'")]
    NoTypeNamed {
        /// The name looked up.
        name: String,
    },
    /// The C dump cannot order a type cycle (libbpf's `btf_dump` message).
    #[error("unsatisfiable type cycle, id:[{id}]")]
    TypeCycle {
        /// A type on the cycle.
        id: TypeId,
    },
    /// A type declaration's chain of modifiers, arrays and prototypes loops.
    #[error("type [{id}]: declaration chain loops")]
    DeclarationLoop {
        /// The type where the loop was noticed.
        id: TypeId,
    },
    /// A walk over the type graph got deeper than its bound (a loop the
    /// validation allows, or a graph too deep to print).
    #[error("type [{id}]: {walk} deeper than {max} frames (type graph loops)")]
    WalkTooDeep {
        /// The type being walked.
        id: TypeId,
        /// Which walk, e.g. `"C dump walk"`.
        walk: &'static str,
        /// The bound, in frames.
        max: usize,
    },
    /// The C dump needed more steps than its work bound.
    #[error("type [{id}]: C dump needs more than {limit} steps (type graph blows up)")]
    WorkLimit {
        /// The type being dumped.
        id: TypeId,
        /// The bound, in steps.
        limit: u64,
    },
    /// The C dump's output grew past its bound.
    #[error("type [{id}]: C output exceeds {limit} bytes ({why})")]
    OutputLimit {
        /// The type being dumped.
        id: TypeId,
        /// The bound, in bytes.
        limit: usize,
        /// Where it happened.
        why: String,
    },

    // ---- Writing ----
    /// `write::to_bytes_padded`: the BTF needs more bytes than the target size.
    #[error("the BTF ({len} bytes) does not fit in {target} bytes")]
    DoesNotFit {
        /// The BTF's written size.
        len: usize,
        /// The size asked for.
        target: usize,
    },
    /// `write::to_bytes_padded`: the padding would make the header length overflow.
    #[error("padding of {padding} bytes too large for the header")]
    PaddingTooLarge {
        /// The padding needed, in bytes.
        padding: usize,
    },
    /// Writing output (to a writer, not a named file) failed. The
    /// operating-system error is the source: a closed pipe is
    /// `io::ErrorKind::BrokenPipe`.
    #[error("write error: {0}")]
    Write(#[source] std::io::Error),

    // ---- Kernel images and modules (`kernel`) ----
    /// The bytes are not an ELF file (or not one the `object` crate can read).
    #[error("not an ELF file ({why})")]
    NotElf {
        /// The reader's message, or why ELF is needed.
        why: String,
    },
    /// An ELF file's section list is malformed (from bytes whose path the
    /// caller adds with [`Error::in_file`]).
    #[error("ELF: {why}")]
    ElfData {
        /// What is wrong.
        why: String,
    },
    /// An ELF section's contents cannot be read.
    #[error("{section}: unreadable section data: {why}")]
    SectionData {
        /// The section's name, e.g. `".BTF_ids"`.
        section: &'static str,
        /// The reader's message.
        why: String,
    },
    /// A symbol (e.g. a `.BTF_ids` set or kfunc entry) points outside its section.
    #[error("{section}: symbol {symbol} at offset {offset} lies outside the section ({size} bytes)")]
    SymbolOutsideSection {
        /// The section's name.
        section: &'static str,
        /// The symbol's name.
        symbol: String,
        /// Where the symbol's data (or the word read there) is, from the section's start.
        offset: u64,
        /// The section's size in bytes.
        size: usize,
    },
    /// A kernel module has no `.BTF` section.
    #[error("the module has no .BTF section")]
    ModuleWithoutBtf,
    /// A `.BTF` section that holds no BTF at all.
    #[error("the .BTF section (file offset {offset}) holds no BTF")]
    EmptyBtfSection {
        /// File offset of the section.
        offset: usize,
    },
    /// The result would be rejected by the kernel's BTF verifier, and the
    /// caller asked for that to be an error (nothing is written).
    #[error(
        "the kernel would reject {what} ({problems} problem{}), nothing written; the first: {first}",
        if *.problems == 1 { "" } else { "s" }
    )]
    KernelWouldReject {
        /// What was checked, e.g. `"the module BTF"`.
        what: String,
        /// How many problems the kernel's rules find.
        problems: usize,
        /// The first problem, on one line.
        first: String,
    },

    // ---- Files ----
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
