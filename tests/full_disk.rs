//! Crash-safe writes against a real full disk: a small tmpfs (mounted when
//! the test may mount, i.e. as root) that cannot hold btfkit's output. The
//! command must fail with exit status 2 and a message naming the file, leave
//! the target's old contents in place, and leave no temporary file behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `kib` KiB, unmounted on drop.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(name: &str, kib: u32) -> Option<SmallFs> {
        let dir = std::env::temp_dir().join(format!("btfkit-fulldisk-{name}-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            common::skip(&format!("cannot create {}: {e}", dir.display()));
            return None;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            // Visible, and fatal under BTFKIT_REQUIRE_ORACLES=1 (CI runs as root).
            common::skip(&format!(
                "cannot mount a small tmpfs here (needs root; running as {})",
                if common::is_root() { "root" } else { "non-root" }
            ));
            return None;
        }
        Some(SmallFs(dir))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn assert_failed_cleanly(out: &std::process::Output, target: &Path) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&*target.to_string_lossy()), "the message names the file: {err}");
    assert!(err.to_lowercase().contains("no space"), "the message says why: {err}");
}

#[test]
fn full_disk_keeps_the_old_output() {
    let Some(fs) = SmallFs::mount("dedup", 256) else { return };
    let Some(vmlinux) = common::host_vmlinux() else { return common::skip("host vmlinux BTF not readable") };
    let target = fs.0.join("out.btf");
    std::fs::write(&target, b"the previous output").unwrap();
    // A deduplicated vmlinux is megabytes: it cannot fit in 256 KiB.
    let out = common::btfkit().arg("dedup").arg(&vmlinux).arg("-o").arg(&target).output().unwrap();
    assert_failed_cleanly(&out, &target);
    assert_eq!(std::fs::read(&target).unwrap(), b"the previous output");
    assert_eq!(entries(&fs.0), ["out.btf"], "no temporary file is left");
}

#[test]
fn full_disk_keeps_the_elf_rewritten_in_place() {
    let Some(fs) = SmallFs::mount("inplace", 64) else { return };
    let obj = std::fs::read(common::root().join("tests/fixtures/gen/kinds.bpf.o")).unwrap();
    let target = fs.0.join("kinds.bpf.o");
    std::fs::write(&target, &obj).unwrap();
    // Fill the rest so that a second copy of the object cannot be written.
    let filler = fs.0.join("filler");
    let free = 64 * 1024 - obj.len().div_ceil(4096) * 4096;
    let _ = std::fs::write(&filler, vec![0u8; free]);
    let out = common::btfkit().arg("dedup").arg("--in-place").arg(&target).output().unwrap();
    assert_failed_cleanly(&out, &target);
    assert_eq!(std::fs::read(&target).unwrap(), obj, "the object is untouched");
    assert_eq!(entries(&fs.0), ["filler", "kinds.bpf.o"], "no temporary file is left");
}
