//! libbpf 1.7 (libbpf-sys, vendored) as an oracle for merge and dedup.
#![allow(dead_code)]

use std::os::raw::c_void;

use libbpf_sys as sys;

/// An owned libbpf `struct btf`.
pub struct LBtf(pub *mut sys::btf);

impl Drop for LBtf {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a libbpf constructor and is freed once.
        unsafe { sys::btf__free(self.0) }
    }
}

fn check(p: *mut sys::btf, what: &str) -> LBtf {
    assert!(!p.is_null(), "libbpf {what} failed: {}", std::io::Error::last_os_error());
    LBtf(p)
}

impl LBtf {
    pub fn new(raw: &[u8]) -> LBtf {
        // SAFETY: libbpf copies the bytes; the slice outlives the call.
        check(unsafe { sys::btf__new(raw.as_ptr() as *const c_void, raw.len() as u32) }, "btf__new")
    }
    /// btf__new that reports rejection instead of panicking.
    pub fn try_new(raw: &[u8]) -> Option<LBtf> {
        // SAFETY: libbpf copies the bytes; the slice outlives the call.
        let p = unsafe { sys::btf__new(raw.as_ptr() as *const c_void, raw.len() as u32) };
        (!p.is_null()).then_some(LBtf(p))
    }
    /// btf__new_split that reports rejection instead of panicking.
    pub fn try_new_split(raw: &[u8], base: &LBtf) -> Option<LBtf> {
        // SAFETY: as above; `base` outlives the split BTF in every caller.
        let p = unsafe { sys::btf__new_split(raw.as_ptr() as *const c_void, raw.len() as u32, base.0) };
        (!p.is_null()).then_some(LBtf(p))
    }
    pub fn new_split(raw: &[u8], base: &LBtf) -> LBtf {
        // SAFETY: as above; `base` outlives the split BTF in every caller.
        check(unsafe { sys::btf__new_split(raw.as_ptr() as *const c_void, raw.len() as u32, base.0) }, "btf__new_split")
    }
    pub fn new_empty() -> LBtf {
        // SAFETY: plain constructor.
        check(unsafe { sys::btf__new_empty() }, "btf__new_empty")
    }
    pub fn new_empty_split(base: &LBtf) -> LBtf {
        // SAFETY: plain constructor; `base` outlives the result.
        check(unsafe { sys::btf__new_empty_split(base.0) }, "btf__new_empty_split")
    }
    /// btf__add_btf; returns the first new id or the negative errno.
    pub fn add_btf(&mut self, src: &LBtf) -> i32 {
        // SAFETY: both pointers are live libbpf objects.
        unsafe { sys::btf__add_btf(self.0, src.0) }
    }
    /// btf__dedup; 0 or the negative errno.
    pub fn dedup(&mut self, force_collisions: bool) -> i32 {
        let opts = sys::btf_dedup_opts {
            sz: std::mem::size_of::<sys::btf_dedup_opts>() as _,
            force_collisions,
            ..Default::default()
        };
        // SAFETY: live object, options sized as libbpf expects.
        unsafe { sys::btf__dedup(self.0, &opts) }
    }
    pub fn raw(&self) -> Vec<u8> {
        let mut sz = 0u32;
        // SAFETY: libbpf returns a buffer of `sz` bytes owned by the object.
        unsafe {
            let p = sys::btf__raw_data(self.0, &mut sz);
            assert!(!p.is_null(), "btf__raw_data failed");
            std::slice::from_raw_parts(p as *const u8, sz as usize).to_vec()
        }
    }
    /// Kind number and size/type word of type `id`, as libbpf holds it.
    pub fn type_words(&self, id: u32) -> Option<(u32, u32)> {
        if id >= self.type_cnt() {
            return None;
        }
        // SAFETY: id is in range, so libbpf returns a pointer to a live
        // `struct btf_type` (three u32: name_off, info, size/type, host order).
        unsafe {
            let p = sys::btf__type_by_id(self.0, id) as *const u32;
            if p.is_null() {
                return None;
            }
            Some(((*p.add(1) >> 24) & 0x1f, *p.add(2)))
        }
    }
    pub fn type_cnt(&self) -> u32 {
        // SAFETY: live object.
        unsafe { sys::btf__type_cnt(self.0) }
    }
}

/// Silences libbpf's warnings on stderr (for tests that feed it many
/// invalid inputs on purpose).
pub fn quiet_libbpf() {
    // SAFETY: installs no callback; libbpf then prints nothing.
    unsafe {
        sys::libbpf_set_print(None);
    }
}

/// Asserts byte equality with a readable report of the first difference.
pub fn assert_same(ours: &[u8], theirs: &[u8], what: &str) {
    if ours == theirs {
        return;
    }
    let pos = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    let describe = |b: &[u8]| match btfkit::parse::parse(b) {
        Ok(x) => format!("{} types, {} string bytes", x.types().len(), x.strings().len()),
        Err(e) => format!("unparsable: {e}"),
    };
    panic!(
        "{what}: output differs from libbpf: ours {} bytes ({}), libbpf {} bytes ({}), first difference at byte {pos}",
        ours.len(),
        describe(ours),
        theirs.len(),
        describe(theirs)
    );
}

/// Same as assert_same, for split outputs over `base`.
pub fn assert_same_split(ours: &[u8], theirs: &[u8], what: &str) {
    if ours == theirs {
        return;
    }
    let pos = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    panic!(
        "{what}: split output differs from libbpf: ours {} bytes, libbpf {} bytes, first difference at byte {pos}",
        ours.len(),
        theirs.len()
    );
}
