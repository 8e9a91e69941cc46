//! The command line's grammar: `--format json` everywhere (the old `--json`
//! as a hidden alias), one meaning of `-B/--base`, the input flags on every
//! command that reads BTF, flags that do not apply to the chosen format
//! refused, generated shell completions and man pages, examples in every
//! `--help`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::btfkit;

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/gen").join(name)
}

fn run(args: &[&str]) -> Output {
    btfkit().args(args).output().expect("spawn btfkit")
}

fn ok(args: &[&str]) -> Vec<u8> {
    let o = run(args);
    assert!(o.status.success(), "btfkit {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// Exit status 2, and stderr says `why`.
fn refused(args: &[&str], why: &str) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "btfkit {args:?} must fail: {err}");
    assert!(err.contains(why), "btfkit {args:?}: {err}");
    assert!(o.stdout.is_empty(), "nothing written on a usage error");
}

fn tmp(name: &str) -> PathBuf {
    let d = common::root().join(format!("target/cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Two standalone BTFs back to back: an archive of two members (a file of
/// its own per call: tests run in parallel, and rewriting a shared one
/// truncates it under a test reading it).
fn two_member_archive() -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let p = tmp(&format!("two-{}.btfa", CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let mut bytes = std::fs::read(fixture("kinds.btf")).unwrap();
    bytes.extend(std::fs::read(fixture("enums.btf")).unwrap());
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn format_json_everywhere_with_hidden_json_alias() {
    let kinds = fixture("kinds.btf");
    let k = kinds.to_str().unwrap();
    let stat = ok(&["stat", k, "--format", "json"]);
    assert!(json(&stat).is_object());
    assert_eq!(stat, ok(&["stat", k, "--json"]), "--json is the same as --format json");
    assert_eq!(stat, ok(&["stat", k, "-f", "json"]));
    assert_ne!(stat, ok(&["stat", k]), "text by default");
    let archive = two_member_archive();
    let a = archive.to_str().unwrap();
    let list = ok(&["archive", "list", a, "--format", "json"]);
    json(&list);
    assert_eq!(list, ok(&["archive", "list", a, "--json"]));
    json(&ok(&["dump", k, "--format", "json"]));
    let d = run(&["diff", k, fixture("enums.btf").to_str().unwrap(), "--format", "json"]);
    assert_eq!(d.status.code(), Some(1));
    json(&d.stdout);
    // The alias is hidden from --help; --format is shown.
    for cmd in [&["stat", "--help"][..], &["archive", "list", "--help"]] {
        let help = String::from_utf8(ok(cmd)).unwrap();
        assert!(help.contains("--format <FORMAT>"), "{help}");
        assert!(!help.contains("--json"), "{help}");
    }
    refused(&["stat", k, "--format", "c"], "invalid value 'c'");
}

#[test]
fn flags_for_another_format_are_refused() {
    let k = fixture("kinds.btf");
    let k = k.to_str().unwrap();
    refused(&["dump", k, "--sort"], "--sort applies to --format c only");
    refused(&["dump", k, "--format", "json", "--sort"], "--sort applies to --format c only");
    refused(&["dump", k, "--root", "1"], "--root applies to --format c only");
    refused(&["dump", k, "--pretty"], "--pretty applies to --format json only");
    refused(&["dump", k, "--format", "c", "--pretty"], "--pretty applies to --format json only");
    // Where they apply, they work.
    assert!(ok(&["dump", k, "--format", "json", "--pretty"]).starts_with(b"{\n"));
    assert!(ok(&["dump", k, "--format", "c", "--sort"]).starts_with(b"#ifndef __VMLINUX_H__"));
    assert!(ok(&["dump", k, "--format", "c", "--root", "1"]).starts_with(b"#ifndef __VMLINUX_H__"));
}

#[test]
fn every_reading_command_takes_the_input_flags() {
    let k = fixture("kinds.btf");
    let k = k.to_str().unwrap();
    let e = fixture("enums.btf");
    let e = e.to_str().unwrap();
    let flags = ["--archive", "first", "--lenient", "--validate", "libbpf"];
    let with = |cmd: &[&str]| -> Vec<String> { cmd.iter().chain(flags.iter()).map(|s| s.to_string()).collect() };
    let out = tmp("flags.btf");
    let o = out.to_str().unwrap();
    let base_out = tmp("flags.btfa");
    for cmd in [
        vec!["dump", k],
        vec!["stat", k],
        vec!["diff", k, k],
        vec!["dedup", k, "-o", o],
        vec![
            "archive",
            "build",
            "--base-member",
            e,
            fixture("split.btf").to_str().unwrap(),
            "-o",
            base_out.to_str().unwrap(),
        ],
    ] {
        let args = with(&cmd);
        let st = btfkit().args(&args).output().unwrap();
        assert!(st.status.success(), "{args:?}: {}", String::from_utf8_lossy(&st.stderr));
    }
    // archive list and extract read every member by definition: --lenient and --validate only.
    ok(&["archive", "list", k, "--lenient", "--validate", "libbpf"]);
    ok(&["archive", "extract", k, "--member", "0", "-o", o, "--lenient", "--validate", "libbpf"]);
    // A child of a base+children archive is checked as split BTF over member 0.
    let b = base_out.to_str().unwrap();
    ok(&["archive", "extract", b, "--member", "1", "-o", o, "--validate", "libbpf"]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(fixture("split.btf")).unwrap());
}

/// `archive extract` writes nothing when the member does not read at the
/// `--validate` level, and `--lenient` extracts what precedes trailing garbage.
#[test]
fn archive_extract_checks_the_member() {
    let mut bad = btfkit::Btf::new();
    let int = bad.add_int("int", 4, 0).unwrap();
    btfkit::btf::unchecked::push_type(
        &mut bad,
        btfkit::Type::new(btfkit::StrOff(1_000_000), btfkit::TypeKind::Ptr(int)),
    )
    .unwrap();
    let good = std::fs::read(fixture("kinds.btf")).unwrap();
    let file = tmp("extract-bad.btfa");
    let mut bytes = btfkit::archive::build(&[good.clone(), btfkit::write::to_bytes(&bad)]);
    std::fs::write(&file, &bytes).unwrap();
    let f = file.to_str().unwrap();
    let out = tmp("extract-out.btf");
    let o = out.to_str().unwrap();
    let _ = std::fs::remove_file(&out);
    refused(&["archive", "extract", f, "--member", "1", "-o", o], "string");
    assert!(!out.exists(), "nothing written");
    ok(&["archive", "extract", f, "--member", "0", "-o", o]);
    assert_eq!(std::fs::read(&out).unwrap(), good);
    bytes.extend_from_slice(b"garbage!");
    std::fs::write(&file, &bytes).unwrap();
    refused(&["archive", "extract", f, "--member", "0", "-o", o], "not a BTF header");
    ok(&["archive", "extract", f, "--member", "0", "-o", o, "--lenient"]);
}

#[test]
fn archive_first_and_merge_in_diff_and_dedup() {
    let archive = two_member_archive();
    let a = archive.to_str().unwrap();
    let kinds = fixture("kinds.btf");
    let k = kinds.to_str().unwrap();
    // diff: the first member alone is kinds.btf; the merge is more.
    assert_eq!(run(&["diff", a, k, "--archive", "first"]).status.code(), Some(0));
    assert_eq!(run(&["diff", a, k]).status.code(), Some(1));
    // dedup: --archive first deduplicates only the first member.
    let (first, merged, alone) = (tmp("first.btf"), tmp("merged.btf"), tmp("alone.btf"));
    ok(&["dedup", a, "--archive", "first", "-o", first.to_str().unwrap()]);
    ok(&["dedup", a, "-o", merged.to_str().unwrap()]);
    ok(&["dedup", k, "-o", alone.to_str().unwrap()]);
    let (first, merged, alone) =
        (std::fs::read(first).unwrap(), std::fs::read(merged).unwrap(), std::fs::read(alone).unwrap());
    assert_eq!(first, alone, "the first member, deduplicated");
    assert!(merged.len() > first.len(), "both members");
    refused(&["dedup", a, "--split", "--archive", "first", "-o", "-"], "cannot take --archive first");
}

#[test]
fn base_means_the_split_base() {
    let (split, enums) = (fixture("split.btf"), fixture("enums.btf"));
    let (s, e) = (split.to_str().unwrap(), enums.to_str().unwrap());
    // dump, stat, dedup: -B and --base.
    let raw = ok(&["dump", s, "-B", e]);
    assert_eq!(raw, ok(&["dump", s, "--base", e]));
    ok(&["stat", s, "-B", e]);
    // diff: -B is both inputs' base, the same as --base-a X --base-b X.
    let both = run(&["diff", s, s, "-B", e]);
    assert_eq!(both.status.code(), Some(0), "{}", String::from_utf8_lossy(&both.stderr));
    let each = run(&["diff", s, s, "--base-a", e, "--base-b", e]);
    assert_eq!((both.stdout, both.status.code()), (each.stdout, each.status.code()));
    refused(&["diff", s, s, "-B", e, "--base-a", e], "cannot be used with");
    // archive build: member 0 is --base-member; --base (a split base everywhere else) is
    // refused there, with clap's hint, and nothing is written.
    let (x, y) = (tmp("x.btfa"), tmp("y.btfa"));
    ok(&["archive", "build", "--base-member", e, s, "-o", x.to_str().unwrap()]);
    assert!(std::fs::metadata(&x).unwrap().len() > 0);
    refused(&["archive", "build", "--base", e, s, "-o", y.to_str().unwrap()], "--base-member");
    assert!(!y.exists(), "a refused archive build wrote {}", y.display());
    let help = String::from_utf8(ok(&["archive", "build", "--help"])).unwrap();
    assert!(help.contains("--base-member"), "{help}");
}

#[test]
fn completions_are_generated_from_the_definitions() {
    let bash = String::from_utf8(ok(&["completions", "bash"])).unwrap();
    for word in ["dump", "stat", "diff", "dedup", "archive", "--format", "--base-member", "--validate"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    // The script is valid bash.
    let p = tmp("btfkit.bash");
    std::fs::write(&p, &bash).unwrap();
    let st = Command::new("bash").arg("-n").arg(&p).status().unwrap();
    assert!(st.success(), "bash -n on the completion script");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let s = String::from_utf8(ok(&["completions", shell])).unwrap();
        assert!(s.contains("btfkit") && s.contains("dedup"), "{shell}");
    }
    refused(&["completions", "tcsh"], "invalid value 'tcsh'");
}

#[test]
fn man_pages_are_generated_from_the_definitions() {
    let main = String::from_utf8(ok(&["man"])).unwrap();
    assert!(
        main.starts_with(".ie \\n(.g .ds Aq \\(aq") || main.contains(".TH btfkit"),
        "{}",
        &main[..200.min(main.len())]
    );
    assert!(main.contains(".TH btfkit"));
    for sub in ["dump", "stat", "diff", "dedup", "archive", "completions", "man"] {
        assert!(main.contains(sub), "main page lists {sub}");
    }
    let dump = String::from_utf8(ok(&["man", "dump"])).unwrap();
    assert!(dump.contains(".TH btfkit-dump"), "{}", &dump[..200.min(dump.len())]);
    assert!(dump.contains("\\-\\-format") && dump.contains("\\-\\-sort"), "options documented");
    refused(&["man", "nosuch"], "no command named 'nosuch'");
    // groff reads it without warnings.
    if common::have("groff") {
        let p = tmp("btfkit-dump.1");
        std::fs::write(&p, &dump).unwrap();
        let o = Command::new("groff").args(["-man", "-Tutf8", "-ww", "-z"]).arg(&p).output().unwrap();
        assert!(o.status.success() && o.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn every_help_has_examples() {
    let cmds: &[&[&str]] = &[
        &[],
        &["dump"],
        &["stat"],
        &["diff"],
        &["dedup"],
        &["archive", "list"],
        &["archive", "build"],
        &["archive", "extract"],
        &["verify"],
        &["completions"],
        &["man"],
    ];
    for cmd in cmds {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = String::from_utf8(ok(&args)).unwrap();
        assert!(help.contains("Example"), "btfkit {cmd:?} --help has no example:\n{help}");
    }
}

/// An input error that only the kernel level finds gets one note pointing at
/// `--validate libbpf`, whichever way `--validate kernel` is spelled; at the
/// libbpf level the same input is read (and no such note).
#[test]
fn kernel_level_error_gets_the_note() {
    let f = fixture("kinds.gcc.btf");
    let f = f.to_str().unwrap();
    let note = "input is checked with the kernel's rules";
    for args in [&["dump", f, "--validate", "kernel"][..], &["stat", f, "--validate=kernel"]] {
        let o = run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "btfkit {args:?}: {err}");
        assert!(err.contains(note) && err.contains("--validate libbpf"), "btfkit {args:?}: {err}");
    }
    let o = run(&["dump", f]);
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains(note));
}

/// Inputs given three times: later copies are recognised and left out
/// (stderr says so) when the check allows, else merged (kinds.btf has a
/// DECL_TAG on a VAR, new in every copy), and either way the result is the
/// one of reading the inputs through pipes, where nothing is looked for (a
/// pipe cannot be read twice).
#[test]
fn dedup_recognises_repeated_inputs_and_reads_pipes_once() {
    let archive = two_member_archive();
    let enums = fixture("enums.btf");
    for (input, files_say) in
        [(enums.as_path(), "(3 BTFs, 1 copies of earlier ones not merged again)"), (archive.as_path(), "(6 BTFs)")]
    {
        let a = input.to_str().unwrap();
        let (files, piped) = (tmp("files.btf"), tmp("piped.btf"));
        let o = run(&["dedup", a, a, a, "-o", files.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains(files_say), "{a}: {err}");
        let sh =
            format!("{} dedup <(cat {a}) <(cat {a}) <(cat {a}) -o {}", env!("CARGO_BIN_EXE_btfkit"), piped.display());
        let o = Command::new("bash").args(["-c", &sh]).output().expect("bash");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(!err.contains("copies of earlier ones"), "{a}: {err}");
        assert_eq!(std::fs::read(&files).unwrap(), std::fs::read(&piped).unwrap(), "{a}");
    }
}

/// When the copies cannot be left out the inputs are read twice; each
/// input's warning is still printed once.
#[test]
fn dedup_warns_once_per_input_when_it_reads_twice() {
    let p = tmp("garbage.btfa");
    let mut bytes = std::fs::read(two_member_archive()).unwrap();
    bytes.extend(b"garbage!");
    std::fs::write(&p, bytes).unwrap();
    let p = p.to_str().unwrap();
    let o = run(&["dedup", "--lenient", p, p, p, "-o", tmp("g.btf").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // kinds.btf has a DECL_TAG on a VAR: the copies are merged after a failed check.
    assert!(err.contains("(6 BTFs)"), "{err}");
    assert_eq!(err.matches("stopped reading the archive").count(), 3, "{err}");
}
