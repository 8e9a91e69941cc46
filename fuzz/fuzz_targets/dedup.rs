//! Dedup of whatever parses: never panics; the result re-parses and dedup
//! is idempotent (see [`check`]). Also the input appended to itself,
//! deduplicated, and given three times to `dedup_fed`, which must agree with
//! the plain merge and dedup (see [`check_copies`]).
#![no_main]
use libfuzzer_sys::fuzz_target;

use btfkit::dedup::DedupOptions;

/// The kernel validation level (the library's default is the libbpf level).
fn parse_kernel(data: &[u8]) -> btfkit::Result<btfkit::btf::Btf> {
    let opts = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Kernel);
    btfkit::parse::parse_with(data, &opts).map(|(b, _)| b)
}

fn raw(btf: &btfkit::btf::Btf) -> Vec<u8> {
    let mut out = Vec::new();
    btfkit::dump::raw::dump(btf, &mut out).expect("raw dump to memory");
    out
}

fn dedup_bytes(bytes: &[u8], opts: &DedupOptions) -> (btfkit::btf::Btf, Vec<u8>) {
    let mut b = parse_kernel(bytes).expect("dedup output must re-parse");
    b.dedup(opts).expect("dedup of dedup output must succeed");
    let out = btfkit::write::to_bytes(&b);
    (b, out)
}

/// Like libbpf, dedup rebuilds the string section of parsed BTF in the
/// order types first reference strings, before deduplicating types; once
/// types were merged or dropped, the second run may order strings
/// differently. So: the second run describes the same types (same raw
/// dump), and from there on dedup is a fixed point, byte for byte.
fn check(mut btf: btfkit::btf::Btf) {
    let opts = DedupOptions::default();
    if btf.dedup(&opts).is_err() {
        return;
    }
    let once = btfkit::write::to_bytes(&btf);
    let (b2, twice) = dedup_bytes(&once, &opts);
    assert!(raw(&btf) == raw(&b2), "dedup must be idempotent (same types)");
    let (_, thrice) = dedup_bytes(&twice, &opts);
    assert!(twice == thrice, "dedup of dedup output must be a fixed point");
}

/// Input only the libbpf validation level accepts: dedup and merge must not
/// panic and their output must re-parse at that level. (No idempotence: as
/// in libbpf, the dedup remaps a FWD's odd size word like a type id, which
/// can make FWDs equal only on the next run.)
fn check_lenient(mut btf: btfkit::btf::Btf) {
    let opts = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Libbpf);
    if btf.dedup(&DedupOptions::default()).is_ok() {
        let out = btfkit::write::to_bytes(&btf);
        btfkit::parse::parse_with(&out, &opts).expect("dedup output must re-parse at the libbpf level");
    }
}

/// The input three times over through `dedup_fed` (the later copies left
/// out when its checks allow, else merged) must give what the plain merge
/// and dedup of the three give, or both must fail.
fn check_copies(data: &[u8]) {
    use btfkit::feed::{Digest, Fed};
    let opts = DedupOptions::default();
    let fed = btfkit::dedup::dedup_fed(
        |seen, add| {
            for _ in 0..3 {
                let d = seen.enabled().then(|| Digest::of(data));
                match d {
                    Some(d) if seen.is_copy(&d) => add(Fed::Copy(d))?,
                    _ => add(Fed::parsed(btfkit::parse::parse(data)?, d))?,
                }
            }
            Ok(())
        },
        &opts,
    );
    let full = btfkit::dedup::merge_all(|add| {
        for _ in 0..3 {
            add(btfkit::parse::parse(data)?)?;
        }
        Ok(())
    })
    .and_then(|(mut b, _)| b.dedup(&opts).map(|_| b));
    match (fed, full) {
        (Ok((a, _, _)), Ok(b)) => {
            assert!(btfkit::write::to_bytes(&a) == btfkit::write::to_bytes(&b), "dedup_fed differs from merge + dedup")
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("dedup_fed ok: {}, merge + dedup ok: {}", a.is_ok(), b.is_ok()),
    }
}

fuzz_target!(|data: &[u8]| {
    check_copies(data);
    if let Ok(btf) = parse_kernel(data) {
        check(btf.clone());
        let mut doubled = btf.clone();
        if doubled.append(&btf).is_ok() {
            check(doubled);
        }
        return;
    }
    let opts = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Libbpf);
    if let Ok((btf, _)) = btfkit::parse::parse_with(data, &opts) {
        check_lenient(btf.clone());
        let mut doubled = btf.clone();
        if doubled.append(&btf).is_ok() {
            check_lenient(doubled);
        }
    }
});
