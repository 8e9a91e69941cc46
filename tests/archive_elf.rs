//! The RFC flow on a small scale: objects each carrying `.BTF` (pahole -J),
//! linked with `ld -r` into an ELF whose `.BTF` is an archive; btfkit merges
//! and deduplicates it, writes it back into the ELF or as raw BTF.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};

const A: &str = "struct list { struct list *next; int v; };\nstruct shared { long x; struct list *l; };\nint fa(struct shared *s) { return s->l->v; }\n";
const B: &str = "struct list { struct list *next; int v; };\nstruct shared { long x; struct list *l; };\nstruct only_b { char c[4]; };\nlong fb(struct shared *s, struct only_b *o) { return s->x + o->c[0]; }\n";

/// Builds ab.o (an ELF whose .BTF holds two members) or None when tools are missing.
fn archive_object(tag: &str) -> Option<PathBuf> {
    for tool in ["gcc", "pahole", "ld"] {
        if !common::have(tool) {
            common::skip(&format!("{tool} not installed"));
            return None;
        }
    }
    let dir = common::root().join("target/test-archive-elf").join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, src) in [("a", A), ("b", B)] {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, src).unwrap();
        let o = dir.join(format!("{name}.o"));
        common::run_ok(Command::new("gcc").args(["-g", "-O1", "-c", "-o"]).arg(&o).arg(&c));
        common::run_ok(Command::new("pahole").arg("-J").arg(&o).env("LLVM_OBJCOPY", "objcopy"));
    }
    let ab = dir.join("ab.o");
    common::run_ok(Command::new("ld").arg("-r").arg("-o").arg(&ab).arg(dir.join("a.o")).arg(dir.join("b.o")));
    Some(ab)
}

fn sections_except_btf(p: &Path) -> Vec<(String, Vec<u8>)> {
    let data = std::fs::read(p).unwrap();
    let f = object::File::parse(&*data).unwrap();
    f.sections()
        .filter(|s| s.name().unwrap_or("") != ".BTF")
        .map(|s| (s.name().unwrap_or("").to_string(), s.data().unwrap_or(&[]).to_vec()))
        .collect()
}

#[test]
fn archive_in_elf_is_merged_written_back_and_loadable() {
    let Some(ab) = archive_object("merge") else { return };
    let dir = ab.parent().unwrap().to_path_buf();
    // Two members, seen by `archive list`.
    let list = common::run_ok(common::btfkit().args(["archive", "list", "--json"]).arg(&ab));
    let v: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(v["total_members"], 2, "{v}");

    // Raw result, and the ELF rewritten into a copy.
    let raw = dir.join("ab.btf");
    let new = dir.join("ab.new.o");
    let _ = std::fs::remove_file(&new);
    common::run_ok(common::btfkit().arg("dedup").arg(&ab).arg("--detached").arg(&raw).arg("-o").arg(&new));
    let merged = btfkit::parse::parse(&std::fs::read(&raw).unwrap()).unwrap();
    let names: Vec<String> = merged
        .iter()
        .filter(|(_, t)| t.kind() == btfkit::Kind::Struct)
        .map(|(_, t)| merged.name(t.name_off).into_owned())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "shared").count(), 1, "deduplicated: {names:?}");
    assert!(names.iter().any(|n| n == "only_b"), "{names:?}");
    assert_eq!(sections_except_btf(&new), sections_except_btf(&ab), "other sections keep their bytes");

    // In place on a copy gives the same file as -o.
    let copy = dir.join("ab.copy.o");
    std::fs::copy(&ab, &copy).unwrap();
    common::run_ok(common::btfkit().arg("dedup").arg(&copy).arg("--in-place"));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&new).unwrap());

    // The loader merges by default: dumping the archive ELF equals dumping the result.
    let via_archive = common::run_ok(common::btfkit().arg("dump").arg(&ab));
    let via_raw = common::run_ok(common::btfkit().arg("dump").arg(&raw));
    assert_eq!(via_archive, via_raw);
    let first_only = common::run_ok(common::btfkit().arg("dump").arg("--archive").arg("first").arg(&ab));
    assert_ne!(first_only, via_raw, "--archive first must show only member 0");

    if common::have("bpftool") {
        let theirs = common::run_ok(Command::new("bpftool").args(["btf", "dump", "file"]).arg(&new));
        let ours = common::run_ok(common::btfkit().arg("dump").arg(&raw));
        assert_eq!(theirs, ours, "bpftool reads the rewritten ELF's .BTF as the merged BTF");
    } else {
        common::skip("bpftool not installed");
    }
    common::assert_kernel_accepts("deduplicated archive", &std::fs::read(&raw).unwrap());
}

#[test]
fn failed_write_leaves_nothing() {
    let Some(ab) = archive_object("fail") else { return };
    let before = std::fs::read(&ab).unwrap();
    let out = common::btfkit().arg("dedup").arg(&ab).arg("-o").arg("/nonexistent-dir/x.o").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.o"));
    assert_eq!(std::fs::read(&ab).unwrap(), before);
}

#[test]
fn real_kernel_archive_dedup_matches_libbpf_and_allocated_btf_is_refused() {
    let Some(arch) = common::kernel_archive_file("archive.btf.xz") else {
        return common::skip_soft("../shared not present");
    };
    let shared = common::shared().unwrap().join("fixtures/kernel-archive");
    let out = common::root().join("target/test-archive-elf/kernel.dedup.btf");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    common::run_ok(common::btfkit().arg("dedup").arg(&arch).arg("-o").arg(&out));
    // libbpf 1.1's add_btf+dedup of the same 837 members (libbpf 1.7 gives the same bytes).
    let want = std::fs::read(shared.join("archive.dedup.libbpf-1.1.btf")).unwrap();
    assert!(std::fs::read(&out).unwrap() == want, "archive dedup differs from libbpf's");
    common::assert_kernel_accepts("deduplicated kernel archive", &want);

    let Some(vmlinux) = common::kernel_archive_file("vmlinux.archive.stripped.xz") else { return };
    let o = common::btfkit().arg("dedup").arg(&vmlinux).arg("--in-place").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("allocated section"));

    // --keep-size rewrites the allocated .BTF of the linked archive vmlinux in place,
    // padded: same section layout, one deduplicated BTF that bpftool and btfkit read
    // as libbpf's result.
    let new = out.with_file_name("vmlinux.keep-size");
    common::run_ok(common::btfkit().arg("dedup").arg(&vmlinux).arg("--keep-size").arg("-o").arg(&new));
    assert_eq!(sections_except_btf(&new), sections_except_btf(&vmlinux));
    let old_data = std::fs::read(&vmlinux).unwrap();
    let new_data = std::fs::read(&new).unwrap();
    let (fo, fnew) = (object::File::parse(&*old_data).unwrap(), object::File::parse(&*new_data).unwrap());
    let btf_range = |f: &object::File| f.section_by_name(".BTF").and_then(|s| s.file_range()).unwrap();
    assert_eq!(btf_range(&fo), btf_range(&fnew), ".BTF keeps its place and size");
    let syms =
        |f: &object::File| f.symbols().map(|s| (s.name().unwrap_or("").to_string(), s.address())).collect::<Vec<_>>();
    assert_eq!(syms(&fo), syms(&fnew), "symbols unchanged");
    let ours = common::run_ok(common::btfkit().arg("dump").arg(&new));
    let lib_raw = common::run_ok(common::btfkit().arg("dump").arg(shared.join("archive.dedup.libbpf-1.1.btf")));
    assert!(ours == lib_raw, "btfkit dump of the rewritten vmlinux differs from libbpf's result");
    if common::have("bpftool") {
        let theirs = common::run_ok(Command::new("bpftool").args(["btf", "dump", "file"]).arg(&new));
        let lib = common::run_ok(
            Command::new("bpftool").args(["btf", "dump", "file"]).arg(shared.join("archive.dedup.libbpf-1.1.btf")),
        );
        assert!(theirs == lib, "bpftool dump of the rewritten vmlinux differs from its dump of libbpf's result");
        assert!(ours == lib);
    }
}

/// The kernel accepts a BTF whose header carries zero padding (what --keep-size writes).
#[test]
fn kernel_accepts_padded_header() {
    let Some(shared) = common::shared() else { return common::skip_soft("../shared not present") };
    let raw = std::fs::read(shared.join("fixtures/kernel-archive/archive.dedup.libbpf-1.1.btf")).unwrap();
    let btf = btfkit::parse::parse(&raw).unwrap();
    assert!(btfkit::write::to_bytes_padded(&btf, raw.len() - 1).is_err(), "does not fit");
    for extra in [0usize, 1, 3, 4, 4099, 3 << 20] {
        let padded = btfkit::write::to_bytes_padded(&btf, raw.len() + extra).unwrap();
        let end = padded.len() - (extra & 3);
        assert!(padded[end - (raw.len() - 24)..end] == raw[24..], "the sections follow the padded header");
        assert_eq!(padded.len(), raw.len() + extra);
        let b = btfkit::parse::parse(&padded).unwrap();
        let a = btfkit::parse::parse(&raw).unwrap();
        assert_eq!(a.types(), b.types());
        if extra == 3 << 20 {
            common::assert_kernel_accepts("BTF with a 3 MiB zero header extension", &padded);
        }
    }
}
