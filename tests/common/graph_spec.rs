//! Random "compilation units" for property tests: a list of [`Spec`]s, each
//! read as one type of the unit by the test's own `add_unit`.
//! Include with `#[path = "common/graph_spec.rs"] mod graph_spec;`.
#![allow(dead_code)]

use btfkit::btf::int_encoding;
use btfkit::{Btf, TypeId};
use proptest::prelude::*;

/// Names a generated type or member may get ("" = anonymous).
pub const NAMES: [&str; 5] = ["", "a", "b", "c", "d"];

/// One generated type: a selector of its kind and raw numbers that the
/// unit builder interprets relative to the types before it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub sel: u8,
    pub name: u8,
    pub x: u8,
    pub y: u8,
    pub members: Vec<(u8, u8)>,
}

/// Specs with selectors in `0..kinds`.
pub fn spec(kinds: u8) -> impl Strategy<Value = Spec> {
    (0u8..kinds, 0u8..NAMES.len() as u8, any::<u8>(), any::<u8>(), prop::collection::vec((0u8..5, any::<u8>()), 0..4))
        .prop_map(|(sel, name, x, y, members)| Spec { sel, name, x, y, members })
}

/// Adds one "compilation unit" built from `specs`, valid for the kernel by
/// construction: by-value references only go backwards to sized types,
/// members are laid out one after another, names are identifiers. Structs
/// whose bit is set in `fwd_mask` become FWDs of the same name, as in a unit
/// that only saw a declaration; units built from the same specs with other
/// masks give dedup duplicates to merge and FWDs to resolve.
pub fn add_unit(b: &mut Btf, specs: &[Spec], fwd_mask: u64) {
    let base = b.type_count();
    let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
    // Size of each type of the unit by value; None: not usable by value.
    let mut sizes: Vec<Option<u32>> = vec![Some(4)];
    let back = |sizes: &[Option<u32>], v: u8, allow_void: bool| -> (TypeId, u32) {
        let sized: Vec<usize> = (0..sizes.len()).filter(|&k| sizes[k].is_some()).collect();
        let n = sized.len() + allow_void as usize;
        let k = v as usize % n;
        if k == sized.len() { (TypeId(0), 0) } else { (TypeId(base + sized[k] as u32), sizes[sized[k]].unwrap_or(0)) }
    };
    let any_in_unit = |v: u8| TypeId(base + v as u32 % (specs.len() as u32 + 1));
    // Any type before the i-th of the unit, or void.
    let back_any = |v: u8, i: usize| {
        let k = v as u32 % (i as u32 + 2);
        if k == i as u32 + 1 { TypeId(0) } else { TypeId(base + k) }
    };
    for (i, s) in specs.iter().enumerate() {
        let name = NAMES[s.name as usize];
        let named = if name.is_empty() { "n" } else { name };
        let size = match s.sel {
            0 => {
                // Forwards only to a struct, union or FWD (a loop of pointers
                // alone is invalid); backwards to anything.
                let fwd = any_in_unit(s.x);
                let k = (fwd.0 - base) as usize;
                let t = if k > i && matches!(specs[k - 1].sel, 4..=6) { fwd } else { back_any(s.x, i) };
                b.add_ptr(t).unwrap();
                Some(8)
            }
            1 => {
                let (t, sz) = back(&sizes, s.x, true);
                b.add_const(t).unwrap();
                (t.0 != 0).then_some(sz)
            }
            2 => {
                let (t, sz) = back(&sizes, s.x, false);
                b.add_typedef(named, t).unwrap();
                Some(sz)
            }
            3 => {
                let (t, sz) = back(&sizes, s.x, false);
                let n = s.y as u32 % 4;
                b.add_array(t, int, n).unwrap();
                Some(sz * n)
            }
            4 | 5 if fwd_mask >> (i % 64) & 1 == 1 => {
                b.add_fwd(named, s.sel == 5).unwrap();
                None
            }
            4 | 5 => {
                let members: Vec<(&str, TypeId, u32)> = s
                    .members
                    .iter()
                    .map(|(mn, mt)| {
                        let (t, sz) = back(&sizes, *mt, false);
                        (NAMES[*mn as usize], t, sz)
                    })
                    .collect();
                // Every member 8-byte aligned (the kernel checks some kinds' alignment).
                let total = if s.sel == 4 {
                    members.iter().map(|m| m.2.div_ceil(8) * 8).sum()
                } else {
                    members.iter().map(|m| m.2).max().unwrap_or(0)
                };
                if s.sel == 4 { b.add_struct(name, total) } else { b.add_union(name, total) }.unwrap();
                let mut off = 0;
                for (mn, t, sz) in members {
                    b.add_field(mn, t, off * 8, 0).unwrap();
                    if s.sel == 4 {
                        off += sz.div_ceil(8) * 8;
                    }
                }
                Some(total)
            }
            6 => {
                b.add_fwd(named, s.x & 1 == 1).unwrap();
                None
            }
            7 => {
                b.add_enum(name, 4).unwrap();
                for v in 0..(s.x % 3) {
                    b.add_enum_value(&format!("{named}{i}_{v}"), v as i64).unwrap();
                }
                // No values: a forward declaration, incomplete as in C (dedup
                // may resolve it to an ENUM64 of the same name, as libbpf's does).
                (s.x % 3 != 0).then_some(4)
            }
            8 => {
                let (r, _) = back(&sizes, s.x, true);
                b.add_func_proto(r).unwrap();
                for (mn, mt) in &s.members {
                    let (t, _) = back(&sizes, *mt, false);
                    b.add_param(NAMES[*mn as usize], t).unwrap();
                }
                None
            }
            10 => {
                b.add_float("double", 8).unwrap();
                Some(8)
            }
            11 => {
                b.add_enum64(name, 8, s.y & 1 == 1).unwrap();
                for v in 0..(s.x % 3) {
                    b.add_enum64_value(&format!("{named}{i}_e{v}"), (v as u64) << 40).unwrap();
                }
                (s.x % 3 != 0).then_some(8)
            }
            _ => {
                let (n, sz) = if s.y & 1 == 0 { ("long", 8) } else { ("char", 1) };
                b.add_int(n, sz, 0).unwrap();
                Some(sz)
            }
        };
        sizes.push(size);
    }
    // After the unit's own types (so ids above stay one per spec): a FUNC
    // for every prototype whose parameters all have names, a tag on every
    // named struct, and one variable in a data section.
    for (i, s) in specs.iter().enumerate() {
        let id = TypeId(base + 1 + i as u32);
        if s.sel == 8 && s.members.iter().all(|(mn, _)| *mn != 0) {
            let f = b.add_func(&format!("f{i}"), 1, id).unwrap();
            b.add_decl_tag("kfunc", f, -1).unwrap();
        }
        if s.sel == 4 && sizes[i + 1].is_some() && s.name != 0 {
            b.add_decl_tag("tagged", id, -1).unwrap();
        }
    }
    let (t, sz) = back(&sizes, specs.len() as u8, false);
    if sz > 0 {
        let v = b.add_var("var", 1, t).unwrap();
        b.add_datasec(".data", sz).unwrap();
        b.add_datasec_var(v, 0, sz).unwrap();
    }
}
