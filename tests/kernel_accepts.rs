//! Every BTF btfkit writes must load into the running kernel (BPF_BTF_LOAD).

mod common;
#[path = "common/graph_spec.rs"]
mod graph_spec;

use btfkit::btf::int_encoding;
use btfkit::{Btf, TypeId, parse, write};
use graph_spec::{add_unit, spec};

/// A builder-made BTF touching every kind the kernel accepts in a base BTF.
fn built() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let uchar = b.add_int("unsigned char", 1, 0).unwrap();
    let long = b.add_int("long", 8, int_encoding::SIGNED).unwrap();
    let flt = b.add_float("double", 8).unwrap();
    // The pointer is added first and names the struct that follows it.
    let ps = b.add_ptr(TypeId(b.type_count() + 1)).unwrap();
    let s = b.add_struct("node", 24).unwrap();
    b.add_field("next", ps, 0, 0).unwrap();
    b.add_field("val", int, 64, 0).unwrap();
    b.add_field("flags", uchar, 96, 3).unwrap();
    b.add_field("more", uchar, 99, 5).unwrap();
    b.add_field("d", flt, 128, 0).unwrap();
    let u = b.add_union("u", 8).unwrap();
    b.add_field("i", int, 0, 0).unwrap();
    b.add_field("l", long, 0, 0).unwrap();
    let _ = u;
    let e = b.add_enum("color", 4).unwrap();
    b.add_enum_value("RED", 0).unwrap();
    b.add_enum_value("NEG", -1).unwrap();
    let _ = e;
    b.add_enum64("big", 8, false).unwrap();
    b.add_enum64_value("HUGE", 1 << 40).unwrap();
    b.add_fwd("opaque", false).unwrap();
    b.add_fwd("opaque_u", true).unwrap();
    let td = b.add_typedef("node_t", s).unwrap();
    let c = b.add_const(td).unwrap();
    let v = b.add_volatile(c).unwrap();
    let pv = b.add_ptr(v).unwrap();
    let r = b.add_restrict(pv).unwrap();
    let arr = b.add_array(int, int, 16).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("a", r).unwrap();
    b.add_param("b", arr).unwrap();
    let f = b.add_func("do_thing", 1, proto).unwrap();
    b.add_decl_tag("kfunc", f, -1).unwrap();
    b.add_decl_tag("member_tag", s, 1).unwrap();
    let tag = b.add_type_tag("user", int).unwrap();
    b.add_ptr(tag).unwrap();
    let var = b.add_var("counter", 1, int).unwrap();
    b.add_datasec(".data", 4).unwrap();
    b.add_datasec_var(var, 0, 4).unwrap();
    b
}

#[test]
fn builder_output_loads() {
    let bytes = write::to_bytes(&built());
    assert_eq!(parse::parse(&bytes).unwrap(), built(), "builder output must round trip");
    common::assert_kernel_accepts("builder BTF", &bytes);
}

#[test]
fn rewritten_vmlinux_loads() {
    let mut inputs = Vec::new();
    if let Some(p) = common::host_vmlinux() {
        inputs.push(p);
    }
    match common::shared() {
        Some(s) => inputs.push(s.join("fixtures/debian-6.1/vmlinux.btf")),
        None => common::skip_soft("../shared not present"),
    }
    for p in inputs {
        let raw = std::fs::read(&p).unwrap();
        let btf = parse::parse(&raw).unwrap();
        let out = write::to_bytes(&btf);
        assert!(out == raw, "{}: round trip changed the bytes", p.display());
        common::assert_kernel_accepts(&p.display().to_string(), &out);
    }
}

/// The harness itself must be able to fail: a named PTR is valid for libbpf
/// but the kernel rejects it.
#[test]
fn harness_sees_rejections() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let name = b.add_str("named_ptr").unwrap();
    b.push_type(btfkit::Type::new(name, btfkit::TypeKind::Ptr(int))).unwrap();
    match common::kernel_load(&write::to_bytes(&b)) {
        common::KernelLoad::Rejected(log) => assert!(!log.is_empty()),
        common::KernelLoad::Accepted => panic!("kernel accepted a named PTR"),
        common::KernelLoad::NotPermitted(e) => {
            if common::require_oracles() && common::is_root() {
                panic!("BPF_BTF_LOAD not permitted as root: {e}");
            }
            eprintln!("skipped: BPF_BTF_LOAD not permitted ({e})");
        }
    }
}

// ---- deduplicated and merged output ----

use std::sync::Arc;

use btfkit::btf::Endianness;
use btfkit::dedup::{DedupOptions, Merger};

/// Merges `copies` copies of `raw` and deduplicates them, as `btfkit dedup` does.
fn merged_dedup(raw: &[u8], copies: usize) -> Vec<u8> {
    let mut m = Merger::new(parse::parse(raw).unwrap());
    for _ in 1..copies {
        m.append(parse::parse(raw).unwrap()).unwrap();
    }
    let mut btf = m.finish();
    btf.dedup(&DedupOptions::default()).unwrap();
    write::to_bytes_endian(&btf, Endianness::Little)
}

#[test]
fn deduplicated_vmlinux_loads() {
    let mut cases: Vec<(String, Vec<u8>, usize)> = Vec::new();
    match common::host_vmlinux() {
        Some(p) => {
            let raw = std::fs::read(&p).unwrap();
            cases.push(("host vmlinux ×1".into(), raw.clone(), 1));
            cases.push(("host vmlinux ×4".into(), raw, 4));
        }
        None => common::skip("host vmlinux BTF (/sys/kernel/btf/vmlinux) not readable"),
    }
    match common::shared() {
        Some(s) => {
            let raw = std::fs::read(s.join("fixtures/debian-6.1/vmlinux.btf")).unwrap();
            cases.push(("Debian 6.1 vmlinux ×2".into(), raw, 2));
        }
        None => common::skip_soft("../shared not present"),
    }
    for (what, raw, copies) in cases {
        let out = merged_dedup(&raw, copies);
        common::assert_kernel_accepts(&what, &out);
    }
}

/// A split BTF as one standalone BTF: the base's types and strings followed
/// by the split's (split ids and string offsets already continue the base's).
fn flatten(base: &[u8], split: &[u8]) -> Vec<u8> {
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let sections = |b: &[u8]| {
        let hdr = u32_at(b, 4);
        let (toff, tlen, soff, slen) = (u32_at(b, 8), u32_at(b, 12), u32_at(b, 16), u32_at(b, 20));
        (b[hdr + toff..hdr + toff + tlen].to_vec(), b[hdr + soff..hdr + soff + slen].to_vec())
    };
    let (bt, bs) = sections(base);
    let (st, ss) = sections(split);
    let tlen = (bt.len() + st.len()) as u32;
    let slen = (bs.len() + ss.len()) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.extend_from_slice(&[1, 0]);
    for v in [24u32, 0, tlen, tlen, slen] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for part in [bt, st, bs, ss] {
        out.extend_from_slice(&part);
    }
    out
}

#[test]
fn flatten_is_a_faithful_standalone_copy() {
    // The helper above must itself be right for the next test to mean anything.
    let Some(s) = common::shared() else { return common::skip_soft("../shared not present") };
    let Some(dir) = common::debian_modules() else { return common::skip_data("Debian modules could not be unpacked") };
    let base_raw = std::fs::read(s.join("fixtures/debian-6.1/vmlinux.btf")).unwrap();
    let base = Arc::new(parse::parse(&base_raw).unwrap());
    let split_raw = std::fs::read(dir.join("modules/fs/ext4/ext4.btf")).unwrap();
    let split = parse::parse_split(&split_raw, base.clone()).unwrap();
    let flat = parse::parse(&flatten(&base_raw, &split_raw)).unwrap();
    assert_eq!(flat.type_count(), split.type_count());
    for id in [1, base.type_count() - 1, base.type_count(), split.type_count() - 1] {
        let (a, b) = (flat.type_by_id(TypeId(id)).unwrap(), split.type_by_id(TypeId(id)).unwrap());
        assert_eq!(a, b, "type {id}");
        assert_eq!(flat.name(a.name_off), split.name(b.name_off), "name of type {id}");
    }
}

#[test]
fn split_dedup_output_loads_over_its_base() {
    // BPF_BTF_LOAD takes no base, so each deduplicated module is loaded
    // flattened onto the base it was deduplicated against.
    let Some(s) = common::shared() else { return common::skip_soft("../shared not present") };
    let Some(dir) = common::debian_modules() else { return common::skip_data("Debian modules could not be unpacked") };
    let base_raw = std::fs::read(s.join("fixtures/debian-6.1/vmlinux.btf")).unwrap();
    let base = Arc::new(parse::parse(&base_raw).unwrap());
    let mut files: Vec<_> = walk(&dir.join("modules"));
    files.sort();
    assert!(files.len() > 4000, "expected the 4,023 Debian modules, found {}", files.len());
    let mut checked = 0;
    // BTFKIT_ALL_MODULES=1: every module (a few minutes).
    let step = if std::env::var_os("BTFKIT_ALL_MODULES").is_some() { 1 } else { 97 };
    for f in files.iter().step_by(step) {
        let raw = std::fs::read(f).unwrap();
        let mut split = parse::parse_split(&raw, base.clone()).unwrap();
        // A module merged with itself: dedup has real work to do.
        split.append(&parse::parse_split(&raw, base.clone()).unwrap()).unwrap();
        split.dedup(&DedupOptions::default()).unwrap();
        let out = write::to_bytes(&split);
        common::assert_kernel_accepts(
            &format!("{} ×2 deduplicated over its base", f.display()),
            &flatten(&base_raw, &out),
        );
        checked += 1;
    }
    eprintln!("{checked} deduplicated modules loaded");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "btf") {
                out.push(p);
            }
        }
    }
    out
}

/// Every committed fixture the kernel accepts must still be accepted after a
/// round trip, a dedup, and a merge with itself plus dedup (in either byte order
/// on input; the kernel wants its own).
#[test]
fn fixture_outputs_load() {
    let dir = common::root().join("tests/fixtures/gen");
    let mut accepted = 0;
    // kinds.gcc.btf is left out: gcc 12's INT and FWD encodings are invalid
    // for the kernel (btfkit reads them only with Validation::Libbpf).
    for name in ["kinds.btf", "enums.btf", "kinds.bpfeb.btf", "kinds.bpf.o"] {
        let path = dir.join(name);
        let btf = btfkit::input::load(&path, None).unwrap();
        let input = write::to_bytes_endian(&btf, Endianness::Little);
        if let common::KernelLoad::Rejected(log) = common::kernel_load(&input) {
            eprintln!(
                "{name}: the kernel rejects the input itself, outputs not checked: {}",
                log.lines().last().unwrap_or("")
            );
            continue;
        }
        accepted += 1;
        let mut d = btf.clone();
        d.dedup(&DedupOptions::default()).unwrap();
        common::assert_kernel_accepts(&format!("{name} deduplicated"), &write::to_bytes_endian(&d, Endianness::Little));
        common::assert_kernel_accepts(&format!("{name} ×3 deduplicated"), &merged_dedup(&input, 3));
    }
    eprintln!("{accepted} fixtures accepted by the kernel, and their outputs");
}

// ---- random type graphs ----

/// Random multi-unit graphs that the kernel accepts must still be accepted
/// after merge + dedup; and most generated inputs must be accepted, or the
/// property says nothing.
#[test]
fn random_graphs_deduplicated_load() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    if let common::KernelLoad::NotPermitted(e) = common::kernel_load(&write::to_bytes(&built())) {
        if common::require_oracles() && common::is_root() {
            panic!("BPF_BTF_LOAD not permitted as root: {e}");
        }
        return eprintln!("skipped: BPF_BTF_LOAD not permitted ({e})");
    }
    let inputs = std::cell::Cell::new(0u32);
    let accepted = std::cell::Cell::new(0u32);
    // BTFKIT_KERNEL_CASES=N runs more cases.
    let cases = std::env::var("BTFKIT_KERNEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (proptest::collection::vec(spec(12), 1..14), proptest::collection::vec(any::<u64>(), 1..4));
    let result = runner.run(&strategy, |(specs, masks)| {
        let mut b = Btf::new();
        for m in &masks {
            add_unit(&mut b, &specs, *m);
        }
        let input = write::to_bytes(&b);
        inputs.set(inputs.get() + 1);
        match common::kernel_load(&input) {
            common::KernelLoad::Accepted => accepted.set(accepted.get() + 1),
            common::KernelLoad::Rejected(log) => {
                eprintln!("generated input rejected: {}", log.lines().last().unwrap_or(""));
                return Ok(());
            }
            common::KernelLoad::NotPermitted(e) => return Err(TestCaseError::fail(e)),
        }
        b.dedup(&DedupOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let out = write::to_bytes(&b);
        match common::kernel_load(&out) {
            common::KernelLoad::Accepted => Ok(()),
            other => Err(TestCaseError::fail(format!("deduplicated output not accepted: {other:?}"))),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "{} of {} generated graphs accepted by the kernel; all their dedup outputs too",
        accepted.get(),
        inputs.get()
    );
    assert!(accepted.get() * 10 >= inputs.get() * 9, "the generator makes too many invalid graphs");
}
