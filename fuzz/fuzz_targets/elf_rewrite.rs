//! The ELF writer on hostile ELF files: replacing `.BTF` with smaller and
//! larger contents (in place, appended, or padded to keep the size) must
//! either fail cleanly or give an ELF whose `.BTF` holds exactly the new
//! bytes, with the file's other bytes where they were (for in-place writes).
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-input");
    let Ok(old) = btfkit::elf::find_btf_section(data, path) else { return };
    let old_len = old.size;
    // A valid small BTF to write: parsing the old section if it parses,
    // else a fixed one.
    let small = btfkit::parse::parse(&data[old.offset..old.offset + old_len])
        .map(|b| btfkit::write::to_bytes(&b))
        .unwrap_or_else(|_| {
            let mut b = btfkit::Btf::new();
            let _ = b.add_int("int", 4, 1);
            btfkit::write::to_bytes(&b)
        });
    let mut bigger = small.clone();
    bigger.extend(std::iter::repeat(0u8).take(old_len + 64));
    for new in [&small[..], &bigger[..]] {
        if let Ok((out, _)) = btfkit::elf::replace_section(data, path, ".BTF", new) {
            let sec = btfkit::elf::find_btf_section(&out, path).expect("rewritten ELF must parse");
            assert_eq!(&out[sec.offset..sec.offset + sec.size], new, "rewritten .BTF holds the new bytes");
        }
    }
    let padded = btfkit::parse::parse(&small).and_then(|b| btfkit::write::to_bytes_padded(&b, old_len));
    if let Ok(out) = padded.and_then(|p| btfkit::elf::replace_section_same_size(data, path, ".BTF", &p)) {
        assert_eq!(out.len(), data.len(), "--keep-size keeps the file size");
        let sec = btfkit::elf::find_btf_section(&out, path).expect("rewritten ELF must parse");
        assert_eq!(sec.offset, old.offset);
        assert_eq!(sec.size, old_len);
        assert_eq!(&out[..old.offset], &data[..old.offset], "bytes before .BTF unchanged");
        assert_eq!(&out[old.offset + old_len..], &data[old.offset + old_len..], "bytes after .BTF unchanged");
        let got =
            btfkit::parse::parse_with(&out[sec.offset..sec.offset + sec.size], &btfkit::parse::ParseOptions::default());
        assert!(got.is_ok(), "the padded BTF parses: {:?}", got.err());
    }
});
