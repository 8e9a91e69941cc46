//! The `btfkit` command line: a thin layer over the library.

use std::io::{self, BufWriter, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use btfkit::{archive, dump, input, stat::Stats, Btf, Error};
use clap::{Parser, Subcommand, ValueEnum};

const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

#[derive(Parser)]
#[command(name = "btfkit", version, about = "Read, check, deduplicate and dump BPF Type Format (BTF)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    /// bpftool's raw listing
    Raw,
    /// bpftool's JSON (-j); add --pretty for -p
    Json,
    /// C header, as bpftool 7.1 `format c`
    C,
}

/// How to read a BTF archive (several BTF blobs back to back).
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum ArchiveArg {
    /// Merge all members and deduplicate them
    Merge,
    /// Only the first member, as tools unaware of archives do
    First,
}

/// How strictly input BTF is checked (`--validate`).
#[derive(Copy, Clone, Default, PartialEq, Eq, ValueEnum)]
enum ValidateArg {
    /// The kernel BTF verifier's rules (INT encodings, unused fields zero, kind_flag/vlen rules,
    /// decl tags, ...)
    #[default]
    Kernel,
    /// What libbpf 1.7 (btf__new) and so bpftool accept: ids, string offsets, layout and
    /// FUNC -> FUNC_PROTO checked, the rest tolerated and kept as is (e.g. gcc 12 -gbtf output)
    Libbpf,
}

impl From<ValidateArg> for btfkit::parse::Validation {
    fn from(v: ValidateArg) -> Self {
        match v {
            ValidateArg::Kernel => btfkit::parse::Validation::Kernel,
            ValidateArg::Libbpf => btfkit::parse::Validation::Libbpf,
        }
    }
}

/// Options shared by every command that reads BTF.
#[derive(clap::Args)]
struct InputArgs {
    /// Base BTF for split BTF (kernel modules)
    #[arg(short = 'B', long)]
    base: Option<PathBuf>,
    /// What to do with a BTF archive
    #[arg(long, value_enum, default_value = "merge")]
    archive: ArchiveArg,
    /// Stop at trailing bytes after archive members with a warning instead of failing
    #[arg(long)]
    lenient: bool,
    /// How strictly to check the input BTF (base included)
    #[arg(long, value_enum, default_value = "kernel")]
    validate: ValidateArg,
}

impl InputArgs {
    fn with_base(base: Option<PathBuf>, validate: ValidateArg) -> InputArgs {
        InputArgs { base, archive: ArchiveArg::Merge, lenient: false, validate }
    }
}

#[derive(Subcommand)]
enum ArchiveCmd {
    /// One row per member: offset, size, types, string bytes, first names
    #[command(after_help = "Examples:\n  btfkit archive list vmlinux\n  btfkit archive list archive.btf --json")]
    List {
        file: PathBuf,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
        #[arg(long)]
        lenient: bool,
        /// How strictly to check the members
        #[arg(long, value_enum, default_value = "kernel")]
        validate: ValidateArg,
    },
    /// Concatenate a base BTF and split BTFs of modules into a base+children archive
    #[command(after_help = "Example:\n  btfkit archive build --base /sys/kernel/btf/vmlinux ext4.ko xfs.ko.zst -o kernel.btfa\n\nLayout: member 0 is the base, every other member is a split BTF over it, back to back.")]
    Build {
        /// The base BTF (member 0)
        #[arg(long)]
        base: PathBuf,
        /// Split BTFs over the base (raw or ELF, e.g. .ko files)
        children: Vec<PathBuf>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write one member as a raw BTF file
    #[command(after_help = "Example:\n  btfkit archive extract vmlinux --member 3 -o init_main.btf")]
    Extract {
        file: PathBuf,
        #[arg(long)]
        member: usize,
        /// Output file (`-` for stdout)
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the types of a BTF, exactly as `bpftool btf dump file` does
    #[command(after_help = "Examples:\n  btfkit dump                          # /sys/kernel/btf/vmlinux, raw\n  btfkit dump vmlinux --format json --pretty\n  btfkit dump ext4.ko --base /sys/kernel/btf/vmlinux\n  btfkit dump | head                   # a closed pipe ends quietly")]
    Dump {
        /// BTF source: raw BTF, ELF (.o, .ko, vmlinux), .ko.xz/.ko.zst
        #[arg(default_value = DEFAULT_BTF)]
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
        #[arg(short, long, value_enum, default_value = "raw")]
        format: Format,
        /// Pretty-print JSON (bpftool -p)
        #[arg(short, long)]
        pretty: bool,
        /// C format: order types like bpftool 7.5+ (sorted) instead of by id
        #[arg(long)]
        sort: bool,
        /// C format: dump only this type (name or id) and its dependencies; repeatable
        #[arg(long, value_name = "TYPE_NAME_OR_ID")]
        root: Vec<String>,
    },
    /// Count types per kind and measure the sections
    #[command(after_help = "Examples:\n  btfkit stat\n  btfkit stat ext4.ko --base vmlinux.btf --json")]
    Stat {
        #[arg(default_value = DEFAULT_BTF)]
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Inspect BTF archives (concatenated per-object BTF)
    #[command(subcommand)]
    Archive(ArchiveCmd),
    /// Compare two BTFs by meaning (structure), not by type id. Exit status:
    /// 0 equivalent, 1 different, 2 error
    #[command(after_help = "Examples:\n  btfkit diff standard.btf archive.dedup.btf\n  btfkit diff a.ko b.ko --base-a vmlinux --base-b vmlinux --format json")]
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// Base BTF of A (when A is split BTF)
        #[arg(long)]
        base_a: Option<PathBuf>,
        /// Base BTF of B
        #[arg(long)]
        base_b: Option<PathBuf>,
        #[arg(short, long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// How strictly to check both inputs (and their bases)
        #[arg(long, value_enum, default_value = "kernel")]
        validate: ValidateArg,
    },
    /// Merge BTFs in order (libbpf btf__add_btf) and deduplicate them (btf__dedup)
    #[command(after_help = "Inputs are raw BTF or ELF files; a BTF archive contributes all its members, in order.\n\
Output: with -o, raw BTF — except when the only input is an ELF file: then OUT is a copy of\n\
that ELF with its .BTF section replaced (non-allocated .BTF only). --detached writes raw BTF.\n\n\
Examples:\n  btfkit dedup a.o b.o -o merged.btf\n  btfkit dedup ext4.ko jbd2.ko --base vmlinux -o - > modules.btf\n  \
btfkit dedup .tmp_vmlinux.btf --detached .btf.vmlinux.bin   # archive -> one deduplicated BTF\n  \
btfkit dedup vmlinux.o -o vmlinux.new.o                     # rewrite .BTF in a copy\n  \
btfkit dedup vmlinux.o --in-place")]
    Dedup {
        /// Inputs (raw BTF or ELF), merged in order into the first
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Base BTF: inputs are split BTF over it, and so is the output
        #[arg(short = 'B', long)]
        base: Option<PathBuf>,
        /// Output file (`-` for raw BTF on stdout)
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write the result as a raw BTF file
        #[arg(long)]
        detached: Option<PathBuf>,
        /// Replace the .BTF section of the (single, ELF) input file itself
        #[arg(long, conflicts_with = "output")]
        in_place: bool,
        /// Stop at trailing bytes after archive members with a warning instead of failing
        #[arg(long)]
        lenient: bool,
        /// When rewriting an ELF, keep the .BTF section's size (pad the BTF's header with
        /// zeros): works for an allocated .BTF in a linked vmlinux
        #[arg(long)]
        keep_size: bool,
        /// The input is a base+children archive (`archive build`): deduplicate every
        /// child against the base (in parallel) and write a base+children archive
        #[arg(long, conflicts_with_all = ["base", "in_place", "detached"])]
        split: bool,
        /// libbpf's force_collisions (testing aid: slow, same result)
        #[arg(long)]
        force_collisions: bool,
        /// How strictly to check the inputs (and the base); odd bits that libbpf tolerates
        /// are kept in the output, as libbpf's dedup keeps them
        #[arg(long, value_enum, default_value = "kernel")]
        validate: ValidateArg,
        #[command(flatten)]
        kernel: KernelArgs,
    },
}

/// `dedup --kernel`: finish a kernel image's BTF as `pahole -J` does (library: `btfkit::kernel`).
#[derive(clap::Args, Clone, Debug)]
struct KernelArgs {
    /// The inputs are a kernel image's objects (vmlinux.o + init/version-timestamp.o, or a
    /// linked vmlinux): after the merge and dedup, make ONE .data..percpu DATASEC with the
    /// final per-CPU offsets and keep pahole's function set, using the image's ELF symbols
    #[arg(long, conflicts_with = "split")]
    kernel: bool,
    /// With --kernel: read the ELF symbols from this image instead of the first input
    /// (for a raw BTF archive input)
    #[arg(long, requires = "kernel", value_name = "IMAGE")]
    symbols_from: Option<PathBuf>,
    /// With --kernel: drop every FUNC of a name whose prototypes disagree (pahole >= 1.25's
    /// --skip_encoding_btf_inconsistent_proto, in the kernel's pahole flags from 6.5 on)
    #[arg(long, requires = "kernel")]
    skip_inconsistent_proto: bool,
}

enum Fail {
    Input(Error),
    Output(io::Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Input(e)
    }
}
impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Output(e)
    }
}

/// Loads FILE as the input options say, with a note on stderr for archives.
fn load(file: &Path, args: &InputArgs) -> Result<Btf, Error> {
    let validation = args.validate.into();
    let base = match &args.base {
        Some(b) => Some(Arc::new(input::load_validated(b, None, validation)?)),
        None => None,
    };
    let opts = input::LoadOptions {
        validation,
        base,
        archive: match args.archive {
            ArchiveArg::Merge => input::ArchiveMode::Merge,
            ArchiveArg::First => input::ArchiveMode::First,
        },
        lenient: args.lenient,
    };
    let loaded = input::load_with(file, &opts)?;
    if let Some((off, why)) = &loaded.stopped {
        eprintln!("btfkit: warning: {}: stopped reading the archive at offset {off}: {why}", file.display());
    }
    if loaded.members > 1 {
        if loaded.merged {
            eprintln!(
                "btfkit: note: {} is a BTF archive of {} members; merged and deduplicated them",
                file.display(),
                loaded.members
            );
        } else {
            eprintln!(
                "btfkit: note: {} is a BTF archive of {} members; using only the first (--archive=first)",
                file.display(),
                loaded.members
            );
        }
    }
    Ok(loaded.btf)
}

fn archive_cmd(cmd: ArchiveCmd, out: &mut impl Write) -> Result<(), Fail> {
    match cmd {
        ArchiveCmd::List { file, json, lenient, validate } => {
            let src = input::open(&file)?;
            let data = src.btf_data();
            let layout = archive::walk(data, src.btf_offset, lenient).map_err(|e| e.in_file(&file))?;
            // Members are standalone BTFs, or (base+children archives) split BTFs over member 0.
            let v = validate.into();
            let members = match archive::parse_members_over(data, &layout, src.btf_offset, None, v) {
                Ok(m) => m,
                Err(e) => match archive::parse_split_members_with(data, &layout, src.btf_offset, v) {
                    Ok((base, children)) => {
                        eprintln!("btfkit: note: base+children archive: members 1.. are split BTF over member 0");
                        std::iter::once((*base).clone()).chain(children).collect()
                    }
                    Err(_) => return Err(e.in_file(&file).into()),
                },
            };
            let report = archive::Report::new(&layout, &members);
            if json {
                writeln!(out, "{}", report.to_json())?;
            } else {
                out.write_all(report.to_text().as_bytes())?;
            }
        }
        ArchiveCmd::Build { base, children, output } => {
            let base_btf = Arc::new(input::load(&base, None)?);
            let mut blobs = vec![btfkit::write::to_bytes(&base_btf)];
            for c in &children {
                let child = input::load(c, Some(base_btf.clone()))?;
                blobs.push(btfkit::write::to_bytes(&child));
            }
            let bytes = archive::build(&blobs);
            if output.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                btfkit::output::write_atomic(&output, &bytes)?;
            }
            eprintln!("btfkit: wrote {} members ({} bytes) to {}", blobs.len(), bytes.len(), output.display());
        }
        ArchiveCmd::Extract { file, member, output } => {
            let src = input::open(&file)?;
            let data = src.btf_data();
            let layout = archive::walk(data, src.btf_offset, false).map_err(|e| e.in_file(&file))?;
            let Some(m) = layout.members.get(member) else {
                return Err(Error::Invalid(format!(
                    "{}: no member {member} (the archive has {})",
                    file.display(),
                    layout.members.len()
                ))
                .into());
            };
            let bytes = &data[m.offset..m.offset + m.size];
            if output.as_os_str() == "-" {
                out.write_all(bytes)?;
            } else {
                btfkit::output::write_atomic(&output, bytes)?;
            }
        }
    }
    Ok(())
}

struct DedupArgs {
    inputs: Vec<PathBuf>,
    base: Option<PathBuf>,
    output: Option<PathBuf>,
    detached: Option<PathBuf>,
    in_place: bool,
    lenient: bool,
    keep_size: bool,
    force_collisions: bool,
    validate: ValidateArg,
    kernel: KernelArgs,
}

/// `dedup --split`: every child of a base+children archive deduplicated
/// against the base, in parallel; the result is again a base+children archive.
fn split_dedup_cmd(a: DedupArgs, out: &mut impl Write) -> Result<(), Fail> {
    use rayon::prelude::*;
    let t0 = std::time::Instant::now();
    let [file] = a.inputs.as_slice() else {
        return Err(Error::Invalid("--split takes one base+children archive".into()).into());
    };
    let Some(output) = &a.output else {
        return Err(Error::Invalid("--split needs -o OUT".into()).into());
    };
    let src = input::open(file)?;
    let data = src.btf_data();
    let layout = archive::walk(data, src.btf_offset, a.lenient).map_err(|e| e.in_file(file))?;
    let (base, children) = archive::parse_split_members_with(data, &layout, src.btf_offset, a.validate.into())
        .map_err(|e| e.in_file(file))?;
    let opts = btfkit::dedup::DedupOptions { force_collisions: a.force_collisions, ..Default::default() };
    let types_in: usize = children.iter().map(|c| c.types().len()).sum();
    let deduped = children
        .into_par_iter()
        .map(|mut c| c.dedup(&opts).map(|_| c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.in_file(file))?;
    let types_out: usize = deduped.iter().map(|c| c.types().len()).sum();
    let mut blobs = vec![btfkit::write::to_bytes(&base)];
    blobs.extend(deduped.iter().map(btfkit::write::to_bytes));
    let bytes = archive::build(&blobs);
    if output.as_os_str() == "-" {
        out.write_all(&bytes)?;
    } else {
        btfkit::output::write_atomic(output, &bytes)?;
    }
    eprintln!(
        "btfkit dedup --split: {} children over a base of {} types, child types {types_in} -> {types_out}, {:.3} s",
        deduped.len(),
        base.types().len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// How errors name the merge of `inputs` (`members` BTFs in all).
fn merged_label(inputs: &[PathBuf], members: usize) -> PathBuf {
    let mut label = match inputs {
        [one] => one.display().to_string(),
        [a, b] => format!("{} + {}", a.display(), b.display()),
        [a, rest @ ..] => format!("{} + {} more files", a.display(), rest.len()),
        [] => String::new(),
    };
    if members > 1 {
        label.push_str(&format!(" (merged, {members} BTFs)"));
    }
    PathBuf::from(label)
}

/// The ELF with its .BTF replaced by `btf` (padded to the old size with `keep_size`).
fn rewrite_elf(path: &Path, elf: &[u8], btf: &[u8], keep_size: bool) -> Result<Vec<u8>, Error> {
    if keep_size {
        btfkit::elf::replace_btf_keep_size(elf, path, btf)
    } else {
        btfkit::elf::replace_section(elf, path, ".BTF", btf).map(|(out, _)| out)
    }
}

/// `dedup --kernel`: the library's pahole-like finish with the image's symbols; one
/// summary line and (when something cannot be recovered) one warning line.
fn kernel_finish(btf: &mut Btf, a: &DedupArgs) -> Result<(), Fail> {
    let image = a.kernel.symbols_from.as_ref().or(a.inputs.first()).ok_or_else(|| Error::Invalid("no input".into()))?;
    // The image's symbols are needed, not its .BTF (--symbols-from may have none).
    let syms = match input::open(image) {
        Err(Error::NoBtfSection { .. }) => {
            let bytes = input::read_file(image)?;
            btfkit::kernel::ImageSymbols::from_elf(&bytes, &Default::default()).map_err(|e| e.in_file(image))?
        }
        src => {
            let src = src?;
            if !src.is_elf {
                return Err(Error::Invalid(format!(
                    "{}: --kernel needs the kernel image's ELF symbols (give an ELF input or --symbols-from IMAGE)",
                    image.display()
                ))
                .into());
            }
            btfkit::kernel::ImageSymbols::from_elf(&src.bytes, &Default::default()).map_err(|e| e.in_file(image))?
        }
    };
    let opts = btfkit::kernel::KernelOptions { skip_inconsistent_proto: a.kernel.skip_inconsistent_proto };
    let r = btfkit::kernel::finish(btf, &syms, &opts)?;
    let inconsistent = if opts.skip_inconsistent_proto {
        format!(", {} of {} names with inconsistent prototypes", r.funcs_inconsistent, r.inconsistent_names)
    } else {
        String::new()
    };
    eprintln!(
        "btfkit dedup --kernel: {} .data..percpu DATASECs ({} VARs) -> {} ({} VARs), FUNCs {} -> {} ({} without a symbol, {} same-named{inconsistent}), types {} -> {}",
        r.percpu_datasecs_in,
        r.percpu_vars_in,
        r.percpu_datasecs_out,
        r.percpu_vars_out,
        r.funcs_in,
        r.funcs_out,
        r.funcs_without_symbol,
        r.funcs_same_name,
        r.types_in,
        r.types_out
    );
    if let Some(w) = r.warning() {
        eprintln!("btfkit: warning: {w}");
    }
    Ok(())
}

fn dedup_cmd(a: DedupArgs, out: &mut impl Write) -> Result<(), Fail> {
    use btfkit::output::write_atomic;
    let t0 = std::time::Instant::now();
    if a.output.is_none() && a.detached.is_none() && !a.in_place {
        return Err(Error::Invalid("dedup needs -o OUT, --detached OUT or --in-place".into()).into());
    }
    let base = match &a.base {
        Some(b) => Some(Arc::new(input::load_validated(b, None, a.validate.into())?)),
        None => None,
    };
    // The ELF to rewrite: the only input, when it is an ELF file.
    let single_elf = match a.inputs.as_slice() {
        [one] => {
            let src = input::open(one)?;
            src.is_elf.then(|| (one.clone(), src))
        }
        _ => None,
    };
    if a.in_place && single_elf.is_none() {
        return Err(Error::Invalid("--in-place needs exactly one ELF input".into()).into());
    }
    // Refuse an ELF that cannot be rewritten before doing any work.
    let writes_elf = a.in_place || a.output.as_ref().is_some_and(|o| o.as_os_str() != "-");
    if let (true, Some((p, src))) = (writes_elf, &single_elf) {
        btfkit::elf::check_replaceable(&src.bytes, p, ".BTF", a.keep_size)?;
    }
    let mut merger: Option<btfkit::dedup::Merger> = None;
    let (mut types_in, mut str_in, mut members) = (0usize, 0usize, 0usize);
    for p in &a.inputs {
        input::for_each_member(p, base.clone(), a.lenient, a.validate.into(), |b| {
            types_in += b.types().len();
            str_in += b.strings().len();
            members += 1;
            match &mut merger {
                None => merger = Some(btfkit::dedup::Merger::new(b)),
                Some(m) => {
                    m.append(b)?;
                }
            }
            Ok(())
        })?;
    }
    let Some(merger) = merger else { return Err(Error::Invalid("no input".into()).into()) };
    let mut btf = merger.finish();
    let t_merge = t0.elapsed();
    let opts = btfkit::dedup::DedupOptions { force_collisions: a.force_collisions, ..Default::default() };
    // Type ids in a dedup error are ids of the merged BTF: name what was merged.
    let stats = btf.dedup(&opts).map_err(|e| e.in_file(merged_label(&a.inputs, members)))?;
    if a.kernel.kernel {
        kernel_finish(&mut btf, &a)?;
    }
    let bytes = btfkit::write::to_bytes(&btf);
    if let Some(d) = &a.detached {
        write_atomic(d, &bytes)?;
    }
    let elf_target = if a.in_place { single_elf.as_ref().map(|(p, _)| p.clone()) } else { None };
    match (&a.output, elf_target) {
        (Some(o), _) if o.as_os_str() == "-" => out.write_all(&bytes)?,
        (Some(o), _) => match &single_elf {
            Some((p, src)) => write_atomic(o, &rewrite_elf(p, &src.bytes, &bytes, a.keep_size)?)?,
            None => write_atomic(o, &bytes)?,
        },
        (None, Some(p)) => {
            let src = &single_elf.as_ref().expect("in-place has an ELF input").1;
            let elf = rewrite_elf(&p, &src.bytes, &bytes, a.keep_size)?;
            write_atomic(&p, &elf)?;
        }
        (None, None) => {}
    }
    eprintln!(
        "btfkit dedup: {} inputs ({members} BTFs), types {types_in} -> {}, string bytes {str_in} -> {}, {:.3} s (load+merge {:.3} s)",
        a.inputs.len(),
        stats.types_out,
        stats.str_bytes_out,
        t0.elapsed().as_secs_f64(),
        t_merge.as_secs_f64()
    );
    Ok(())
}

fn run(cli: Cli) -> Result<u8, Fail> {
    let mut status = 0;
    // Write to fd 1 directly: std's stdout is line-buffered, which rescans
    // every block for newlines; we buffer ourselves and flush at the end.
    // SAFETY: fd 1 stays open for the whole process; ManuallyDrop never closes it.
    let stdout = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) });
    let mut out = BufWriter::with_capacity(1 << 16, &*stdout);
    match cli.cmd {
        Cmd::Dump { file, input, format, pretty, sort, root } => {
            let btf = load(&file, &input)?;
            match format {
                Format::Raw => dump::raw::dump(&btf, &mut out)?,
                Format::Json => dump::json::dump(&btf, pretty, &mut out)?,
                Format::C => {
                    let roots = root.iter().map(|r| dump::c::resolve_root(&btf, r)).collect::<Result<Vec<_>, _>>()?;
                    let mut buf = Vec::new();
                    let r = dump::c::render(&btf, &dump::c::Options { sort, roots, ..Default::default() }, &mut buf);
                    out.write_all(&buf)?;
                    out.flush()?;
                    r?;
                }
            }
            // The process ends right after: skip freeing ~10^5 small allocations.
            std::mem::forget(btf);
        }
        Cmd::Stat { file, input, json } => {
            let btf = load(&file, &input)?;
            let s = Stats::of(&btf);
            if json {
                writeln!(out, "{}", s.to_json())?;
            } else {
                out.write_all(s.to_text().as_bytes())?;
            }
        }
        Cmd::Archive(cmd) => archive_cmd(cmd, &mut out)?,
        Cmd::Diff { a, b, base_a, base_b, format, validate } => {
            let (a, b) = (
                load(&a, &InputArgs::with_base(base_a, validate))?,
                load(&b, &InputArgs::with_base(base_b, validate))?,
            );
            let r = btfkit::diff::diff(&a, &b);
            status = if r.equivalent { 0 } else { 1 };
            let written = if format == "json" {
                writeln!(out, "{}", r.to_json())
            } else {
                out.write_all(r.to_text().as_bytes())
            }
            .and_then(|()| out.flush());
            match written {
                // `btfkit diff A B | head`: the answer is still the status.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(status),
                w => w?,
            }
        }
        Cmd::Dedup { inputs, base, output, detached, in_place, lenient, keep_size, split, force_collisions, validate, kernel } => {
            let args =
                DedupArgs { inputs, base, output, detached, in_place, lenient, keep_size, force_collisions, validate, kernel };
            if split {
                split_dedup_cmd(args, &mut out)?;
            } else {
                dedup_cmd(args, &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(status)
}

/// Whether `e` is a type that breaks one of the rules only the kernel level checks
/// (as far as the error kind tells).
fn breaks_kernel_rule(e: &Error) -> bool {
    match e {
        Error::File { source, .. } => breaks_kernel_rule(source),
        Error::BadType { .. } => true,
        _ => false,
    }
}

/// Whether the command line asked for `--validate libbpf`.
fn libbpf_level_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--validate=libbpf") || args.windows(2).any(|w| w[0] == "--validate" && w[1] == "libbpf")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(Fail::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Fail::Output(e)) => {
            eprintln!("btfkit: error writing output: {e}");
            ExitCode::from(2)
        }
        Err(Fail::Input(e)) => {
            eprintln!("btfkit: error: {e}");
            if breaks_kernel_rule(&e) && !libbpf_level_asked() {
                eprintln!(
                    "btfkit: note: input is checked with the kernel's rules; `--validate libbpf` reads what libbpf \
                     accepts (gcc 12's -gbtf output, for one)"
                );
            }
            ExitCode::from(2)
        }
    }
}
