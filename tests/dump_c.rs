//! `btfkit dump --format c` against Debian's bpftool 7.1 (`format c`),
//! byte for byte, on C test sources, vmlinux BTF and module BTF.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use btfkit::btf::int_encoding;
use btfkit::dump::c::{self, Options};
use btfkit::{Btf, TypeId, input};
use common::{have, run_ok, skip, skip_data, skip_soft};

/// The first differing line of two outputs, with context.
fn first_diff(ours: &[u8], theirs: &[u8]) -> String {
    let a: Vec<&[u8]> = ours.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = theirs.split(|&b| b == b'\n').collect();
    let i = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let mut s = format!("first difference at line {} (ours {} lines, bpftool {} lines)\n", i + 1, a.len(), b.len());
    let from = i.saturating_sub(4);
    for (n, l) in b.iter().enumerate().take(i).skip(from) {
        s += &format!("   {:>6}  {}\n", n + 1, String::from_utf8_lossy(l));
    }
    for (tag, v) in [("bpftool", &b), ("ours   ", &a)] {
        for (n, l) in v.iter().enumerate().skip(i).take(3) {
            s += &format!("{tag} {:>6}  {}\n", n + 1, String::from_utf8_lossy(l));
        }
    }
    s
}

fn assert_same(what: &str, ours: &[u8], theirs: &[u8]) {
    if ours != theirs {
        panic!("{what}: output differs from bpftool\n{}", first_diff(ours, theirs));
    }
}

fn oracles() -> bool {
    if !have("bpftool") {
        skip("bpftool not installed");
        return false;
    }
    true
}

fn bpftool_c(file: &Path, base: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new("bpftool");
    cmd.arg("btf").arg("dump").arg("file").arg(file);
    if let Some(b) = base {
        cmd.arg("-B").arg(b);
    }
    cmd.arg("format").arg("c");
    run_ok(&mut cmd)
}

fn ours_c(btf: &Btf, opts: &Options) -> Vec<u8> {
    let mut buf = Vec::new();
    c::render(btf, opts, &mut buf).unwrap_or_else(|e| panic!("render failed: {e}"));
    buf
}

fn load(file: &Path, base: Option<&Path>) -> Btf {
    let base = base.map(|b| Arc::new(input::load(b, None).expect("base loads")));
    input::load(file, base).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn out_dir() -> PathBuf {
    let d = common::root().join("target/dump-c-tests");
    std::fs::create_dir_all(&d).expect("create target/dump-c-tests");
    d
}

/// Compiles tests/c/NAME.c with `clang -target bpf -g -c`.
fn compile_bpf(name: &str) -> PathBuf {
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    let obj = out_dir().join(format!("{name}.o"));
    run_ok(Command::new("clang").args(["-target", "bpf", "-g", "-O2", "-c"]).arg(&src).arg("-o").arg(&obj));
    obj
}

/// `clang -target bpf -fsyntax-only` on a header (and optionally a user).
fn check_compiles(header: &Path, user: Option<&str>) {
    run_ok(Command::new("clang").args(["-target", "bpf", "-fsyntax-only", "-x", "c"]).arg(header));
    if let Some(u) = user {
        let dir = header.parent().expect("header has a parent");
        let src = common::root().join("tests/c").join(u);
        run_ok(
            Command::new("clang")
                .args(["-target", "bpf", "-g", "-O2", "-c"])
                .arg("-I")
                .arg(dir)
                .arg(&src)
                .arg("-o")
                .arg(dir.join(format!("{u}.o"))),
        );
    }
}

fn c_sources_ready() -> bool {
    if !have("clang") {
        skip("clang not installed");
        return false;
    }
    oracles()
}

fn compare_object(name: &str, obj: &Path) -> Vec<u8> {
    let theirs = bpftool_c(obj, None);
    let ours = ours_c(&load(obj, None), &Options::default());
    assert_same(name, &ours, &theirs);
    // The CLI prints the same bytes.
    let cli = run_ok(common::btfkit().arg("dump").arg(obj).args(["--format", "c"]));
    assert_same(&format!("{name} (CLI)"), &cli, &theirs);
    ours
}

#[test]
fn c_sources_match_bpftool_and_compile() {
    if !c_sources_ready() {
        return;
    }
    for name in ["layout", "decls", "enums", "tags"] {
        let obj = compile_bpf(name);
        let header = compare_object(name, &obj);
        let h = out_dir().join(format!("{name}.h"));
        std::fs::write(&h, &header).expect("write header");
        check_compiles(&h, (name == "decls").then_some("use_decls.c"));
    }
}

#[test]
fn c_sources_show_the_features() {
    if !c_sources_ready() {
        return;
    }
    let text =
        |name: &str| String::from_utf8(ours_c(&load(&compile_bpf(name), None), &Options::default())).expect("utf8");
    let layout = text("layout");
    for want in [
        "\tu32 a: 1;",
        "} __attribute__((packed));",
        "\tlong: 64;",
        "\tchar data[0];",
        "struct empty {};",
        "\tstruct {} e;",
    ] {
        assert!(layout.contains(want), "layout header lacks {want:?}:\n{layout}");
    }
    let decls = text("decls");
    for want in [
        "struct node;",
        "typedef struct node node_t;",
        "\tvoid (*on_event[3])(int, char *);",
        "\tint (* (*getter)(int))[8];",
        "\tconst char * const *names;",
        "\tvolatile int * const vp;",
        "\tint matrix[3][4][5];",
        "typedef void (*vfn_t)(void);",
        "typedef int vararg_fn_t(const char *, ...);",
        "typedef struct {\n\tint x;\n\tint y;\n} point_t;",
        "struct fwd_only;",
        "union fwd_union;",
    ] {
        assert!(decls.contains(want), "decls header lacks {want:?}:\n{decls}");
    }
    let tags = text("tags");
    assert!(
        tags.contains("int __attribute__((btf_type_tag(\"rcu\"))) __attribute__((btf_type_tag(\"percpu\"))) *multi;"),
        "{tags}"
    );
    assert!(!tags.contains("btf_decl_tag"), "bpftool 7.1 does not print decl tags:\n{tags}");
}

/// Compiles tests/c/NAME.c for the host with DWARF and encodes BTF with
/// `pahole -J` (which, unlike clang 14, emits ENUM64 and signed enums).
fn compile_pahole(name: &str) -> PathBuf {
    let src = common::root().join("tests/c").join(format!("{name}.c"));
    let obj = out_dir().join(format!("{name}.host.o"));
    run_ok(Command::new("clang").args(["-g", "-O0", "-c"]).arg(&src).arg("-o").arg(&obj));
    run_ok(Command::new("pahole").arg("-J").arg(&obj));
    obj
}

#[test]
fn pahole_encoded_sources_match_bpftool() {
    if !c_sources_ready() {
        return;
    }
    if !have("pahole") {
        skip("pahole not installed");
        return;
    }
    for name in ["enums", "layout", "decls", "tags"] {
        let obj = compile_pahole(name);
        let header = compare_object(&format!("{name} (pahole)"), &obj);
        let h = out_dir().join(format!("{name}.host.h"));
        std::fs::write(&h, &header).expect("write header");
        check_compiles(&h, None);
        if name == "enums" {
            let enums = String::from_utf8(header).expect("utf8");
            for want in [
                "\tNEG = -5,",
                "\tB_MAX = 18446744073709551615ULL,",
                "\tSB_NEG = -4294967296LL,",
                "\tW_A = 1ULL,",
                "\tMI = -2147483648,",
                "\tSH_NEG = -1,",
                "\t\tINNER_X = 3,",
            ] {
                assert!(enums.contains(want), "enums header lacks {want:?}:\n{enums}");
            }
            assert!(!enums.contains("mode(byte)"), "Debian's bpftool 7.1 prints no mode() attributes");
        }
    }
}

#[test]
fn name_clashes_across_linked_objects() {
    if !c_sources_ready() {
        return;
    }
    let a = compile_bpf("clash_a");
    let b = compile_bpf("clash_b");
    let linked = out_dir().join("clash.o");
    run_ok(Command::new("bpftool").args(["gen", "object"]).arg(&linked).arg(&a).arg(&b));
    let ours = compare_object("clash", &linked);
    let text = String::from_utf8(ours).expect("utf8");
    for want in [
        "struct foo___2 {",
        "\tDUP___2 = 3,",
        "enum ev___2 {",
        "typedef long dup_t___2;",
        "struct bar___2 {",
        "typedef struct foo___2 foo_t;",
    ] {
        assert!(text.contains(want), "clash header lacks {want:?}:\n{text}");
    }
    let h = out_dir().join("clash.h");
    std::fs::write(&h, &text).expect("write header");
    check_compiles(&h, None);
}

#[test]
fn host_vmlinux_matches_bpftool() {
    let Some(v) = common::host_vmlinux() else {
        common::skip_soft("no /sys/kernel/btf/vmlinux");
        return;
    };
    if !oracles() {
        return;
    }
    let ours = ours_c(&load(&v, None), &Options::default());
    assert_same("host vmlinux", &ours, &bpftool_c(&v, None));
    if have("clang") {
        let dir = out_dir().join("host");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("vmlinux.h"), &ours).expect("write");
        check_compiles(&dir.join("vmlinux.h"), Some("use_vmlinux.c"));
    }
}

fn debian_vmlinux() -> Option<PathBuf> {
    let p = common::shared()?.join("fixtures/debian-6.1/vmlinux.btf");
    p.exists().then_some(p)
}

#[test]
fn debian_vmlinux_matches_bpftool() {
    let Some(v) = debian_vmlinux() else {
        skip_soft("shared fixtures (debian-6.1/vmlinux.btf) missing");
        return;
    };
    if !oracles() {
        return;
    }
    let ours = ours_c(&load(&v, None), &Options::default());
    assert_same("debian vmlinux", &ours, &bpftool_c(&v, None));
    if have("clang") {
        let dir = out_dir().join("debian");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("vmlinux.h"), &ours).expect("write");
        check_compiles(&dir.join("vmlinux.h"), Some("use_vmlinux.c"));
    }
}

#[test]
fn debian_elf_modules_match_bpftool() {
    let Some(v) = debian_vmlinux() else {
        skip_soft("shared fixtures missing");
        return;
    };
    if !oracles() {
        return;
    }
    let dir = v.parent().expect("parent").join("elf");
    for m in ["crc7.ko", "ext4.ko", "virtio_net.ko"] {
        let p = dir.join(m);
        let ours = ours_c(&load(&p, Some(&v)), &Options::default());
        assert_same(m, &ours, &bpftool_c(&p, Some(&v)));
    }
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn find_btf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_btf_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "btf") {
            out.push(p);
        }
    }
}

/// Every Debian 6.1 module BTF, dumped over the Debian vmlinux. bpftool's
/// output hashes are cached in target/ (keyed by file and size), so only
/// the first run pays for ~4,000 bpftool runs; mismatches rerun bpftool to
/// show the differing line.
#[test]
fn all_debian_modules_match_bpftool() {
    let Some(v) = debian_vmlinux() else {
        skip_soft("shared fixtures missing");
        return;
    };
    if !oracles() {
        return;
    }
    let Some(mods) = common::debian_modules() else {
        skip_data("could not unpack modules.tar.xz");
        return;
    };
    let mut files = Vec::new();
    find_btf_files(&mods.join("modules"), &mut files);
    files.sort();
    assert!(files.len() > 4000, "expected ~4,023 module BTF files, found {}", files.len());
    // Each module's C dump holds all of vmlinux (bpftool 7.1 dumps ids 1..), so
    // bpftool takes ~0.3 s per module: the default run takes every 32nd module
    // (CI's time budget); BTFKIT_ALL_MODULES=1 compares all 4,023.
    if std::env::var("BTFKIT_ALL_MODULES").as_deref() != Ok("1") {
        files = files.into_iter().step_by(32).collect();
        eprintln!("comparing a sample of {} modules (BTFKIT_ALL_MODULES=1 for all)", files.len());
    }
    let base = Arc::new(input::load(&v, None).expect("vmlinux loads"));
    let cache_path = out_dir().join("bpftool-module-hashes.txt");
    let cache: std::collections::HashMap<String, u64> = std::fs::read_to_string(&cache_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (h, k) = l.split_once(' ')?;
            Some((k.to_string(), u64::from_str_radix(h, 16).ok()?))
        })
        .collect();
    let key = |p: &Path| format!("{}:{}", p.display(), std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(String, u64, Option<String>)>> = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let k = key(f);
                    let btf = match input::load(f, Some(base.clone())) {
                        Ok(b) => b,
                        Err(e) => {
                            results.lock().expect("lock").push((
                                k,
                                0,
                                Some(format!("{}: load failed: {e}", f.display())),
                            ));
                            continue;
                        }
                    };
                    let mut ours = Vec::new();
                    let r = c::render(&btf, &Options::default(), &mut ours);
                    let h = fnv1a(&ours);
                    let mut failure = r.err().map(|e| format!("{}: render failed: {e}", f.display()));
                    let theirs_hash = match cache.get(&k) {
                        Some(&th) => th,
                        None => fnv1a(&bpftool_c(f, Some(&v))),
                    };
                    if failure.is_none() && theirs_hash != h {
                        let theirs = bpftool_c(f, Some(&v));
                        if theirs != ours {
                            failure = Some(format!("{}: {}", f.display(), first_diff(&ours, &theirs)));
                        }
                    }
                    let stored = if failure.is_some() { 0 } else { h };
                    results.lock().expect("lock").push((k, stored, failure));
                }
            });
        }
    });
    let results = results.into_inner().expect("lock");
    let mut text = String::new();
    let mut failures = Vec::new();
    for (k, h, f) in &results {
        match f {
            Some(f) => failures.push(f.clone()),
            None => text += &format!("{h:016x} {k}\n"),
        }
    }
    let _ = std::fs::write(&cache_path, text);
    eprintln!("compared {} module BTF files with bpftool: {} mismatches", results.len(), failures.len());
    if !failures.is_empty() {
        let names: Vec<&str> = failures.iter().map(|f| f.split(": ").next().unwrap_or(f)).collect();
        panic!(
            "{} of {} modules differ from bpftool: {}\n\nfirst differences:\n{}",
            failures.len(),
            results.len(),
            names.join(", "),
            failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// `--root` is bpftool's `root_id` selection. bpftool 7.1 only takes root
/// ids for maps, so the oracle is the same loop over libbpf's
/// btf_dump__dump_type() (tests/c/libbpf_dump.c) linked with the system
/// libbpf 1.1, compared with our `upstream_libbpf_1_1` flavour.
#[test]
fn roots_match_libbpf() {
    if !c_sources_ready() {
        return;
    }
    let harness = out_dir().join("libbpf_dump");
    let built = Command::new("cc")
        .arg("-O1")
        .arg("-o")
        .arg(&harness)
        .arg(common::root().join("tests/c/libbpf_dump.c"))
        .arg("-lbpf")
        .status()
        .is_ok_and(|s| s.success());
    if !built {
        skip("cannot build the libbpf harness (cc or libbpf-dev missing)");
        return;
    }
    let check = |file: &Path, base: Option<&Path>, names: &[&str]| {
        let btf = load(file, base);
        let roots: Vec<TypeId> = names.iter().map(|n| c::resolve_root(&btf, n).expect("root resolves")).collect();
        let mut cmd = Command::new(&harness);
        cmd.arg(file).arg(base.map(|b| b.as_os_str().to_owned()).unwrap_or_else(|| "-".into()));
        cmd.args(roots.iter().map(|r| r.0.to_string()));
        let theirs = run_ok(&mut cmd);
        let ours = ours_c(&btf, &Options::default().with_roots(roots.clone()).with_upstream_libbpf_1_1(true));
        assert_same(&format!("{} roots {names:?}", file.display()), &ours, &theirs);
        ours
    };
    let decls = compile_bpf("decls");
    let out = check(&decls, None, &["callbacks", "handler_t", "node_t"]);
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.contains("struct callbacks {") && !text.contains("struct a {"), "{text}");
    check(&compile_bpf("enums"), None, &["uses_enums"]);
    if let Some(v) = debian_vmlinux() {
        check(&v, None, &["task_struct", "sk_buff", "bpf_map_type", "1"]);
        let ext4 = v.parent().expect("parent").join("elf/ext4.ko");
        check(&ext4, Some(&v), &["ext4_sb_info", "ext4_inode_info"]);
    }
    // The CLI takes names and ids alike.
    let btf = load(&decls, None);
    let id = c::resolve_root(&btf, "callbacks").expect("resolves").0.to_string();
    let by_name = run_ok(common::btfkit().arg("dump").arg(&decls).args(["--format", "c", "--root", "callbacks"]));
    let by_id = run_ok(common::btfkit().arg("dump").arg(&decls).args(["--format", "c", "--root", &id]));
    assert_eq!(by_name, by_id);
    assert!(
        !common::btfkit()
            .arg("dump")
            .arg(&decls)
            .args(["--format", "c", "--root", "no_such_type"])
            .status()
            .expect("runs")
            .success()
    );
}

// ---- inputs that must not crash ----

#[test]
fn deep_chains_do_not_overflow_the_stack() {
    // The dumper walks the type graph with heap stacks: a million-long
    // chain dumps on a thread with a small (2 MiB) stack.
    fn dump_small_stack(b: &Btf) -> (btfkit::Result<()>, Vec<u8>) {
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(s, || {
                    let mut buf = Vec::new();
                    let r = c::render_here(b, &Options::default(), &mut buf);
                    (r, buf)
                })
                .expect("spawn")
                .join()
                .expect("no crash")
        })
    }
    fn has(buf: &[u8], s: &str) -> bool {
        buf.windows(s.len()).any(|w| w == s.as_bytes())
    }

    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).expect("int");
    let mut cur = int;
    for i in 0..1_000_000u32 {
        cur = match i % 3 {
            0 => b.add_const(cur),
            1 => b.add_ptr(cur),
            _ => b.add_volatile(cur),
        }
        .expect("add");
    }
    b.add_typedef("deep_t", cur).expect("typedef");
    let (r, buf) = dump_small_stack(&b);
    assert!(r.is_ok(), "{r:?}");
    assert!(has(&buf, "deep_t;\n"), "typedef written");

    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).expect("int");
    let mut cur = int;
    for i in 0..1_000_000u32 {
        cur = if i % 2 == 0 { b.add_typedef(&format!("t{i}"), cur) } else { b.add_array(cur, int, 2) }.expect("add");
    }
    b.add_typedef("deep_t", cur).expect("typedef");
    let (r, buf) = dump_small_stack(&b);
    assert!(r.is_ok(), "{r:?}");
    assert!(has(&buf, "typedef t999998 deep_t[2];\n"), "typedef written");

    // Arrays of arrays and pointers to arrays nest declarators.
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).expect("int");
    let mut cur = int;
    for i in 0..1_000_000u32 {
        cur = if i % 2 == 0 { b.add_array(cur, int, 1) } else { b.add_ptr(cur) }.expect("add");
    }
    b.add_typedef("deep_t", cur).expect("typedef");
    let (r, buf) = dump_small_stack(&b);
    assert!(r.is_ok(), "{r:?}");
    assert!(has(&buf, "deep_t"), "typedef written");

    // Anonymous structs nested by value are defined in place, 200,000 deep.
    let mut b = Btf::new();
    let mut cur = b.add_int("int", 4, int_encoding::SIGNED).expect("int");
    for _ in 0..200_000u32 {
        let s = b.add_struct("", 4).expect("struct");
        b.add_field("m", cur, 0, 0).expect("field");
        cur = s;
    }
    b.add_struct("deep_s", 4).expect("struct");
    b.add_field("m", cur, 0, 0).expect("field");
    let (r, buf) = dump_small_stack(&b);
    assert!(r.is_ok(), "{r:?}");
    assert!(has(&buf, "struct deep_s {\n\tstruct {\n\t\tstruct {"), "nested definitions");
    assert!(has(&buf, "\t\t\t\t\t\t\t\t\t\t\t\t\tint m;\n"), "innermost member");
}

#[test]
fn pointer_cycles_end_with_an_error() {
    // [1] PTR -> [2], [2] PTR -> [1]: libbpf would recurse forever.
    let mut b = Btf::new();
    b.add_ptr(TypeId(2)).expect("ptr");
    b.add_ptr(TypeId(1)).expect("ptr");
    b.add_typedef("loop_t", TypeId(1)).expect("typedef");
    let mut buf = Vec::new();
    let err = c::render(&b, &Options::default(), &mut buf).expect_err("a pointer loop cannot be dumped");
    let msg = err.to_string();
    assert!(msg.starts_with("type [") && msg.contains("type graph"), "the walk bound names a type: {msg}");
    assert!(buf.starts_with(b"#ifndef __VMLINUX_H__"), "partial output is kept");
    assert!(!buf.ends_with(b"#endif /* __VMLINUX_H__ */\n"), "no footer after an error");
}

#[test]
fn anonymous_struct_cycle_is_an_error_like_libbpf() {
    // struct { struct <self> *p; } — anonymous, so it cannot be forward declared.
    let mut b = Btf::new();
    let s = b.add_struct("", 8).expect("struct");
    let p = b.add_ptr(s).expect("ptr");
    btfkit::btf::unchecked::types_mut(&mut b)[0] = btfkit::Type::new(
        btfkit::btf::StrOff::EMPTY,
        btfkit::TypeKind::Struct(btfkit::btf::Composite {
            size: 8,
            kflag: false,
            members: [btfkit::btf::Member { name_off: btfkit::btf::StrOff::EMPTY, ty: p, offset: 0 }].into(),
        }),
    );
    let mut buf = Vec::new();
    let err = c::render(&b, &Options::default(), &mut buf).expect_err("anonymous cycle");
    assert_eq!(err.to_string(), "unsatisfiable type cycle, id:[1]", "libbpf's message, with the id");
    assert!(buf.starts_with(b"#ifndef __VMLINUX_H__"), "partial output is kept");
}

// ---- --sort (bpftool 7.5+ ordering) ----

fn sorting_btf() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).expect("int"); // 1
    b.add_struct("zeta", 4).expect("s"); // 2
    b.add_field("z", int, 0, 0).expect("f");
    b.add_struct("alpha", 4).expect("s"); // 3
    b.add_field("a", int, 0, 0).expect("f");
    b.add_enum("", 4).expect("e"); // 4: anonymous enum, sorts by first value
    b.add_enum_value("M_VAL", 1).expect("v");
    b.add_enum("named_e", 4).expect("e"); // 5
    b.add_enum_value("N_VAL", 1).expect("v");
    b.add_typedef("alpha_t", TypeId(3)).expect("t"); // 6: typedef of struct: rank 3, sort name "alpha"
    b.add_ptr(TypeId(2)).expect("p"); // 7: anonymous ptr: rank 10
    b.add_float("double", 8).expect("f"); // 8: rank 2
    b.add_struct("alpha", 8).expect("s"); // 9: same name, different members
    b.add_field("b", int, 0, 0).expect("f");
    b.add_field("c", int, 32, 0).expect("f");
    b.add_enum("", 4).expect("e"); // 10: anonymous enum, sorts before 4 (A < M)
    b.add_enum_value("A_VAL", 1).expect("v");
    b
}

#[test]
fn sort_ranks_and_names() {
    let b = sorting_btf();
    assert_eq!(c::type_rank(&b, TypeId(4), false), 0, "anonymous enum");
    assert_eq!(c::type_rank(&b, TypeId(5), false), 1, "named enum");
    assert_eq!(c::type_rank(&b, TypeId(1), false), 2, "int");
    assert_eq!(c::type_rank(&b, TypeId(8), false), 2, "float");
    assert_eq!(c::type_rank(&b, TypeId(2), false), 3, "named struct");
    assert_eq!(c::type_rank(&b, TypeId(6), false), 3, "typedef takes its target's rank");
    assert_eq!(c::type_rank(&b, TypeId(7), false), 10, "anonymous pointer");
    assert_eq!(c::type_rank(&b, TypeId(0), false), 10, "void");
    assert_eq!(c::sort_name(&b, TypeId(4), false), b"M_VAL", "anonymous enum sorts by its first value");
    assert_eq!(c::sort_name(&b, TypeId(4), true), b"", "…but not when referenced");
    assert_eq!(c::sort_name(&b, TypeId(6), false), b"alpha", "typedef sorts by its target");
    assert_eq!(c::sort_name(&b, TypeId(7), false), b"zeta", "pointer sorts by its target");
    // h*31+v over names; members hashed with their type's (member-less) hash.
    let h = |s: &str| c::str_hash(s.as_bytes());
    assert_eq!(c::str_hash(b"ab"), 97 * 31 + 98);
    assert_eq!(c::str_hash(&[0xff]), u64::MAX, "C char is signed");
    let int_h = h("int");
    let alpha3 = (h("alpha").wrapping_mul(31).wrapping_add(h("a"))).wrapping_mul(31).wrapping_add(int_h);
    assert_eq!(c::disambig_hash(&b, TypeId(3), true), alpha3);
    assert_eq!(c::disambig_hash(&b, TypeId(3), false), h("alpha"));
    assert_eq!(c::disambig_hash(&b, TypeId(6), true), h("alpha_t").wrapping_mul(31).wrapping_add(alpha3));
}

#[test]
fn sort_order_with_ties_and_skipped_first() {
    let b = sorting_btf();
    let order = c::sorted_order(&b);
    // Sorted: [10 A_VAL] [4 M_VAL] [5 named_e] [8 double] [1 int] then rank
    // 3 by sort name: alpha(3), alpha(9) by hash, alpha_t(6), zeta(2), then
    // rank 10: void(0, "") and the pointer(7, "zeta"). bpftool skips the
    // first sorted entry.
    let (h3, h9) = (c::disambig_hash(&b, TypeId(3), true), c::disambig_hash(&b, TypeId(9), true));
    let (first, second) = if h3 < h9 { (3, 9) } else { (9, 3) };
    assert_eq!(order, [4, 5, 8, 1, first, second, 6, 2, 0, 7].map(TypeId));
    assert_eq!(order.len() as u32, b.type_count() - 1);
}

#[test]
fn sorted_dump_contains_every_definition_once() {
    let b = sorting_btf();
    let unsorted = String::from_utf8(ours_c(&b, &Options::default())).expect("utf8");
    let sorted = String::from_utf8(ours_c(&b, &Options::default().with_sort(true))).expect("utf8");
    assert_ne!(unsorted, sorted);
    assert!(sorted.find("struct alpha").expect("alpha") < sorted.find("struct zeta").expect("zeta"));
    assert!(unsorted.find("struct zeta").expect("zeta") < unsorted.find("struct alpha").expect("alpha"));
    assert_eq!(sorted.matches("struct alpha {").count(), 1);
    assert_eq!(sorted.matches("struct alpha___2 {").count(), 1);
    // The skipped anonymous enum (A_VAL) is missing, as in bpftool.
    assert!(!sorted.contains("A_VAL") && unsorted.contains("A_VAL"));
}

// ---- arbitrary graphs: errors are fine, panics and hangs are not ----

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    fn build(spec: &[(u8, u32, u32, bool)]) -> Btf {
        let mut b = Btf::new();
        let n = spec.len() as u32 + 1;
        for (i, &(kind, r1, r2, named)) in spec.iter().enumerate() {
            let (r1, r2) = (TypeId(r1 % (n + 1)), TypeId(r2 % (n + 1)));
            let name = if named { format!("n{}", i % 5) } else { String::new() };
            let _ = match kind % 14 {
                0 => b.add_int(if named { "int" } else { "long" }, 4, int_encoding::SIGNED),
                1 => b.add_ptr(r1),
                2 => b.add_array(r1, r2, r2.0 % 7),
                3 | 4 => {
                    let id = if kind % 14 == 3 { b.add_struct(&name, 16) } else { b.add_union(&name, 8) };
                    let _ = b.add_field("a", r1, 0, 0);
                    let _ = b.add_field("b", r2, 33, if named { 3 } else { 0 });
                    id
                }
                5 => {
                    let id = b.add_enum(&name, 4);
                    let _ = b.add_enum_value(&format!("V{}", i % 3), -1);
                    id
                }
                6 => b.add_fwd(&format!("f{}", i % 3), named),
                7 => b.add_typedef(if named { "__builtin_va_list" } else { "td" }, r1),
                8 => b.add_volatile(r1),
                9 => b.add_const(r1),
                10 => {
                    let id = b.add_func_proto(r1);
                    let _ = b.add_param("p", r2);
                    let _ = b.add_param("", TypeId(0));
                    id
                }
                11 => b.add_type_tag("tag", r1),
                12 => {
                    let id = b.add_enum64(&name, 8, named);
                    let _ = b.add_enum64_value("E", u64::MAX);
                    id
                }
                _ => b.add_float("double", 8),
            };
        }
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn render_never_panics(spec in proptest::collection::vec((0u8..14, 0u32..40, 0u32..40, any::<bool>()), 1..30)) {
            let b = build(&spec);
            for opts in [Options::default(), Options::default().with_sort(true), Options::default().with_upstream_libbpf_1_1(true)] {
                let mut buf = Vec::new();
                match c::render(&b, &opts, &mut buf) {
                    Ok(()) => prop_assert!(buf.ends_with(b"#endif /* __VMLINUX_H__ */\n"), "a complete header"),
                    Err(e) => {
                        // Only the errors the dumper documents: an unsatisfiable
                        // cycle (libbpf's) or a walk bound, each naming a type id.
                        let msg = e.to_string();
                        prop_assert!(
                            msg.starts_with("unsatisfiable type cycle, id:[")
                                || (msg.starts_with("type [") && (msg.contains("type graph") || msg.contains("loops") || msg.contains("padding"))),
                            "unexpected error: {}", msg
                        );
                        prop_assert!(!buf.ends_with(b"#endif /* __VMLINUX_H__ */\n"), "no footer after an error");
                    }
                }
                // Deterministic: the same input gives the same bytes.
                let mut again = Vec::new();
                let _same = c::render(&b, &opts, &mut again);
                prop_assert_eq!(&buf, &again);
            }
        }
    }
}
