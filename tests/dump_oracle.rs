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
            // bpftool dumps them; btfkit's libbpf level reads them as they are.
            let path = fixture_path(f.name);
            let btf = btfkit::input::Loader::new()
                .archive(btfkit::input::ArchiveMode::Reject)
                .validation(btfkit::parse::Validation::Libbpf)
                .load(&path)
                .map(|l| l.btf)
                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            if let Err(e) = compare(&btf, &path, None, ALL) {
                failures.push(e);
            }
            // The kernel level rejects them; with those fields patched the
            // rest of gcc's output reads at the kernel level and still matches.
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
        None => skip_soft("../shared/fixtures/debian-6.1/vmlinux.btf missing"),
    }
}

#[test]
fn debian_elf_modules_match_bpftool() {
    if !bpftool_ok() {
        return;
    }
    let (Some(vmlinux), mods) = (debian_vmlinux(), debian_elf_modules()) else {
        return skip_soft("../shared/fixtures/debian-6.1 missing");
    };
    assert_eq!(mods.len(), 3, "expected crc7.ko, virtio_net.ko, ext4.ko");
    let base = Arc::new(load(&vmlinux, None));
    for m in &mods {
        let btf = load(m, Some(base.clone()));
        assert!(btf.start_id() > btfkit::TypeId(1));
        compare(&btf, m, Some(&vmlinux), ALL).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Runs one bpftool process over many modules (`bpftool [-j] -B BASE batch
/// file F`, so the base is parsed once) and checks its output against ours,
/// module by module. Returns the modules checked, or None when the batch
/// output did not match (the caller then compares per process, which names
/// the module and line).
fn batch_check(mods: &[(PathBuf, Btf)], base: &Path, fmt: Fmt, dir: &Path, tag: usize) -> Option<usize> {
    let list = dir.join(format!("batch-{tag}-{fmt:?}.txt"));
    let mut lines = String::new();
    for (p, _) in mods {
        let s = p.to_str()?;
        if s.contains(['"', '\\', ' ', '\'']) {
            return None;
        }
        lines.push_str(&format!("btf dump file {s}\n"));
    }
    std::fs::write(&list, lines).ok()?;
    let mut cmd = Command::new("bpftool");
    if fmt == Fmt::Json {
        cmd.arg("-j");
    }
    let out = cmd.arg("-B").arg(base).arg("batch").arg("file").arg(&list).output().ok()?;
    // bpftool 7.1 ends every batch with "reading batch file failed: Bad file
    // descriptor" and status 255 (a stale errno checked after the loop), even
    // when all commands ran: accept exactly that failure.
    const STALE: &str = "reading batch file failed";
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stale_errno = !out.status.success()
        && (stderr.contains(STALE) || String::from_utf8_lossy(&out.stdout).contains(STALE))
        && !stderr.lines().any(|l| !l.contains(STALE) && !l.trim().is_empty());
    if !out.status.success() && !stale_errno {
        return None;
    }
    let theirs = out.stdout;
    let mut pos = 0;
    let mut expect = |bytes: &[u8]| {
        let ok = theirs.get(pos..pos + bytes.len()) == Some(bytes);
        pos += bytes.len();
        ok
    };
    if fmt == Fmt::Json && !expect(b"[") {
        return None;
    }
    for (i, (p, btf)) in mods.iter().enumerate() {
        let mut mine = ours(btf, fmt);
        if fmt == Fmt::Json {
            // In batch mode each dump is wrapped: {"command":[...],"output":DUMP}.
            assert_eq!(mine.pop(), Some(b'\n'));
            let head = format!(
                "{}{{\"command\":[\"btf\",\"dump\",\"file\",\"{}\"],\"output\":",
                if i > 0 { "," } else { "" },
                p.display()
            );
            mine = [head.as_bytes(), &mine, b"}"].concat();
        }
        if !expect(&mine) {
            return None;
        }
    }
    let mut rest = theirs.get(pos..)?;
    if fmt == Fmt::Json {
        // The stale-errno error is an element of the JSON array.
        let err = format!(",{{\"error\":\"{STALE}");
        if stale_errno && rest.starts_with(err.as_bytes()) {
            let end = rest.iter().position(|&b| b == b'}')?;
            rest = &rest[end + 1..];
        }
        rest = rest.strip_prefix(b"]")?;
        rest = rest.strip_prefix(b"\n").unwrap_or(rest);
    }
    rest.is_empty().then_some(mods.len())
}

/// Every one of the 4,023 Debian module BTFs, split over the Debian vmlinux:
/// raw and JSON for all (through bpftool's batch mode, one bpftool per
/// thread), and one bpftool process per module for raw and pretty JSON on
/// every 16th. Any batch mismatch falls back to one process per module.
#[test]
fn debian_all_modules_match_bpftool() {
    if !bpftool_ok() {
        return;
    }
    let Some(vmlinux) = debian_vmlinux() else {
        return skip_soft("../shared/fixtures/debian-6.1/vmlinux.btf missing");
    };
    let Some(files) = debian_module_files() else {
        return skip_soft("../shared/fixtures/debian-6.1/modules.tar.xz missing or not unpackable");
    };
    assert_eq!(files.len(), 4023, "expected all 4,023 Debian module BTFs");
    let t = Instant::now();
    let dir = scratch("oracle-modules");
    let base = Arc::new(load(&vmlinux, None));
    let n = threads();
    let chunks: Vec<(usize, &[PathBuf])> = files.chunks(files.len().div_ceil(n)).enumerate().collect();
    let results = par_map(&chunks, n, |&(tag, chunk)| {
        let mut failures = Vec::new();
        let mut mods = Vec::new();
        for f in chunk {
            match btfkit::input::load(f, Some(base.clone())) {
                Ok(b) => mods.push((f.clone(), b)),
                Err(e) => failures.push(format!("{}: btfkit failed: {e}", f.display())),
            }
        }
        let mut compared = 0;
        for fmt in [Fmt::Raw, Fmt::Json] {
            match batch_check(&mods, &vmlinux, fmt, &dir, tag) {
                Some(k) => compared += k,
                None => {
                    // Find and name the module(s) that differ.
                    for (f, btf) in &mods {
                        if let Err(e) = compare(btf, f, Some(&vmlinux), &[fmt]) {
                            failures.push(e);
                        }
                    }
                    if failures.is_empty() {
                        failures
                            .push(format!("chunk {tag}: {fmt:?} batch output differs, yet every module matches alone"));
                    }
                }
            }
        }
        // One process per module on a sample (raw and pretty).
        let mut sampled = 0;
        for (i, (f, btf)) in mods.iter().enumerate() {
            if (tag * chunk.len() + i) % 16 == 0 {
                sampled += 1;
                if let Err(e) = compare(btf, f, Some(&vmlinux), &[Fmt::Raw, Fmt::Pretty]) {
                    failures.push(e);
                }
            }
        }
        (compared, sampled, failures)
    });
    let compared: usize = results.iter().map(|r| r.0).sum();
    let sampled: usize = results.iter().map(|r| r.1).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    eprintln!(
        "debian modules: {} modules, {compared} raw+json dumps equal in batch, {sampled} raw+pretty per process, {} failures ({:.1?})",
        files.len(),
        failures.len(),
        t.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} module comparisons differ from bpftool; first ones:\n{}",
        failures.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(compared, 2 * files.len());
    let _ = std::fs::remove_dir_all(dir);
}

/// The batch comparison is not vacuous: pairing a module with another
/// module's BTF is caught, in both formats.
#[test]
fn batch_check_detects_a_difference() {
    if !bpftool_ok() {
        return;
    }
    let (Some(vmlinux), Some(files)) = (debian_vmlinux(), debian_module_files()) else {
        return skip_soft("../shared/fixtures/debian-6.1 missing");
    };
    let dir = scratch("oracle-batch-sanity");
    let base = Arc::new(load(&vmlinux, None));
    let mut mods: Vec<(PathBuf, Btf)> = files[..3].iter().map(|f| (f.clone(), load(f, Some(base.clone())))).collect();
    for fmt in [Fmt::Raw, Fmt::Json] {
        assert_eq!(batch_check(&mods, &vmlinux, fmt, &dir, 0), Some(3), "{fmt:?}");
    }
    let other = load(&files[3], Some(base.clone()));
    mods[1].1 = other;
    for fmt in [Fmt::Raw, Fmt::Json] {
        assert_eq!(batch_check(&mods, &vmlinux, fmt, &dir, 1), None, "{fmt:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
