//! Opening BTF sources: raw BTF files, ELF files (with a `.BTF` section),
//! xz/zstd-compressed files (`.ko.xz`, `.ko.zst`), big files mmapped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::btf::Btf;
use crate::elf;
use crate::error::{Error, Result};
use crate::parse::{self, ParseOptions, Validation};

/// Largest decompressed size accepted (guards against decompression bombs).
pub const MAX_DECOMPRESSED: u64 = 4 << 30;

/// File contents, mmapped or read into memory; dereferences to the bytes.
/// Make one from bytes already in memory with `Bytes::from(vec)`.
pub struct Bytes(Repr);

enum Repr {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(Repr::Owned(v))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Mapped(m) => m,
            Repr::Owned(v) => v,
        }
    }
}

const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// An opened source: the file bytes (decompressed) and where its BTF is.
pub struct Source {
    /// The file the bytes came from.
    pub path: PathBuf,
    /// The whole file's bytes, after decompression.
    pub bytes: Bytes,
    /// Byte range of the BTF data (the whole file for raw BTF, `.BTF` for ELF).
    pub btf_offset: usize,
    /// Length of the BTF data in bytes (starts at `btf_offset`).
    pub btf_len: usize,
    /// True when the file is an ELF object and the BTF came from its `.BTF` section.
    pub is_elf: bool,
    /// Set when the file was decompressed.
    pub compressed: Option<&'static str>,
}

impl Source {
    /// Tells the kernel that the pages wholly inside `range` (of
    /// [`Source::btf_data`]) are no longer needed, so a mapped file stops
    /// counting against memory as it is consumed. Their contents stay what
    /// they were: the mapping is shared and read-only, so the kernel reads
    /// them back from the file if they are touched again. A no-op for data
    /// in memory (decompressed) and where unsupported.
    pub fn release(&self, range: std::ops::Range<usize>) {
        const PAGE: usize = 4096;
        let Bytes(Repr::Mapped(m)) = &self.bytes else { return };
        let start = (self.btf_offset + range.start).div_ceil(PAGE) * PAGE;
        let end = ((self.btf_offset + range.end).min(m.len()) / PAGE) * PAGE;
        if end > start {
            // SAFETY: `m` is a shared read-only file mapping (Mmap::map), so
            // MADV_DONTNEED only drops our page-table entries: later reads
            // see the file's contents again, never zeroes. Callers pass
            // ranges they have finished reading.
            let _ = unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        }
    }

    /// The BTF bytes (section or whole file).
    pub fn btf_data(&self) -> &[u8] {
        &self.bytes[self.btf_offset..self.btf_offset + self.btf_len]
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// Reads a file: mmapped when it is a large regular file, else read.
pub fn read_file(path: &Path) -> Result<Bytes> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let meta = f.metadata().map_err(io_err(path))?;
    if meta.is_dir() {
        return Err(Error::Io { path: path.to_owned(), source: std::io::Error::other("is a directory") });
    }
    if meta.is_file() && meta.len() >= (1 << 20) && !path.starts_with("/sys") {
        // SAFETY: the map is read-only; like every mmapping tool we assume the
        // file is not truncated under us while we run.
        if let Ok(m) = unsafe { memmap2::Mmap::map(&f) } {
            return Ok(Bytes(Repr::Mapped(m)));
        }
    }
    let mut v = Vec::new();
    f.read_to_end(&mut v).map_err(io_err(path))?;
    Ok(Bytes(Repr::Owned(v)))
}

fn decompress(path: &Path, data: &[u8]) -> Result<Option<(Vec<u8>, &'static str)>> {
    let mut out = Vec::new();
    let (res, what) = if data.starts_with(XZ_MAGIC) {
        let dec = xz2::read::XzDecoder::new_multi_decoder(data);
        (dec.take(MAX_DECOMPRESSED + 1).read_to_end(&mut out).map(|_| ()), "xz")
    } else if data.starts_with(ZSTD_MAGIC) {
        match zstd::stream::read::Decoder::new(data) {
            Ok(dec) => (dec.take(MAX_DECOMPRESSED + 1).read_to_end(&mut out).map(|_| ()), "zstd"),
            Err(e) => (Err(e), "zstd"),
        }
    } else {
        return Ok(None);
    };
    res.map_err(|e| Error::Decompress { path: path.to_owned(), why: format!("{what}: {e}") })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(Error::Decompress {
            path: path.to_owned(),
            why: format!("{what}: decompressed data exceeds {} bytes", MAX_DECOMPRESSED),
        });
    }
    Ok(Some((out, what)))
}

/// Opens a BTF source and locates its BTF bytes.
pub fn open(path: &Path) -> Result<Source> {
    from_bytes(read_file(path)?, path)
}

/// Like [`open`], for bytes already in memory (`path` names them in messages).
pub fn from_bytes(bytes: Bytes, path: &Path) -> Result<Source> {
    let mut bytes = bytes;
    let mut compressed = None;
    if let Some((v, what)) = decompress(path, &bytes)? {
        bytes = Bytes(Repr::Owned(v));
        compressed = Some(what);
    }
    let is_elf = elf::is_elf(&bytes);
    let (btf_offset, btf_len) = if is_elf {
        let r = elf::find_btf_section(&bytes, path)?;
        (r.offset, r.size)
    } else {
        (0, bytes.len())
    };
    Ok(Source { path: path.to_owned(), bytes, btf_offset, btf_len, is_elf, compressed })
}

/// Loads a single BTF (base, or split over `base`) from a file. A BTF
/// archive is an error here; see [`load_with`].
pub fn load(path: &Path, base: Option<Arc<Btf>>) -> Result<Btf> {
    load_validated(path, base, Validation::default())
}

/// [`load`] with the types checked at the given validation level.
pub fn load_validated(path: &Path, base: Option<Arc<Btf>>, validation: Validation) -> Result<Btf> {
    let src = open(path)?;
    let opts = ParseOptions { base, allow_trailing: false, file_offset: src.btf_offset, validation };
    parse::parse_with(src.btf_data(), &opts).map(|(b, _)| b).map_err(|e| e.in_file(path))
}

/// What to do when the BTF data turns out to be an archive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveMode {
    /// Merge all members and deduplicate (the default).
    #[default]
    Merge,
    /// Only the first member (what tools unaware of archives see).
    First,
}

/// Options of [`load_with`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Base BTF for reading split BTF (`None` for standalone BTF).
    pub base: Option<Arc<Btf>>,
    /// What to do when the data holds several BTF members.
    pub archive: ArchiveMode,
    /// Stop at trailing garbage after archive members instead of failing
    /// (the archive walk; unrelated to `validation`).
    pub lenient: bool,
    /// How strictly each BTF's types are checked.
    pub validation: Validation,
}

/// A loaded BTF and how it was made.
pub struct Loaded {
    /// The BTF (after merging, when members were merged).
    pub btf: Btf,
    /// Number of members in the data (1 for a plain BTF).
    pub members: usize,
    /// Whether the members were merged and deduplicated.
    pub merged: bool,
    /// Zero padding bytes skipped between members.
    pub padding: usize,
    /// Lenient mode: where the archive walk stopped, and why.
    pub stopped: Option<(usize, String)>,
}

/// Loads a BTF from a file, handling archives as `opts.archive` says.
pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let src = open(path)?;
    load_source(&src, opts).map_err(|e| e.in_file(path))
}

/// Loads from an opened source, handling archives as `opts.archive` says.
pub fn load_source(src: &Source, opts: &LoadOptions) -> Result<Loaded> {
    let data = src.btf_data();
    let layout = crate::archive::walk(data, src.btf_offset, opts.lenient)?;
    let padding = layout.members.iter().map(|m| m.pad_before).sum::<usize>() + layout.pad_after;
    if layout.members.len() <= 1 || opts.archive == ArchiveMode::First {
        let first = layout.members.first().map(|m| m.size).unwrap_or(data.len());
        let popts = ParseOptions {
            base: opts.base.clone(),
            allow_trailing: false,
            file_offset: src.btf_offset,
            validation: opts.validation,
        };
        let (btf, _) = parse::parse_with(&data[..first], &popts)?;
        return Ok(Loaded { btf, members: layout.members.len(), merged: false, padding, stopped: layout.stopped });
    }
    let btf =
        crate::archive::merge(data, &layout, src.btf_offset, opts.base.clone(), opts.validation, |r| src.release(r))?;
    Ok(Loaded { btf, members: layout.members.len(), merged: true, padding, stopped: layout.stopped })
}

/// Hands every BTF in a file to `f`, in order: the members of an archive
/// (split over `base` when given), or the one BTF of a plain file. Like
/// [`load_members`], but members are parsed a window at a time while `f`
/// consumes the previous window, so the whole archive is never held parsed.
pub fn for_each_member(
    path: &Path,
    base: Option<Arc<Btf>>,
    lenient: bool,
    validation: Validation,
    f: impl FnMut(Btf) -> Result<()> + Send,
) -> Result<()> {
    let src = open(path)?;
    let data = src.btf_data();
    let res = (|| {
        let layout = crate::archive::walk(data, src.btf_offset, lenient)?;
        if let Some((off, why)) = &layout.stopped {
            eprintln!("btfkit: warning: {}: stopped reading the archive at offset {off}: {why}", path.display());
        }
        crate::archive::for_each_member(data, &layout, src.btf_offset, base, validation, f, |r| src.release(r))
    })();
    res.map_err(|e| e.in_file(path))
}

/// Every BTF in a file: the members of an archive in order (split over
/// `base` when given), or the one BTF of a plain file.
pub fn load_members(path: &Path, base: Option<Arc<Btf>>, lenient: bool) -> Result<Vec<Btf>> {
    load_members_with(path, base, lenient, Validation::default())
}

/// [`load_members`] with the types checked at the given validation level.
pub fn load_members_with(
    path: &Path,
    base: Option<Arc<Btf>>,
    lenient: bool,
    validation: Validation,
) -> Result<Vec<Btf>> {
    let mut all = Vec::new();
    for_each_member(path, base, lenient, validation, |b| {
        all.push(b);
        Ok(())
    })?;
    Ok(all)
}
