//! Text output of a BTF: bpftool's raw listing, its JSON form, and the C header.

pub mod c;
pub mod json;
pub mod raw;

use std::io::{self, Write};

use rayon::prelude::*;

/// Appending text to a byte buffer, fast (no `fmt` machinery).
pub(crate) trait Text {
    /// Appends bytes or a str.
    fn s(&mut self, s: impl AsRef<[u8]>) -> &mut Self;
    /// Appends an integer in decimal.
    fn u(&mut self, n: impl itoa::Integer) -> &mut Self;
}

impl Text for Vec<u8> {
    #[inline]
    fn s(&mut self, s: impl AsRef<[u8]>) -> &mut Self {
        self.extend_from_slice(s.as_ref());
        self
    }
    #[inline]
    fn u(&mut self, n: impl itoa::Integer) -> &mut Self {
        self.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }
}

/// Renders `items` in chunks on the rayon pool with `render(chunk, buf)`,
/// then writes the buffers in order. Output is identical for any thread count.
pub(crate) fn render_chunks<T: Sync>(
    items: &[T],
    out: &mut impl Write,
    render: impl Fn(&[T], &mut Vec<u8>) + Sync,
) -> io::Result<()> {
    const CHUNK: usize = 4096;
    // Render a window of chunks at a time so memory stays bounded on huge inputs.
    for window in items.chunks(CHUNK * 16) {
        let bufs: Vec<Vec<u8>> = window
            .par_chunks(CHUNK)
            .map(|c| {
                let mut buf = Vec::with_capacity(c.len() * 64);
                render(c, &mut buf);
                buf
            })
            .collect();
        for b in &bufs {
            out.write_all(b)?;
        }
    }
    Ok(())
}

/// bpftool's rendering of a string offset: "(anon)" for 0, "(invalid)" when
/// out of range, else the bytes.
pub(crate) fn name_or_anon(btf: &crate::Btf, off: crate::btf::StrOff) -> &[u8] {
    if off.is_empty() {
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
