//! Round trips: parse → write gives back the very same bytes, for every
//! fixture, the host vmlinux, the Debian 6.1 vmlinux, its ELF modules and all
//! 4,023 of its module BTFs (split over the vmlinux).

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use btfkit::parse::{self, ParseOptions, Validation};
use btfkit::{Btf, write};
use common::*;
use fixtures::*;

/// Parses the BTF of `path` (raw, ELF, compressed) and writes it back;
/// returns the parsed BTF or where the bytes first differ.
/// At the default (libbpf) level: the fixtures include clang objects and gcc
/// output that the kernel's rules reject (tests/kernel_verifier.rs covers those).
fn round_trip(path: &Path, base: Option<Arc<Btf>>) -> Result<Btf, String> {
    round_trip_at(path, base, Validation::default())
}

fn round_trip_at(path: &Path, base: Option<Arc<Btf>>, validation: Validation) -> Result<Btf, String> {
    let src = btfkit::input::open(path).map_err(|e| e.to_string())?;
    let data = src.btf_data();
    let opts = ParseOptions::new()
        .with_base(base)
        .with_allow_trailing(false)
        .with_file_offset(src.btf_offset)
        .with_validation(validation);
    let (btf, used) = parse::parse_with(data, &opts).map_err(|e| format!("{}: {e}", path.display()))?;
    if used != data.len() {
        return Err(format!("{}: parse used {used} of {} bytes", path.display(), data.len()));
    }
    let out = write::to_bytes(&btf);
    if out != data {
        let at = out.iter().zip(data).position(|(a, b)| a != b).unwrap_or(out.len().min(data.len()));
        return Err(format!(
            "{}: written BTF differs from the input at BTF offset {at} (written {} bytes, input {})",
            path.display(),
            out.len(),
            data.len()
        ));
    }
    Ok(btf)
}

#[test]
fn fixtures_round_trip() {
    let dir = scratch("roundtrip-fixtures");
    for f in FIXTURES {
        let base = f.base.map(|b| Arc::new(round_trip(&fixture_path(b), None).unwrap()));
        let path = if f.gcc_quirks { patch_gcc_quirks(f, &dir).0 } else { fixture_path(f.name) };
        let btf = round_trip(&path, base.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!btf.types().is_empty(), "{}", f.name);
        // libbpf-level parsing keeps gcc's odd fields: the original writes back unchanged.
        let lenient = round_trip_at(&fixture_path(f.name), base, Validation::Libbpf).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lenient.types().iter().any(|t| t.quirks.is_some()), f.gcc_quirks, "{}", f.name);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The big-endian fixture is the little-endian one byte-swapped: same model,
/// and the writer swaps one into the other exactly.
#[test]
fn big_endian_fixture_matches_little_endian() {
    let le_bytes = std::fs::read(fixture_path("kinds.btf")).unwrap();
    let be_bytes = std::fs::read(fixture_path("kinds.bpfeb.btf")).unwrap();
    assert_ne!(le_bytes, be_bytes);
    let le = parse::parse(&le_bytes).unwrap();
    let be = parse::parse(&be_bytes).unwrap();
    assert_eq!(le.endian(), btfkit::btf::Endianness::Little);
    assert_eq!(be.endian(), btfkit::btf::Endianness::Big);
    assert_eq!(le, be);
    assert_eq!(write::to_bytes_endian(&le, btfkit::btf::Endianness::Big), be_bytes);
    assert_eq!(write::to_bytes_endian(&be, btfkit::btf::Endianness::Little), le_bytes);
    assert_eq!(write::to_bytes(&be), be_bytes);
}

/// The compressed copies hold the same BTF as the ELF they were made from.
#[test]
fn compressed_fixtures_equal_plain() {
    let plain = btfkit::input::load(&fixture_path("kinds.bpf.o"), None).unwrap();
    for name in ["kinds.bpf.o.xz", "kinds.bpf.o.zst"] {
        let src = btfkit::input::open(&fixture_path(name)).unwrap();
        assert!(src.is_elf && src.compressed.is_some(), "{name}");
        assert_eq!(btfkit::input::load(&fixture_path(name), None).unwrap(), plain, "{name}");
    }
    // The ELF's .BTF section is the raw fixture.
    assert_eq!(plain, btfkit::input::load(&fixture_path("kinds.btf"), None).unwrap());
}

#[test]
fn host_vmlinux_round_trips() {
    match host_vmlinux() {
        Some(p) => {
            round_trip(&p, None).unwrap_or_else(|e| panic!("{e}"));
        }
        None => skip_soft("/sys/kernel/btf/vmlinux not readable"),
    }
}

#[test]
fn debian_vmlinux_and_elf_modules_round_trip() {
    let Some(v) = debian_vmlinux() else {
        return skip_soft("../shared/fixtures/debian-6.1/vmlinux.btf missing");
    };
    let base = Arc::new(round_trip(&v, None).unwrap_or_else(|e| panic!("{e}")));
    let mods = debian_elf_modules();
    assert_eq!(mods.len(), 3);
    for m in mods {
        round_trip(&m, Some(base.clone())).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn debian_all_modules_round_trip() {
    let Some(v) = debian_vmlinux() else {
        return skip_soft("../shared/fixtures/debian-6.1/vmlinux.btf missing");
    };
    let Some(files) = debian_module_files() else {
        return skip_soft("../shared/fixtures/debian-6.1/modules.tar.xz missing or not unpackable");
    };
    assert_eq!(files.len(), 4023);
    let t = Instant::now();
    let base = Arc::new(btfkit::input::load(&v, None).unwrap());
    let results = par_map(&files, threads(), |f| round_trip(f, Some(base.clone())).map(|b| b.types().len()));
    let mut types = 0;
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(n) => types += n,
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "debian modules: {} round-tripped ({types} types), {} failed ({:.1?})",
        files.len(),
        failures.len(),
        t.elapsed()
    );
    assert!(failures.is_empty(), "{} modules fail:\n{}", failures.len(), failures[..failures.len().min(10)].join("\n"));
}
