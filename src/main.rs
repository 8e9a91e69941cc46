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
    /// Merge BTFs in order (libbpf btf__add_btf) and deduplicate them (btf__dedup)
    #[command(after_help = "Examples:\n  btfkit dedup a.o b.o -o merged.btf\n  btfkit dedup ext4.ko jbd2.ko --base vmlinux -o - > modules.btf")]
    Dedup {
        /// Inputs (raw BTF or ELF), merged in order into the first
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Base BTF: inputs are split BTF over it, and so is the output
        #[arg(short = 'B', long)]
        base: Option<PathBuf>,
        /// Output file (raw BTF); `-` for stdout
        #[arg(short, long)]
        output: PathBuf,
        /// libbpf's force_collisions (testing aid: slow, same result)
        #[arg(long)]
        force_collisions: bool,
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
        Cmd::Dedup { inputs, base, output, force_collisions } => {
            let t0 = std::time::Instant::now();
            let base = match base {
                Some(b) => Some(Arc::new(input::load(&b, None)?)),
                None => None,
            };
            let mut merged: Option<btfkit::dedup::Merger> = None;
            let (mut types_in, mut str_in) = (0usize, 0usize);
            for p in &inputs {
                let mut b = input::load(p, base.clone())?;
                b.types_mut().shrink_to_fit();
                types_in += b.types().len();
                str_in += b.strings().len();
                match &mut merged {
                    None => merged = Some(btfkit::dedup::Merger::new(b)),
                    Some(m) => {
                        m.append(b).map_err(|e| e.in_file(p))?;
                    }
                }
            }
            let Some(merged) = merged else { return Err(Fail::Input(Error::Invalid("no input".into()))) };
            let mut btf = merged.finish();
            let opts = btfkit::dedup::DedupOptions { force_collisions, ..Default::default() };
            let t_merge = t0.elapsed();
            let stats = btf.dedup(&opts)?;
            let bytes = btfkit::write::to_bytes(&btf);
            if output.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                btfkit::dedup::write_file_atomic(&output, &bytes)
                    .map_err(|source| Fail::Input(Error::Io { path: output.clone(), source }))?;
            }
            eprintln!(
                "btfkit dedup: {} inputs, types {} -> {}, string bytes {} -> {}, {:.3} s (load+merge {:.3} s)",
                inputs.len(),
                types_in,
                stats.types_out,
                str_in,
                stats.str_bytes_out,
                t0.elapsed().as_secs_f64(),
                t_merge.as_secs_f64()
            );
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
