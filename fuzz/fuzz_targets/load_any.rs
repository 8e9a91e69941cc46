//! The whole input path: decompression, ELF, archive detection, parse.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-input");
    if let Ok(src) = btfkit::input::from_bytes(btfkit::input::Bytes::from(data.to_vec()), path) {
        for archive in [btfkit::input::ArchiveMode::First, btfkit::input::ArchiveMode::Merge] {
            let _ = btfkit::input::Loader::new().archive(archive).lenient(true).load_source(&src);
        }
    }
});
