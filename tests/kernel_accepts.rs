//! Every BTF btfkit writes must load into the running kernel (BPF_BTF_LOAD).

mod common;

use btfkit::btf::int_encoding;
use btfkit::{parse, write, Btf, TypeId};

/// A builder-made BTF touching every kind the kernel accepts in a base BTF.
fn built() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let uchar = b.add_int("unsigned char", 1, 0).unwrap();
    let long = b.add_int("long", 8, int_encoding::SIGNED).unwrap();
    let flt = b.add_float("double", 8).unwrap();
    // The pointer is added first and names the struct that follows it.
    let ps = b.add_ptr(TypeId(b.type_count() + 1)).unwrap();
    let s = b.add_struct("node", 24).unwrap();
    b.add_field("next", ps, 0, 0).unwrap();
    b.add_field("val", int, 64, 0).unwrap();
    b.add_field("flags", uchar, 96, 3).unwrap();
    b.add_field("more", uchar, 99, 5).unwrap();
    b.add_field("d", flt, 128, 0).unwrap();
    let u = b.add_union("u", 8).unwrap();
    b.add_field("i", int, 0, 0).unwrap();
    b.add_field("l", long, 0, 0).unwrap();
    let _ = u;
    let e = b.add_enum("color", 4).unwrap();
    b.add_enum_value("RED", 0).unwrap();
    b.add_enum_value("NEG", -1).unwrap();
    let _ = e;
    b.add_enum64("big", 8, false).unwrap();
    b.add_enum64_value("HUGE", 1 << 40).unwrap();
    b.add_fwd("opaque", false).unwrap();
    b.add_fwd("opaque_u", true).unwrap();
    let td = b.add_typedef("node_t", s).unwrap();
    let c = b.add_const(td).unwrap();
    let v = b.add_volatile(c).unwrap();
    let pv = b.add_ptr(v).unwrap();
    let r = b.add_restrict(pv).unwrap();
    let arr = b.add_array(int, int, 16).unwrap();
    let proto = b.add_func_proto(int).unwrap();
    b.add_param("a", r).unwrap();
    b.add_param("b", arr).unwrap();
    let f = b.add_func("do_thing", 1, proto).unwrap();
    b.add_decl_tag("kfunc", f, -1).unwrap();
    b.add_decl_tag("member_tag", s, 1).unwrap();
    let tag = b.add_type_tag("user", int).unwrap();
    b.add_ptr(tag).unwrap();
    let var = b.add_var("counter", 1, int).unwrap();
    b.add_datasec(".data", 4).unwrap();
    b.add_datasec_var(var, 0, 4).unwrap();
    b
}

#[test]
fn builder_output_loads() {
    let bytes = write::to_bytes(&built());
    assert_eq!(parse::parse(&bytes).unwrap(), built(), "builder output must round trip");
    common::assert_kernel_accepts("builder BTF", &bytes);
}

#[test]
fn rewritten_vmlinux_loads() {
    let mut inputs = Vec::new();
    if let Some(p) = common::host_vmlinux() {
        inputs.push(p);
    }
    match common::shared() {
        Some(s) => inputs.push(s.join("fixtures/debian-6.1/vmlinux.btf")),
        None => common::skip_soft("../shared not present"),
    }
    for p in inputs {
        let raw = std::fs::read(&p).unwrap();
        let btf = parse::parse(&raw).unwrap();
        let out = write::to_bytes(&btf);
        assert!(out == raw, "{}: round trip changed the bytes", p.display());
        common::assert_kernel_accepts(&p.display().to_string(), &out);
    }
}

/// The harness itself must be able to fail: a named PTR is valid for libbpf
/// but the kernel rejects it.
#[test]
fn harness_sees_rejections() {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    let name = b.add_str("named_ptr").unwrap();
    b.push_type(btfkit::Type::new(name, btfkit::TypeKind::Ptr(int))).unwrap();
    match common::kernel_load(&write::to_bytes(&b)) {
        common::KernelLoad::Rejected(log) => assert!(!log.is_empty()),
        common::KernelLoad::Accepted => panic!("kernel accepted a named PTR"),
        common::KernelLoad::NotPermitted(e) => {
            if common::require_oracles() && common::is_root() {
                panic!("BPF_BTF_LOAD not permitted as root: {e}");
            }
            eprintln!("skipped: BPF_BTF_LOAD not permitted ({e})");
        }
    }
}
