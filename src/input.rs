//! Opening BTF sources: raw BTF files, ELF files (with a `.BTF` section),
//! xz/zstd-compressed files (`.ko.xz`, `.ko.zst`), big files mmapped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::btf::Btf;
use crate::dedup::{self, DedupOptions};
use crate::error::{Error, Result};
use crate::feed::{Digest, Fed, Seen};
use crate::parse::{self, ParseOptions, Validation};
use crate::{archive, elf};

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

    /// The file with its BTF replaced by `btf`: for an ELF file, a copy whose
    /// `.BTF` section holds `btf` (a non-allocated section is rewritten in
    /// place or moved to the end, see [`elf::replace_section`]; with
    /// `keep_size`, `btf` is padded to the section's old size, which also
    /// works for an allocated `.BTF`, see [`elf::replace_section_same_size`]);
    /// for raw BTF, `btf`'s bytes (padded to the old size with `keep_size`).
    /// Decompressed sources give uncompressed files. Errors name the file.
    pub fn with_btf(&self, btf: &Btf, keep_size: bool) -> Result<Vec<u8>> {
        let bytes = if keep_size {
            crate::write::to_bytes_padded(btf, self.btf_len).map_err(|e| e.in_file(&self.path))?
        } else {
            crate::write::to_bytes(btf)
        };
        match (self.is_elf, keep_size) {
            (false, _) => Ok(bytes),
            (true, false) => elf::replace_section(&self.bytes, &self.path, ".BTF", &bytes).map(|(out, _)| out),
            (true, true) => elf::replace_section_same_size(&self.bytes, &self.path, ".BTF", &bytes),
        }
    }

    /// Checks, before any work, that [`Source::with_btf`] can rewrite this
    /// file: for an ELF, that its `.BTF` section may be replaced (see
    /// [`elf::check_replaceable`]; `keep_size` allows an allocated one).
    pub fn check_btf_replaceable(&self, keep_size: bool) -> Result<()> {
        if !self.is_elf {
            return Ok(());
        }
        elf::check_replaceable(&self.bytes, &self.path, ".BTF", keep_size)
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

/// Loads a single BTF (base, or split over `base`) from a file, at the
/// default validation level. A BTF archive is an error here (as
/// [`ArchiveMode::Reject`]); see [`Loader`] for every other choice.
pub fn load(path: &Path, base: Option<Arc<Btf>>) -> Result<Btf> {
    Loader::new().base(base).archive(ArchiveMode::Reject).load(path).map(|l| l.btf)
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
    /// Bytes after the first BTF are an error (the archive is not walked).
    Reject,
}

/// Something the loader noticed that did not stop it; the caller decides
/// whether and how to show it (`Display` gives one line, without a prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// With `lenient`, the archive walk stopped at bytes that are not BTF.
    ArchiveStopped {
        /// The file read.
        path: PathBuf,
        /// File offset where the walk stopped.
        offset: usize,
        /// Why the bytes there are not a BTF header.
        why: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::ArchiveStopped { path, offset, why } => {
                write!(f, "{}: stopped reading the archive at offset {offset}: {why}", path.display())
            }
        }
    }
}

/// The one way to read BTF from files: how archives are handled, how
/// strictly types are checked, and the base of split BTF.
///
/// ```no_run
/// use btfkit::input::{ArchiveMode, Loader};
/// let loaded = Loader::new().archive(ArchiveMode::First).load("vmlinux".as_ref())?;
/// for w in &loaded.warnings {
///     eprintln!("warning: {w}");
/// }
/// # Ok::<(), btfkit::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Loader {
    base: Option<Arc<Btf>>,
    archive: ArchiveMode,
    lenient: bool,
    validation: Validation,
    kernel_verdict: bool,
}

/// A loaded BTF and how it was made.
#[derive(Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The BTF (after merging, when members were merged).
    pub btf: Btf,
    /// Number of members in the data (1 for a plain BTF).
    pub members: usize,
    /// Whether the members were merged and deduplicated.
    pub merged: bool,
    /// Zero padding bytes skipped between members.
    pub padding: usize,
    /// What the loader noticed on the way (see [`Warning`]).
    pub warnings: Vec<Warning>,
    /// With [`Loader::kernel_verdict`]: how many problems the kernel's BTF
    /// verifier would find in `btf` (`btf.validate(Validation::Kernel).len()`;
    /// 0: it would accept it). `None` when not asked.
    pub kernel_problems: Option<usize>,
}

/// A base+children archive, as [`Loader::load_split`] read it.
#[derive(Debug)]
#[non_exhaustive]
pub struct SplitLoaded {
    /// Member 0.
    pub base: Arc<Btf>,
    /// Members 1.., split BTF over `base`.
    pub children: Vec<Btf>,
    /// What the loader noticed on the way (see [`Warning`]).
    pub warnings: Vec<Warning>,
}

impl Loader {
    /// The defaults: standalone BTF, archives merged ([`ArchiveMode::Merge`]),
    /// trailing bytes after archive members an error, types checked at
    /// [`Validation::default`].
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Reads split BTF over `base` (standalone BTF with `None`).
    pub fn base(mut self, base: Option<Arc<Btf>>) -> Loader {
        self.base = base;
        self
    }

    /// What to do when the data is a BTF archive.
    pub fn archive(mut self, mode: ArchiveMode) -> Loader {
        self.archive = mode;
        self
    }

    /// With `true`, the archive walk stops at trailing bytes that are not BTF
    /// (a [`Warning::ArchiveStopped`]) instead of failing. Unrelated to
    /// [`Loader::validation`].
    pub fn lenient(mut self, lenient: bool) -> Loader {
        self.lenient = lenient;
        self
    }

    /// How strictly every BTF's types are checked.
    pub fn validation(mut self, v: Validation) -> Loader {
        self.validation = v;
        self
    }

    /// With `true`, [`Loader::load`] also tells how many problems the kernel's
    /// BTF verifier would find in the result ([`Loaded::kernel_problems`]), at
    /// any validation level. For a single BTF that costs no second pass: the
    /// kernel's rules run in place of the libbpf-level checks they imply.
    pub fn kernel_verdict(mut self, on: bool) -> Loader {
        self.kernel_verdict = on;
        self
    }

    /// Parses one BTF, with the kernel's verdict when asked.
    fn parse_one(&self, data: &[u8], opts: &ParseOptions) -> Result<(Btf, Option<usize>)> {
        if self.kernel_verdict {
            let (btf, _, v) = parse::parse_with_verdict(data, opts)?;
            Ok((btf, Some(v.len())))
        } else {
            Ok((parse::parse_with(data, opts)?.0, None))
        }
    }

    fn parse_options(&self, src: &Source) -> ParseOptions {
        ParseOptions::new()
            .with_base(self.base.clone())
            .with_validation(self.validation)
            .with_file_offset(src.btf_offset)
    }

    fn stopped(src: &Source, layout: &archive::Layout) -> Vec<Warning> {
        let stopped = layout.stopped.as_ref();
        stopped
            .map(|(offset, why)| Warning::ArchiveStopped { path: src.path.clone(), offset: *offset, why: why.clone() })
            .into_iter()
            .collect()
    }

    /// Loads the BTF of a file (errors name the file).
    pub fn load(&self, path: &Path) -> Result<Loaded> {
        let src = open(path)?;
        self.load_source(&src).map_err(|e| e.in_file(path))
    }

    /// Loads the BTF of an opened source (errors are not wrapped with its path).
    pub fn load_source(&self, src: &Source) -> Result<Loaded> {
        let data = src.btf_data();
        let opts = self.parse_options(src);
        if self.archive == ArchiveMode::Reject {
            let (btf, kernel_problems) = self.parse_one(data, &opts)?;
            return Ok(Loaded { btf, members: 1, merged: false, padding: 0, warnings: Vec::new(), kernel_problems });
        }
        let layout = archive::walk_releasing(data, src.btf_offset, self.lenient, |r| src.release(r))?;
        let padding = layout.members.iter().map(|m| m.pad_before).sum::<usize>() + layout.pad_after;
        let warnings = Self::stopped(src, &layout);
        let members = layout.members.len();
        if members <= 1 || self.archive == ArchiveMode::First {
            let first = layout.members.first().map(|m| m.size).unwrap_or(data.len());
            let (btf, kernel_problems) = self.parse_one(&data[..first], &opts)?;
            return Ok(Loaded { btf, members, merged: false, padding, warnings, kernel_problems });
        }
        let (btf, _, _) = dedup::dedup_fed(
            |seen, add| {
                seen.set_one_source(true);
                archive::for_each_member_fed(data, &layout, &opts, seen, add, |r| src.release(r))
            },
            &DedupOptions::default(),
        )?;
        let kernel_problems = self.kernel_verdict.then(|| btf.validate(Validation::Kernel).len());
        Ok(Loaded { btf, members, merged: true, padding, warnings, kernel_problems })
    }

    /// Loads a base+children archive (`btfkit archive build`): member 0 is
    /// the base, every other member split BTF over it (see
    /// [`archive::parse_split_members`]). The loader's base and archive mode
    /// do not apply; `lenient` and the validation level do. Errors name the file.
    pub fn load_split(&self, path: &Path) -> Result<SplitLoaded> {
        let src = open(path)?;
        let res = (|| -> Result<SplitLoaded> {
            let data = src.btf_data();
            let layout = archive::walk_releasing(data, src.btf_offset, self.lenient, |r| src.release(r))?;
            let opts = self.parse_options(&src).with_base(None);
            let (base, children) = archive::parse_split_members(data, &layout, &opts)?;
            Ok(SplitLoaded { base, children, warnings: Self::stopped(&src, &layout) })
        })();
        res.map_err(|e| e.in_file(path))
    }

    /// Hands every BTF in a file to `f`, in order: the members of an archive
    /// (only the first with [`ArchiveMode::First`]; an archive is an error
    /// with [`ArchiveMode::Reject`]), or the one BTF of a plain file. Unlike
    /// [`Loader::load`], nothing is merged: members are parsed a window at a
    /// time while `f` consumes the previous window, so the whole archive is
    /// never held parsed (see [`archive::for_each_member`]). Returns the
    /// warnings (errors name the file).
    pub fn for_each_member(&self, path: &Path, f: impl FnMut(Btf) -> Result<()> + Send) -> Result<Vec<Warning>> {
        // Copies not looked for: every member comes parsed.
        let mut f = f;
        self.for_each_member_fed(path, &mut Seen::disabled(), |m| match m {
            Fed::New(b, _, _) => f(b),
            Fed::Copy(_) => {
                Err(Error::Dedup { id: crate::btf::TypeId(0), why: "a copy fed with copies disabled".into() })
            }
        })
    }

    /// [`Loader::for_each_member`] for [`crate::dedup::dedup_fed`]: a BTF
    /// byte-identical to one met before (by `seen`, across calls) is handed
    /// over as [`Fed::Copy`] without being parsed.
    pub fn for_each_member_fed(
        &self,
        path: &Path,
        seen: &mut Seen,
        f: impl FnMut(Fed) -> Result<()> + Send,
    ) -> Result<Vec<Warning>> {
        let src = open(path)?;
        let data = src.btf_data();
        let res = (|| {
            let opts = self.parse_options(&src);
            let mut f = f;
            if self.archive == ArchiveMode::Reject {
                // One BTF in one source: nothing to repeat.
                let d = (seen.enabled() && !seen.one_source()).then(|| Digest::of(data));
                return match d {
                    Some(d) if seen.is_copy(&d) => f(Fed::Copy(d)),
                    _ => f(Fed::parsed(parse::parse_with(data, &opts)?.0, d)),
                }
                .map(|()| Vec::new());
            }
            let mut layout = archive::walk_releasing(data, src.btf_offset, self.lenient, |r| src.release(r))?;
            if self.archive == ArchiveMode::First {
                layout.members.truncate(1);
            }
            let warnings = Self::stopped(&src, &layout);
            archive::for_each_member_fed(data, &layout, &opts, seen, f, |r| src.release(r))?;
            Ok(warnings)
        })();
        res.map_err(|e| e.in_file(path))
    }
}
