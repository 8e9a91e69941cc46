//! Reduced CI check of issue #9 (no kernel build): the vmlinux BTF step of
//! scripts/kernel-e2e/btfkit-kbuild.patch, applied to the fixture's archive vmlinux
//! (../shared/fixtures/kernel-archive/vmlinux.archive.stripped.xz, whose `.BTF` is a
//! real per-object BTF archive), yields one BTF that BPF_BTF_LOAD accepts.
//!
//! The commands are the patch's own: `btfkit dedup ... --detached .btf.vmlinux.bin`, then
//! `objcopy --only-section=.BTF --update-section .BTF=... --strip-all` and
//! link-vmlinux.sh's `objcopy --only-section=.BTF --set-section-flags .BTF=alloc,readonly
//! --strip-all` and its e_type patch.  The test first checks that the patch still contains them.

mod common;

use std::process::Command;

const PATCH: &str = include_str!("../scripts/kernel-e2e/btfkit-kbuild.patch");

fn objcopy(args: &[&str], dir: &std::path::Path) {
    common::run_ok(Command::new("objcopy").args(args).current_dir(dir));
}

#[test]
fn link_step_on_fixture_archive_loads() {
    // The patch must still run exactly these commands (keep this test in step with it).
    for line in [
        "+\t${BTFKIT:-btfkit} dedup --kernel vmlinux.o init/version-timestamp.o --detached ${2%.o}",
        "+\t${OBJCOPY} --only-section=.BTF --update-section .BTF=${2%.o} --strip-all vmlinux.o ${1}",
        "+\t\tKEEP(*.btf.vmlinux.bin.o(.BTF))",
        "+\t/DISCARD/ : { *(.BTF) }",
        // Makefile.modfinal: each module's BTF (issue #15)
        "+\t\t$${BTFKIT:-btfkit} dedup --kernel -B vmlinux --in-place $@;",
    ] {
        assert!(PATCH.lines().any(|l| l.starts_with(line)), "btfkit-kbuild.patch lost: {line}");
    }
    let out = common::btfkit().arg("dedup").arg("--help").output().unwrap();
    if !out.status.success() {
        // `dedup` lands on main from its own branch; until then there is nothing to test.
        return common::skip_soft("btfkit has no `dedup` subcommand yet");
    }
    if !common::have("objcopy") {
        return common::skip("objcopy (binutils) not installed");
    }
    let Some(vmlinux) = common::kernel_archive_file("vmlinux.archive.stripped.xz") else {
        return common::skip_soft("../shared/fixtures/kernel-archive not present");
    };
    let dir = common::root().join(format!("target/tmp-kernel-e2e-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("init")).unwrap();
    // vmlinux.o's .BTF is the archive (here the whole archive vmlinux); version-timestamp.o
    // is an ELF object holding member 794, which is init/version-timestamp.o's own BTF.
    std::fs::copy(&vmlinux, dir.join("vmlinux.o")).unwrap();
    common::run_ok(
        common::btfkit().args(["archive", "extract", "vmlinux.o", "--member", "794", "-o", "vt.btf"]).current_dir(&dir),
    );
    objcopy(
        &[
            "-I",
            "binary",
            "-O",
            "elf64-x86-64",
            "-B",
            "i386:x86-64",
            "--rename-section",
            ".data=.BTF",
            "--strip-all",
            "vt.btf",
            "init/version-timestamp.o",
        ],
        &dir,
    );

    let run = common::run_ok(
        common::btfkit()
            .args(["dedup", "--kernel", "vmlinux.o", "init/version-timestamp.o", "--detached", ".btf.vmlinux.bin"])
            .current_dir(&dir),
    );
    let _ = run;
    // --kernel: one per-CPU DATASEC.
    let merged = btfkit::parse::parse(&std::fs::read(dir.join(".btf.vmlinux.bin")).unwrap()).unwrap();
    let secs = merged.iter().filter(|(_, t)| t.kind() == btfkit::Kind::Datasec).count();
    assert_eq!(secs, 1, "dedup --kernel leaves one DATASEC");
    objcopy(
        &[
            "--only-section=.BTF",
            "--update-section",
            ".BTF=.btf.vmlinux.bin",
            "--strip-all",
            "vmlinux.o",
            ".tmp_vmlinux.btf",
        ],
        &dir,
    );
    objcopy(
        &[
            "--only-section=.BTF",
            "--set-section-flags",
            ".BTF=alloc,readonly",
            "--strip-all",
            ".tmp_vmlinux.btf",
            ".btf.vmlinux.bin.o",
        ],
        &dir,
    );
    // link-vmlinux.sh: `printf '\1\0' | dd of=${2} conv=notrunc bs=1 seek=16` (e_type = ET_REL).
    // In a kernel build ${1} comes from vmlinux.o and is ET_REL already; here vmlinux.o
    // is the fixture's linked vmlinux (ET_EXEC), so this step matters.
    let obj = dir.join(".btf.vmlinux.bin.o");
    let mut elf = std::fs::read(&obj).unwrap();
    elf[16..18].copy_from_slice(&[1, 0]);
    std::fs::write(&obj, &elf).unwrap();
    objcopy(&["--dump-section", ".BTF=linked.btf", ".btf.vmlinux.bin.o", "junk.o"], &dir);

    let raw = std::fs::read(dir.join(".btf.vmlinux.bin")).unwrap();
    let linked = std::fs::read(dir.join("linked.btf")).unwrap();
    assert!(raw == linked, ".btf.vmlinux.bin.o's .BTF differs from btfkit's output");
    // One BTF, not an archive: the header's lengths cover all of it.
    let u32at = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().unwrap()) as usize;
    assert_eq!(&raw[..2], &[0x9f, 0xeb], "BTF magic");
    let (hl, to, tl, so, sl) = (u32at(4), u32at(8), u32at(12), u32at(16), u32at(20));
    assert_eq!(hl + (to + tl).max(so + sl), raw.len(), "output is not exactly one BTF");
    // The section is SHF_ALLOC in an ET_REL object, as link-vmlinux.sh needs.
    let hdr = common::run_ok(Command::new("readelf").args(["-hSW", ".btf.vmlinux.bin.o"]).current_dir(&dir));
    let hdr = String::from_utf8_lossy(&hdr);
    assert!(hdr.contains("REL (Relocatable file)"), "{hdr}");
    assert!(hdr.lines().any(|l| l.contains(" .BTF ") && l.contains(" A ")), "{hdr}");

    common::assert_kernel_accepts("fixture archive after the kernel-e2e link step", &raw);
    let _ = std::fs::remove_dir_all(&dir);
}
