//! The `btfkit` command line: a thin layer over the library.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use btfkit::{dump, input, stat::Stats, Btf, Error};
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

#[derive(Subcommand)]
enum Cmd {
    /// Print the types of a BTF, exactly as `bpftool btf dump file` does
    #[command(after_help = "Examples:\n  btfkit dump                          # /sys/kernel/btf/vmlinux, raw\n  btfkit dump vmlinux --format json --pretty\n  btfkit dump ext4.ko --base /sys/kernel/btf/vmlinux\n  btfkit dump | head                   # a closed pipe ends quietly")]
    Dump {
        /// BTF source: raw BTF, ELF (.o, .ko, vmlinux), .ko.xz/.ko.zst
        #[arg(default_value = DEFAULT_BTF)]
        file: PathBuf,
        /// Base BTF for split BTF (kernel modules)
        #[arg(short = 'B', long)]
        base: Option<PathBuf>,
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
        #[arg(short = 'B', long)]
        base: Option<PathBuf>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
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

fn load(file: &Path, base: Option<&Path>) -> Result<Btf, Error> {
    let base = match base {
        Some(b) => Some(Arc::new(input::load(b, None)?)),
        None => None,
    };
    input::load(file, base)
}

fn run(cli: Cli) -> Result<(), Fail> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match cli.cmd {
        Cmd::Dump { file, base, format, pretty, sort, root } => {
            let btf = load(&file, base.as_deref())?;
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
        }
        Cmd::Stat { file, base, json } => {
            let btf = load(&file, base.as_deref())?;
            let s = Stats::of(&btf);
            if json {
                writeln!(out, "{}", s.to_json())?;
            } else {
                out.write_all(s.to_text().as_bytes())?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Fail::Output(e)) => {
            eprintln!("btfkit: error writing output: {e}");
            ExitCode::from(2)
        }
        Err(Fail::Input(e)) => {
            eprintln!("btfkit: error: {e}");
            ExitCode::from(2)
        }
    }
}
