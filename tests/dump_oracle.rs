//! Oracle tests: btfkit's raw, JSON (-j) and pretty JSON (-p) dumps are
//! byte-for-byte what bpftool prints, for every committed fixture, the host
//! vmlinux, the Debian 6.1 vmlinux, its three ELF modules and all 4,023 of
//! its module BTFs (split over that vmlinux).
//!
//! Our side runs in-process (`input::load` + `dump::{raw,json}::dump`);
//! bpftool runs as a process. A mismatch names the file and the first
//! differing line.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use btfkit::Btf;
use common::*;
use fixtures::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fmt {
    Raw,
    Json,
    Pretty,
}

const ALL: &[Fmt] = &[Fmt::Raw, Fmt::Json, Fmt::Pretty];

fn bpftool_ok() -> bool {
    if have("bpftool") {
        return true;
    }
    skip("bpftool not installed");
    false
}

fn ours(btf: &Btf, fmt: Fmt) -> Vec<u8> {
    let mut out = Vec::new();
    match fmt {
        Fmt::Raw => btfkit::dump::raw::dump(btf, &mut out),
        Fmt::Json => btfkit::dump::json::dump(btf, false, &mut out),
        Fmt::Pretty => btfkit::dump::json::dump(btf, true, &mut out),
    }
    .unwrap();
    out
}

fn bpftool(fmt: Fmt, file: &Path, base: Option<&Path>) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("bpftool");
    match fmt {
        Fmt::Raw => {}
        Fmt::Json => {
            cmd.arg("-j");
        }
        Fmt::Pretty => {
            cmd.arg("-p");
        }
    }
    cmd.args(["btf", "dump", "file"]).arg(file);
    if let Some(b) = base {
        cmd.arg("-B").arg(b);
    }
    let out = cmd.output().map_err(|e| format!("spawn bpftool: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out.stdout)
}

/// Compares our dumps of `btf` with bpftool's dumps of `oracle_file`.
fn compare(btf: &Btf, oracle_file: &Path, base: Option<&Path>, fmts: &[Fmt]) -> Result<(), String> {
    for &fmt in fmts {
        let theirs = bpftool(fmt, oracle_file, base)?;
        let mine = ours(btf, fmt);
        if mine != theirs {
            return Err(format!("{} ({fmt:?}): {}", oracle_file.display(), first_diff(&mine, &theirs)));
        }
    }
    Ok(())
}

fn load(file: &Path, base: Option<Arc<Btf>>) -> Btf {
    btfkit::input::load(file, base).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn fixtures_match_bpftool() {
    if !bpftool_ok() {
        return;
    }
    let dir = scratch("oracle-fixtures");
    let mut failures = Vec::new();
    for f in FIXTURES {
        let base_path = f.base.map(fixture_path);
        if f.gcc_quirks {
            // gcc 12 emits INTs with encoding SIGNED|CHAR and FWDs with a size:
            // bpftool dumps them, btfkit rejects them like the kernel does.
            // Compare the rest of gcc's output after patching those.
            let (patched, quirks) = patch_gcc_quirks(f, &dir);
            eprintln!("{}: patched gcc quirks {quirks:?}", f.name);
            let btf = load(&patched, None);
            if let Err(e) = compare(&btf, &patched, None, ALL) {
                failures.push(e);
            }
            continue;
        }
        let btf = load_fixture(f).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let oracle = fixture_path(f.oracle.unwrap_or(f.name));
        if let Err(e) = compare(&btf, &oracle, base_path.as_deref(), ALL) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) differ:\n{}", failures.len(), failures.join("\n"));
    let _ = std::fs::remove_dir_all(dir);
}

/// The fixtures cover every BTF kind (so the oracle comparison does too).
#[test]
fn fixtures_cover_every_kind() {
    use std::collections::BTreeSet;
    let mut seen = BTreeSet::new();
    let mut signed_enum = false;
    let mut signed_enum64 = false;
    let mut kflag_struct = false;
    for f in FIXTURES.iter().filter(|f| !f.gcc_quirks) {
        let btf = load_fixture(f).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        for (_, t) in btf.iter() {
            seen.insert(t.kind() as u8);
            match &t.kind {
                btfkit::TypeKind::Enum(e) => signed_enum |= e.signed,
                btfkit::TypeKind::Enum64(e) => signed_enum64 |= e.signed,
                btfkit::TypeKind::Struct(c) => kflag_struct |= c.kflag,
                _ => {}
            }
        }
    }
    let missing: Vec<_> = btfkit::btf::Kind::ALL[1..].iter().filter(|k| !seen.contains(&(**k as u8))).collect();
    assert!(missing.is_empty(), "kinds missing from the fixtures: {missing:?}");
    assert!(signed_enum && signed_enum64 && kflag_struct);
}

fn vmlinux_case(path: &Path) {
    let t = Instant::now();
    let btf = load(path, None);
    if let Err(e) = compare(&btf, path, None, ALL) {
        panic!("{e}");
    }
    eprintln!("{}: {} types, raw/json/pretty equal ({:.1?})", path.display(), btf.types().len(), t.elapsed());
}

#[test]
fn host_vmlinux_matches_bpftool() {
    if !bpftool_ok() {
        return;
    }
    match host_vmlinux() {
        Some(p) => vmlinux_case(&p),
        None => skip_soft("/sys/kernel/btf/vmlinux not readable"),
    }
}

#[test]
fn debian_vmlinux_matches_bpftool() {
    if !bpftool_ok() {
        return;
    }
    match debian_vmlinux() {
        Some(p) => vmlinux_case(&p),
        None => skip("../shared/fixtures/debian-6.1/vmlinux.btf missing"),
    }
}

#[test]
fn debian_elf_modules_match_bpftool() {
    if !bpftool_ok() {
        return;
    }
    let (Some(vmlinux), mods) = (debian_vmlinux(), debian_elf_modules()) else {
        return skip("../shared/fixtures/debian-6.1 missing");
    };
    assert_eq!(mods.len(), 3, "expected crc7.ko, virtio_net.ko, ext4.ko");
    let base = Arc::new(load(&vmlinux, None));
    for m in &mods {
        let btf = load(m, Some(base.clone()));
        assert!(btf.start_id() > 1);
        compare(&btf, m, Some(&vmlinux), ALL).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Every one of the 4,023 Debian module BTFs, split over the Debian vmlinux:
/// raw and JSON for all, pretty JSON for every 16th.
#[test]
fn debian_all_modules_match_bpftool() {
    if !bpftool_ok() {
        return;
    }
    let Some(vmlinux) = debian_vmlinux() else {
        return skip("../shared/fixtures/debian-6.1/vmlinux.btf missing");
    };
    let Some(files) = debian_module_files() else {
        return skip("../shared/fixtures/debian-6.1/modules.tar.xz missing or not unpackable");
    };
    assert_eq!(files.len(), 4023, "expected all 4,023 Debian module BTFs");
    let t = Instant::now();
    let base = Arc::new(load(&vmlinux, None));
    let indexed: Vec<(usize, PathBuf)> = files.into_iter().enumerate().collect();
    let results = par_map(&indexed, threads(), |(i, f)| {
        let btf = match btfkit::input::load(f, Some(base.clone())) {
            Ok(b) => b,
            Err(e) => return Err(format!("{}: btfkit failed: {e}", f.display())),
        };
        let fmts: &[Fmt] = if i % 16 == 0 { ALL } else { &[Fmt::Raw, Fmt::Json] };
        compare(&btf, f, Some(&vmlinux), fmts)
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    eprintln!(
        "debian modules: {} compared (raw+json, pretty on {}), {} differ ({:.1?})",
        indexed.len(),
        indexed.len().div_ceil(16),
        failures.len(),
        t.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} modules differ from bpftool; first ones:\n{}",
        failures.len(),
        indexed.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}
