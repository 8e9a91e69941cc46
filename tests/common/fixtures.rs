//! The committed fixtures of tests/fixtures/gen (made by scripts/gen-fixtures.sh)
//! and helpers shared by the oracle, round-trip and malformed-input tests.
//! Include with `#[path = "common/fixtures.rs"] mod fixtures;` next to `mod common;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use btfkit::Btf;

/// One committed fixture.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    /// File name in tests/fixtures/gen.
    pub name: &'static str,
    /// Base BTF (a file name in tests/fixtures/gen) for split BTF.
    pub base: Option<&'static str>,
    /// The file bpftool reads instead (bpftool cannot read compressed files).
    pub oracle: Option<&'static str>,
    /// gcc 12 -gbtf output with quirks the kernel (and btfkit's default
    /// level) reject but libbpf and bpftool accept (see [`GccQuirk`]): tests
    /// read them with `Validation::Libbpf`, or patch them for the kernel level.
    pub gcc_quirks: bool,
}

const fn fx(name: &'static str) -> Fixture {
    Fixture { name, base: None, oracle: None, gcc_quirks: false }
}

pub const FIXTURES: &[Fixture] = &[
    fx("kinds.bpf.o"),
    fx("kinds.btf"),
    fx("kinds.bpfeb.btf"),
    Fixture { gcc_quirks: true, ..fx("kinds.gcc.o") },
    Fixture { gcc_quirks: true, ..fx("kinds.gcc.btf") },
    fx("enums.btf"),
    Fixture { base: Some("enums.btf"), ..fx("split.btf") },
    Fixture { oracle: Some("kinds.bpf.o"), ..fx("kinds.bpf.o.xz") },
    Fixture { oracle: Some("kinds.bpf.o"), ..fx("kinds.bpf.o.zst") },
];

pub fn gen_dir() -> PathBuf {
    super::common::root().join("tests/fixtures/gen")
}

pub fn fixture_path(name: &str) -> PathBuf {
    gen_dir().join(name)
}

/// A scratch folder under target/ for this test binary.
pub fn scratch(tag: &str) -> PathBuf {
    let d = super::common::root().join("target/test-scratch").join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The Debian 6.1 vmlinux BTF in ../shared, if present.
pub fn debian_vmlinux() -> Option<PathBuf> {
    let p = super::common::shared()?.join("fixtures/debian-6.1/vmlinux.btf");
    p.is_file().then_some(p)
}

/// The three module ELF files of ../shared/fixtures/debian-6.1/elf.
pub fn debian_elf_modules() -> Vec<PathBuf> {
    let Some(shared) = super::common::shared() else { return Vec::new() };
    ["crc7.ko", "virtio_net.ko", "ext4.ko"]
        .iter()
        .map(|n| shared.join("fixtures/debian-6.1/elf").join(n))
        .filter(|p| p.is_file())
        .collect()
}

/// Every unpacked Debian module BTF, sorted.
pub fn debian_module_files() -> Option<Vec<PathBuf>> {
    let dir = super::common::debian_modules()?.join("modules");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()? {
            let p = e.ok()?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "btf") {
                out.push(p);
            }
        }
    }
    out.sort();
    Some(out)
}

/// Loads a fixture in-process (with its base, if any).
pub fn load_fixture(f: &Fixture) -> btfkit::Result<Btf> {
    let base = match f.base {
        Some(b) => Some(Arc::new(btfkit::input::load(&fixture_path(b), None)?)),
        None => None,
    };
    btfkit::input::load(&fixture_path(f.name), base)
}

/// A gcc 12 -gbtf quirk that btfkit rejects like the kernel does (bpftool
/// accepts both): found through btfkit's error, whose offset locates the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GccQuirk {
    /// `signed char`/`char` as INT with encoding SIGNED|CHAR (3): patched to SIGNED.
    SignedCharEncoding { id: u32 },
    /// FWD with a non-zero size/type field: patched to 0.
    FwdWithSize { id: u32 },
}

/// For the gcc fixtures: patches every quirk (see [`GccQuirk`]) that the
/// kernel-level checks report (`Btf::validate`), at the byte offset of the
/// type they name. Returns the patched file (under `dir`) and the quirks found,
/// in id order. (gcc's output breaks other kernel rules too, anonymous FUNCs
/// and a DATASEC of size 0, which are not quirks of the encoding and stay.)
pub fn patch_gcc_quirks(f: &Fixture, dir: &Path) -> (PathBuf, Vec<GccQuirk>) {
    let path = fixture_path(f.name);
    let mut bytes = std::fs::read(&path).unwrap();
    let out = dir.join(format!("patched-{}", f.name));
    let src = btfkit::input::open(&path).unwrap();
    let btf = btfkit::input::load(&path, None).unwrap();
    let hdr = btfkit::parse::parse_header(src.btf_data(), 0).unwrap();
    // Byte offset of each type in the file.
    let mut offs = Vec::new();
    let mut off = src.btf_offset + (hdr.hdr_len + hdr.type_off) as usize;
    for t in btf.types() {
        offs.push(off);
        off += t.encoded_len();
    }
    let mut quirks = Vec::new();
    for v in btf.validate(btfkit::parse::Validation::Kernel) {
        let offset = offs[(v.id.0 - btf.start_id().0) as usize];
        let rd = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let kind = btf.type_by_id(v.id).unwrap().kind();
        match (kind, v.message.as_str()) {
            // LE int data: the encoding is the top byte of the u32 after the 12-byte header.
            (btfkit::Kind::Int, "Unsupported encoding") => {
                assert_eq!(bytes[offset + 15], 3, "{}: no SIGNED|CHAR at offset {offset}", f.name);
                bytes[offset + 15] = 1;
                quirks.push(GccQuirk::SignedCharEncoding { id: v.id.0 });
            }
            (btfkit::Kind::Fwd, "type != 0") => {
                assert_ne!(rd(offset + 8), 0);
                bytes[offset + 8..offset + 12].fill(0);
                quirks.push(GccQuirk::FwdWithSize { id: v.id.0 });
            }
            _ => {}
        }
    }
    std::fs::write(&out, &bytes).unwrap();
    let patched = btfkit::input::load(&out, None).unwrap();
    assert!(patched.types().iter().all(|t| t.quirks.is_none()), "{}: quirks left after patching", f.name);
    assert!(!quirks.is_empty(), "{}: expected gcc's quirks to be rejected", f.name);
    (out, quirks)
}

/// Runs `f` on every item with `threads` worker threads; results in item order.
pub fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let r = f(&items[i]);
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.unwrap()).collect()
}

/// Worker threads for the big loops: the cores we have (CI has 2).
pub fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
}

/// Where two outputs first differ: line number and both lines.
pub fn first_diff(ours: &[u8], theirs: &[u8]) -> String {
    let a: Vec<&[u8]> = ours.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = theirs.split(|&b| b == b'\n').collect();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            let show = |l: Option<&&[u8]>| match l {
                Some(l) => {
                    let s = String::from_utf8_lossy(l);
                    if s.len() > 300 { format!("{}...", &s[..s.floor_char_boundary(300)]) } else { s.into_owned() }
                }
                None => "<end of output>".into(),
            };
            return format!("first difference at line {}:\n  btfkit:  {}\n  bpftool: {}", i + 1, show(x), show(y));
        }
    }
    format!("outputs differ only in length ({} vs {} bytes)", ours.len(), theirs.len())
}
