//! `btfkit dump --format c` of every committed fixture equals bpftool 7.1's
//! `format c` byte for byte (gcc 12 -gbtf fixtures excepted: btfkit rejects
//! their kernel-invalid encodings, see tests/common/fixtures.rs).

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::process::Command;

use fixtures::*;

#[test]
fn every_fixture_c_dump_matches_bpftool() {
    if !common::have("bpftool") {
        return common::skip("bpftool not installed");
    }
    let mut compared = 0;
    for f in FIXTURES.iter().filter(|f| !f.gcc_quirks) {
        let mut ours = common::btfkit();
        ours.arg("dump").arg(fixture_path(f.name)).args(["--format", "c"]);
        let mut theirs = Command::new("bpftool");
        theirs.args(["btf", "dump", "file"]).arg(fixture_path(f.oracle.unwrap_or(f.name)));
        if let Some(b) = f.base {
            ours.arg("--base").arg(fixture_path(b));
            theirs.arg("-B").arg(fixture_path(b));
        }
        theirs.args(["format", "c"]);
        let (ours, theirs) = (common::run_ok(&mut ours), common::run_ok(&mut theirs));
        assert!(ours == theirs, "{}: C dump differs from bpftool's", f.name);
        compared += 1;
    }
    assert!(compared >= 7, "compared {compared} fixtures");
}
