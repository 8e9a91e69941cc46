//! Byte-for-byte comparison of `Btf::append` + `Btf::dedup` with libbpf 1.7's
//! `btf__add_btf` + `btf__dedup` (through libbpf-sys), on real inputs. Each
//! input is built the same way on both sides: parse the first raw BTF, then
//! append the others (so the string pass runs on both sides alike).

mod common;
mod dedup_common;

use std::sync::Arc;

use btfkit::dedup::DedupOptions;
use btfkit::parse::{self, ParseOptions};
use btfkit::{Btf, write};
use dedup_common::{LBtf, assert_same, assert_same_split};

/// Merges `raws` (base BTF each) into the first and dedups, both ways.
fn check_merge(raws: &[&[u8]], what: &str, force: bool) -> (Vec<u8>, Vec<u8>) {
    // Through the Merger (what the CLI uses); plain `append` is covered by
    // the module and unit tests.
    let mut m = btfkit::dedup::Merger::new(parse::parse(raws[0]).expect("parse"));
    for r in &raws[1..] {
        m.append(parse::parse(r).expect("parse")).expect("append");
    }
    let mut ours = m.finish();
    ours.dedup(&DedupOptions::new().with_force_collisions(force)).expect("dedup");
    let ours = write::to_bytes(&ours);

    let mut lb = LBtf::new(raws[0]);
    for r in &raws[1..] {
        let s = LBtf::new(r);
        assert!(lb.add_btf(&s) > 0, "btf__add_btf");
    }
    assert_eq!(lb.dedup(force), 0, "btf__dedup");
    let theirs = lb.raw();
    assert_same(&ours, &theirs, what);
    (ours, theirs)
}

fn host_vmlinux_bytes() -> Option<Vec<u8>> {
    let Some(p) = common::host_vmlinux() else {
        common::skip("host vmlinux BTF (/sys/kernel/btf/vmlinux) not readable");
        return None;
    };
    Some(std::fs::read(p).expect("read vmlinux"))
}

#[test]
fn host_vmlinux_alone() {
    let Some(v) = host_vmlinux_bytes() else { return };
    check_merge(&[&v], "host vmlinux dedup alone", false);
}

#[test]
fn host_vmlinux_merged_2x() {
    let Some(v) = host_vmlinux_bytes() else { return };
    // VAR and DATASEC are never merged, so the result is larger than one copy.
    check_merge(&[&v, &v], "host vmlinux ×2", false);
}

#[test]
fn host_vmlinux_merged_4x() {
    let Some(v) = host_vmlinux_bytes() else { return };
    check_merge(&[&v, &v, &v, &v], "host vmlinux ×4", false);
}

#[test]
fn debian_vmlinux_merged_2x() {
    let Some(shared) = common::shared() else {
        common::skip_soft("../shared fixtures missing");
        return;
    };
    let v = std::fs::read(shared.join("fixtures/debian-6.1/vmlinux.btf")).expect("read");
    check_merge(&[&v, &v], "debian vmlinux ×2", false);
}

/// Split dedup of module BTFs against the Debian vmlinux: each module alone,
/// and a handful merged together.
#[test]
fn debian_modules_split() {
    let Some(shared) = common::shared() else {
        common::skip_soft("../shared fixtures missing");
        return;
    };
    let Some(mods) = common::debian_modules() else {
        common::skip_data("debian modules could not be unpacked");
        return;
    };
    let base_raw = std::fs::read(shared.join("fixtures/debian-6.1/vmlinux.btf")).expect("read");
    let base = Arc::new(parse::parse(&base_raw).expect("parse base"));
    let lbase = LBtf::new(&base_raw);

    let mut files = Vec::new();
    let mut dirs = vec![mods.join("modules")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no module files");
    // A deterministic sample of about 50.
    let step = (files.len() / 50).max(1);
    let sample: Vec<_> = files.iter().step_by(step).take(50).collect();
    let mut raws = Vec::new();
    for p in &sample {
        let src = btfkit::input::open(p).expect("open module");
        raws.push((p.display().to_string(), src.btf_data().to_vec()));
    }
    let mut checked = 0;
    for (name, raw) in &raws {
        let mut ours = parse::parse_split(raw, base.clone()).expect("parse split");
        ours.dedup(&DedupOptions::default()).expect("dedup");
        let ours = write::to_bytes(&ours);
        let mut lb = LBtf::new_split(raw, &lbase);
        assert_eq!(lb.dedup(false), 0);
        assert_same_split(&ours, &lb.raw(), name);
        checked += 1;
    }
    // The first 8 sampled modules merged into one split BTF.
    let n = raws.len().min(8);
    let mut ours = parse::parse_split(&raws[0].1, base.clone()).unwrap();
    let mut lb = LBtf::new_split(&raws[0].1, &lbase);
    for (_, raw) in &raws[1..n] {
        ours.append(&parse::parse_split(raw, base.clone()).unwrap()).unwrap();
        let s = LBtf::new_split(raw, &lbase);
        assert!(lb.add_btf(&s) > 0);
    }
    ours.dedup(&DedupOptions::default()).unwrap();
    assert_eq!(lb.dedup(false), 0);
    assert_same_split(&write::to_bytes(&ours), &lb.raw(), "8 modules merged");
    // The same 8 appended into an empty split BTF (strings pass skipped;
    // libbpf 1.7 starts an empty split string section without "").
    let mut ours = Btf::new_split(base.clone());
    let mut lb = LBtf::new_empty_split(&lbase);
    for (_, raw) in &raws[..n] {
        ours.append(&parse::parse_split(raw, base.clone()).unwrap()).unwrap();
        assert!(lb.add_btf(&LBtf::new_split(raw, &lbase)) > 0);
    }
    assert_same_split(&write::to_bytes(&ours), &lb.raw(), "8 modules appended into an empty split BTF");
    ours.dedup(&DedupOptions::default()).unwrap();
    assert_eq!(lb.dedup(false), 0);
    assert_same_split(&write::to_bytes(&ours), &lb.raw(), "8 modules, empty split BTF, dedup");
    eprintln!("{checked} modules + 1 merge of {n} compared byte for byte");
}

/// The real kernel "BTF archive": 837 members, all appended into member 0.
#[test]
fn kernel_archive() {
    let Some(path) = common::kernel_archive_file("archive.btf.xz") else {
        common::skip_data("kernel archive fixture missing");
        return;
    };
    let data = std::fs::read(&path).expect("read archive");
    let mut off = 0usize;
    let mut members: Vec<&[u8]> = Vec::new();
    while off < data.len() {
        let (_, len) =
            parse::parse_with(&data[off..], &ParseOptions::new().with_allow_trailing(true).with_file_offset(off))
                .expect("member");
        members.push(&data[off..off + len]);
        off += len;
    }
    assert_eq!(members.len(), 837);
    let (ours, _) = check_merge(&members, "kernel archive (837 members)", false);
    // Without the last member (pahole's own full vmlinux BTF).
    let (objs_only, _) = check_merge(&members[..836], "kernel archive (836 per-object members)", false);
    // libbpf 1.1's results (stored fixtures): 1.7 changed the identical-types
    // fallback and moved typedefs to the struct pass; report whether that
    // changes anything on this input.
    if let Some(shared) = common::shared() {
        for (ours, name) in
            [(&ours, "archive.dedup.libbpf-1.1.btf"), (&objs_only, "archive.dedup-objs-only.libbpf-1.1.btf")]
        {
            let old = std::fs::read(shared.join("fixtures/kernel-archive").join(name)).unwrap();
            let a = parse::parse(ours).unwrap();
            let b = parse::parse(&old).unwrap();
            eprintln!(
                "libbpf 1.7 vs 1.1 ({name}): {} vs {} types, {} vs {} bytes, identical: {}",
                a.types().len(),
                b.types().len(),
                ours.len(),
                old.len(),
                *ours == old
            );
        }
    }
}

/// The kernel archive given 4 and 16 times over (837 x N members), merged
/// member by member on both sides and deduplicated: the inputs of the
/// issue-16 benchmark. Opt-in (BTFKIT_BIG_ARCHIVES=1): x16 takes about a
/// minute and 2 GiB on the libbpf side; otherwise it prints why it skipped.
#[test]
fn kernel_archive_repeated_x4_x16() {
    if std::env::var("BTFKIT_BIG_ARCHIVES").as_deref() != Ok("1") {
        common::skip_soft("archive x4 and x16 (set BTFKIT_BIG_ARCHIVES=1 to compare them with libbpf)");
        return;
    }
    let Some(path) = common::kernel_archive_file("archive.btf.xz") else {
        common::skip_data("kernel archive fixture missing");
        return;
    };
    let data = std::fs::read(&path).expect("read archive");
    let layout = btfkit::archive::walk(&data, 0, false).expect("walk");
    assert_eq!(layout.members.len(), 837);
    let raws: Vec<&[u8]> = layout.members.iter().map(|m| &data[m.offset..m.offset + m.size]).collect();
    for n in [4usize, 16] {
        // Ours first (then dropped), through the archive reader and the
        // merge+dedup the CLI uses (copies of members left out).
        let mut rep = Vec::with_capacity(data.len() * n);
        for _ in 0..n {
            rep.extend_from_slice(&data);
        }
        let rep_layout = btfkit::archive::walk(&rep, 0, false).expect("walk repeated");
        assert_eq!(rep_layout.members.len(), 837 * n);
        let kernel = parse::ParseOptions::new().with_validation(parse::Validation::Kernel);
        let (ours, merged, _) = btfkit::dedup::dedup_fed(
            |seen, add| btfkit::archive::for_each_member_fed(&rep, &rep_layout, &kernel, seen, add, |_| {}),
            &Default::default(),
        )
        .expect("dedup_fed");
        assert!(merged.copies_left_out > 837 * (n - 2), "left out {}", merged.copies_left_out);
        drop(rep);
        let ours = write::to_bytes(&ours);
        let mut lb: Option<LBtf> = None;
        for _ in 0..n {
            for r in &raws {
                let b = LBtf::new(r);
                match &mut lb {
                    None => lb = Some(b),
                    Some(lb) => assert!(lb.add_btf(&b) > 0, "btf__add_btf"),
                }
            }
        }
        let mut lb = lb.expect("members");
        assert_eq!(lb.dedup(false), 0, "btf__dedup");
        assert_same(&ours, &lb.raw(), &format!("kernel archive x{n} ({} members)", 837 * n));
        eprintln!("kernel archive x{n}: {} bytes, same as libbpf", ours.len());
    }
}

#[test]
fn force_collisions_same_result() {
    let Some(v) = host_vmlinux_bytes() else { return };
    // Force mode is quadratic; take the first ~3000 types' worth via a
    // small BTF: the host vmlinux is too big, so use the archive's first members if present.
    let _ = v;
    let Some(path) = common::kernel_archive_file("archive.btf.xz") else {
        common::skip_data("kernel archive fixture missing");
        return;
    };
    let data = std::fs::read(&path).expect("read archive");
    let mut off = 0usize;
    let mut members: Vec<&[u8]> = Vec::new();
    while off < data.len() && members.len() < 3 {
        let (_, len) = parse::parse_with(&data[off..], &ParseOptions::new().with_allow_trailing(true)).unwrap();
        members.push(&data[off..off + len]);
        off += len;
    }
    let (a, _) = check_merge(&members, "3 archive members, force_collisions", true);
    let (b, _) = check_merge(&members, "3 archive members", false);
    assert_eq!(a, b);
}
