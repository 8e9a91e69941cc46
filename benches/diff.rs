//! `btfkit diff` on two vmlinux-sized BTFs: the host's vmlinux against a copy
//! with its types and strings in another order (equivalent), and against the
//! same copy with a few structs changed.
//!
//!     cargo bench --bench diff

use std::collections::HashMap;
use std::path::Path;

use btfkit::{Btf, TypeId, diff::diff, input};
use criterion::{Criterion, criterion_group, criterion_main};

/// Reverses type order and string order (all ids and offsets remapped).
fn reorder(btf: &Btf) -> Btf {
    let n = btf.types().len();
    let new_id = |id: TypeId| if id.0 == 0 || id.0 as usize > n { id } else { TypeId(n as u32 + 1 - id.0) };
    let mut out = Btf::new();
    let mut strs: Vec<Vec<u8>> = Vec::new();
    for t in btf.types().iter().rev() {
        let mut t = t.clone();
        t.for_each_str_mut(|off| strs.push(btf.str_bytes(*off).unwrap_or(b"").to_vec()));
    }
    let mut offs: HashMap<Vec<u8>, btfkit::btf::StrOff> = HashMap::new();
    for s in strs.into_iter().rev() {
        if let std::collections::hash_map::Entry::Vacant(e) = offs.entry(s) {
            let off = if e.key().is_empty() { btfkit::btf::StrOff::EMPTY } else { out.add_str_bytes(e.key()).unwrap() };
            e.insert(off);
        }
    }
    for t in btf.types().iter().rev() {
        let mut t = t.clone();
        t.for_each_ref_mut(|id| *id = new_id(*id));
        t.for_each_str_mut(|off| *off = offs[btf.str_bytes(*off).unwrap_or(b"")]);
        out.push_type(t).unwrap();
    }
    out
}

fn bench(c: &mut Criterion) {
    let p = Path::new("/sys/kernel/btf/vmlinux");
    let Ok(a) = input::load(p, None) else {
        eprintln!("skipped: {} not readable", p.display());
        return;
    };
    let b = reorder(&a);
    let mut changed = b.clone();
    for t in btfkit::btf::unchecked::types_mut(&mut changed).iter_mut().step_by(1000) {
        if let btfkit::TypeKind::Struct(s) = &mut t.kind {
            s.members.pop();
        }
    }
    assert!(diff(&a, &b).equivalent);
    let mut g = c.benchmark_group("diff vmlinux");
    g.sample_size(10);
    g.bench_function("reordered (equivalent)", |bn| bn.iter(|| diff(&a, &b)));
    g.bench_function("reordered + changed structs", |bn| bn.iter(|| diff(&a, &changed)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
