//! `btfkit dump --format c` of every committed fixture equals bpftool 7.1's
//! `format c` byte for byte. The gcc 12 -gbtf fixtures, whose encodings the
//! kernel (and btfkit's default level) rejects, are read unpatched with
//! `--validate libbpf` (see tests/common/fixtures.rs).

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
    for f in FIXTURES {
        let mut ours = common::btfkit();
        ours.arg("dump").arg(fixture_path(f.name)).args(["--format", "c"]);
        if f.gcc_quirks {
            ours.args(["--validate", "libbpf"]);
        }
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
    assert!(compared >= 9, "compared {compared} fixtures");
}
