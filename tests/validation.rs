//! The two validation levels (`parse::Validation`).
//!
//! - Oracle property: with `Validation::Libbpf`, btfkit accepts a BTF iff
//!   libbpf 1.7's `btf__new` does: every committed fixture, the host vmlinux,
//!   and thousands of proptest mutants of small fixtures (bits flipped and
//!   fields rewritten in the type section, header left consistent). Every
//!   mutant both accept is also written back (byte for byte), dumped (raw,
//!   JSON, C), compared, counted and deduplicated (bytes equal to libbpf's
//!   dedup) without a panic or a hang.
//! - gcc 12 output: `--validate libbpf` dumps it exactly as bpftool does and
//!   dedups it exactly as libbpf does; the kernel level rejects it clearly.

mod common;
mod dedup_common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::Arc;

use btfkit::parse::{self, ParseOptions, Validation};
use btfkit::{Btf, Error, write};
use common::*;
use dedup_common::{LBtf, assert_same, quiet_libbpf};
use fixtures::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn lenient() -> ParseOptions {
    ParseOptions::new().with_validation(Validation::Libbpf)
}

fn kernel() -> ParseOptions {
    ParseOptions::new().with_validation(Validation::Kernel)
}

fn parse_lenient(raw: &[u8]) -> btfkit::Result<Btf> {
    parse::parse_with(raw, &lenient()).map(|(b, _)| b)
}

/// The BTF bytes of a fixture (raw file, or `.BTF` of an ELF, decompressed).
fn btf_bytes(name: &str) -> Vec<u8> {
    btfkit::input::open(&fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}")).btf_data().to_vec()
}

/// Disagreements we accept, each with its reason: libbpf accepts these,
/// btfkit's libbpf level rejects them on purpose. `lib` is libbpf's parse.
fn known_disagreement(e: &Error, lib: &LBtf) -> Option<&'static str> {
    match e {
        // Consumers that follow typedef/modifier/array chains and by-value
        // members (C dump ordering and sizes, diff signatures) rely on these
        // chains ending; libbpf never checks this.
        Error::RefLoop { .. } => Some("reference loop without a pointer"),
        // libbpf's btf_validate_type checks a FUNC_PROTO's parameter types
        // but not its return type; every btfkit consumer may look any
        // referenced id up, so btfkit checks every id.
        Error::BadTypeId { id, target, .. } => {
            let (kind, st) = lib.type_words(id.0)?;
            (kind == btfkit::Kind::FuncProto as u32 && st == target.0)
                .then_some("FUNC_PROTO return type id out of range")
        }
        _ => None,
    }
}

// ---- fixtures and vmlinux: both levels agree with libbpf ----

#[test]
fn fixtures_and_vmlinux_agree_with_libbpf() {
    quiet_libbpf();
    let mut checked = 0;
    for f in FIXTURES {
        let raw = btf_bytes(f.name);
        let (lib, ours) = match f.base {
            None => (LBtf::try_new(&raw).is_some(), parse_lenient(&raw)),
            Some(b) => {
                let base_raw = btf_bytes(b);
                let lbase = LBtf::new(&base_raw);
                let base = Arc::new(parse_lenient(&base_raw).unwrap());
                let opts = lenient().with_base(Some(base));
                (LBtf::try_new_split(&raw, &lbase).is_some(), parse::parse_with(&raw, &opts).map(|(b, _)| b))
            }
        };
        assert!(lib, "{}: libbpf rejects a committed fixture", f.name);
        let btf = ours.unwrap_or_else(|e| panic!("{}: libbpf accepts, btfkit --validate libbpf rejects: {e}", f.name));
        assert_eq!(write::to_bytes(&btf), raw, "{}: libbpf-level parse does not write back unchanged", f.name);
        // The kernel level rejects gcc's output and clang's objects (extern VARs and
        // DATASECs of size 0, which libbpf fixes up when loading), as the kernel does.
        let base = f.base.map(|b| Arc::new(parse::parse(&btf_bytes(b)).unwrap()));
        let strict = parse::parse_with(&raw, &kernel().with_base(base)).map(|_| ());
        let kernel_valid = matches!(f.name, "enums.btf" | "split.btf");
        assert_eq!(strict.is_ok(), kernel_valid, "{}: kernel level {strict:?}", f.name);
        checked += 1;
    }
    match host_vmlinux() {
        Some(p) => {
            let raw = std::fs::read(p).unwrap();
            assert!(LBtf::try_new(&raw).is_some());
            let btf = parse_lenient(&raw).unwrap();
            assert!(btf.types().iter().all(|t| t.quirks.is_none()), "the kernel's own BTF has no odd bits");
            assert_eq!(btf, parse::parse_with(&raw, &kernel()).unwrap().0);
            checked += 1;
        }
        None => skip_soft("/sys/kernel/btf/vmlinux not readable"),
    }
    eprintln!("{checked} inputs accepted by libbpf and btfkit --validate libbpf");
}

// ---- mutants ----

/// Where each type of a parsed BTF starts in its raw bytes, and its length.
fn type_spans(raw: &[u8]) -> (Vec<(usize, usize)>, parse::Header) {
    let h = parse::parse_header(raw, 0).unwrap();
    let btf = parse_lenient(raw).unwrap();
    let mut off = (h.hdr_len + h.type_off) as usize;
    let spans = btf
        .types()
        .iter()
        .map(|t| {
            let s = (off, t.encoded_len());
            off += t.encoded_len();
            s
        })
        .collect();
    (spans, h)
}

/// One edit of a mutant: (type selector, operation, word/bit selector, value).
type Edit = (u32, u8, u32, u32);

/// Applies `edits` to a copy of `raw` (type section only; the header stays).
fn mutate(raw: &[u8], spans: &[(usize, usize)], h: &parse::Header, edits: &[Edit]) -> Vec<u8> {
    let mut m = raw.to_vec();
    let big = h.endian == btfkit::btf::Endianness::Big;
    let rd = |m: &[u8], o: usize| {
        let b = [m[o], m[o + 1], m[o + 2], m[o + 3]];
        if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    };
    let wr = |m: &mut [u8], o: usize, v: u32| {
        m[o..o + 4].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
    };
    // Small values hit valid and just-invalid type ids and string offsets.
    let near = (spans.len() as u32 + 1).max(h.str_len) + 8;
    for &(sel, op, idx, val) in edits {
        let (off, len) = spans[sel as usize % spans.len()];
        let words = len / 4;
        let extra = |idx: u32| off + 12 + 4 * (idx as usize % (words - 3).max(1));
        match op {
            // info: one bit (kind, kind_flag, vlen, unused bits)
            0 => {
                let v = rd(&m, off + 4) ^ (1 << (idx % 32));
                wr(&mut m, off + 4, v);
            }
            // info: another kind number (0..=20)
            1 => {
                let v = (rd(&m, off + 4) & !(0x1f << 24)) | ((val % 21) << 24);
                wr(&mut m, off + 4, v);
            }
            // info: small vlen
            2 => {
                let v = (rd(&m, off + 4) & !0xffff) | (val % 4);
                wr(&mut m, off + 4, v);
            }
            // size/type word: a small value or one bit
            3 => wr(&mut m, off + 8, val % near),
            4 => {
                let v = rd(&m, off + 8) ^ (1 << (idx % 32));
                wr(&mut m, off + 8, v);
            }
            // name offset: small value
            5 => wr(&mut m, off, val % near),
            // a word after the common header (INT data, members, params, ...)
            6 if words > 3 => {
                let o = extra(idx);
                wr(&mut m, o, val % near);
            }
            7 if words > 3 => {
                let o = extra(idx);
                let v = rd(&m, o) ^ (1 << (val % 32));
                wr(&mut m, o, v);
            }
            // any byte of the type: random
            _ => {
                let o = off + idx as usize % len;
                m[o] = val as u8;
            }
        }
    }
    m
}

#[derive(Default, Debug)]
struct Tally {
    both_accept: usize,
    both_reject: usize,
    known: std::collections::BTreeMap<&'static str, usize>,
    kernel_rejects_of_accepted: usize,
    dedup_equal: usize,
    dedup_both_fail: usize,
    dedup_no_oracle: usize,
}

/// Everything btfkit does with a BTF must work on one the libbpf level accepted.
fn exercise(btf: &Btf, raw: &[u8], lib: &mut LBtf, original: &Btf, t: &mut Tally) -> Result<(), String> {
    if write::to_bytes(btf) != raw {
        return Err("written bytes differ from the input".into());
    }
    let mut sink = Vec::new();
    btfkit::dump::raw::dump(btf, &mut sink).map_err(|e| e.to_string())?;
    btfkit::dump::json::dump(btf, true, &mut sink).map_err(|e| e.to_string())?;
    sink.clear();
    // The C dump may refuse some shapes (an error is fine, a panic is not).
    let _ = btfkit::dump::c::render(btf, &Default::default(), &mut sink);
    let _ = btfkit::diff::diff(btf, original);
    let _ = btfkit::stat::Stats::of(btf).to_text();
    let mut ours = btf.clone();
    let r = ours.dedup(&Default::default());
    // libbpf's dedup remaps a FWD's size/type word as a type id and reads out
    // of bounds when it is not one: no oracle for those.
    let count = btf.type_count();
    if btf.types().iter().any(|t| matches!(t.kind, btfkit::TypeKind::Fwd { .. }) && t.size_or_type() >= count) {
        t.dedup_no_oracle += 1;
        return Ok(());
    }
    let theirs = lib.dedup(false);
    match (r, theirs) {
        (Ok(_), 0) => {
            let (a, b) = (write::to_bytes(&ours), lib.raw());
            if a != b {
                let pos = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
                return Err(format!("dedup differs from libbpf's at byte {pos} ({} vs {} bytes)", a.len(), b.len()));
            }
            t.dedup_equal += 1;
        }
        (Err(_), e) if e != 0 => t.dedup_both_fail += 1,
        (r, e) => return Err(format!("dedup: btfkit {:?}, libbpf {e}", r.map(|_| ()))),
    }
    Ok(())
}

fn run_mutants(name: &str, cases: u32) -> Tally {
    quiet_libbpf();
    let raw = btf_bytes(name);
    let original = parse_lenient(&raw).unwrap();
    let (spans, h) = type_spans(&raw);
    let mut tally = Tally::default();
    let edit = (any::<u32>(), 0u8..9, any::<u32>(), any::<u32>());
    let strategy = prop::collection::vec(edit, 1..4);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let tally_cell = std::cell::RefCell::new(&mut tally);
    let result = runner.run(&strategy, |edits| {
        let m = mutate(&raw, &spans, &h, &edits);
        let mut t = tally_cell.borrow_mut();
        let lib = LBtf::try_new(&m);
        let ours = parse_lenient(&m);
        // The parse that also gives the kernel's verdict (one pass of checks: the
        // libbpf-level ones only when the kernel's rules find a problem) accepts and
        // refuses exactly the same, and its verdict is Btf::validate's.
        match (&ours, parse::parse_with_verdict(&m, &lenient())) {
            (Ok(b), Ok((vb, _, v))) => {
                prop_assert!(write::to_bytes(&vb) == m, "the verdict parse reads other types");
                prop_assert_eq!(v, b.validate(Validation::Kernel));
            }
            (Err(e), Err(ve)) => prop_assert_eq!(e.to_string(), ve.to_string()),
            (o, v) => {
                return Err(TestCaseError::fail(format!("parse {:?}, verdict parse {:?}", o.is_ok(), v.map(|_| ()))));
            }
        }
        match (lib, ours) {
            (Some(mut lib), Ok(btf)) => {
                t.both_accept += 1;
                if parse::parse_with(&m, &kernel()).is_err() {
                    t.kernel_rejects_of_accepted += 1;
                }
                exercise(&btf, &m, &mut lib, &original, &mut t).map_err(TestCaseError::fail)?;
            }
            (None, Err(_)) => t.both_reject += 1,
            (Some(lib), Err(e)) => match known_disagreement(&e, &lib) {
                Some(why) => *t.known.entry(why).or_default() += 1,
                None => return Err(TestCaseError::fail(format!("libbpf accepts, btfkit rejects: {e}"))),
            },
            (None, Ok(_)) => return Err(TestCaseError::fail("libbpf rejects, btfkit accepts")),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!("{name}: {cases} mutants: {tally:?}");
    assert!(tally.both_accept > cases as usize / 20 && tally.both_reject > cases as usize / 20, "{name}: {tally:?}");
    tally
}

/// Mutants both levels of acceptance agree on are dumped as bpftool 7.1
/// dumps them (raw, JSON, C), odd fields included. bpftool runs as a
/// process per mutant, so this uses fewer cases.
fn mutants_dump_like_bpftool(name: &str, cases: u32) {
    if !bpftool_ok() {
        return;
    }
    quiet_libbpf();
    let raw = btf_bytes(name);
    let (spans, h) = type_spans(&raw);
    let dir = scratch(&format!("validation-mutant-dumps-{name}"));
    let file = dir.join("m.btf");
    let strategy = prop::collection::vec((any::<u32>(), 0u8..9, any::<u32>(), any::<u32>()), 1..4);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let counts = std::cell::RefCell::new([0usize; 5]);
    let result = runner.run(&strategy, |edits| {
        let m = mutate(&raw, &spans, &h, &edits);
        let Ok(btf) = parse_lenient(&m) else { return Ok(()) };
        std::fs::write(&file, &m).unwrap();
        let bpftool = |args: &[&str], fmt_c: bool| {
            let mut c = std::process::Command::new("bpftool");
            c.args(args).args(["btf", "dump", "file"]).arg(&file);
            if fmt_c {
                c.args(["format", "c"]);
            }
            c.output().unwrap()
        };
        let mut c = counts.borrow_mut();
        c[0] += 1;
        for (fmt, args) in [(0, &[][..]), (1, &["-j"][..])] {
            let theirs = bpftool(args, false);
            prop_assert!(theirs.status.success(), "bpftool rejects what libbpf 1.7 accepts");
            let mut ours = Vec::new();
            if fmt == 0 {
                btfkit::dump::raw::dump(&btf, &mut ours).unwrap();
            } else {
                btfkit::dump::json::dump(&btf, false, &mut ours).unwrap();
            }
            prop_assert!(ours == theirs.stdout, "{}", first_diff(&ours, &theirs.stdout));
        }
        let theirs = bpftool(&[], true);
        let mut ours = Vec::new();
        let r = btfkit::dump::c::render(&btf, &Default::default(), &mut ours);
        match (theirs.status.success(), r.is_ok()) {
            (true, true) => {
                prop_assert!(ours == theirs.stdout, "format c: {}", first_diff(&ours, &theirs.stdout));
                c[1] += 1;
            }
            (false, false) => c[2] += 1,
            // bpftool's btf_dump (libbpf 1.1) gives up on some shapes, e.g. a
            // member whose type is a DATASEC ("unsupported BTF_KIND:15").
            (false, true) => c[3] += 1,
            // btfkit bounds the C text (see docs/ROBUSTNESS.md, Bounds): a
            // mutated size can ask for hundreds of MB of padding.
            (true, false) => {
                let e = r.unwrap_err().to_string();
                prop_assert!(e.contains("exceeds"), "format c: btfkit refuses what bpftool dumps: {e}");
                c[4] += 1
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let c = counts.into_inner();
    eprintln!(
        "{name}: {} accepted mutants dump like bpftool (raw, JSON); format c: {} equal, {} refused by both, {} only by bpftool, {} only by btfkit (output bound)",
        c[0], c[1], c[2], c[3], c[4]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gcc_mutants_dump_like_bpftool() {
    mutants_dump_like_bpftool("kinds.gcc.btf", 250);
}

#[test]
fn kinds_mutants_dump_like_bpftool() {
    mutants_dump_like_bpftool("kinds.btf", 250);
}

#[test]
fn mutants_of_kinds_agree_with_libbpf() {
    let t = run_mutants("kinds.btf", 3000);
    assert!(t.kernel_rejects_of_accepted > 0, "the libbpf level should accept what the kernel level rejects");
}

#[test]
fn mutants_of_gcc_output_agree_with_libbpf() {
    run_mutants("kinds.gcc.btf", 2000);
}

#[test]
fn mutants_of_enums_agree_with_libbpf() {
    run_mutants("enums.btf", 1000);
}

#[test]
fn mutants_of_big_endian_agree_with_libbpf() {
    run_mutants("kinds.bpfeb.btf", 1000);
}

/// A big-endian BTF with a longer header: libbpf (on a little-endian host)
/// refuses it, the libbpf level too; the kernel level reads it.
#[test]
fn foreign_endian_needs_24_byte_header() {
    quiet_libbpf();
    // A 32-byte header (zero tail), by padding.
    let raw = btf_bytes("kinds.bpfeb.btf");
    let padded = write::to_bytes_padded(&parse_lenient(&raw).unwrap(), raw.len() + 8).unwrap();
    // The kernel level takes the header (it rejects the types: kinds has an extern VAR).
    let k = parse::parse_with(&padded, &kernel()).unwrap_err();
    assert!(matches!(k, Error::BadType { .. }), "{k}");
    let native_is_le = cfg!(target_endian = "little");
    assert_eq!(LBtf::try_new(&padded).is_some(), !native_is_le);
    let e = parse_lenient(&padded).map(|_| ());
    assert_eq!(e.is_ok(), !native_is_le, "{e:?}");
    if let Err(e) = e {
        assert!(e.to_string().contains("24-byte header"), "{e}");
    }
}

/// The header keeps the kernel's rules at both levels (a documented
/// difference: libbpf ignores the version and flags, and allows trailing
/// bytes, which btfkit's canonical writer could not give back).
#[test]
fn header_rules_are_the_kernels_at_both_levels() {
    quiet_libbpf();
    let raw = btf_bytes("kinds.btf");
    let mut version = raw.clone();
    version[2] = 2;
    let mut flags = raw.clone();
    flags[3] = 1;
    let mut trailing = raw.clone();
    trailing.extend_from_slice(&[0; 4]);
    for (what, m) in [("version 2", version), ("flags 1", flags), ("4 trailing bytes", trailing)] {
        assert!(LBtf::try_new(&m).is_some(), "{what}: libbpf rejects");
        assert!(parse::parse_with(&m, &kernel()).is_err(), "{what}: kernel level accepts");
        assert!(parse_lenient(&m).is_err(), "{what}: libbpf level accepts");
    }
}

// ---- specific kernel-only rules: kernel level rejects, libbpf level and libbpf accept ----

/// Edits of kinds.btf at the first type of a kind (offset from the type's start, new u32).
#[test]
fn kernel_only_rules() {
    quiet_libbpf();
    let raw = btf_bytes("kinds.btf");
    let btf = parse::parse(&raw).unwrap();
    let (spans, _) = type_spans(&raw);
    let first = |k: btfkit::Kind| btf.types().iter().position(|t| t.kind() == k).unwrap();
    let info_of = |i: usize| u32::from_le_bytes(raw[spans[i].0 + 4..spans[i].0 + 8].try_into().unwrap());
    use btfkit::Kind::*;
    let int = first(Int);
    let cases: Vec<(&str, usize, usize, u32)> = vec![
        ("INT encoding SIGNED|CHAR", int, 12, (3 << 24) | 32),
        ("INT encoding 8", int, 12, (8 << 24) | 32),
        ("INT data bits 28..31", int, 12, (1 << 28) | (1 << 24) | 32),
        ("INT size 3", int, 8, 3),
        ("INT nr_bits beyond size", int, 12, 64),
        ("INT vlen", int, 4, info_of(int) | 1),
        ("PTR kind_flag", first(Ptr), 4, info_of(first(Ptr)) | 1 << 31),
        ("unused info bits", first(Ptr), 4, info_of(first(Ptr)) | 1 << 20),
        ("FWD size", first(Fwd), 8, 6),
        ("ARRAY size/type", first(Array), 8, 1),
        ("FUNC linkage 3", first(Func), 4, (info_of(first(Func)) & !0xffff) | 3),
        ("ENUM size 3", first(Enum), 8, 3),
        ("DECL_TAG component out of range", first(DeclTag), 12, 1000),
        ("DECL_TAG empty value", first(DeclTag), 0, 0),
        ("STRUCT member beyond size", first(Struct), 12 + 8, 1 << 20),
    ];
    for (what, i, at, v) in cases {
        let mut m = raw.clone();
        let o = spans[i].0 + at;
        m[o..o + 4].copy_from_slice(&v.to_le_bytes());
        // kinds.btf itself breaks kernel rules (an extern VAR, DATASECs of size 0):
        // the mutated type must be among the problems.
        assert!(parse::parse_with(&m, &kernel()).is_err(), "{what}: kernel level accepts");
        assert!(LBtf::try_new(&m).is_some(), "{what}: libbpf rejects");
        let b = parse_lenient(&m).unwrap_or_else(|e| panic!("{what}: libbpf level rejects: {e}"));
        let problems = b.validate(Validation::Kernel);
        let id = b.start_id().0 + i as u32;
        assert!(problems.iter().any(|p| p.id.0 == id), "{what}: no problem at type [{id}]: {problems:?}");
        assert_eq!(write::to_bytes(&b), m, "{what}: not written back unchanged");
    }
    // What the libbpf level still checks, like libbpf.
    let func = first(Func);
    let mut m = raw.clone();
    let o = spans[func].0 + 8;
    m[o..o + 4].copy_from_slice(&(int as u32 + 1).to_le_bytes());
    assert!(LBtf::try_new(&m).is_none());
    let e = parse_lenient(&m).unwrap_err();
    assert!(e.to_string().contains("not FUNC_PROTO"), "{e}");
}

// ---- gcc 12 output ----

fn bpftool_ok() -> bool {
    if have("bpftool") {
        return true;
    }
    skip("bpftool not installed");
    false
}

fn run_cli(args: &[&str], file: &Path) -> std::process::Output {
    btfkit().args(args).arg(file).output().unwrap()
}

#[test]
fn gcc_dumps_match_bpftool_unpatched() {
    if !bpftool_ok() {
        return;
    }
    for name in ["kinds.gcc.btf", "kinds.gcc.o"] {
        let path = fixture_path(name);
        for (ours, theirs) in [
            (&["dump", "--validate", "libbpf"][..], &["btf", "dump", "file"][..]),
            (&["dump", "--validate", "libbpf", "-f", "json"], &["-j", "btf", "dump", "file"]),
            (&["dump", "--validate", "libbpf", "-f", "json", "--pretty"], &["-p", "btf", "dump", "file"]),
        ] {
            let mine = run_cli(ours, &path);
            assert!(mine.status.success(), "{name} {ours:?}: {}", String::from_utf8_lossy(&mine.stderr));
            let bt = run_ok(std::process::Command::new("bpftool").args(theirs).arg(&path));
            assert!(mine.stdout == bt, "{name} {ours:?}: {}", first_diff(&mine.stdout, &bt));
        }
        let mine = btfkit().args(["dump", "--validate", "libbpf", "-f", "c"]).arg(&path).output().unwrap();
        assert!(mine.status.success(), "{name}: {}", String::from_utf8_lossy(&mine.stderr));
        let bt = run_ok(
            std::process::Command::new("bpftool").args(["btf", "dump", "file"]).arg(&path).args(["format", "c"]),
        );
        assert!(mine.stdout == bt, "{name} format c: {}", first_diff(&mine.stdout, &bt));
        // gcc's odd INT encoding shows as bpftool shows it.
        let raw = run_cli(&["dump", "--validate", "libbpf"], &path).stdout;
        assert!(String::from_utf8_lossy(&raw).contains("encoding=UNKN"), "{name}");
    }
}

#[test]
fn gcc_kernel_level_rejects_clearly() {
    for name in ["kinds.gcc.btf", "kinds.gcc.o"] {
        let path = fixture_path(name);
        // By default (the libbpf level) it is read, with one note.
        let out = run_cli(&["dump"], &path);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let note = String::from_utf8_lossy(&out.stderr);
        assert_eq!(note.lines().count(), 1, "{note}");
        assert!(
            note.contains("note: the kernel would reject this BTF (10 problems): btfkit verify") && note.contains(name),
            "{note}"
        );
        let out = run_cli(&["dump", "--validate", "kernel"], &path);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains(name) && msg.contains("offset") && msg.contains("type [12] (INT): Unsupported encoding"),
            "{msg}"
        );
        // The library names the type too.
        let e = btfkit::input::Loader::new()
            .archive(btfkit::input::ArchiveMode::Reject)
            .validation(Validation::Kernel)
            .load(&path)
            .unwrap_err();
        assert!(
            matches!(&e, Error::File { source, .. } if matches!(**source, Error::BadType { kind: "INT", .. })),
            "{e:?}"
        );
        // verify lists every problem, the kernel's first first.
        let v = run_cli(&["verify"], &path);
        assert_eq!(v.status.code(), Some(1));
        let text = String::from_utf8_lossy(&v.stdout);
        assert!(
            text.contains("(10 problems)")
                && text
                    .contains("[12] INT signed char size=1 bits_offset=0 nr_bits=8 encoding=UNKN Unsupported encoding")
                && text.contains("[57] FWD fwd_struct struct type != 0"),
            "{text}"
        );
    }
}

#[test]
fn gcc_dedup_matches_libbpf() {
    quiet_libbpf();
    for name in ["kinds.gcc.btf", "kinds.gcc.o"] {
        let raw = btf_bytes(name);
        let mut ours = parse_lenient(&raw).unwrap();
        ours.dedup(&Default::default()).unwrap();
        let ours = write::to_bytes(&ours);
        let mut lb = LBtf::new(&raw);
        assert_eq!(lb.dedup(false), 0);
        assert_same(&ours, &lb.raw(), &format!("{name} dedup"));
        // Merged with a kernel-valid BTF (clang's), and twice with itself.
        let clang = btf_bytes("kinds.btf");
        for parts in [vec![&raw, &clang], vec![&raw, &raw]] {
            let mut m = btfkit::dedup::Merger::new(parse_lenient(parts[0]).unwrap());
            m.append(parse_lenient(parts[1]).unwrap()).unwrap();
            let mut ours = m.finish();
            ours.dedup(&Default::default()).unwrap();
            let mut lb = LBtf::new(parts[0]);
            assert!(lb.add_btf(&LBtf::new(parts[1])) > 0);
            assert_eq!(lb.dedup(false), 0);
            assert_same(&write::to_bytes(&ours), &lb.raw(), &format!("{name} merged dedup"));
        }
    }
    // The CLI agrees and keeps the odd bits.
    let dir = scratch("validation-dedup");
    let out = dir.join("gcc.dedup.btf");
    let st = btfkit()
        .args(["dedup", "--validate", "libbpf", "-o"])
        .arg(&out)
        .arg(fixture_path("kinds.gcc.btf"))
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let mut lb = LBtf::new(&btf_bytes("kinds.gcc.btf"));
    assert_eq!(lb.dedup(false), 0);
    assert_same(&std::fs::read(&out).unwrap(), &lb.raw(), "CLI dedup of kinds.gcc.btf");
    // The output is checked by the kernel's rules: a warning by default, an error
    // (nothing written) with --validate kernel.
    let warned = String::from_utf8_lossy(&st.stderr);
    assert!(warned.contains("warning: the kernel would reject the deduplicated BTF"), "{warned}");
    let _ = std::fs::remove_file(&out);
    let st = btfkit()
        .args(["dedup", "--validate", "kernel", "-o"])
        .arg(&out)
        .arg(fixture_path("kinds.gcc.btf"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2), "kernel level rejects gcc's output");
    assert!(!out.exists(), "nothing written");
    let _ = std::fs::remove_dir_all(dir);
}

/// Every command that reads BTF takes --validate.
#[test]
fn commands_take_validate() {
    let gcc = fixture_path("kinds.gcc.btf");
    let clang = fixture_path("kinds.btf");
    for args in [&["stat", "--validate", "libbpf"][..], &["archive", "list", "--validate", "libbpf"]] {
        let o = run_cli(args, &gcc);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let k = run_cli(&[&args[..args.len() - 1], &["kernel"]].concat(), &gcc);
        assert_eq!(k.status.code(), Some(2), "{args:?} with --validate kernel");
        let d = run_cli(&args[..args.len() - 2], &gcc);
        assert_eq!(d.status.code(), Some(0), "{args:?} without --validate: the libbpf level");
    }
    let o = btfkit().args(["diff", "--validate", "libbpf"]).arg(&gcc).arg(&gcc).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = btfkit().args(["diff", "--validate", "libbpf"]).arg(&gcc).arg(&clang).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let o = btfkit().args(["diff", "--validate", "kernel"]).arg(&gcc).arg(&clang).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let help = btfkit().args(["dump", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--validate") && help.contains("libbpf") && help.contains("kernel"), "{help}");
}
