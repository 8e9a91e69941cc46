//! Replacing `.BTF` in ELF files: other sections untouched, result readable by bpftool and readelf.

mod common;

use std::path::Path;
use std::process::Command;

use btfkit::elf::{self, Placement};
use object::{Object, ObjectSection};

fn section_map(data: &[u8]) -> Vec<(String, Vec<u8>, u64)> {
    let f = object::File::parse(data).unwrap();
    f.sections()
        .filter(|s| s.name().unwrap_or("") != ".BTF")
        .map(|s| (s.name().unwrap_or("").to_string(), s.data().unwrap_or(&[]).to_vec(), s.address()))
        .collect()
}

fn btf_of(data: &[u8]) -> Vec<u8> {
    let r = elf::find_btf_section(data, Path::new("x")).unwrap();
    data[r.offset..r.offset + r.size].to_vec()
}

#[test]
fn replace_shrinking_and_growing() {
    let Some(shared) = common::shared() else { return common::skip_soft("../shared not present") };
    let dir = shared.join("fixtures/debian-6.1/elf");
    let base = shared.join("fixtures/debian-6.1/vmlinux.btf");
    let big = std::fs::read(dir.join("ext4.ko")).unwrap();
    let small = std::fs::read(dir.join("crc7.ko")).unwrap();
    let out_dir = common::root().join("target/test-elf-rewrite");
    std::fs::create_dir_all(&out_dir).unwrap();

    for (host, guest, grows) in [(&big, &small, false), (&small, &big, true)] {
        let new_btf = btf_of(guest);
        let (out, placement) = elf::replace_section(host, Path::new("host.ko"), ".BTF", &new_btf).unwrap();
        assert_eq!(matches!(placement, Placement::Appended { .. }), grows, "{placement:?}");
        assert_eq!(btf_of(&out), new_btf);
        assert_eq!(section_map(&out), section_map(host), "other sections must keep their bytes");
        let path = out_dir.join(if grows { "grown.ko" } else { "shrunk.ko" });
        std::fs::write(&path, &out).unwrap();
        if common::have("readelf") {
            let o = Command::new("readelf").arg("-W").arg("-S").arg("-s").arg(&path).output().unwrap();
            assert!(o.status.success() && o.stderr.is_empty(), "readelf: {}", String::from_utf8_lossy(&o.stderr));
        }
        if !common::have("bpftool") {
            common::skip("bpftool not installed");
            continue;
        }
        let ours =
            common::run_ok(Command::new("bpftool").arg("btf").arg("dump").arg("file").arg(&path).arg("-B").arg(&base));
        let guest_path = dir.join(if grows { "ext4.ko" } else { "crc7.ko" });
        let want = common::run_ok(
            Command::new("bpftool").arg("btf").arg("dump").arg("file").arg(&guest_path).arg("-B").arg(&base),
        );
        assert!(ours == want, "bpftool sees a different BTF in the rewritten ELF");
    }
}

#[test]
fn allocated_btf_is_refused_with_reason() {
    let Some(p) = common::kernel_archive_file("vmlinux.archive.stripped.xz") else {
        return common::skip_soft("../shared not present");
    };
    let data = std::fs::read(&p).unwrap();
    let err = elf::replace_section(&data, &p, ".BTF", b"x").unwrap_err().to_string();
    assert!(err.contains("allocated section") && err.contains("--detached"), "{err}");
}

/// A `.BTF` whose file range overlaps something else (here: moved onto the
/// ELF header, or onto the next section) is refused before anything is
/// written: writing over it would corrupt the file. Found by the elf_rewrite
/// fuzz target.
#[test]
fn overlapping_btf_section_is_refused() {
    let obj = std::fs::read(common::root().join("tests/fixtures/gen/kinds.bpf.o")).unwrap();
    let f = object::File::parse(&*obj).unwrap();
    let btf = f.section_by_name(".BTF").unwrap();
    // The first section with contents (right after the ELF header).
    let other = f
        .sections()
        .filter(|s| s.name().is_ok_and(|n| n != ".BTF") && s.file_range().is_some_and(|r| r.1 > 0))
        .min_by_key(|s| s.file_range().unwrap().0)
        .unwrap();
    let (other_off, _) = other.file_range().unwrap();
    // Elf64_Ehdr: e_shoff at 40; Elf64_Shdr: 64 bytes, sh_offset at 24.
    let shoff = u64::from_le_bytes(obj[40..48].try_into().unwrap()) as usize;
    let at = shoff + btf.index().0 * 64 + 24;
    for (new_off, what) in [(0u64, "the ELF header"), (other_off, "section [")] {
        let mut bad = obj.clone();
        bad[at..at + 8].copy_from_slice(&new_off.to_le_bytes());
        let err = elf::replace_section(&bad, Path::new("bad.o"), ".BTF", b"tiny").unwrap_err().to_string();
        assert!(err.contains("bad.o") && err.contains("overlaps") && err.contains(what), "{err}");
        let old_size = btf.file_range().unwrap().1 as usize;
        let padded = btfkit::write::to_bytes_padded(&btfkit::parse::parse(&btf_of(&obj)).unwrap(), old_size).unwrap();
        assert!(elf::replace_section_same_size(&bad, Path::new("bad.o"), ".BTF", &padded).is_err());
    }
    // The untouched object is fine.
    assert!(elf::replace_section(&obj, Path::new("ok.o"), ".BTF", b"tiny").is_ok());
}

/// Only a PROGBITS `.BTF` that nothing links to is rewritten: a file whose
/// section name table is itself called `.BTF` (another elf_rewrite fuzz
/// find: writing over it lost every section name), or whose `.BTF` is some
/// section's sh_link, is refused.
#[test]
fn btf_that_is_not_plain_data_is_refused() {
    let obj = std::fs::read(common::root().join("tests/fixtures/gen/kinds.bpf.o")).unwrap();
    let f = object::File::parse(&*obj).unwrap();
    let idx = f.section_by_name(".BTF").unwrap().index().0;
    let shoff = u64::from_le_bytes(obj[40..48].try_into().unwrap()) as usize;
    let hdr = shoff + idx * 64;
    // sh_type (at 4) = SHT_STRTAB
    let mut bad = obj.clone();
    bad[hdr + 4..hdr + 8].copy_from_slice(&3u32.to_le_bytes());
    let err = elf::replace_section(&bad, Path::new("bad.o"), ".BTF", b"tiny").unwrap_err().to_string();
    assert!(err.contains("not a PROGBITS section"), "{err}");
    // Another section's sh_link (at 40) pointing at .BTF.
    let other = f.sections().find(|s| s.index().0 != idx && s.index().0 != 0).unwrap().index().0;
    let mut bad = obj.clone();
    let at = shoff + other * 64 + 40;
    bad[at..at + 4].copy_from_slice(&(idx as u32).to_le_bytes());
    let err = elf::replace_section(&bad, Path::new("bad.o"), ".BTF", b"tiny").unwrap_err().to_string();
    assert!(err.contains("links to .BTF"), "{err}");
    // The fuzzer's file: the section name table is named .BTF.
    let seed = std::fs::read(common::root().join("fuzz/seeds/elf-btf-is-shstrtab.o")).unwrap();
    assert!(elf::replace_section(&seed, Path::new("seed.o"), ".BTF", b"tiny").is_err());
}
