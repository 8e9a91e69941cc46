//! The whole input path: decompression, ELF, archive detection, parse.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-input");
    if let Ok(src) = btfkit::input::from_bytes(btfkit::input::Bytes::from(data.to_vec()), path) {
        for archive in [btfkit::input::ArchiveMode::First, btfkit::input::ArchiveMode::Merge] {
            let opts = btfkit::input::LoadOptions { archive, lenient: true, ..Default::default() };
            let _ = btfkit::input::load_source(&src, &opts);
        }
    }
});
