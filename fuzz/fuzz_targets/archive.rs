//! Archive walker and member parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for lenient in [false, true] {
        if let Ok(layout) = btfkit::archive::walk(data, 0, lenient) {
            let mut end = 0;
            for m in &layout.members {
                assert!(m.offset >= end && m.offset + m.size <= data.len());
                end = m.offset + m.size;
            }
            if let Ok(members) = btfkit::archive::parse_members(data, &layout, &Default::default()) {
                let _ = btfkit::archive::Report::new(&layout, &members).to_text();
            }
            let _ = btfkit::archive::parse_split_members(data, &layout, &Default::default());
        }
    }
});
