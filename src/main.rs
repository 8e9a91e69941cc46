//! The `btfkit` command line: a thin layer over the library.

use std::io::{self, BufWriter, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use btfkit::{Btf, Error, archive, dump, input, stat::Stats};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

#[derive(Parser)]
#[command(
    name = "btfkit",
    version,
    about = "Read, check, deduplicate and dump BPF Type Format (BTF)",
    after_help = "Conventions shared by every command:\n  \
-B/--base FILE   the base BTF of a split BTF (e.g. vmlinux under a module's BTF)\n  \
--format json    machine-readable output (dump, stat, diff, archive list)\n  \
--archive, --lenient, --validate   how BTF input is read (every command that reads BTF)\n\n\
Examples:\n  btfkit dump --format c > vmlinux.h\n  btfkit completions bash > /etc/bash_completion.d/btfkit\n  btfkit man > btfkit.1"
)]
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
    /// Every check of the kernel's BTF verifier (BPF_BTF_LOAD): `btfkit verify` lists them all
    Kernel,
    /// What libbpf 1.7 (btf__new) and so bpftool accept: ids, string offsets, layout and
    /// FUNC -> FUNC_PROTO checked, the rest tolerated and kept as is (e.g. gcc 12 -gbtf output)
    #[default]
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

/// How BTF input is read: shared by every command that reads BTF.
#[derive(clap::Args, Clone, Copy)]
struct ReadArgs {
    /// What to do with a BTF archive
    #[arg(long, value_enum, default_value = "merge")]
    archive: ArchiveArg,
    /// Stop at trailing bytes after archive members with a warning instead of failing
    #[arg(long)]
    lenient: bool,
    /// How strictly to check the input BTF (base included); at the default libbpf level a
    /// note says when the kernel would reject the input (dedup: see its own help)
    #[arg(long, value_enum, default_value = "libbpf")]
    validate: ValidateArg,
}

/// Options shared by the commands that read one BTF: its split base and
/// how to read it.
#[derive(clap::Args)]
struct InputArgs {
    /// Base BTF, when the input is split BTF over it (kernel modules over vmlinux)
    #[arg(short = 'B', long)]
    base: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

impl InputArgs {
    fn with_base(base: Option<PathBuf>, read: ReadArgs) -> InputArgs {
        InputArgs { base, read }
    }
}

/// Output of the commands with a text report (`--format json` for machines).
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// Human-readable text
    Text,
    /// One JSON document
    Json,
}

/// `-f/--format text|json`, with the old `--json` kept as a hidden alias.
#[derive(clap::Args)]
struct ReportFormatArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Same as --format json (older spelling)
    #[arg(long, hide = true)]
    json: bool,
}

impl ReportFormatArgs {
    fn is_json(&self) -> bool {
        self.json || self.format == ReportFormat::Json
    }
}

#[derive(Subcommand)]
enum ArchiveCmd {
    /// One row per member: offset, size, types, string bytes, first names
    #[command(after_help = "Examples:\n  btfkit archive list vmlinux\n  btfkit archive list archive.btf --format json")]
    List {
        /// The archive (raw, or an ELF whose .BTF is one)
        file: PathBuf,
        #[command(flatten)]
        format: ReportFormatArgs,
        /// Stop at trailing bytes after archive members with a warning instead of failing
        #[arg(long)]
        lenient: bool,
        /// How strictly to check the members
        #[arg(long, value_enum, default_value = "libbpf")]
        validate: ValidateArg,
    },
    /// Concatenate a base BTF and split BTFs of modules into a base+children archive
    #[command(
        after_help = "Example:\n  btfkit archive build --base-member /sys/kernel/btf/vmlinux ext4.ko xfs.ko.zst -o kernel.btfa\n\n\
Layout: member 0 is the base BTF, every other member is a split BTF over it, back to back.\n\
(--base-member was spelled --base before; --base, like -B, now means a split base only, which\n\
archive build has none of.)"
    )]
    Build {
        /// The base BTF, written as member 0; the children are split BTF over it
        #[arg(long, value_name = "BASE")]
        base_member: PathBuf,
        /// Split BTFs over the base (raw or ELF, e.g. .ko files)
        children: Vec<PathBuf>,
        /// Output file (`-` for stdout)
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Write one member as a raw BTF file
    #[command(after_help = "Example:\n  btfkit archive extract vmlinux --member 3 -o init_main.btf")]
    Extract {
        /// The archive (raw, or an ELF whose .BTF is one)
        file: PathBuf,
        /// Index of the member (0 is the first)
        #[arg(long)]
        member: usize,
        /// Output file (`-` for stdout)
        #[arg(short, long)]
        output: PathBuf,
        /// Stop at trailing bytes after archive members with a warning instead of failing
        #[arg(long)]
        lenient: bool,
        /// How strictly to check the member before writing it (a child of a
        /// base+children archive is checked as split BTF over member 0)
        #[arg(long, value_enum, default_value = "libbpf")]
        validate: ValidateArg,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the types of a BTF, exactly as `bpftool btf dump file` does
    #[command(
        after_help = "Examples:\n  btfkit dump                          # /sys/kernel/btf/vmlinux, raw\n  btfkit dump vmlinux --format json --pretty\n  btfkit dump ext4.ko --base /sys/kernel/btf/vmlinux\n  btfkit dump --format c --root task_struct > task.h\n  btfkit dump | head                   # a closed pipe ends quietly"
    )]
    Dump {
        /// BTF source: raw BTF, ELF (.o, .ko, vmlinux), .ko.xz/.ko.zst
        #[arg(default_value = DEFAULT_BTF)]
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
        #[arg(short, long, value_enum, default_value = "raw")]
        format: Format,
        /// Pretty-print JSON (bpftool -p); only with --format json
        #[arg(short, long)]
        pretty: bool,
        /// Order types like bpftool 7.5+ (sorted) instead of by id; only with --format c
        #[arg(long)]
        sort: bool,
        /// Dump only this type (name or id) and its dependencies; repeatable; only with --format c
        #[arg(long, value_name = "TYPE_NAME_OR_ID")]
        root: Vec<String>,
    },
    /// Count types per kind and measure the sections
    #[command(after_help = "Examples:\n  btfkit stat\n  btfkit stat ext4.ko --base vmlinux.btf --format json")]
    Stat {
        /// BTF source: raw BTF, ELF (.o, .ko, vmlinux), .ko.xz/.ko.zst
        #[arg(default_value = DEFAULT_BTF)]
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        format: ReportFormatArgs,
    },
    /// Inspect BTF archives (concatenated per-object BTF)
    #[command(subcommand)]
    Archive(ArchiveCmd),
    /// Compare two BTFs by meaning (structure), not by type id. Exit status:
    /// 0 equivalent, 1 different, 2 error
    #[command(
        after_help = "Examples:\n  btfkit diff standard.btf archive.dedup.btf\n  btfkit diff a.ko b.ko -B vmlinux --format json\n  \
btfkit diff old/ext4.ko new/ext4.ko --base-a old/vmlinux --base-b new/vmlinux\n\n\
-B/--base is the split base of both inputs; --base-a/--base-b give each its own."
    )]
    Diff {
        /// The first BTF (A)
        a: PathBuf,
        /// The second BTF (B)
        b: PathBuf,
        /// Base BTF of both A and B, when they are split BTF
        #[arg(short = 'B', long, conflicts_with_all = ["base_a", "base_b"])]
        base: Option<PathBuf>,
        /// Base BTF of A (when A is split BTF)
        #[arg(long)]
        base_a: Option<PathBuf>,
        /// Base BTF of B (when B is split BTF)
        #[arg(long)]
        base_b: Option<PathBuf>,
        /// Output format
        #[arg(short, long, value_enum, default_value = "text")]
        format: ReportFormat,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Merge BTFs in order (libbpf btf__add_btf) and deduplicate them (btf__dedup)
    #[command(after_help = "Inputs are raw BTF or ELF files; a BTF archive contributes all its members, in order.\n\
Output: with -o, raw BTF — except when the only input is an ELF file: then OUT is a copy of\n\
that ELF with its .BTF section replaced (non-allocated .BTF only). --detached writes raw BTF.\n\
Trailing inputs or members that repeat earlier ones byte for byte (an archive given twice) are\n\
neither parsed nor kept when a check shows that leaves the result unchanged (else they are merged):\n\
the output is libbpf's either way.\n\n\
Examples:\n  btfkit dedup a.o b.o -o merged.btf\n  btfkit dedup ext4.ko jbd2.ko --base vmlinux -o - > modules.btf\n  \
btfkit dedup .tmp_vmlinux.btf --detached .btf.vmlinux.bin   # archive -> one deduplicated BTF\n  \
btfkit dedup vmlinux.o -o vmlinux.new.o                     # rewrite .BTF in a copy\n  \
btfkit dedup vmlinux.o --in-place
  btfkit dedup --kernel vmlinux.o init/version-timestamp.o --detached vmlinux.btf
  btfkit dedup --kernel -B vmlinux --in-place drivers/foo/foo.ko      # module BTF, in place
  btfkit dedup --kernel -B vmlinux --in-place --each $(find . -name '*.ko')")]
    Dedup(DedupArgs),
    /// Print a shell completion script
    #[command(after_help = "Examples:\n  btfkit completions bash > /etc/bash_completion.d/btfkit\n  \
btfkit completions zsh > ~/.zfunc/_btfkit\n  btfkit completions fish > ~/.config/fish/completions/btfkit.fish")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these command definitions
    #[command(
        after_help = "Examples:\n  btfkit man > btfkit.1 && man ./btfkit.1\n  btfkit man dump     # the page of one command"
    )]
    Man {
        /// A command's page instead of the main one (e.g. dump, archive)
        command: Option<String>,
    },
    /// Check BTF files by every rule of the kernel's BTF verifier (BPF_BTF_LOAD), offline.
    /// Exit status: 0 the kernel would accept every file, 1 it would reject one, 2 a file is
    /// not readable as BTF
    #[command(after_help = "Each problem is printed as the kernel logs it: the type line, e.g.\n\
  [12] STRUCT foo size=4 vlen=1\nthen the member or entry line when there is one, then the kernel's message, e.g.\n\
  \tbar type_id=3 bits_offset=64 Member exceeds struct_size\n\
The first problem of a file is the one BPF_BTF_LOAD reports; the others are what it would find next.\n\
With -B, the files are split BTF checked as the kernel checks module BTF over vmlinux.\n\n\
Examples:\n  btfkit verify prog.bpf.o\n  btfkit verify ext4.ko -B /sys/kernel/btf/vmlinux\n  btfkit verify *.btf --format json")]
    Verify {
        /// BTF sources: raw BTF, ELF (.o, .ko, vmlinux), .ko.xz/.ko.zst
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Base BTF (vmlinux) for split BTF (modules)
        #[arg(short = 'B', long)]
        base: Option<PathBuf>,
        #[command(flatten)]
        format: ReportFormatArgs,
    },
}

/// `dedup --kernel`: finish a kernel image's BTF as `pahole -J` does (library: `btfkit::kernel`).
#[derive(clap::Args, Clone, Debug)]
struct KernelArgs {
    /// The inputs are a kernel image's objects (vmlinux.o + init/version-timestamp.o, or a
    /// linked vmlinux): after the merge and dedup, make ONE .data..percpu DATASEC with the
    /// final per-CPU offsets and keep pahole's function set, using the image's ELF symbols.
    /// With -B VMLINUX the input is a module (.ko, its .BTF an archive of per-object BTF, or
    /// a module finished before): split BTF over VMLINUX's BTF, deduplicated against it
    /// WITHOUT libbpf 1.7.0's leftover typedefs equal to base typedefs (module BTF must not
    /// carry those), one .data..percpu DATASEC at the module's per-CPU symbol values, the
    /// functions of the module's symbols, as `pahole -J --btf_base vmlinux` does
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
    /// With --kernel: keep a FUNC whose name the image has only with a compiler suffix
    /// (f.constprop.0, f.isra.0, ...): pahole >= 1.25's optimized_func (--btf_gen_optimized,
    /// in the kernel's pahole flags from 6.5 on)
    #[arg(long, requires = "kernel")]
    optimized_func: bool,
    /// With --kernel: add DECL_TAG "bpf_kfunc" (and "bpf_fastcall" for KF_FASTCALL) on the
    /// FUNC of every kfunc in the image's .BTF_ids kfunc sets (pahole >= 1.27's
    /// decl_tag_kfuncs, in Linux 6.12's pahole flags); for vmlinux.o and for modules
    #[arg(long, requires = "kernel")]
    kfunc_tags: bool,
    /// With --kernel -B --in-place: every input is a separate module, finished on its own, in
    /// parallel; a failed module is reported by name (exit status 2), the others are written
    #[arg(long, requires_all = ["kernel", "base", "in_place"])]
    each: bool,
    /// Threads for --each (default: one per core)
    #[arg(short = 'j', long, requires = "each", value_name = "N")]
    jobs: Option<usize>,
}

enum Fail {
    Input(Error),
    /// A command line that parses but cannot be carried out (e.g. `dedup` without an
    /// output); printed as `btfkit: error: MESSAGE`, exit status 2.
    Usage(String),
    Output(io::Error),
    /// Errors already reported (e.g. per file with --each): exit status 2.
    Failed,
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
    let base = match &args.base {
        Some(b) => Some(Arc::new(load_base(b, args.read.validate.into())?)),
        None => None,
    };
    // At the libbpf level, the kernel's verdict comes with the load (for one BTF, in the
    // same pass of checks).
    let read = args.read;
    let loader =
        loader(base, read.archive, read.lenient, read.validate).kernel_verdict(read.validate == ValidateArg::Libbpf);
    let loaded = load_with(file, &loader)?;
    if let Some(n) = loaded.kernel_problems {
        note_kernel_verdict(file, args.base.as_deref(), n);
    }
    Ok(loaded.btf)
}

/// Loads a base BTF (one BTF, not an archive) at the given level.
fn load_base(file: &Path, validation: btfkit::parse::Validation) -> Result<Btf, Error> {
    let loader = input::Loader::new().archive(input::ArchiveMode::Reject).validation(validation);
    loader.load(file).map(|l| l.btf)
}

impl From<ArchiveArg> for input::ArchiveMode {
    fn from(a: ArchiveArg) -> Self {
        match a {
            ArchiveArg::Merge => input::ArchiveMode::Merge,
            ArchiveArg::First => input::ArchiveMode::First,
        }
    }
}

/// The loader for `base`, `--archive`, `--lenient` and `--validate`.
fn loader(base: Option<Arc<Btf>>, archive: ArchiveArg, lenient: bool, validate: ValidateArg) -> input::Loader {
    input::Loader::new().base(base).archive(archive.into()).lenient(lenient).validation(validate.into())
}

/// Prints the loader's warnings.
fn warn_all(warnings: &[input::Warning]) {
    for w in warnings {
        eprintln!("btfkit: warning: {w}");
    }
}

/// Loads FILE, split BTF over `base` if given, reading it as `read` says.
fn load_over(file: &Path, base: Option<Arc<Btf>>, read: ReadArgs) -> Result<Btf, Error> {
    load_with(file, &loader(base, read.archive, read.lenient, read.validate)).map(|l| l.btf)
}

/// Loads FILE with `loader`, printing its warnings and a note for archives.
fn load_with(file: &Path, loader: &input::Loader) -> Result<input::Loaded, Error> {
    let loaded = loader.load(file)?;
    warn_all(&loaded.warnings);
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
    Ok(loaded)
}

/// A command line that parses but asks for something that does not apply:
/// clap's usage error for subcommand `sub` (exit status 2).
fn usage_error(sub: &str, kind: clap::error::ErrorKind, msg: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(sub) {
        Some(c) => c.error(kind, msg).exit(),
        None => cli.error(kind, msg).exit(),
    }
}

/// At the libbpf level: one note on stderr when the kernel would reject the BTF
/// (`n` problems).
fn note_kernel_verdict(file: &Path, base: Option<&Path>, n: usize) {
    if n > 0 {
        let base = base.map(|b| format!(" -B {}", b.display())).unwrap_or_default();
        eprintln!(
            "btfkit: note: the kernel would reject this BTF ({n} problem{}): btfkit verify {}{base}",
            if n == 1 { "" } else { "s" },
            file.display()
        );
    }
}

/// Output BTF is checked by the kernel's rules: an error with `--validate kernel`
/// (nothing is written), else a warning.
fn check_output(btf: &Btf, what: &str, strict: bool) -> Result<(), Error> {
    let problems = btf.validate(btfkit::parse::Validation::Kernel);
    let Some(first) = problems.first() else { return Ok(()) };
    let n = problems.len();
    let first = first.to_string().replace('\n', " ");
    if strict {
        return Err(Error::KernelWouldReject { what: what.to_string(), problems: n, first });
    }
    eprintln!(
        "btfkit: warning: the kernel would reject {what} ({n} problem{}; `btfkit verify` lists them), the first: {first}",
        if n == 1 { "" } else { "s" }
    );
    Ok(())
}

/// `btfkit verify`: every problem of every file, as the kernel logs it.
fn verify_cmd(files: &[PathBuf], base: Option<&Path>, json: bool, out: &mut impl Write) -> Result<u8, Fail> {
    let base = match base {
        Some(b) => Some(Arc::new(load_base(b, btfkit::parse::Validation::Libbpf)?)),
        None => None,
    };
    let mut status = 0u8;
    let mut objs = Vec::new();
    for f in files {
        let res = input::open(f)
            .and_then(|src| btfkit::validate::verify_bytes(src.btf_data(), base.clone()).map_err(|e| e.in_file(f)));
        let name = f.display().to_string();
        match res {
            Err(e) => {
                status = 2;
                if json {
                    objs.push(format!(
                        "{{\"file\":{},\"readable\":false,\"accepted\":false,\"error\":{},\"problems\":[]}}",
                        btfkit::validate::json_string(&name),
                        btfkit::validate::json_string(&e.to_string())
                    ));
                } else {
                    eprintln!("btfkit: error: {e}");
                }
            }
            Ok(problems) => {
                if !problems.is_empty() && status == 0 {
                    status = 1;
                }
                if json {
                    let list: Vec<String> = problems.iter().map(|p| p.to_json()).collect();
                    objs.push(format!(
                        "{{\"file\":{},\"readable\":true,\"accepted\":{},\"error\":null,\"problems\":[{}]}}",
                        btfkit::validate::json_string(&name),
                        problems.is_empty(),
                        list.join(",")
                    ));
                } else if problems.is_empty() {
                    writeln!(out, "{name}: the kernel would accept this BTF")?;
                } else {
                    let n = problems.len();
                    writeln!(
                        out,
                        "{name}: the kernel would reject this BTF ({n} problem{})",
                        if n == 1 { "" } else { "s" }
                    )?;
                    for p in &problems {
                        if p.type_line.is_empty() && p.id != btfkit::TypeId::VOID {
                            // The kernel names no type in this message.
                            writeln!(out, "{p} (type [{}])", p.id)?;
                        } else {
                            writeln!(out, "{p}")?;
                        }
                    }
                }
            }
        }
    }
    if json {
        writeln!(out, "[{}]", objs.join(","))?;
    }
    Ok(status)
}

fn archive_cmd(cmd: ArchiveCmd, out: &mut impl Write) -> Result<(), Fail> {
    match cmd {
        ArchiveCmd::List { file, format, lenient, validate } => {
            let src = input::open(&file)?;
            let data = src.btf_data();
            let layout = archive::walk(data, src.btf_offset, lenient).map_err(|e| e.in_file(&file))?;
            // Members are standalone BTFs, or (base+children archives) split BTFs over member 0.
            let opts =
                btfkit::parse::ParseOptions::new().with_validation(validate.into()).with_file_offset(src.btf_offset);
            let (members, split) =
                archive::parse_members_or_split(data, &layout, &opts).map_err(|e| e.in_file(&file))?;
            if split {
                eprintln!("btfkit: note: base+children archive: members 1.. are split BTF over member 0");
            }
            if validate == ValidateArg::Libbpf {
                let (mut n, mut bad) = (0, 0);
                for m in &members {
                    let k = m.validate(btfkit::parse::Validation::Kernel).len();
                    n += k;
                    bad += (k > 0) as usize;
                }
                if n > 0 {
                    eprintln!(
                        "btfkit: note: the kernel would reject {bad} of the {} members ({n} problems): btfkit verify FILE \
                         (after `btfkit archive extract`)",
                        members.len()
                    );
                }
            }
            let report = archive::Report::new(&layout, &members);
            if format.is_json() {
                writeln!(out, "{}", report.to_json())?;
            } else {
                out.write_all(report.to_text().as_bytes())?;
            }
        }
        ArchiveCmd::Build { base_member, children, output, read } => {
            let base_btf = Arc::new(load(&base_member, &InputArgs::with_base(None, read))?);
            let mut blobs = vec![btfkit::write::to_bytes(&base_btf)];
            for c in &children {
                let child = load_over(c, Some(base_btf.clone()), read)?;
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
        ArchiveCmd::Extract { file, member, output, lenient, validate } => {
            let src = input::open(&file)?;
            let data = src.btf_data();
            let layout = archive::walk(data, src.btf_offset, lenient).map_err(|e| e.in_file(&file))?;
            if let Some((at, why)) = &layout.stopped {
                eprintln!("btfkit: warning: {}: archive walk stopped at byte {at}: {why}", file.display());
            }
            let Some(m) = layout.members.get(member) else {
                return Err(Error::NoMember { index: member, count: layout.members.len() }.in_file(&file).into());
            };
            let bytes = &data[m.offset..m.offset + m.size];
            // Nothing is written unless the member reads at the --validate level:
            // standalone, or else as split BTF over member 0.
            let opts = btfkit::parse::ParseOptions::new()
                .with_validation(validate.into())
                .with_file_offset(src.btf_offset + m.offset);
            if let Err(e) = btfkit::parse::parse_with(bytes, &opts) {
                let first = layout.members.first().filter(|_| member > 0);
                let as_split = first.and_then(|b| {
                    let base_opts = opts.clone().with_file_offset(src.btf_offset + b.offset);
                    let (base, _) = btfkit::parse::parse_with(&data[b.offset..b.offset + b.size], &base_opts).ok()?;
                    btfkit::parse::parse_with(bytes, &opts.clone().with_base(Some(Arc::new(base)))).ok()
                });
                if as_split.is_none() {
                    return Err(e.in_file(&file).into());
                }
            }
            if output.as_os_str() == "-" {
                out.write_all(bytes)?;
            } else {
                btfkit::output::write_atomic(&output, bytes)?;
            }
        }
    }
    Ok(())
}

/// `btfkit dedup`'s arguments (clap parses them straight into this struct).
#[derive(clap::Args)]
struct DedupArgs {
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
    /// What to do with an input that is a BTF archive: merge all its members, or use the first
    #[arg(long, value_enum, default_value = "merge")]
    archive: ArchiveArg,
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
    /// are kept in the output, as libbpf's dedup keeps them. The output is checked by the
    /// kernel's rules: a warning when the kernel would reject it (an error, nothing
    /// written, with --validate kernel)
    #[arg(long, value_enum, default_value = "libbpf")]
    validate: ValidateArg,
    #[command(flatten)]
    kernel: KernelArgs,
}

/// `dedup --split`: every child of a base+children archive deduplicated
/// against the base, in parallel; the result is again a base+children archive.
fn split_dedup_cmd(a: DedupArgs, out: &mut impl Write) -> Result<(), Fail> {
    let t0 = std::time::Instant::now();
    let [file] = a.inputs.as_slice() else {
        return Err(Fail::Usage("--split takes one base+children archive".into()));
    };
    let Some(output) = &a.output else {
        return Err(Fail::Usage("--split needs -o OUT".into()));
    };
    let split = loader(None, a.archive, a.lenient, a.validate).load_split(file)?;
    warn_all(&split.warnings);
    let (base, children) = (split.base, split.children);
    let opts = btfkit::dedup::DedupOptions::new().with_force_collisions(a.force_collisions);
    let types_in: usize = children.iter().map(|c| c.types().len()).sum();
    let deduped = btfkit::dedup::dedup_each(children, &opts).map_err(|e| e.in_file(file))?;
    let deduped: Vec<Btf> = deduped.into_iter().map(|(c, _)| c).collect();
    let types_out: usize = deduped.iter().map(|c| c.types().len()).sum();
    for (i, c) in deduped.iter().enumerate() {
        check_output(c, &format!("deduplicated member {}", i + 1), a.validate == ValidateArg::Kernel)?;
    }
    let bytes = archive::build_split(&base, &deduped);
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

/// The options of `btfkit::kernel::finish` that `--kernel`'s flags set.
fn kernel_options(k: &KernelArgs) -> btfkit::kernel::KernelOptions {
    btfkit::kernel::KernelOptions::new()
        .with_skip_inconsistent_proto(k.skip_inconsistent_proto)
        .with_optimized_func(k.optimized_func)
}

/// `dedup --kernel`: reads the image (the first input or `--symbols-from`), runs the
/// library's pahole-like finish (`btfkit::kernel::finish_image`) and prints its report:
/// one summary line, one warning line when something cannot be recovered, one line
/// on kfunc tags.
fn kernel_finish(btf: &mut Btf, a: &DedupArgs) -> Result<(), Fail> {
    use btfkit::kernel::{Image, ImageOptions, finish_image};
    let image = a.kernel.symbols_from.as_ref().or(a.inputs.first()).ok_or_else(|| Fail::Usage("no input".into()))?;
    let opts = ImageOptions::new().with_kernel(kernel_options(&a.kernel)).with_kfunc_tags(a.kernel.kfunc_tags);
    // The image's symbols are needed, not its .BTF (--symbols-from may have none).
    let img = match input::open(image) {
        Err(Error::NoBtfSection { .. }) => Image::from_elf(&input::read_file(image)?, &opts),
        src => {
            let src = src?;
            if !src.is_elf {
                return Err(Fail::Usage(format!(
                    "{}: --kernel needs the kernel image's ELF symbols (give an ELF input or --symbols-from IMAGE)",
                    image.display()
                )));
            }
            Image::from_elf(&src.bytes, &opts)
        }
    }
    .map_err(|e| e.in_file(image))?;
    let r = finish_image(btf, &img, &opts)?;
    eprintln!("btfkit dedup --kernel: {}", r.summary());
    if let Some(w) = r.warning() {
        eprintln!("btfkit: warning: {w}");
    }
    if let Some(k) = r.kfunc_summary() {
        eprintln!("btfkit dedup --kernel: {k}");
    }
    Ok(())
}

fn dedup_cmd(a: DedupArgs, out: &mut impl Write) -> Result<(), Fail> {
    use btfkit::output::write_atomic;
    let t0 = std::time::Instant::now();
    if a.kernel.kernel && a.base.is_some() {
        return module_cmd(a, out);
    }
    if a.output.is_none() && a.detached.is_none() && !a.in_place {
        return Err(Fail::Usage("dedup needs -o OUT, --detached OUT or --in-place".into()));
    }
    let base = match &a.base {
        Some(b) => Some(Arc::new(load_base(b, a.validate.into())?)),
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
        return Err(Fail::Usage("--in-place needs exactly one ELF input".into()));
    }
    // Refuse an ELF that cannot be rewritten before doing any work.
    let writes_elf = a.in_place || a.output.as_ref().is_some_and(|o| o.as_os_str() != "-");
    if let (true, Some((_, src))) = (writes_elf, &single_elf) {
        src.check_btf_replaceable(a.keep_size)?;
    }
    // Every input's BTFs (--archive first: an archive's first member only), merged in order.
    let loader = loader(base, a.archive, a.lenient, a.validate);
    let opts = btfkit::dedup::DedupOptions::new().with_force_collisions(a.force_collisions);
    // Members fed in the current round (the feed runs again when copies
    // cannot be left out), for naming the merge in an error.
    let fed = std::sync::atomic::AtomicUsize::new(0);
    // The feed may run twice: copies are looked for only when every input
    // can be read again (a pipe cannot).
    let rereadable = a.inputs.iter().all(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
    // The last round's warnings, printed once.
    let warnings = std::cell::RefCell::new(Vec::new());
    let res = btfkit::dedup::dedup_fed(
        |seen, add| {
            fed.store(0, std::sync::atomic::Ordering::Relaxed);
            warnings.borrow_mut().clear();
            let mut no_copies = btfkit::feed::Seen::disabled();
            let seen = if rereadable { seen } else { &mut no_copies };
            seen.set_one_source(a.inputs.len() == 1);
            for p in &a.inputs {
                let count = |m| {
                    fed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    add(m)
                };
                let w = loader.for_each_member_fed(p, seen, count)?;
                warnings.borrow_mut().extend(w);
            }
            Ok(())
        },
        &opts,
    );
    warn_all(&warnings.borrow());
    // Type ids in a dedup error are ids of the merged BTF: name what was
    // merged (errors reading an input name their file already).
    let (mut btf, merged, stats) =
        res.map_err(|e| e.in_file(merged_label(&a.inputs, fed.load(std::sync::atomic::Ordering::Relaxed))))?;
    let (types_in, str_in, members) = (merged.types_in, merged.str_bytes_in, merged.members);
    let t_merge = t0.elapsed();
    if a.kernel.kernel {
        kernel_finish(&mut btf, &a)?;
    }
    check_output(&btf, "the deduplicated BTF", a.validate == ValidateArg::Kernel)?;
    let bytes = btfkit::write::to_bytes(&btf);
    if let Some(d) = &a.detached {
        write_atomic(d, &bytes)?;
    }
    let elf_target = if a.in_place { single_elf.as_ref().map(|(p, _)| p.clone()) } else { None };
    match (&a.output, elf_target) {
        (Some(o), _) if o.as_os_str() == "-" => out.write_all(&bytes)?,
        (Some(o), _) => match &single_elf {
            Some((_, src)) => write_atomic(o, &src.with_btf(&btf, a.keep_size)?)?,
            None => write_atomic(o, &bytes)?,
        },
        (None, Some(p)) => {
            let src = &single_elf.as_ref().expect("in-place has an ELF input").1;
            write_atomic(&p, &src.with_btf(&btf, a.keep_size)?)?;
        }
        (None, None) => {}
    }
    eprintln!(
        "btfkit dedup: {} inputs ({members} BTFs{}), types {types_in} -> {}, string bytes {str_in} -> {}, {:.3} s (load+merge+dedup {:.3} s)",
        a.inputs.len(),
        match merged.copies_left_out {
            0 => String::new(),
            n => format!(", {n} copies of earlier ones not merged again"),
        },
        stats.types_out,
        stats.str_bytes_out,
        t0.elapsed().as_secs_f64(),
        t_merge.as_secs_f64()
    );
    Ok(())
}

/// `dedup --kernel -B VMLINUX`: module BTF (library: `btfkit::kernel::module`), one module
/// or (`--each`) many in parallel.
fn module_cmd(a: DedupArgs, out: &mut impl Write) -> Result<(), Fail> {
    use btfkit::kernel::module;
    use std::io::IsTerminal;
    let t0 = std::time::Instant::now();
    let bad = |m: &str| -> Fail { Fail::Usage(format!("dedup --kernel -B (module BTF): {m}")) };
    if a.kernel.symbols_from.is_some() {
        return Err(bad("--symbols-from does not apply: a module's symbols are its own"));
    }
    if a.keep_size || a.archive == ArchiveArg::First || a.lenient {
        return Err(bad("--keep-size, --archive first and --lenient do not apply"));
    }
    if a.inputs.len() > 1 && !a.kernel.each {
        return Err(bad("several modules: add --each (with --in-place) to finish each on its own"));
    }
    if a.output.is_none() && a.detached.is_none() && !a.in_place {
        return Err(bad("needs --in-place, -o OUT or --detached OUT"));
    }
    let Some(base_path) = &a.base else { return Err(bad("needs -B VMLINUX")) };
    let base = Arc::new(load_base(base_path, a.validate.into())?);
    let opts = module::ModuleOptions::new()
        .with_kernel(kernel_options(&a.kernel))
        .with_kfunc_tags(a.kernel.kfunc_tags)
        .with_validation(a.validate.into())
        .with_refuse_kernel_rejects(a.validate == ValidateArg::Kernel);
    if a.kernel.each {
        let total = a.inputs.len();
        let tty = io::stderr().is_terminal();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let progress = |p: &Path, _: &Result<module::ModuleReport, Error>| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if tty {
                let name = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                eprint!("\r\x1b[Kbtfkit: [{n}/{total}] {name}");
            }
        };
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(j) = a.kernel.jobs {
            pool = pool.num_threads(j.max(1));
        }
        let pool = pool.build().map_err(|e| bad(&format!("thread pool: {e}")))?;
        let results = pool.install(|| module::finish_modules(&a.inputs, &base, &opts, progress));
        if tty {
            eprint!("\r\x1b[K");
        }
        let (mut failed, mut warned, mut unchanged, mut types_out) = (0usize, 0usize, 0usize, 0usize);
        for (p, r) in a.inputs.iter().zip(&results) {
            match r {
                Err(e) => {
                    failed += 1;
                    eprintln!("btfkit: error: {}", e.to_string().replace('\n', " "));
                    // Every error names its file; make sure of it.
                    if !e.to_string().contains(&p.display().to_string()) {
                        eprintln!("btfkit: (in {})", p.display());
                    }
                }
                Ok(rep) => {
                    warned += usize::from(rep.warning().is_some());
                    unchanged += usize::from(rep.unchanged);
                    types_out += rep.kernel.types_out;
                }
            }
        }
        eprintln!(
            "btfkit dedup --kernel --each: {total} modules, {} finished ({unchanged} unchanged), {failed} failed, {types_out} types in all, {:.3} s",
            total - failed,
            t0.elapsed().as_secs_f64()
        );
        if warned > 0 {
            eprintln!("btfkit: warning: {warned} modules have warnings (run one without --each to see them)");
        }
        if failed > 0 {
            return Err(Fail::Failed);
        }
        return Ok(());
    }
    let [path] = a.inputs.as_slice() else { return Err(bad("one module")) };
    let rep = if a.in_place {
        module::finish_module_file(path, &base, &opts)?
    } else {
        let elf = input::read_file(path)?;
        let (new_elf, rep) = module::finish_module_bytes(&elf, path, &base, &opts)?;
        if let Some(d) = &a.detached {
            let (btf, _) = module::module_btf(&elf, &base, &opts).map_err(|e| e.in_file(path))?;
            btfkit::output::write_atomic(d, &btfkit::write::to_bytes(&btf))?;
        }
        match &a.output {
            Some(o) if o.as_os_str() == "-" => {
                let (btf, _) = module::module_btf(&elf, &base, &opts).map_err(|e| e.in_file(path))?;
                out.write_all(&btfkit::write::to_bytes(&btf))?;
            }
            Some(o) => btfkit::output::write_atomic(o, &new_elf)?,
            None => {}
        }
        rep
    };
    eprintln!("btfkit dedup --kernel: {}: {}, {:.3} s", path.display(), rep.summary(), t0.elapsed().as_secs_f64());
    if let Some(w) = rep.warning() {
        eprintln!("btfkit: warning: {}: {w}", path.display());
    }
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
            if pretty && format != Format::Json {
                usage_error("dump", clap::error::ErrorKind::ArgumentConflict, "--pretty applies to --format json only");
            }
            if (sort || !root.is_empty()) && format != Format::C {
                let flag = if sort { "--sort" } else { "--root" };
                usage_error(
                    "dump",
                    clap::error::ErrorKind::ArgumentConflict,
                    &format!("{flag} applies to --format c only"),
                );
            }
            let btf = load(&file, &input)?;
            match format {
                Format::Raw => dump::raw::dump(&btf, &mut out)?,
                Format::Json => dump::json::dump(&btf, pretty, &mut out)?,
                Format::C => {
                    let roots = root.iter().map(|r| dump::c::resolve_root(&btf, r)).collect::<Result<Vec<_>, _>>()?;
                    let mut buf = Vec::new();
                    let r =
                        dump::c::render(&btf, &dump::c::Options::default().with_sort(sort).with_roots(roots), &mut buf);
                    out.write_all(&buf)?;
                    out.flush()?;
                    r?;
                }
            }
            // The process ends right after: skip freeing ~10^5 small allocations.
            std::mem::forget(btf);
        }
        Cmd::Stat { file, input, format } => {
            let btf = load(&file, &input)?;
            let s = Stats::of(&btf);
            if format.is_json() {
                writeln!(out, "{}", s.to_json())?;
            } else {
                out.write_all(s.to_text().as_bytes())?;
            }
        }
        Cmd::Archive(cmd) => archive_cmd(cmd, &mut out)?,
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "btfkit", &mut out);
        }
        Cmd::Man { command } => {
            let cmd = Cli::command();
            let page = match &command {
                None => cmd,
                Some(name) => match cmd.find_subcommand(name) {
                    // The page is named btfkit-NAME (clap wants a 'static name; the process ends soon).
                    Some(sub) => sub.clone().name(&*Box::leak(format!("btfkit-{name}").into_boxed_str())),
                    None => {
                        usage_error("man", clap::error::ErrorKind::InvalidValue, &format!("no command named '{name}'"))
                    }
                },
            };
            clap_mangen::Man::new(page).render(&mut out)?;
        }
        Cmd::Diff { a, b, base, base_a, base_b, format, read } => {
            let (base_a, base_b) = (base_a.or_else(|| base.clone()), base_b.or(base));
            let (a, b) =
                (load(&a, &InputArgs::with_base(base_a, read))?, load(&b, &InputArgs::with_base(base_b, read))?);
            let r = btfkit::diff::diff(&a, &b);
            status = if r.equivalent { 0 } else { 1 };
            let written = if format == ReportFormat::Json {
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
        Cmd::Verify { files, base, format } => {
            status = verify_cmd(&files, base.as_deref(), format.is_json(), &mut out)?;
        }
        Cmd::Dedup(args) => {
            if args.split && args.archive == ArchiveArg::First {
                usage_error(
                    "dedup",
                    clap::error::ErrorKind::ArgumentConflict,
                    "--split reads every member: it cannot take --archive first",
                );
            }
            if args.split {
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

impl Cmd {
    /// Whether the command reads its input at `--validate kernel`.
    fn kernel_level_asked(&self) -> bool {
        let v = match self {
            Cmd::Dump { input, .. } | Cmd::Stat { input, .. } => input.read.validate,
            Cmd::Diff { read, .. } => read.validate,
            Cmd::Dedup(a) => a.validate,
            Cmd::Archive(ArchiveCmd::List { validate, .. }) => *validate,
            Cmd::Archive(ArchiveCmd::Build { read, .. }) => read.validate,
            Cmd::Archive(ArchiveCmd::Extract { validate, .. }) => *validate,
            Cmd::Completions { .. } | Cmd::Man { .. } | Cmd::Verify { .. } => return false,
        };
        v == ValidateArg::Kernel
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let kernel_level_asked = cli.cmd.kernel_level_asked();
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(Fail::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Fail::Output(e)) => {
            eprintln!("btfkit: error writing output: {e}");
            ExitCode::from(2)
        }
        Err(Fail::Failed) => ExitCode::from(2),
        Err(Fail::Usage(msg)) => {
            eprintln!("btfkit: error: {msg}");
            ExitCode::from(2)
        }
        Err(Fail::Input(e)) => {
            eprintln!("btfkit: error: {e}");
            if breaks_kernel_rule(&e) && kernel_level_asked {
                eprintln!(
                    "btfkit: note: input is checked with the kernel's rules (`btfkit verify` lists every problem); \
                     `--validate libbpf` (the default) reads what libbpf accepts (gcc 12's -gbtf output, for one)"
                );
            }
            ExitCode::from(2)
        }
    }
}
