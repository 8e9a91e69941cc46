//! Shared test helpers: locating fixtures and oracles, skipping visibly.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether missing oracles/data must fail the test (CI sets BTFKIT_REQUIRE_ORACLES=1).
pub fn require_oracles() -> bool {
    std::env::var("BTFKIT_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// Prints a visible skip message, or panics under BTFKIT_REQUIRE_ORACLES=1.
pub fn skip(why: &str) {
    if require_oracles() {
        panic!("required oracle or data missing: {why}");
    }
    eprintln!("skipped: {why}");
}

/// For data from ../shared: a soft skip when ../shared is absent (the
/// project must pass without it), a [`skip`] (fatal under
/// BTFKIT_REQUIRE_ORACLES=1) when it is present but the data is not usable.
pub fn skip_data(why: &str) {
    if shared().is_none() {
        skip_soft(&format!("{why} (../shared not present)"));
    } else {
        skip(why);
    }
}

/// Like [`skip`] but never fails: for data that CI may legitimately lack.
pub fn skip_soft(why: &str) {
    eprintln!("skipped: {why}");
}

/// Whether an external program is runnable.
pub fn have(prog: &str) -> bool {
    Command::new(prog).arg("--version").output().is_ok_and(|o| o.status.success())
        || Command::new(prog).arg("version").output().is_ok_and(|o| o.status.success())
}

/// `../shared` next to the project, if present.
pub fn shared() -> Option<PathBuf> {
    let p = root().join("../shared");
    p.join("fixtures").is_dir().then_some(p)
}

/// Unpacks ../shared/fixtures/debian-6.1/modules.tar.xz under target/ once;
/// returns the folder holding `modules/`.
pub fn debian_modules() -> Option<PathBuf> {
    let shared = shared()?;
    let dest = root().join("target/fixtures/debian-6.1");
    let marker = dest.join(".unpacked");
    // Tests of one binary run on several threads that share the process id
    // used for the temp dir below: let one thread unpack while the others wait.
    static UNPACK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = UNPACK.lock().unwrap_or_else(|e| e.into_inner());
    if !marker.exists() {
        std::fs::create_dir_all(&dest).ok()?;
        let lock = dest.join(".lock");
        // Several test binaries may race here; unpack into a temp dir and rename.
        let tmp = dest.join(format!(".tmp-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).ok()?;
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&tmp)
            .arg("-xJf")
            .arg(shared.join("fixtures/debian-6.1/modules.tar.xz"))
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        if !dest.join("modules").exists() {
            let _ = std::fs::rename(tmp.join("modules"), dest.join("modules"));
        }
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::write(&marker, b"");
        let _ = lock;
    }
    Some(dest)
}

/// Unpacks one xz file of ../shared/fixtures/kernel-archive under target/ once.
pub fn kernel_archive_file(name_xz: &str) -> Option<PathBuf> {
    let shared = shared()?;
    let src = shared.join("fixtures/kernel-archive").join(name_xz);
    let dest_dir = root().join("target/fixtures/kernel-archive");
    let dest = dest_dir.join(name_xz.trim_end_matches(".xz"));
    if !dest.exists() {
        std::fs::create_dir_all(&dest_dir).ok()?;
        let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
        let out = std::fs::File::create(&tmp).ok()?;
        let ok = Command::new("xz").arg("-dc").arg(&src).stdout(out).status().is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        std::fs::rename(&tmp, &dest).ok()?;
    }
    Some(dest)
}

/// Path of the host's vmlinux BTF when readable.
pub fn host_vmlinux() -> Option<PathBuf> {
    let p = Path::new("/sys/kernel/btf/vmlinux");
    std::fs::File::open(p).is_ok().then(|| p.to_path_buf())
}

/// Runs a command, returns stdout (panics with stderr on failure).
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The btfkit binary built for integration tests.
pub fn btfkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_btfkit"))
}

/// Outcome of offering BTF to the running kernel.
#[derive(Debug)]
pub enum KernelLoad {
    Accepted,
    /// The kernel rejected it: its verifier log.
    Rejected(String),
    /// BPF_BTF_LOAD is not permitted here (not root, or seccomp/lockdown).
    NotPermitted(String),
}

/// Offers raw BTF to the running kernel with bpf(BPF_BTF_LOAD): Ok when it loaded, else the
/// syscall's error and the verifier log (empty with `log_level` 0, the kernel's quickest path).
pub fn bpf_btf_load(btf: &[u8], log_level: u32, log_size: usize) -> Result<(), (std::io::Error, String)> {
    const BPF_BTF_LOAD: libc::c_long = 18;
    #[repr(C)]
    #[derive(Default)]
    struct Attr {
        btf: u64,
        btf_log_buf: u64,
        btf_size: u32,
        btf_log_size: u32,
        btf_log_level: u32,
        btf_log_true_size: u32,
        btf_flags: u32,
        btf_token_fd: i32,
        _pad: [u64; 8],
    }
    let mut log = vec![0u8; if log_level > 0 { log_size } else { 0 }];
    let mut attr = Attr {
        btf: btf.as_ptr() as u64,
        btf_log_buf: if log_level > 0 { log.as_mut_ptr() as u64 } else { 0 },
        btf_size: btf.len() as u32,
        btf_log_size: log.len() as u32,
        btf_log_level: log_level,
        ..Default::default()
    };
    // SAFETY: attr points at live buffers of the stated sizes for the call's duration.
    let fd = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_BTF_LOAD, &mut attr as *mut Attr, std::mem::size_of::<Attr>() as u32)
    };
    if fd >= 0 {
        // SAFETY: fd was just returned by the kernel and is ours.
        unsafe { libc::close(fd as i32) };
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    Err((err, String::from_utf8_lossy(&log[..log.iter().position(|&b| b == 0).unwrap_or(0)]).into_owned()))
}

/// Whether a BPF_BTF_LOAD error means the kernel cannot be asked here (not root,
/// seccomp/lockdown, no bpf syscall) rather than a verdict on the BTF.
pub fn bpf_not_permitted(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES) | Some(libc::ENOSYS))
}

/// Loads raw BTF with bpf(BPF_BTF_LOAD), with the verifier log.
pub fn kernel_load(btf: &[u8]) -> KernelLoad {
    match bpf_btf_load(btf, 1, 16 << 20) {
        Ok(()) => KernelLoad::Accepted,
        Err((err, _)) if bpf_not_permitted(&err) => KernelLoad::NotPermitted(err.to_string()),
        Err((err, text)) => KernelLoad::Rejected(format!("{err}\n{}", tail(&text, 4000))),
    }
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Asserts the kernel accepts `btf` (skips when the syscall is not permitted;
/// under BTFKIT_REQUIRE_ORACLES=1 that fails when running as root).
pub fn assert_kernel_accepts(what: &str, btf: &[u8]) {
    match kernel_load(btf) {
        KernelLoad::Accepted => {}
        KernelLoad::Rejected(log) => panic!("kernel rejected {what}: {log}"),
        KernelLoad::NotPermitted(e) => {
            if require_oracles() && is_root() {
                panic!("BPF_BTF_LOAD not permitted as root: {e}");
            }
            eprintln!("skipped: BPF_BTF_LOAD not permitted ({e})");
        }
    }
}
