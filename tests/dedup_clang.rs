//! Small multi-file C projects compiled with `clang -target bpf -g`: merge
//! and dedup of the objects' .BTF, compared with libbpf 1.7; and the
//! `btfkit dedup` command line on them.

mod common;
mod dedup_common;

use std::path::PathBuf;
use std::process::Command;

use btfkit::dedup::DedupOptions;
use btfkit::{input, write};
use dedup_common::{LBtf, assert_same};

/// Compiles tests/dedup_c/{a,b,c}.c; None (visibly skipped) without clang.
fn objects(tag: &str) -> Option<Vec<PathBuf>> {
    if !common::have("clang") {
        common::skip("clang not installed: cannot compile the C fixtures");
        return None;
    }
    let src = common::root().join("tests/dedup_c");
    let out = common::root().join(format!("target/tmp/dedup_c-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let mut objs = Vec::new();
    for f in ["a", "b", "c"] {
        let o = out.join(format!("{f}.o"));
        common::run_ok(
            Command::new("clang")
                .args(["-target", "bpf", "-g", "-O2", "-c"])
                .arg(src.join(format!("{f}.c")))
                .arg("-o")
                .arg(&o),
        );
        objs.push(o);
    }
    Some(objs)
}

fn libbpf_merge(raws: &[Vec<u8>]) -> Vec<u8> {
    let mut lb = LBtf::new(&raws[0]);
    for r in &raws[1..] {
        assert!(lb.add_btf(&LBtf::new(r)) > 0);
    }
    assert_eq!(lb.dedup(false), 0);
    lb.raw()
}

#[test]
fn bpf_objects_match_libbpf() {
    let Some(objs) = objects("lib") else { return };
    let raws: Vec<Vec<u8>> = objs.iter().map(|o| input::open(o).unwrap().btf_data().to_vec()).collect();
    // Every order of the three objects, and each alone.
    let orders: [&[usize]; 9] =
        [&[0], &[1], &[2], &[0, 1, 2], &[0, 2, 1], &[1, 0, 2], &[1, 2, 0], &[2, 0, 1], &[2, 1, 0]];
    for ord in orders {
        let mut ours = input::load(&objs[ord[0]], None).unwrap();
        for &i in &ord[1..] {
            ours.append(&input::load(&objs[i], None).unwrap()).unwrap();
        }
        ours.dedup(&DedupOptions::default()).unwrap();
        let sel: Vec<Vec<u8>> = ord.iter().map(|&i| raws[i].clone()).collect();
        assert_same(&write::to_bytes(&ours), &libbpf_merge(&sel), &format!("objects in order {ord:?}"));
    }
    let _ = std::fs::remove_dir_all(objs[0].parent().unwrap());
}

#[test]
fn cli_dedup_matches_libbpf_and_writes_safely() {
    let Some(objs) = objects("cli") else { return };
    let dir = objs[0].parent().unwrap().to_path_buf();
    let out = dir.join("merged.btf");
    let o = common::btfkit().arg("dedup").args(&objs).arg("-o").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("types") && err.contains("->") && err.contains("string bytes"), "summary: {err}");
    // clang's objects have DATASECs of size 0 (libbpf fills them in when loading):
    // one warning that the kernel would reject the output, then the summary.
    assert!(err.contains("warning: the kernel would reject the deduplicated BTF"), "{err}");
    assert_eq!(err.lines().count(), 2, "one warning and one summary line: {err}");
    let raws: Vec<Vec<u8>> = objs.iter().map(|o| input::open(o).unwrap().btf_data().to_vec()).collect();
    let expect = libbpf_merge(&raws);
    assert_same(&std::fs::read(&out).unwrap(), &expect, "CLI output file");

    // `-o -` writes the same bytes to stdout.
    let o = common::btfkit().arg("dedup").args(&objs).args(["-o", "-"]).output().unwrap();
    assert!(o.status.success());
    assert_eq!(o.stdout, expect);

    // On error the target is untouched and no temporary file is left.
    std::fs::write(&out, b"keep me").unwrap();
    let o =
        common::btfkit().arg("dedup").arg(&objs[0]).arg(dir.join("missing.o")).arg("-o").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_split_dedup_against_base() {
    let Some(shared) = common::shared() else {
        common::skip_soft("../shared fixtures missing");
        return;
    };
    let Some(mods) = common::debian_modules() else {
        common::skip_data("debian modules could not be unpacked");
        return;
    };
    let base = shared.join("fixtures/debian-6.1/vmlinux.btf");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![mods.join("modules")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() { dirs.push(e.path()) } else { files.push(e.path()) }
        }
    }
    files.sort();
    let pick: Vec<PathBuf> = files.into_iter().take(3).collect();
    let o = common::btfkit().arg("dedup").args(&pick).arg("--base").arg(&base).args(["-o", "-"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let base_raw = std::fs::read(&base).unwrap();
    let lbase = LBtf::new(&base_raw);
    let raws: Vec<Vec<u8>> = pick.iter().map(|p| input::open(p).unwrap().btf_data().to_vec()).collect();
    let mut lb = LBtf::new_split(&raws[0], &lbase);
    for r in &raws[1..] {
        assert!(lb.add_btf(&LBtf::new_split(r, &lbase)) > 0);
    }
    assert_eq!(lb.dedup(false), 0);
    assert!(o.stdout == lb.raw(), "split CLI output differs from libbpf");
}
