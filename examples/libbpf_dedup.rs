//! The oracle side of `scripts/bench-dedup.sh`: libbpf 1.7 (libbpf-sys, a
//! dev-dependency) doing what `btfkit dedup IN... -o OUT` does — every BTF of
//! every input (archive members included) `btf__add_btf`'d into the first,
//! then `btf__dedup`, raw bytes written to OUT. Not part of the product.
//!
//! Usage: libbpf_dedup OUT IN...

use std::os::raw::c_void;

use libbpf_sys as sys;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: libbpf_dedup OUT IN...");
        std::process::exit(2);
    };
    let mut first: *mut sys::btf = std::ptr::null_mut();
    for path in inputs {
        // btfkit only locates the bytes (file/ELF section, archive members);
        // libbpf parses, merges and deduplicates them.
        let src = btfkit::input::open(std::path::Path::new(path)).expect("open");
        let data = src.btf_data();
        let layout = btfkit::archive::walk(data, 0, false).expect("walk");
        for (_, raw) in layout.members_in(data) {
            // SAFETY: raw outlives the call; libbpf copies the data.
            let b = unsafe { sys::btf__new(raw.as_ptr() as *const c_void, raw.len() as u32) };
            assert!(!b.is_null(), "btf__new failed");
            if first.is_null() {
                first = b;
            } else {
                // SAFETY: both pointers are live BTF objects.
                let r = unsafe { sys::btf__add_btf(first, b) };
                assert!(r > 0, "btf__add_btf failed: {r}");
                unsafe { sys::btf__free(b) };
            }
        }
    }
    let opts = sys::btf_dedup_opts { sz: std::mem::size_of::<sys::btf_dedup_opts>() as _, ..Default::default() };
    // SAFETY: first is a live BTF object.
    let r = unsafe { sys::btf__dedup(first, &opts) };
    assert_eq!(r, 0, "btf__dedup failed");
    let mut sz = 0u32;
    // SAFETY: the returned buffer is owned by `first` and valid for sz bytes.
    let bytes = unsafe {
        let p = sys::btf__raw_data(first, &mut sz);
        std::slice::from_raw_parts(p as *const u8, sz as usize).to_vec()
    };
    std::fs::write(out, bytes).expect("write");
}
