//! kfunc DECL_TAGs from the ELF's `.BTF_ids` section, as pahole ≥ 1.27 adds
//! them with the `decl_tag_kfuncs` BTF feature (Linux 6.12's default pahole
//! flags, `scripts/Makefile.btf`).
//!
//! The kernel declares its kfunc sets with `BTF_KFUNCS_START(name)` ...
//! `BTF_ID_FLAGS(func, fn, flags)` ... `BTF_KFUNCS_END(name)` (include/linux/btf_ids.h).
//! In the object file that is a `BTF_SET8` in `.BTF_ids`: a symbol
//! `__BTF_ID__set8__<name>` covering a header `{ u32 cnt; u32 flags; }` whose
//! flags have `BTF_SET8_KFUNCS` (bit 0) set, followed by `{ u32 id; u32 flags; }`
//! pairs, each `id` labelled by a symbol `__BTF_ID__func__<fn>__<n>`. pahole
//! marks every function whose `__BTF_ID__func__` symbol lies inside such a set
//! and, when it encodes that function's FUNC, adds `DECL_TAG "bpf_kfunc"`
//! (component_idx -1) on it, plus (pahole ≥ 1.28) `DECL_TAG "bpf_fastcall"`
//! when the pair's flags have `KF_FASTCALL`. A function listed in several sets takes the flags
//! of its last `__BTF_ID__func__` symbol in symbol-table order (pahole
//! overwrites them the same way).
//!
//! [`kfuncs_from_elf`] reads the sets, [`tag_kfuncs`] adds the tags to the
//! FUNCs of a finished BTF (after [`crate::kernel::finish`], so each name has
//! one FUNC). Tags that are already there are not added again, so a second run
//! gives the same BTF.

use std::collections::{HashMap, HashSet};

use object::{Object, ObjectSection, ObjectSymbol};

use crate::btf::{Btf, Type, TypeId, TypeKind};
use crate::error::{Error, Result};

/// Name of the section holding the BTF id lists and sets.
pub const BTF_IDS_SECTION: &str = ".BTF_ids";
/// The DECL_TAG value of a kfunc.
pub const KFUNC_TAG: &str = "bpf_kfunc";
/// The DECL_TAG value of a kfunc flagged `KF_FASTCALL`.
pub const FASTCALL_TAG: &str = "bpf_fastcall";
/// `KF_FASTCALL` (include/linux/btf.h).
pub const KF_FASTCALL: u32 = 1 << 12;
/// `BTF_SET8_KFUNCS`: the set8 flag that marks a kfunc set.
pub const BTF_SET8_KFUNCS: u32 = 1;

const SET8_PREFIX: &str = "__BTF_ID__set8__";
const FUNC_PREFIX: &str = "__BTF_ID__func__";

/// One kfunc found in the ELF's kfunc sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kfunc {
    /// The function's name.
    pub name: String,
    /// The `flags` word of its pair in the set (`KF_*`).
    pub flags: u32,
}

/// The function name in a `__BTF_ID__func__<fn>__<n>` symbol (pahole's
/// `get_func_name`: strip the prefix and the last `__<suffix>`).
fn func_name(sym: &str) -> Option<&str> {
    let rest = sym.strip_prefix(FUNC_PREFIX)?;
    let cut = rest.rfind("__")?;
    let name = &rest[..cut];
    (!name.is_empty()).then_some(name)
}

/// The kfuncs of an ELF file (vmlinux.o, a linked vmlinux or a `.ko`), sorted
/// by name. No `.BTF_ids` section or no symbol table: none. A set or pair
/// outside the section's bytes is an error naming the symbol.
pub fn kfuncs_from_elf(data: &[u8]) -> Result<Vec<Kfunc>> {
    let file = object::File::parse(data).map_err(|e| Error::NotElf { why: e.to_string() })?;
    let Some(sec) = file.section_by_name(BTF_IDS_SECTION) else { return Ok(Vec::new()) };
    let idx = sec.index();
    let addr = sec.address();
    let bytes = sec.data().map_err(|e| Error::SectionData { section: BTF_IDS_SECTION, why: e.to_string() })?;
    let little = file.is_little_endian();
    let word = |off: u64| -> Option<u32> {
        let at = usize::try_from(off).ok()?;
        let w: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(w) } else { u32::from_be_bytes(w) })
    };
    // The section's named symbols: name, section-relative offset, size.
    let syms: Vec<(&str, u64, u64)> = file
        .symbols()
        .filter(|sym| sym.section_index() == Some(idx))
        .filter_map(|sym| Some((sym.name().ok()?, sym.address().wrapping_sub(addr), sym.size())))
        .collect();
    // The flags word after a set's count or a pair's id.
    let flags_at = |name: &str, off: u64| -> Result<u32> {
        off.checked_add(4).and_then(word).ok_or_else(|| Error::SymbolOutsideSection {
            section: BTF_IDS_SECTION,
            symbol: name.to_string(),
            offset: off,
            size: bytes.len(),
        })
    };
    // Kfunc set ranges (section-relative, half open).
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &(name, off, size) in &syms {
        if name.starts_with(SET8_PREFIX) && flags_at(name, off)? & BTF_SET8_KFUNCS != 0 {
            ranges.push((off, off.saturating_add(size)));
        }
    }
    let mut found: HashMap<String, u32> = HashMap::new();
    for &(name, off, _) in &syms {
        let Some(func) = func_name(name) else { continue };
        if ranges.iter().any(|&(a, b)| a <= off && off < b) {
            found.insert(func.to_string(), flags_at(name, off)?);
        }
    }
    let mut out: Vec<Kfunc> = found.into_iter().map(|(name, flags)| Kfunc { name, flags }).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What [`tag_kfuncs`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KfuncReport {
    /// kfuncs in the ELF's sets.
    pub kfuncs: usize,
    /// `bpf_kfunc` tags added.
    pub tagged: usize,
    /// `bpf_fastcall` tags added.
    pub fastcall: usize,
    /// Tags already present (not added again).
    pub already_tagged: usize,
    /// kfuncs without a FUNC in the BTF (no tag; pahole tags only the FUNCs it encodes).
    pub without_func: usize,
}

/// Adds `DECL_TAG "bpf_kfunc"` (and `"bpf_fastcall"` for `KF_FASTCALL`) on the
/// FUNC of each kfunc among `btf`'s own types, right after that FUNC (where
/// pahole emits them; later types are renumbered). A name with several FUNCs
/// gets the tags on each; a tag already present is not added again.
pub fn tag_kfuncs(btf: &mut Btf, kfuncs: &[Kfunc]) -> Result<KfuncReport> {
    let mut rep = KfuncReport { kfuncs: kfuncs.len(), ..Default::default() };
    if kfuncs.is_empty() {
        return Ok(rep);
    }
    let wanted: HashMap<&str, u32> = kfuncs.iter().map(|k| (k.name.as_str(), k.flags)).collect();
    // (FUNC id, tags to add after it)
    let mut add: HashMap<TypeId, Vec<&'static str>> = HashMap::new();
    let mut existing: HashSet<(TypeId, &[u8])> = HashSet::new();
    for (_, t) in btf.iter() {
        if let TypeKind::DeclTag { ty, component_idx: -1, attr: false } = t.kind
            && let Some(v) = btf.str_bytes(t.name_off)
        {
            existing.insert((ty, v));
        }
    }
    let mut with_func: HashSet<&str> = HashSet::new();
    for (id, t) in btf.iter() {
        if !matches!(t.kind, TypeKind::Func { .. }) {
            continue;
        }
        let name = btf.name(t.name_off);
        let Some((&k, &flags)) = wanted.get_key_value(name.as_ref()) else { continue };
        with_func.insert(k);
        let mut tags = vec![KFUNC_TAG];
        if flags & KF_FASTCALL != 0 {
            tags.push(FASTCALL_TAG);
        }
        for tag in tags {
            if existing.contains(&(id, tag.as_bytes())) {
                rep.already_tagged += 1;
            } else {
                if tag == KFUNC_TAG {
                    rep.tagged += 1;
                } else {
                    rep.fastcall += 1;
                }
                add.entry(id).or_default().push(tag);
            }
        }
    }
    rep.without_func = wanted.len() - with_func.len();
    if add.is_empty() {
        return Ok(rep);
    }
    let names: HashMap<&str, crate::btf::StrOff> =
        [KFUNC_TAG, FASTCALL_TAG].into_iter().map(|t| btf.add_str(t).map(|o| (t, o))).collect::<Result<_>>()?;
    // New ids: each own type moves down by the number of tags inserted before it.
    let start = btf.start_id().0;
    let old = std::mem::take(btf.types_mut());
    let mut new_id: Vec<u32> = Vec::with_capacity(old.len());
    let mut shift = 0u32;
    for i in 0..old.len() {
        let id = TypeId(start + i as u32);
        new_id.push(id.0 + shift);
        shift += add.get(&id).map_or(0, |v| v.len() as u32);
    }
    let map = |r: &mut TypeId| {
        if let Some(&n) = r.0.checked_sub(start).and_then(|i| new_id.get(i as usize)) {
            r.0 = n;
        }
    };
    let mut out = Vec::with_capacity(old.len() + shift as usize);
    for (i, mut t) in old.into_iter().enumerate() {
        t.for_each_ref_mut(map);
        out.push(t);
        let func = TypeId(new_id[i]);
        for tag in add.get(&TypeId(start + i as u32)).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(Type::new(names[tag], TypeKind::DeclTag { ty: func, component_idx: -1, attr: false }));
        }
    }
    *btf.types_mut() = out;
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn func_names_as_pahole_parses_them() {
        assert_eq!(func_name("__BTF_ID__func__vfs_close__1"), Some("vfs_close"));
        assert_eq!(func_name("__BTF_ID__func__bpf__x__12"), Some("bpf__x"));
        assert_eq!(func_name("__BTF_ID__func___"), None);
        assert_eq!(func_name("__BTF_ID__func____3"), None);
        assert_eq!(func_name("__BTF_ID__struct__task__1"), None);
    }

    #[test]
    fn tags_once_and_fastcall() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap();
        let p = b.add_func_proto(int).unwrap();
        let f = b.add_func("kf", 1, p).unwrap();
        let g = b.add_func("fast", 1, p).unwrap();
        let ks = [
            Kfunc { name: "kf".into(), flags: 0 },
            Kfunc { name: "fast".into(), flags: KF_FASTCALL },
            Kfunc { name: "nofunc".into(), flags: 0 },
        ];
        let r = tag_kfuncs(&mut b, &ks).unwrap();
        assert_eq!((r.kfuncs, r.tagged, r.fastcall, r.without_func, r.already_tagged), (3, 2, 1, 1, 0));
        let tags: Vec<(String, TypeId)> = b
            .iter()
            .filter_map(|(_, t)| match t.kind {
                TypeKind::DeclTag { ty, component_idx: -1, .. } => Some((b.name(t.name_off).into_owned(), ty)),
                _ => None,
            })
            .collect();
        // Right after their FUNCs, which moved: kf [3], its tag [4], fast [5], tags [6] [7].
        assert_eq!((f, g), (TypeId(3), TypeId(4)));
        assert_eq!(
            tags,
            vec![("bpf_kfunc".into(), TypeId(3)), ("bpf_kfunc".into(), TypeId(5)), ("bpf_fastcall".into(), TypeId(5))],
        );
        assert_eq!(b.type_by_id(TypeId(5)).map(|t| b.name(t.name_off).into_owned()), Some("fast".into()));
        assert!(matches!(b.type_by_id(TypeId(4)).unwrap().kind, TypeKind::DeclTag { ty: TypeId(3), .. }));
        let n = b.types().len();
        let r = tag_kfuncs(&mut b, &ks).unwrap();
        assert_eq!((r.tagged, r.fastcall, r.already_tagged), (0, 0, 3));
        assert_eq!(b.types().len(), n, "a second run adds nothing");
    }
}
