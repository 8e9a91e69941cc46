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
        let ours = common::run_ok(Command::new("bpftool").arg("btf").arg("dump").arg("file").arg(&path).arg("-B").arg(&base));
        let guest_path = dir.join(if grows { "ext4.ko" } else { "crc7.ko" });
        let want = common::run_ok(Command::new("bpftool").arg("btf").arg("dump").arg("file").arg(&guest_path).arg("-B").arg(&base));
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
