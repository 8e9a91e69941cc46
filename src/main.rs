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

fn run(cli: Cli) -> Result<u8, Fail> {
    let mut status = 0;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match cli.cmd {
        Cmd::Dump { file, base, format, pretty } => {
            let btf = load(&file, base.as_deref())?;
            match format {
                Format::Raw => dump::raw::dump(&btf, &mut out)?,
                Format::Json => dump::json::dump(&btf, pretty, &mut out)?,
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
        Cmd::Diff { a, b, base_a, base_b, format } => {
            let (a, b) = (load(&a, base_a.as_deref())?, load(&b, base_b.as_deref())?);
            let r = btfkit::diff::diff(&a, &b);
            if format == "json" {
                writeln!(out, "{}", r.to_json())?;
            } else {
                out.write_all(r.to_text().as_bytes())?;
            }
            status = if r.equivalent { 0 } else { 1 };
        }
    }
    out.flush()?;
    Ok(status)
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
            ExitCode::from(2)
        }
    }
}
