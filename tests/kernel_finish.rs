//! `btfkit dedup --kernel` on the real 6.1 kernel fixture (../shared/fixtures/kernel-archive):
//! one per-CPU DATASEC whose VARs sit where pahole put them in the standard build's BTF,
//! no more same-named FUNC groups than that BTF, and the kernel accepts the result.
//!
//! The fixture's `.BTF` archive ends with pahole's full standard BTF (member 836), which
//! already has a correct DATASEC; the objects-only run (members 0..835 with the ELF's
//! symbols via `--symbols-from`) proves the offsets are derived from the symbols.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use btfkit::{Btf, TypeKind, archive, parse};

struct Var {
    offset: u32,
    size: u32,
}

/// The `.data..percpu` DATASECs of `btf`: for each, its size and VARs by name.
fn percpu_datasecs(btf: &Btf) -> Vec<(u32, Vec<(String, Var)>)> {
    btf.iter()
        .filter(|(_, t)| btf.str_bytes(t.name_off) == Some(b".data..percpu".as_slice()))
        .filter_map(|(_, t)| match &t.kind {
            TypeKind::Datasec(d) => Some((
                d.size,
                d.vars
                    .iter()
                    .map(|v| {
                        let vt = btf.type_by_id(v.ty).expect("VAR id");
                        assert!(matches!(vt.kind, TypeKind::Var { .. }), "entry [{}] is a VAR", v.ty.0);
                        (btf.name(vt.name_off).into_owned(), Var { offset: v.offset, size: v.size })
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// Number of names that carry more than one FUNC.
fn same_named_func_groups(btf: &Btf) -> usize {
    let mut n: HashMap<String, usize> = HashMap::new();
    for (_, t) in btf.iter() {
        if matches!(t.kind, TypeKind::Func { .. }) {
            *n.entry(btf.name(t.name_off).into_owned()).or_default() += 1;
        }
    }
    n.values().filter(|&&c| c > 1).count()
}

fn fixtures() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let Some(shared) = common::shared() else {
        common::skip_soft("../shared not present");
        return None;
    };
    let vmlinux = common::kernel_archive_file("vmlinux.archive.stripped.xz")?;
    let archive = common::kernel_archive_file("archive.btf.xz")?;
    Some((vmlinux, archive, shared.join("fixtures/kernel-archive/standard.btf")))
}

/// Runs `btfkit dedup --kernel ARGS --detached OUT`, returns the result and stderr.
fn dedup_kernel(args: &[&Path], out: &Path) -> (Btf, String) {
    let o = common::btfkit().arg("dedup").arg("--kernel").args(args).arg("--detached").arg(out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    let bytes = std::fs::read(out).unwrap();
    common::assert_kernel_accepts(&format!("dedup --kernel {args:?}"), &bytes);
    (parse::parse(&bytes).unwrap(), stderr)
}

/// The checks of issue 14 against standard.btf; returns the number of VARs.
fn check_against_standard(ours: &Btf, standard: &Btf, what: &str) -> usize {
    let secs = percpu_datasecs(ours);
    assert_eq!(secs.len(), 1, "{what}: exactly one .data..percpu DATASEC");
    let std_secs = percpu_datasecs(standard);
    assert_eq!(std_secs.len(), 1);
    let (size, vars) = &secs[0];
    let (std_size, std_vars) = &std_secs[0];
    assert_eq!(size, std_size, "{what}: DATASEC size is the linked per-CPU section's");
    let std_by_name: HashMap<&str, &Var> = std_vars.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let mut last_end = 0;
    for (name, v) in vars {
        let Some(s) = std_by_name.get(name.as_str()) else { panic!("{what}: VAR {name} is not in standard.btf") };
        assert_eq!((v.offset, v.size), (s.offset, s.size), "{what}: VAR {name} offset/size");
        assert!(v.offset >= last_end, "{what}: sorted, non-overlapping at {name}");
        last_end = v.offset + v.size;
    }
    let ours_groups = same_named_func_groups(ours);
    let std_groups = same_named_func_groups(standard);
    assert!(ours_groups <= std_groups, "{what}: {ours_groups} same-named FUNC groups, standard has {std_groups}");
    vars.len()
}

#[test]
fn kernel_finish_matches_standard_per_cpu_layout() {
    let Some((vmlinux, archive_btf, std_path)) = fixtures() else { return };
    let standard = parse::parse(&std::fs::read(&std_path).unwrap()).unwrap();
    let dir = common::root().join("target/test-kernel-finish");
    std::fs::create_dir_all(&dir).unwrap();

    // The linked image, all 837 members (the last one is pahole's own BTF).
    let (all, stderr) = dedup_kernel(&[&vmlinux], &dir.join("all.btf"));
    let n_all = check_against_standard(&all, &standard, "all members");
    assert_eq!(n_all, 210, "{stderr}");

    // Members 0..835 only: the per-object BTFs, offsets relative to each object's section.
    let data = std::fs::read(&archive_btf).unwrap();
    let layout = archive::walk(&data, 0, false).unwrap();
    assert_eq!(layout.members.len(), 837);
    let objs = dir.join("objs-only.btf");
    std::fs::write(&objs, &data[..layout.members[836].offset]).unwrap();
    // The plain merge of those members: 87 DATASECs, 171 VARs at section-relative offsets.
    let plain = dir.join("objs-only.plain.btf");
    common::run_ok(common::btfkit().arg("dedup").arg(&objs).arg("--detached").arg(&plain));
    let plain_secs = percpu_datasecs(&parse::parse(&std::fs::read(&plain).unwrap()).unwrap());
    assert_eq!(plain_secs.len(), 87);
    let plain_vars: usize = plain_secs.iter().map(|s| s.1.len()).sum();
    assert_eq!(plain_vars, 171);
    let (ours, stderr) =
        dedup_kernel(&[&objs, Path::new("--symbols-from"), &vmlinux], &dir.join("objs-only.kernel.btf"));
    let n = check_against_standard(&ours, &standard, "objects only");
    assert_eq!(n, plain_vars, "every per-object VAR placed: {stderr}");
    assert_eq!(same_named_func_groups(&ours), 0, "pahole (no -j) encodes a name once");
    // The 39 VARs standard.btf has beyond ours sit in .data..percpu..* subsections; the
    // warning line counts them (plus one symbol pahole has no VAR for either).
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with(
                "btfkit: warning: no DWARF to recover 40 per-CPU variables (40 of them in .data..percpu..* subsections"
            ))
            .count(),
        1,
        "{stderr}"
    );
    // Per-CPU variables sorted and non-overlapping were checked; the kernel accepted both.
}

/// The library alone (load with the archive merged, `Image::from_elf`, `finish_image`)
/// gives the bytes `btfkit dedup --kernel` writes, and the report the CLI prints.
#[test]
fn library_finish_image_equals_the_cli() {
    use btfkit::kernel::{Image, ImageOptions, KernelOptions, finish_image};
    let Some((vmlinux, _, _)) = fixtures() else { return };
    let dir = common::root().join("target/test-kernel-finish");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("lib-vs-cli.btf");
    let args: [&Path; 4] =
        [Path::new("--kfunc-tags"), Path::new("--skip-inconsistent-proto"), Path::new("--optimized-func"), &vmlinux];
    let (_, stderr) = dedup_kernel(&args, &out);
    let cli = std::fs::read(&out).unwrap();
    let mut btf = btfkit::input::Loader::new().load(&vmlinux).unwrap().btf;
    let opts = ImageOptions::new()
        .with_kernel(KernelOptions::new().with_skip_inconsistent_proto(true).with_optimized_func(true))
        .with_kfunc_tags(true);
    let image = Image::from_elf(&std::fs::read(&vmlinux).unwrap(), &opts).unwrap();
    let rep = finish_image(&mut btf, &image, &opts).unwrap();
    assert!(btfkit::write::to_bytes(&btf) == cli, "library and CLI bytes differ");
    assert_eq!(rep.kernel.percpu_vars_out, 210);
    assert!(rep.summary().contains("names with inconsistent prototypes"), "{}", rep.summary());
    for line in [Some(rep.summary()), rep.kfunc_summary()] {
        let line = format!("btfkit dedup --kernel: {}", line.unwrap());
        assert!(stderr.lines().any(|l| l == line), "{line}\n{stderr}");
    }
    let warning = format!("btfkit: warning: {}", rep.warning().unwrap());
    assert!(stderr.lines().any(|l| l == warning), "{stderr}");
}

#[test]
fn kernel_needs_an_elf_for_symbols() {
    let Some((_, _, std_path)) = fixtures() else { return };
    let dir = common::root().join("target/test-kernel-finish");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("never.btf");
    let _ = std::fs::remove_file(&out);
    let o = common::btfkit().arg("dedup").arg("--kernel").arg(&std_path).arg("--detached").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--symbols-from"), "{e}");
    assert!(!out.exists(), "nothing written");
}

const PERCPU_A: &str = r#"#define PC(sec) __attribute__((section(".data..percpu" sec)))
struct fixed { char gs[40]; unsigned long canary; };
struct fixed fixed_percpu_data PC("..first") __attribute__((aligned(4096)));
int a_cnt PC("");
static int cnt PC("") = 1;
int rm_a PC("..read_mostly");
char stack[8192] PC("..page_aligned") __attribute__((aligned(4096)));
int fa(int x) { return cnt + a_cnt + x; }
static int helper(int y) { return y * cnt; }
int (*keep_a)(int) = helper;
"#;
const PERCPU_B: &str = r#"#define PC(sec) __attribute__((section(".data..percpu" sec)))
struct q { long head, tail; } __attribute__((aligned(64)));
static int cnt PC("") = 2;
long b_big[5] PC("");
struct q sq PC("..shared_aligned");
int fb(long z) { return cnt + (int)b_big[z] + (int)sq.head; }
static long helper(long y) { return y + cnt; }
long (*keep_b)(long) = helper;
"#;
/// A page-aligned per-CPU struct in plain `.data..percpu` (as perf's `bts_ctx`): the final
/// link aligns this object differently than `ld -r` did.
const PERCPU_D: &str = r#"#define PC(sec) __attribute__((section(".data..percpu" sec)))
struct big { char b[4096]; } __attribute__((aligned(4096)));
static struct big page_ctx PC("");
int fd(int i) { return page_ctx.b[i]; }
"#;
const PERCPU_C: &str = r#"#define PC(sec) __attribute__((section(".data..percpu" sec)))
static short cnt PC("") = 3;
int fc(void) { return cnt; }
"#;
/// The per-CPU part of include/asm-generic/vmlinux.lds.h's PERCPU_INPUT(64), at vaddr 0 as on x86_64.
const LDS: &str = "SECTIONS {\n  . = 0x1000000;\n  .text : { *(.text*) }\n  .data : { *(.data) }\n  \
.data..percpu 0 : AT(0x2000000) {\n    *(.data..percpu..first)\n    . = ALIGN(4096);\n    *(.data..percpu..page_aligned)\n    \
. = ALIGN(64);\n    *(.data..percpu..read_mostly)\n    . = ALIGN(64);\n    *(.data..percpu)\n    *(.data..percpu..shared_aligned)\n  }\n  \
. = 0x3000000;\n  .BTF : { *(.BTF) }\n}\n";

/// (name, offset, size) of every VAR of the one `.data..percpu` DATASEC, sorted.
fn var_triples(btf: &Btf) -> Vec<(String, u32, u32)> {
    let secs = percpu_datasecs(btf);
    assert_eq!(secs.len(), 1);
    let mut v: Vec<_> = secs[0].1.iter().map(|(n, v)| (n.clone(), v.offset, v.size)).collect();
    v.sort();
    v
}

fn func_names(btf: &Btf) -> Vec<String> {
    let mut v: Vec<String> = btf
        .iter()
        .filter(|(_, t)| matches!(t.kind, TypeKind::Func { .. }))
        .map(|(_, t)| btf.name(t.name_off).into_owned())
        .collect();
    v.sort();
    v
}

/// A miniature kernel: four objects with per-CPU variables in `.data..percpu` and its
/// subsections (one static name in three, of two sizes; one page-aligned object that the
/// final link shifts relative to `ld -r`'s layout), per-object BTF by pahole,
/// `ld -r` into vmlinux.o, and a final link of the objects with PERCPU_INPUT's order. `--kernel` on
/// vmlinux.o (layout computed) and on the linked image (symbols' values) give the same
/// BTF, and its VARs are where `pahole -J` on the linked image puts them.
#[test]
fn relocatable_vmlinux_o_gives_the_linked_offsets() {
    for tool in ["gcc", "pahole", "ld"] {
        if !common::have(tool) {
            return common::skip(&format!("{tool} not installed"));
        }
    }
    let dir = common::root().join("target/test-kernel-finish/mini");
    std::fs::create_dir_all(&dir).unwrap();
    let mut objs = Vec::new();
    for (name, src) in [("a", PERCPU_A), ("b", PERCPU_B), ("d", PERCPU_D), ("c", PERCPU_C)] {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, src).unwrap();
        let o = dir.join(format!("{name}.o"));
        common::run_ok(std::process::Command::new("gcc").args(["-g", "-O1", "-c", "-o"]).arg(&o).arg(&c));
        common::run_ok(std::process::Command::new("pahole").arg("-J").arg(&o).env("LLVM_OBJCOPY", "objcopy"));
        objs.push(o);
    }
    let vo = dir.join("vmlinux.o");
    common::run_ok(std::process::Command::new("ld").arg("-r").arg("-o").arg(&vo).args(&objs));
    std::fs::write(dir.join("v.lds"), LDS).unwrap();
    let vmlinux = dir.join("vmlinux");
    // The final link reads the objects, not vmlinux.o (as the kernel's does: vmlinux.a).
    common::run_ok(
        std::process::Command::new("ld")
            .args(["-T", "v.lds", "-e", "0", "-o", "vmlinux"])
            .args(&objs)
            .current_dir(&dir),
    );

    let (from_o, stderr) = dedup_kernel(&[&vo], &dir.join("k.o.btf"));
    let (from_linked, _) = dedup_kernel(&[&vmlinux], &dir.join("k.v.btf"));
    assert_eq!(std::fs::read(dir.join("k.o.btf")).unwrap(), std::fs::read(dir.join("k.v.btf")).unwrap());
    let _ = from_linked;
    // A raw archive with the symbols of an image that has no .BTF: the same result.
    common::run_ok(
        std::process::Command::new("objcopy")
            .args(["--dump-section", ".BTF=mini.archive.btf", "vmlinux", "junk"])
            .current_dir(&dir),
    );
    common::run_ok(
        std::process::Command::new("objcopy").args(["-R", ".BTF", "vmlinux", "vmlinux.nobtf"]).current_dir(&dir),
    );
    dedup_kernel(
        &[&dir.join("mini.archive.btf"), Path::new("--symbols-from"), &dir.join("vmlinux.nobtf")],
        &dir.join("k.raw.btf"),
    );
    assert_eq!(std::fs::read(dir.join("k.raw.btf")).unwrap(), std::fs::read(dir.join("k.v.btf")).unwrap());

    let std_out = dir.join("pahole.btf");
    let _ = std::fs::remove_file(&std_out); // pahole 1.24 does not truncate it
    common::run_ok(std::process::Command::new("pahole").arg("--btf_encode_detached").arg(&std_out).arg(&vmlinux));
    let pahole = parse::parse(&std::fs::read(&std_out).unwrap()).unwrap();
    let ours = var_triples(&from_o);
    let theirs = var_triples(&pahole);
    let expect = |n: &str, o: u32, s: u32| (n.to_string(), o, s);
    // pahole on the linked image also sees the subsection variables; per-object BTF does not.
    let sub = [
        expect("fixed_percpu_data", 0, 48),
        expect("rm_a", 12288, 4),
        expect("sq", 20544, 64),
        expect("stack", 4096, 8192),
    ];
    let theirs_main: Vec<_> = theirs.iter().filter(|t| !sub.contains(t)).cloned().collect();
    assert_eq!(theirs.len(), theirs_main.len() + sub.len(), "pahole: {theirs:?}");
    assert_eq!(ours, theirs_main, "the three static `cnt`s and the globals at pahole's offsets");
    assert_eq!(ours.iter().filter(|t| t.0 == "cnt").count(), 3);
    assert!(ours.iter().any(|t| t.0 == "page_ctx" && t.1 % 4096 == 0), "{ours:?}");
    assert_eq!(percpu_datasecs(&from_o)[0].0, percpu_datasecs(&pahole)[0].0, "DATASEC size");
    assert_eq!(func_names(&from_o), func_names(&pahole), "one `helper`, as pahole");
    assert!(
        stderr.contains("no DWARF to recover 4 per-CPU variables (4 of them in .data..percpu..* subsections"),
        "{stderr}"
    );

    // Damaged images: errors or some result, never a panic or a hang.
    let elf = std::fs::read(&vo).unwrap();
    let merged = {
        let o =
            common::btfkit().args(["dedup"]).arg(&vo).arg("--detached").arg(dir.join("plain.btf")).output().unwrap();
        assert!(o.status.success());
        parse::parse(&std::fs::read(dir.join("plain.btf")).unwrap()).unwrap()
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let layout = btfkit::kernel::PercpuLayout::default();
    for i in 0..300 {
        let mut bad = elf.clone();
        if i % 3 == 0 {
            bad.truncate((next() as usize) % elf.len());
        } else {
            for _ in 0..1 + i % 8 {
                let at = (next() as usize) % bad.len();
                bad[at] = next() as u8;
            }
        }
        if let Ok(syms) = btfkit::kernel::ImageSymbols::from_elf(&bad, &layout) {
            let mut b = merged.clone();
            let _ = btfkit::kernel::finish(&mut b, &syms, &Default::default());
        }
    }
}

/// On a built kernel tree (`BTFKIT_KERNEL_TREE=/path/to/linux`, e.g. one of
/// scripts/kernel-e2e.sh's trees): the per-CPU offsets btfkit computes from vmlinux.o
/// (PERCPU_INPUT layout) equal the linked vmlinux's symbol values, symbol for symbol,
/// and the area's size equals the linked `.data..percpu` section's.
#[test]
fn kernel_tree_vmlinux_o_layout_matches_vmlinux() {
    let Some(tree) = std::env::var_os("BTFKIT_KERNEL_TREE").map(PathBuf::from) else {
        return common::skip_soft("BTFKIT_KERNEL_TREE not set (a built kernel tree with vmlinux.o and vmlinux)");
    };
    use btfkit::kernel::{ImageSymbols, PercpuLayout};
    let read =
        |n: &str| ImageSymbols::from_elf(&std::fs::read(tree.join(n)).unwrap(), &PercpuLayout::default()).unwrap();
    let (o, v) = (read("vmlinux.o"), read("vmlinux"));
    assert!(o.relocatable && !v.relocatable);
    let key = |s: &btfkit::kernel::PercpuSymbol| (s.name.clone(), s.offset, s.size);
    let mut a: Vec<_> = o.percpu.iter().map(key).collect();
    let mut b: Vec<_> = v.percpu.iter().map(key).collect();
    a.sort();
    b.sort();
    // The final link may add per-CPU symbols of its own (none in 6.1): compare vmlinux.o's.
    let missing: Vec<_> = a.iter().filter(|s| b.binary_search(s).is_err()).take(10).collect();
    assert!(
        missing.is_empty(),
        "{} of {} vmlinux.o per-CPU symbols not at their vmlinux offset: {missing:?}",
        a.iter().filter(|s| b.binary_search(s).is_err()).count(),
        a.len()
    );
    assert_eq!(o.percpu_size, v.percpu_size, "per-CPU area size");
    eprintln!(
        "{}: {} per-CPU symbols, area {} bytes: vmlinux.o layout = vmlinux",
        tree.display(),
        a.len(),
        o.percpu_size
    );
}
