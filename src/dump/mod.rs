//! Text output of a BTF: bpftool's raw listing, its JSON form, and the C header.

pub mod c;
pub mod json;
pub mod raw;

/// bpftool's rendering of a string offset: "(anon)" for 0, "(invalid)" when
/// out of range, else the bytes.
pub(crate) fn name_or_anon(btf: &crate::Btf, off: u32) -> &[u8] {
    if off == 0 {
        return b"(anon)";
    }
    btf.str_bytes(off).unwrap_or(b"(invalid)")
}

/// bpftool's INT encoding names.
pub(crate) fn int_encoding_str(enc: u8) -> &'static str {
    match enc {
        0 => "(none)",
        1 => "SIGNED",
        2 => "CHAR",
        4 => "BOOL",
        _ => "UNKN",
    }
}

pub(crate) fn var_linkage_str(l: u32) -> &'static str {
    match l {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    }
}

pub(crate) fn func_linkage_str(l: u16) -> &'static str {
    match l {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    }
}
