//! Finishing a kernel image's merged BTF as `pahole -J` finishes vmlinux BTF.
//!
//! The per-object BTFs of a kernel (a BTF archive, merged and deduplicated by
//! [`crate::dedup`]) lack what pahole takes from the linked image's ELF symbol
//! table: the final per-CPU offsets and the function set. [`finish`] adds them:
//!
//! - every object's `.data..percpu` DATASEC (offsets relative to that object's
//!   own `.data..percpu` input section) becomes part of ONE `.data..percpu`
//!   DATASEC whose offsets are the variables' final per-CPU offsets. Each
//!   object's base is the one value that makes its VARs agree with the image's
//!   per-CPU symbols (see [`ImageSymbols`] and docs/ARCHITECTURE.md);
//! - FUNCs follow pahole's rules: only names with an `STT_FUNC` symbol in the
//!   image, one FUNC per name (the first in link order, as pahole without `-j`),
//!   or none for a name whose prototypes disagree when
//!   [`KernelOptions::skip_inconsistent_proto`] is set (pahole ≥ 1.25's
//!   `--skip_encoding_btf_inconsistent_proto`).
//!
//! The objects' `.data..percpu..*` subsection DATASECs (`..shared_aligned`,
//! `..read_mostly`, `..page_aligned`, ...; the final link folds those sections
//! into `.data..percpu`) join the one DATASEC the same way. pahole encodes them
//! per object only with its `global_var` feature (≥ 1.28), which also gives a
//! DATASEC for every other section holding variables (`.data`, `.bss`, ...):
//! those are removed with their VARs, as `pahole -J` without `global_var` has none.
//!
//! What needs DWARF cannot be recovered: per-CPU variables in subsections when
//! the objects were encoded without `global_var` (pahole encodes an object's
//! per-CPU VARs only for the exact section `.data..percpu`) and functions
//! written in assembly but declared in C. [`KernelReport`] counts them.
//!
//! [`finish_image`] is `btfkit dedup --kernel`'s whole step for an image:
//! [`finish`] with the symbols of an [`Image`] (read with [`Image::from_elf`]),
//! kfunc tags ([`kfunc`]) and the string pass, returning an [`ImageReport`].

pub mod kfunc;
pub mod module;

use std::collections::{BTreeMap, HashMap, HashSet};

use object::{Object, ObjectKind, ObjectSection, ObjectSymbol, SymbolKind};

use crate::btf::{Btf, Datasec, Kind, TypeId, TypeKind, VarSecinfo};
use crate::error::{Error, Result};

/// Name of the per-CPU section and of its DATASEC.
pub const PERCPU_SECTION: &str = ".data..percpu";

/// Whether a section (or DATASEC) name is the per-CPU section or one of the
/// `.data..percpu..*` subsections that the final link folds into it.
pub fn is_percpu_section(name: &[u8]) -> bool {
    name == PERCPU_SECTION.as_bytes() || name.starts_with(b".data..percpu..")
}

/// How the final link lays out the per-CPU input sections of a relocatable
/// `vmlinux.o` (include/asm-generic/vmlinux.lds.h, `PERCPU_INPUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PercpuLayout {
    /// `PAGE_SIZE` (4096 on x86_64).
    pub page_size: u64,
    /// The `cacheline` argument of `PERCPU_INPUT` (x86: `INTERNODE_CACHE_BYTES`,
    /// which is `L1_CACHE_BYTES`, 64, unless CONFIG_X86_VSMP).
    pub cacheline: u64,
    /// CONFIG_AMD_MEM_ENCRYPT: `PERCPU_DECRYPTED_SECTION` page-aligns before and
    /// after `.data..percpu..decrypted` even when it is empty. (Assumed when
    /// vmlinux.o has that section.) Only the area's size depends on it.
    pub mem_encrypt: bool,
}

impl Default for PercpuLayout {
    fn default() -> Self {
        PercpuLayout { page_size: 4096, cacheline: 64, mem_encrypt: false }
    }
}

/// One per-CPU data symbol (`STT_OBJECT`, non-zero size) of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PercpuSymbol {
    /// The symbol's name.
    pub name: String,
    /// Final offset in the per-CPU area.
    pub offset: u64,
    /// Size of the variable in bytes (`st_size`).
    pub size: u64,
    /// `STB_LOCAL` (a `static` per-CPU variable; names can repeat across objects).
    pub local: bool,
    /// Whether the symbol is known to sit in a `.data..percpu..*` subsection
    /// (known for a relocatable `vmlinux.o`; for a linked image, see
    /// [`ImageSymbols::from_elf`]).
    pub in_subsection: Option<bool>,
}

/// What [`finish`] needs from the kernel image's ELF.
#[derive(Clone, Debug, Default)]
pub struct ImageSymbols {
    /// Per-CPU data symbols, in symbol-table order.
    pub percpu: Vec<PercpuSymbol>,
    /// Size of the linked per-CPU area (the DATASEC's size).
    pub percpu_size: u64,
    /// Names of the defined `STT_FUNC` symbols.
    pub functions: HashSet<String>,
    /// Names of the defined global `STT_FUNC` symbols.
    pub global_functions: HashSet<String>,
    /// Whether the image is a relocatable object (`vmlinux.o`).
    pub relocatable: bool,
    /// vmlinux.o: objects whose per-CPU data the final link aligns differently
    /// than `ld -r` did (inferred from alignment gaps; see [`ImageSymbols::from_elf`]).
    pub realigned: usize,
}

/// Replays the final link's placement of the objects inside one per-CPU
/// section of vmlinux.o, starting at `start`: `syms` are (st_value, size)
/// sorted. Returns each symbol's final offset and the section's final end.
///
/// `ld -r` placed each object's input section at its own alignment from 0;
/// the final link places the same objects from `start`, which is aligned only
/// to what the linker script says, so an object aligned more strictly (a
/// page-aligned per-CPU struct) can move relative to the others. An object
/// starts where a gap between the previous symbol's end `p` and the next
/// symbol `x` is alignment padding: the smallest power of two `a` (up to the
/// section's alignment) with `align_up(p, a) == x` is taken as its alignment
/// and the shift becomes `align_up(p + shift, a) - x`. Inside an object the
/// shift is a multiple of its alignment, so this leaves it unchanged there.
/// The caller aligns `start` for the first object, whose alignment no gap
/// shows: the section's alignment capped at a cacheline (a page-aligned
/// object first in `.data..percpu` would be missed).
fn replay(syms: &[(u64, u64)], start: u64, size: u64, sec_align: u64, realigned: &mut usize) -> (Vec<u64>, u64) {
    let mut shift = start;
    let mut p = 0u64;
    let mut out = Vec::with_capacity(syms.len());
    for &(x, sz) in syms {
        if x > p {
            let a = (1..64).map(|b| 1u64 << b).take_while(|&a| a <= sec_align).find(|&a| align_up(p, a) == x);
            if let Some(a) = a {
                let new = align_up(p.saturating_add(shift), a).saturating_sub(x);
                if new != shift {
                    *realigned += 1;
                }
                shift = new;
            }
        }
        out.push(x.saturating_add(shift));
        p = p.max(x.saturating_add(sz));
    }
    (out, size.saturating_add(shift))
}

fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 { v } else { v.div_ceil(a).saturating_mul(a) }
}

impl ImageSymbols {
    /// Reads the symbols of a kernel image: a linked `vmlinux` (per-CPU offsets
    /// are `st_value` minus the address of the output section `.data..percpu`,
    /// its size is the area's size) or the relocatable `vmlinux.o` (the
    /// per-CPU input sections are placed as [`PercpuLayout`] says and each
    /// symbol's offset is its section's place plus `st_value`). An image
    /// without a per-CPU section has no per-CPU symbols.
    pub fn from_elf(data: &[u8], layout: &PercpuLayout) -> Result<ImageSymbols> {
        let file = object::File::parse(data).map_err(|e| Error::NotElf { why: e.to_string() })?;
        let relocatable = file.kind() == ObjectKind::Relocatable;
        // Section index -> (place of the section's start in the per-CPU area, is a subsection).
        let mut place: HashMap<usize, (u64, bool)> = HashMap::new();
        // vmlinux.o: (section, st_value) -> final offset.
        let mut moved: HashMap<(usize, u64), u64> = HashMap::new();
        let mut realigned = 0usize;
        let mut percpu_size = 0u64;
        if relocatable {
            let mut by_name: HashMap<String, Vec<(usize, u64, u64)>> = HashMap::new();
            for s in file.sections() {
                let Ok(name) = s.name() else { continue };
                if name == PERCPU_SECTION || name.starts_with(".data..percpu..") {
                    by_name.entry(name.to_string()).or_default().push((s.index().0, s.size(), s.align()));
                }
            }
            // PERCPU_INPUT: ..first, ALIGN(PAGE), ..page_aligned, ALIGN(cacheline),
            // ..read_mostly, ALIGN(cacheline), .data..percpu, ..shared_aligned,
            // then (CONFIG_AMD_MEM_ENCRYPT) ALIGN(PAGE), ..decrypted, ALIGN(PAGE).
            enum Step {
                Align(u64),
                Sec(&'static str),
            }
            let mut steps = vec![
                Step::Sec(".data..percpu..first"),
                Step::Align(layout.page_size),
                Step::Sec(".data..percpu..page_aligned"),
                Step::Align(layout.cacheline),
                Step::Sec(".data..percpu..read_mostly"),
                Step::Align(layout.cacheline),
                Step::Sec(PERCPU_SECTION),
                Step::Sec(".data..percpu..shared_aligned"),
            ];
            if layout.mem_encrypt || by_name.contains_key(".data..percpu..decrypted") {
                steps.extend([
                    Step::Align(layout.page_size),
                    Step::Sec(".data..percpu..decrypted"),
                    Step::Align(layout.page_size),
                ]);
            }
            // The per-CPU data symbols of each section, by value.
            let mut in_sec: HashMap<usize, Vec<(u64, u64)>> = HashMap::new();
            for sym in file.symbols() {
                if let (Some(idx), SymbolKind::Data) = (sym.section_index(), sym.kind())
                    && sym.size() > 0
                {
                    in_sec.entry(idx.0).or_default().push((sym.address(), sym.size()));
                }
            }
            let mut cur = 0u64;
            for step in steps {
                match step {
                    Step::Align(a) => cur = align_up(cur, a),
                    Step::Sec(name) => {
                        for &(idx, size, align) in by_name.get(name).map(Vec::as_slice).unwrap_or(&[]) {
                            let mut syms = in_sec.remove(&idx).unwrap_or_default();
                            syms.sort_unstable();
                            // The first object's alignment is not known: at most the
                            // section's, taken as at most a cacheline (see `replay`).
                            let start = align_up(cur, align.min(layout.cacheline));
                            let (finals, end) = replay(&syms, start, size, align, &mut realigned);
                            for ((value, _), f) in syms.iter().zip(finals) {
                                moved.insert((idx, *value), f);
                            }
                            place.insert(idx, (0, name != PERCPU_SECTION));
                            cur = end;
                        }
                    }
                }
            }
            percpu_size = cur;
        } else if let Some(s) = file.section_by_name(PERCPU_SECTION) {
            place.insert(s.index().0, (0, false));
            percpu_size = s.size();
        }
        let percpu_addr = if relocatable { 0 } else { file.section_by_name(PERCPU_SECTION).map_or(0, |s| s.address()) };
        let mut out = ImageSymbols { percpu_size, relocatable, realigned, ..Default::default() };
        for sym in file.symbols() {
            let Some(idx) = sym.section_index() else { continue };
            let Ok(name) = sym.name() else { continue };
            match sym.kind() {
                SymbolKind::Text => {
                    out.functions.insert(name.to_string());
                    if sym.is_global() {
                        out.global_functions.insert(name.to_string());
                    }
                }
                SymbolKind::Data if sym.size() > 0 => {
                    let Some(&(start, sub)) = place.get(&idx.0) else { continue };
                    let offset = if relocatable {
                        moved.get(&(idx.0, sym.address())).copied().unwrap_or(start.saturating_add(sym.address()))
                    } else {
                        sym.address().wrapping_sub(percpu_addr)
                    };
                    out.percpu.push(PercpuSymbol {
                        name: name.to_string(),
                        offset,
                        size: sym.size(),
                        local: sym.is_local(),
                        in_subsection: relocatable.then_some(sub),
                    });
                }
                _ => {}
            }
        }
        // No per-CPU section (a !SMP kernel): no per-CPU symbols, as for pahole.
        Ok(out)
    }
}

/// Options of [`finish`]: `KernelOptions::new()` (or `Default`) and the
/// `with_*` methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KernelOptions {
    /// pahole ≥ 1.25's `--skip_encoding_btf_inconsistent_proto` (in the kernel's
    /// `scripts/pahole-flags.sh` from 6.5 on): drop every FUNC of a name whose
    /// prototypes disagree, instead of keeping the first.
    pub skip_inconsistent_proto: bool,
    /// pahole ≥ 1.25's `optimized_func` (`--btf_gen_optimized`, in the kernel's
    /// pahole flags from 6.5 on): a FUNC also counts as having a symbol when the
    /// image has the name only with a compiler suffix (`f.constprop.0`,
    /// `f.isra.0`, `f.part.0`, ...). Whether such a function gets a FUNC at all
    /// was decided per object by pahole, from the object's DWARF.
    pub optimized_func: bool,
}

impl KernelOptions {
    /// pahole 1.24's rules: both options off.
    pub fn new() -> KernelOptions {
        KernelOptions::default()
    }

    /// Sets [`KernelOptions::skip_inconsistent_proto`].
    pub fn with_skip_inconsistent_proto(mut self, on: bool) -> KernelOptions {
        self.skip_inconsistent_proto = on;
        self
    }

    /// Sets [`KernelOptions::optimized_func`].
    pub fn with_optimized_func(mut self, on: bool) -> KernelOptions {
        self.optimized_func = on;
        self
    }
}

/// What [`finish`] did and what it could not recover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelReport {
    /// `.data..percpu` and `.data..percpu..*` DATASECs before (one per object
    /// and section with per-CPU VARs).
    pub percpu_datasecs_in: usize,
    /// VAR entries in those DATASECs.
    pub percpu_vars_in: usize,
    /// `.data..percpu` DATASECs after: 1, or 0 when no VAR could be placed.
    pub percpu_datasecs_out: usize,
    /// VAR entries of the one resulting DATASEC.
    pub percpu_vars_out: usize,
    /// The same variable listed twice (same name and final offset): one kept.
    pub duplicate_vars: usize,
    /// VARs that no per-CPU symbol places (or that would overlap another): removed.
    pub unplaced_vars: Vec<String>,
    /// DATASECs of other sections (pahole's `global_var`: `.data`, `.bss`, ...): removed.
    pub other_datasecs_removed: usize,
    /// VARs of those DATASECs: removed.
    pub other_vars_removed: usize,
    /// Per-CPU symbols that have no VAR in the result.
    pub percpu_symbols_without_var: usize,
    /// Of those, the ones known to sit in `.data..percpu..*` subsections.
    pub percpu_symbols_in_subsections: usize,
    /// FUNCs before.
    pub funcs_in: usize,
    /// FUNCs whose name has no `STT_FUNC` symbol in the image: removed.
    pub funcs_without_symbol: usize,
    /// Later FUNCs of a name already encoded (pahole encodes a name once): removed.
    pub funcs_same_name: usize,
    /// FUNCs of names with disagreeing prototypes (with `skip_inconsistent_proto`): removed.
    pub funcs_inconsistent: usize,
    /// Names dropped for inconsistent prototypes.
    pub inconsistent_names: usize,
    /// FUNC_PROTOs only the removed FUNCs used: removed.
    pub protos_removed: usize,
    /// FUNCs after.
    pub funcs_out: usize,
    /// Global functions of the image without a FUNC (assembly, or no BTF).
    pub global_functions_without_func: usize,
    /// Types before.
    pub types_in: usize,
    /// Types after.
    pub types_out: usize,
}

impl KernelReport {
    /// One line on what cannot be recovered without DWARF (None when nothing).
    pub fn warning(&self) -> Option<String> {
        if self.percpu_symbols_without_var == 0
            && self.unplaced_vars.is_empty()
            && self.global_functions_without_func == 0
        {
            return None;
        }
        let mut s = format!(
            "no DWARF to recover {} per-CPU variables ({} of them in .data..percpu..* subsections, which per-object pahole encodes only with --btf_features=global_var) and {} global functions without a FUNC (assembly, or not encoded per object)",
            self.percpu_symbols_without_var, self.percpu_symbols_in_subsections, self.global_functions_without_func
        );
        if !self.unplaced_vars.is_empty() {
            s.push_str(&format!(
                "; {} VARs had no matching per-CPU symbol and were dropped ({})",
                self.unplaced_vars.len(),
                self.unplaced_vars.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        Some(s)
    }
}

/// Options of [`finish_image`] (`dedup --kernel` for a kernel image):
/// `ImageOptions::new()` (or `Default`) and the `with_*` methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageOptions {
    /// How [`finish`] chooses the FUNCs (pahole's inconsistent-prototype and
    /// optimized-function rules).
    pub kernel: KernelOptions,
    /// Add kfunc DECL_TAGs from the image's `.BTF_ids` (pahole ≥ 1.27's
    /// `decl_tag_kfuncs`); [`Image::from_elf`] then reads the kfunc sets.
    pub kfunc_tags: bool,
}

impl ImageOptions {
    /// pahole 1.24's rules, no kfunc tags.
    pub fn new() -> ImageOptions {
        ImageOptions::default()
    }

    /// Sets [`ImageOptions::kernel`].
    pub fn with_kernel(mut self, kernel: KernelOptions) -> ImageOptions {
        self.kernel = kernel;
        self
    }

    /// Sets [`ImageOptions::kfunc_tags`].
    pub fn with_kfunc_tags(mut self, on: bool) -> ImageOptions {
        self.kfunc_tags = on;
        self
    }
}

/// What [`finish_image`] takes from a kernel image's ELF (vmlinux.o or a
/// linked vmlinux): its symbols and, with kfunc tags, its kfunc sets. Its
/// `.BTF` is not needed (an image without one will do).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Image {
    /// Per-CPU symbols and functions ([`ImageSymbols::from_elf`], the default [`PercpuLayout`]).
    pub symbols: ImageSymbols,
    /// The kfuncs of the `.BTF_ids` sets ([`kfunc::kfuncs_from_elf`]); empty
    /// unless [`ImageOptions::kfunc_tags`].
    pub kfuncs: Vec<kfunc::Kfunc>,
}

impl Image {
    /// Reads the image's ELF bytes as `opts` needs them. The errors name the
    /// section or symbol, not the file: add it with [`Error::in_file`].
    pub fn from_elf(data: &[u8], opts: &ImageOptions) -> Result<Image> {
        let symbols = ImageSymbols::from_elf(data, &PercpuLayout::default())?;
        let kfuncs = if opts.kfunc_tags { kfunc::kfuncs_from_elf(data)? } else { Vec::new() };
        Ok(Image { symbols, kfuncs })
    }
}

/// What [`finish_image`] did: the counts `btfkit dedup --kernel` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageReport {
    /// The per-CPU DATASEC and the function set ([`finish`]).
    pub kernel: KernelReport,
    /// kfunc tags (with [`ImageOptions::kfunc_tags`]).
    pub kfuncs: Option<kfunc::KfuncReport>,
    /// Whether FUNCs of names with inconsistent prototypes were dropped
    /// ([`KernelOptions::skip_inconsistent_proto`]), for [`ImageReport::summary`].
    pub skip_inconsistent_proto: bool,
}

impl ImageReport {
    /// One line on the per-CPU DATASECs, the FUNCs and the types.
    pub fn summary(&self) -> String {
        let r = &self.kernel;
        let inconsistent = if self.skip_inconsistent_proto {
            format!(", {} of {} names with inconsistent prototypes", r.funcs_inconsistent, r.inconsistent_names)
        } else {
            String::new()
        };
        let others = if r.other_datasecs_removed > 0 {
            format!(" ({} other DATASECs with {} VARs removed)", r.other_datasecs_removed, r.other_vars_removed)
        } else {
            String::new()
        };
        format!(
            "{} .data..percpu[..*] DATASECs ({} VARs) -> {} ({} VARs){others}, FUNCs {} -> {} ({} without a symbol, {} same-named{inconsistent}), types {} -> {}",
            r.percpu_datasecs_in,
            r.percpu_vars_in,
            r.percpu_datasecs_out,
            r.percpu_vars_out,
            r.funcs_in,
            r.funcs_out,
            r.funcs_without_symbol,
            r.funcs_same_name,
            r.types_in,
            r.types_out
        )
    }

    /// One line on the kfunc tags (None without [`ImageOptions::kfunc_tags`]).
    pub fn kfunc_summary(&self) -> Option<String> {
        self.kfuncs.as_ref().map(|k| {
            format!(
                "{} kfuncs in .BTF_ids sets: {} bpf_kfunc tags added ({} already there), {} bpf_fastcall, {} without a FUNC",
                k.kfuncs, k.tagged, k.already_tagged, k.fastcall, k.without_func
            )
        })
    }

    /// One line on what cannot be recovered without DWARF ([`KernelReport::warning`]).
    pub fn warning(&self) -> Option<String> {
        self.kernel.warning()
    }
}

/// `dedup --kernel` for a kernel image: [`finish`] with the image's symbols,
/// then (with [`ImageOptions::kfunc_tags`]) [`kfunc::tag_kfuncs`], then
/// [`Btf::compact_strings`] so that the names of the removed VARs, DATASECs
/// and FUNCs go too (as [`module::module_btf`] does). `btf`'s own types are
/// the merged, deduplicated per-object BTF of the image.
pub fn finish_image(btf: &mut Btf, image: &Image, opts: &ImageOptions) -> Result<ImageReport> {
    let kernel = finish(btf, &image.symbols, &opts.kernel)?;
    let kfuncs = if opts.kfunc_tags { Some(kfunc::tag_kfuncs(btf, &image.kfuncs)?) } else { None };
    btf.compact_strings()?;
    Ok(ImageReport { kernel, kfuncs, skip_inconsistent_proto: opts.kernel.skip_inconsistent_proto })
}

/// One object's `.data..percpu` (or `.data..percpu..*`) DATASEC.
struct Member {
    id: TypeId,
    /// The DATASEC's name (the object's input section).
    section: Vec<u8>,
    /// (VAR id, name, offset in the object's section, size).
    vars: Vec<(TypeId, String, u64, u64)>,
    /// Largest offset+size.
    extent: u64,
}

/// Finishes `btf` (own types: the merged, deduplicated per-object BTF of a
/// kernel image) with the image's symbols. See the module documentation.
pub fn finish(btf: &mut Btf, syms: &ImageSymbols, opts: &KernelOptions) -> Result<KernelReport> {
    let mut rep = KernelReport { types_in: btf.types().len(), ..Default::default() };
    let mut remove: Vec<TypeId> = Vec::new();

    // ---- per-CPU DATASEC ----
    let mut members: Vec<Member> = Vec::new();
    for (id, t) in btf.iter() {
        let TypeKind::Datasec(d) = &t.kind else { continue };
        let section = btf.str_bytes(t.name_off).unwrap_or_default();
        if !is_percpu_section(section) {
            // (pahole's global_var) offsets relative to each object's section: removed
            rep.other_datasecs_removed += 1;
            rep.other_vars_removed += d.vars.len();
            remove.push(id);
            remove.extend(d.vars.iter().map(|v| v.ty));
            continue;
        }
        let mut m = Member { id, section: section.to_vec(), vars: Vec::new(), extent: 0 };
        for v in d.vars.iter() {
            let Some(vt) = btf.type_by_id(v.ty) else {
                return Err(Error::BadTypeId { id, target: v.ty, max: btf.type_count() - 1 });
            };
            if !matches!(vt.kind, TypeKind::Var { .. }) {
                return Err(Error::BadType {
                    offset: 0,
                    id,
                    kind: "DATASEC",
                    why: format!("entry [{}] is not a VAR", v.ty.0),
                });
            }
            let (off, size) = (u64::from(v.offset), u64::from(v.size));
            m.extent = m.extent.max(off + size);
            m.vars.push((v.ty, btf.name(vt.name_off).into_owned(), off, size));
        }
        rep.percpu_vars_in += m.vars.len();
        members.push(m);
    }
    rep.percpu_datasecs_in = members.len();
    // Link order holds among the objects' input sections of one name, so each
    // section name is placed on its own.
    let mut bases: Vec<Option<u64>> = vec![None; members.len()];
    let mut sections: Vec<&[u8]> = members.iter().map(|m| m.section.as_slice()).collect();
    sections.sort_unstable();
    sections.dedup();
    for sec in sections {
        let idx: Vec<usize> = (0..members.len()).filter(|&i| members[i].section == sec).collect();
        let group: Vec<&Member> = idx.iter().map(|&i| &members[i]).collect();
        for (i, b) in idx.iter().zip(place_members(&group, syms)) {
            bases[*i] = b;
        }
    }

    let sym_at: HashSet<(&str, u64)> = syms.percpu.iter().map(|s| (s.name.as_str(), s.offset)).collect();
    // Entries at their final offsets: (offset, size, VAR id, name).
    let mut entries: Vec<(u64, u64, TypeId, &str)> = Vec::new();
    for (m, base) in members.iter().zip(&bases) {
        for (vid, name, off, size) in &m.vars {
            match base {
                Some(b) if sym_at.contains(&(name.as_str(), b.saturating_add(*off))) => {
                    entries.push((b.saturating_add(*off), *size, *vid, name.as_str()))
                }
                _ => {
                    rep.unplaced_vars.push(name.clone());
                    remove.push(*vid);
                }
            }
        }
    }
    entries.sort_by_key(|e| (e.0, e.2));
    let mut vars: Vec<VarSecinfo> = Vec::with_capacity(entries.len());
    let mut var_names: Vec<&str> = Vec::new();
    let mut end = 0u64;
    for (off, size, vid, name) in entries {
        let fits = off.checked_add(size).is_some_and(|e| e <= syms.percpu_size && e <= u64::from(u32::MAX));
        if let (Some(last), Some(last_name)) = (vars.last(), var_names.last())
            && u64::from(last.offset) == off
            && *last_name == name
        {
            rep.duplicate_vars += 1;
            remove.push(vid);
            continue;
        }
        if off < end || !fits {
            rep.unplaced_vars.push(name.to_string());
            remove.push(vid);
            continue;
        }
        end = off + size;
        vars.push(VarSecinfo { ty: vid, offset: off as u32, size: size as u32 });
        var_names.push(name);
    }
    rep.percpu_vars_out = vars.len();
    let placed: HashSet<u64> = vars.iter().map(|v| u64::from(v.offset)).collect();
    for s in &syms.percpu {
        if !placed.contains(&s.offset) {
            rep.percpu_symbols_without_var += 1;
            if s.in_subsection == Some(true) {
                rep.percpu_symbols_in_subsections += 1;
            }
        }
    }
    // For a linked image, subsections are what lies outside the span of the
    // objects' `.data..percpu` input sections.
    if !syms.relocatable {
        let lo = members.iter().zip(&bases).filter_map(|(_, b)| *b).min();
        let hi = members.iter().zip(&bases).filter_map(|(m, b)| b.map(|b| b + m.extent)).max();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            rep.percpu_symbols_in_subsections =
                syms.percpu.iter().filter(|s| !placed.contains(&s.offset) && (s.offset < lo || s.offset >= hi)).count();
        }
    }
    let size = u32::try_from(syms.percpu_size).unwrap_or(u32::MAX).max(end as u32);
    // The one DATASEC takes the place of the first `.data..percpu` one (of the
    // first subsection one, renamed, when no object has `.data..percpu` VARs).
    let keep_sec = if vars.is_empty() {
        None
    } else {
        members.iter().find(|m| m.section == PERCPU_SECTION.as_bytes()).or(members.first()).map(|m| m.id)
    };
    remove.extend(members.iter().map(|m| m.id).filter(|&id| Some(id) != keep_sec));
    rep.percpu_datasecs_out = usize::from(keep_sec.is_some());
    if let Some(id) = keep_sec {
        let name_off = btf.add_str(PERCPU_SECTION)?;
        let i = (id.0 - btf.start_id().0) as usize;
        if let Some(t) = btf.types_mut().get_mut(i) {
            t.name_off = name_off;
            t.kind = TypeKind::Datasec(Datasec { size, vars: vars.into_iter().collect() });
        }
    }

    // ---- FUNCs ----
    let mut by_name: BTreeMap<String, Vec<(TypeId, TypeId)>> = BTreeMap::new();
    let suffixed: HashSet<&str> = if opts.optimized_func {
        syms.functions.iter().filter_map(|f| f.split_once('.').map(|(name, _)| name)).collect()
    } else {
        HashSet::new()
    };
    for (id, t) in btf.iter() {
        if let TypeKind::Func { proto, .. } = t.kind {
            rep.funcs_in += 1;
            let name = btf.name(t.name_off).into_owned();
            if !syms.functions.contains(&name) && !suffixed.contains(name.as_str()) {
                rep.funcs_without_symbol += 1;
                remove.push(id);
                continue;
            }
            by_name.entry(name).or_default().push((id, proto));
        }
    }
    let mut kept_funcs: HashSet<&str> = HashSet::new();
    for (name, group) in &by_name {
        let consistent = group.iter().all(|g| g.1 == group[0].1 || types_match(btf, g.1, group[0].1));
        if opts.skip_inconsistent_proto && !consistent {
            rep.funcs_inconsistent += group.len();
            rep.inconsistent_names += 1;
            remove.extend(group.iter().map(|g| g.0));
            continue;
        }
        kept_funcs.insert(name);
        rep.funcs_same_name += group.len() - 1;
        remove.extend(group[1..].iter().map(|g| g.0));
    }
    rep.funcs_out = kept_funcs.len();
    rep.global_functions_without_func =
        syms.global_functions.iter().filter(|n| !kept_funcs.contains(n.as_str())).count();

    // ---- what depended on removed types: FUNC_PROTOs of removed FUNCs, DECL_TAGs ----
    let start = btf.start_id().0;
    let n = btf.types().len();
    let mut gone = vec![false; n];
    for id in &remove {
        if let Some(g) = id.0.checked_sub(start).and_then(|i| gone.get_mut(i as usize)) {
            *g = true;
        }
    }
    // DECL_TAGs on removed types go too (a tag never targets a tag, so one pass).
    for (i, t) in btf.types().iter().enumerate() {
        if let TypeKind::DeclTag { ty, .. } = t.kind
            && ty.0 >= start
            && gone.get((ty.0 - start) as usize) == Some(&true)
        {
            gone[i] = true;
            remove.push(TypeId(start + i as u32));
        }
    }
    // FUNC_PROTOs that only removed FUNCs used.
    let mut candidate = vec![false; n];
    let mut used = vec![false; n];
    for (i, t) in btf.types().iter().enumerate() {
        let removed_func = gone[i] && matches!(t.kind, TypeKind::Func { .. });
        t.for_each_ref(|r| {
            if let Some(j) = r.0.checked_sub(start).map(|j| j as usize).filter(|&j| j < n) {
                if removed_func {
                    candidate[j] = true;
                } else if !gone[i] {
                    used[j] = true;
                }
            }
        });
    }
    for (i, t) in btf.types().iter().enumerate() {
        if candidate[i] && !used[i] && !gone[i] && matches!(t.kind, TypeKind::FuncProto(_)) {
            rep.protos_removed += 1;
            remove.push(TypeId(start + i as u32));
        }
    }
    remove.sort_unstable();
    remove.dedup();
    btf.remove_types(&remove, &HashMap::new())?;
    rep.types_out = btf.types().len();
    Ok(rep)
}

/// The kind pahole's `types__match` compares (a FWD stands for its struct or union).
fn match_kind(t: &crate::btf::Type) -> Kind {
    match t.kind {
        TypeKind::Fwd { union: true } => Kind::Union,
        TypeKind::Fwd { union: false } => Kind::Struct,
        _ => t.kind(),
    }
}

/// pahole's (≥ 1.25) loose prototype equality behind
/// `--skip_encoding_btf_inconsistent_proto`: parameter names are ignored, a
/// `const` on one side only is skipped, named types (typedef, struct, union,
/// enum) match by name, INT and FLOAT by name and encoding, pointers and
/// modifiers by what they point to, arrays by length and element, prototypes
/// by return and parameter types. Explicit stack and a step bound.
fn types_match(btf: &Btf, a: TypeId, b: TypeId) -> bool {
    let mut stack = vec![(a, b)];
    let mut steps = 0usize;
    while let Some((mut x, mut y)) = stack.pop() {
        loop {
            steps += 1;
            if steps > 100_000 {
                return false;
            }
            if x == y {
                break;
            }
            if x.0 == 0 || y.0 == 0 {
                return false;
            }
            let (Some(t1), Some(t2)) = (btf.type_by_id(x), btf.type_by_id(y)) else { return false };
            let (k1, k2) = (match_kind(t1), match_kind(t2));
            if k1 != k2 {
                match (&t1.kind, &t2.kind) {
                    (TypeKind::Const(n), _) => x = *n,
                    (_, TypeKind::Const(n)) => y = *n,
                    _ => return false,
                }
                continue;
            }
            let same_name = btf.str_bytes(t1.name_off) == btf.str_bytes(t2.name_off);
            match (&t1.kind, &t2.kind) {
                (TypeKind::Int(_), _) | (TypeKind::Float { .. }, _) => {
                    if t1.kind != t2.kind || !same_name {
                        return false;
                    }
                    break;
                }
                (TypeKind::Typedef(_) | TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::Fwd { .. }, _)
                | (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => {
                    if !same_name {
                        return false;
                    }
                    break;
                }
                (TypeKind::Ptr(p) | TypeKind::Volatile(p) | TypeKind::Const(p) | TypeKind::Restrict(p), _) => {
                    let Some(q) = t2.ref_target() else { return false };
                    (x, y) = (*p, q);
                }
                (TypeKind::TypeTag { ty: p, .. }, TypeKind::TypeTag { ty: q, .. }) => (x, y) = (*p, *q),
                (TypeKind::Array(a1), TypeKind::Array(a2)) => {
                    if a1.nelems != a2.nelems {
                        return false;
                    }
                    (x, y) = (a1.elem, a2.elem);
                }
                (TypeKind::FuncProto(p1), TypeKind::FuncProto(p2)) => {
                    if p1.params.len() != p2.params.len() {
                        return false;
                    }
                    stack.push((p1.ret, p2.ret));
                    stack.extend(p1.params.iter().zip(p2.params.iter()).map(|(a, b)| (a.ty, b.ty)));
                    break;
                }
                _ => return false,
            }
        }
    }
    true
}

/// Each member's base: the per-CPU offset of its object's `.data..percpu`
/// input section, or None when no symbol places it.
///
/// Every VAR proposes one base per same-named per-CPU symbol (symbol offset
/// minus the VAR's offset in its object; symbols of the entry's size first).
/// A member's base is a value proposed
/// by the most VARs (all of them, normally). Several such values only happen
/// when a member's VARs are all `static` names that other objects use too;
/// then link order decides: the objects' sections follow one another in the
/// order of the members, so the base is the smallest candidate at or after the
/// previous member's end and before the next unambiguous member's base.
fn place_members(members: &[&Member], syms: &ImageSymbols) -> Vec<Option<u64>> {
    let mut by_name: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    for s in &syms.percpu {
        by_name.entry(s.name.as_str()).or_default().push((s.offset, s.size));
    }
    // Candidate bases of each member, best-supported first (ties: ascending).
    let cands: Vec<Vec<u64>> = members
        .iter()
        .map(|m| {
            let mut votes: HashMap<u64, usize> = HashMap::new();
            for (_, name, off, size) in &m.vars {
                let mut seen = HashSet::new();
                let same_name = by_name.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                // pahole sized the entry from the symbol: prefer symbols of that size.
                let sized = same_name.iter().any(|s| s.1 == *size);
                for &(so, ssize) in same_name {
                    if sized && ssize != *size {
                        continue;
                    }
                    if let Some(b) = so.checked_sub(*off)
                        && seen.insert(b)
                    {
                        *votes.entry(b).or_default() += 1;
                    }
                }
            }
            let best = votes.values().copied().max().unwrap_or(0);
            let mut c: Vec<u64> = votes.into_iter().filter(|&(_, v)| v == best).map(|(b, _)| b).collect();
            c.sort_unstable();
            c
        })
        .collect();
    // Next unambiguous base at or after each member.
    let mut next_fixed = vec![u64::MAX; members.len() + 1];
    for i in (0..members.len()).rev() {
        next_fixed[i] = if cands[i].len() == 1 { cands[i][0] } else { next_fixed[i + 1] };
    }
    let mut out = Vec::with_capacity(members.len());
    let mut lower = 0u64;
    for (i, m) in members.iter().enumerate() {
        let c = &cands[i];
        let pick = match c.len() {
            0 => None,
            1 => Some(c[0]),
            _ => {
                let upper = next_fixed[i + 1];
                c.iter()
                    .copied()
                    .find(|&b| b >= lower && b.saturating_add(m.extent) <= upper)
                    .or_else(|| c.iter().copied().find(|&b| b >= lower))
                    .or(c.first().copied())
            }
        };
        if let Some(b) = pick {
            lower = lower.max(b.saturating_add(m.extent));
        }
        out.push(pick);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, offset: u64, size: u64, local: bool) -> PercpuSymbol {
        PercpuSymbol { name: name.into(), offset, size, local, in_subsection: None }
    }

    /// Two objects with a static `cnt` each, one with a global `g`.
    fn two_objects() -> Btf {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap(); // 1
        let v1 = b.add_var("cnt", 0, int).unwrap(); // 2
        let g = b.add_var("g", 1, int).unwrap(); // 3
        b.add_datasec(PERCPU_SECTION, 8).unwrap(); // 4
        b.add_datasec_var(v1, 0, 4).unwrap();
        b.add_datasec_var(g, 4, 4).unwrap();
        let proto = b.add_func_proto(int).unwrap(); // 5
        b.add_func("f", 1, proto).unwrap(); // 6
        let v2 = b.add_var("cnt", 0, int).unwrap(); // 7
        b.add_datasec(PERCPU_SECTION, 4).unwrap(); // 8
        b.add_datasec_var(v2, 0, 4).unwrap();
        let proto2 = b.add_func_proto(TypeId(0)).unwrap(); // 9
        b.add_func("f", 0, proto2).unwrap(); // 10
        b.add_func("gone", 1, proto2).unwrap(); // 11
        b
    }

    fn image() -> ImageSymbols {
        ImageSymbols {
            percpu: vec![
                sym("first", 0, 64, false),
                sym("cnt", 64, 4, true),
                sym("g", 68, 4, false),
                sym("cnt", 72, 4, true),
            ],
            percpu_size: 128,
            functions: ["f".to_string()].into(),
            global_functions: ["f".to_string(), "asm_fn".to_string()].into(),
            relocatable: false,
            realigned: 0,
        }
    }

    #[test]
    fn one_datasec_at_final_offsets_and_pahole_function_set() {
        let mut b = two_objects();
        let r = finish(&mut b, &image(), &KernelOptions::default()).unwrap();
        let secs: Vec<_> = b.iter().filter(|(_, t)| matches!(t.kind, TypeKind::Datasec(_))).collect();
        assert_eq!(secs.len(), 1);
        let TypeKind::Datasec(d) = &secs[0].1.kind else { unreachable!() };
        assert_eq!(d.size, 128);
        let got: Vec<(String, u32, u32)> = d
            .vars
            .iter()
            .map(|v| (b.name(b.type_by_id(v.ty).unwrap().name_off).into_owned(), v.offset, v.size))
            .collect();
        assert_eq!(got, vec![("cnt".into(), 64, 4), ("g".into(), 68, 4), ("cnt".into(), 72, 4)]);
        let funcs: Vec<_> = b.iter().filter(|(_, t)| matches!(t.kind, TypeKind::Func { .. })).collect();
        assert_eq!(funcs.len(), 1, "one f, no `gone`");
        assert_eq!(funcs[0].1.kind, TypeKind::Func { proto: TypeId(5), linkage: 1 }, "the first f, ids remapped");
        assert_eq!((r.funcs_in, r.funcs_out, r.funcs_same_name, r.funcs_without_symbol), (3, 1, 1, 1));
        // proto2 was used by both removed FUNCs only.
        assert_eq!(r.protos_removed, 1);
        assert_eq!((r.percpu_datasecs_in, r.percpu_datasecs_out, r.percpu_vars_in, r.percpu_vars_out), (2, 1, 3, 3));
        assert_eq!((r.percpu_symbols_without_var, r.global_functions_without_func), (1, 1));
        assert!(r.warning().unwrap().contains("1 per-CPU variables"));
        assert_eq!(b.type_count(), 1 + 7);
        crate::parse::parse(&crate::write::to_bytes(&b)).unwrap();
    }

    #[test]
    fn optimized_func_matches_suffixed_symbols() {
        let mut img = image();
        img.functions.insert("gone.constprop.0".to_string());
        let mut b = two_objects();
        let r = finish(&mut b, &img, &KernelOptions::default()).unwrap();
        assert_eq!((r.funcs_out, r.funcs_without_symbol), (1, 1), "without optimized_func: exact names only");
        let mut b = two_objects();
        let r = finish(&mut b, &img, &KernelOptions { optimized_func: true, ..Default::default() }).unwrap();
        assert_eq!((r.funcs_out, r.funcs_without_symbol), (2, 0));
    }

    #[test]
    fn inconsistent_protos_drop_the_name() {
        let mut b = two_objects();
        let r =
            finish(&mut b, &image(), &KernelOptions { skip_inconsistent_proto: true, ..Default::default() }).unwrap();
        assert_eq!((r.funcs_out, r.funcs_inconsistent, r.inconsistent_names, r.protos_removed), (0, 2, 1, 2));
        assert!(b.iter().all(|(_, t)| !matches!(t.kind, TypeKind::Func { .. } | TypeKind::FuncProto(_))));
    }

    #[test]
    fn replay_realigns_a_page_aligned_object() {
        // ld -r: an 8-byte object at 0, a 4096-aligned one at 0x1000 (gap 0x1000-8).
        let syms = [(0, 8), (0x1000, 0x1000), (0x2000, 4)];
        let mut n = 0;
        let (f, end) = replay(&syms, 0x15180, 0x2004, 4096, &mut n);
        // Final: from 0x15180; the aligned object lands on 0x16000, the next follows it.
        assert_eq!(f, vec![0x15180, 0x16000, 0x17000]);
        assert_eq!((end, n), (0x17004, 1));
        // A start that is aligned enough changes nothing.
        let (f, _) = replay(&syms, 0x20000, 0x2004, 4096, &mut n);
        assert_eq!(f, vec![0x20000, 0x21000, 0x22000]);
        assert_eq!(n, 1);
    }

    #[test]
    fn pahole_loose_prototype_match() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap(); // 1
        let long = b.add_int("long", 8, 1).unwrap(); // 2
        let s = b.add_struct("s", 4).unwrap(); // 3
        let fwd = b.add_fwd("s", false).unwrap(); // 4
        let cs = b.add_const(s).unwrap(); // 5
        let ps = b.add_ptr(s).unwrap(); // 6
        let pcs = b.add_ptr(cs).unwrap(); // 7
        let pf = b.add_ptr(fwd).unwrap(); // 8
        let mk = |b: &mut Btf, ret, params: &[(&str, TypeId)]| {
            let p = b.add_func_proto(ret).unwrap();
            for (n, t) in params {
                b.add_param(n, *t).unwrap();
            }
            p
        };
        let base = mk(&mut b, int, &[("a", ps), ("n", long)]);
        let renamed = mk(&mut b, int, &[("other", pcs), ("m", long)]);
        let fwd_ptr = mk(&mut b, int, &[("a", pf), ("n", long)]);
        let narrower = mk(&mut b, int, &[("a", ps), ("n", int)]);
        let fewer = mk(&mut b, int, &[("a", ps)]);
        let void_ret = mk(&mut b, TypeId(0), &[("a", ps), ("n", long)]);
        assert!(types_match(&b, base, renamed), "names and const ignored");
        assert!(types_match(&b, base, fwd_ptr), "a FWD matches its struct by name");
        assert!(!types_match(&b, base, narrower));
        assert!(!types_match(&b, base, fewer));
        assert!(!types_match(&b, base, void_ret));
    }

    #[test]
    fn ambiguous_static_names_follow_link_order() {
        // Both objects hold only `cnt`: the first member must get 64, the second 72.
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap();
        for _ in 0..2 {
            let v = b.add_var("cnt", 0, int).unwrap();
            b.add_datasec(PERCPU_SECTION, 4).unwrap();
            b.add_datasec_var(v, 0, 4).unwrap();
        }
        let mut img = image();
        img.percpu.retain(|s| s.name == "cnt");
        let r = finish(&mut b, &img, &KernelOptions::default()).unwrap();
        assert_eq!(r.percpu_vars_out, 2);
        let TypeKind::Datasec(d) = &b.types()[2].kind else { panic!("{:?}", b.types()) };
        assert_eq!(d.vars.iter().map(|v| (v.ty.0, v.offset)).collect::<Vec<_>>(), vec![(2, 64), (4, 72)]);
    }

    #[test]
    fn subsection_datasecs_join_and_other_sections_go() {
        // pahole --btf_features=global_var per object: a `.data` DATASEC, a
        // `..shared_aligned` subsection (first in BTF order) and `.data..percpu`.
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap(); // 1
        let glob = b.add_var("plain_global", 1, int).unwrap(); // 2
        b.add_datasec(".data", 4).unwrap(); // 3
        b.add_datasec_var(glob, 0, 4).unwrap();
        let hot = b.add_var("hot", 1, int).unwrap(); // 4
        b.add_datasec(".data..percpu..shared_aligned", 64).unwrap(); // 5
        b.add_datasec_var(hot, 0, 4).unwrap();
        let g = b.add_var("g", 1, int).unwrap(); // 6
        b.add_datasec(PERCPU_SECTION, 4).unwrap(); // 7
        b.add_datasec_var(g, 0, 4).unwrap();
        let mut img = image();
        img.percpu.push(sym("hot", 96, 4, false));
        let r = finish(&mut b, &img, &KernelOptions::default()).unwrap();
        assert_eq!((r.other_datasecs_removed, r.other_vars_removed), (1, 1));
        assert_eq!((r.percpu_datasecs_in, r.percpu_datasecs_out, r.percpu_vars_out), (2, 1, 2));
        let secs: Vec<_> = b.iter().filter(|(_, t)| matches!(t.kind, TypeKind::Datasec(_))).collect();
        assert_eq!(secs.len(), 1);
        assert_eq!(b.name(secs[0].1.name_off), PERCPU_SECTION);
        let TypeKind::Datasec(d) = &secs[0].1.kind else { unreachable!() };
        let got: Vec<(String, u32)> =
            d.vars.iter().map(|v| (b.name(b.type_by_id(v.ty).unwrap().name_off).into_owned(), v.offset)).collect();
        assert_eq!(got, vec![("g".into(), 68), ("hot".into(), 96)]);
        assert!(b.find_by_name("plain_global").is_none());
        crate::parse::parse(&crate::write::to_bytes(&b)).unwrap();
    }

    #[test]
    fn only_a_subsection_datasec_is_renamed() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap();
        let hot = b.add_var("hot", 1, int).unwrap();
        b.add_datasec(".data..percpu..shared_aligned", 64).unwrap();
        b.add_datasec_var(hot, 0, 4).unwrap();
        let mut img = image();
        img.percpu.push(sym("hot", 96, 4, false));
        let r = finish(&mut b, &img, &KernelOptions::default()).unwrap();
        assert_eq!(r.percpu_vars_out, 1);
        assert_eq!(b.name(b.types()[2].name_off), PERCPU_SECTION);
    }

    #[test]
    fn var_without_symbol_is_dropped_and_reported() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap();
        let v = b.add_var("nosym", 0, int).unwrap();
        b.add_datasec(PERCPU_SECTION, 4).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
        let r = finish(&mut b, &image(), &KernelOptions::default()).unwrap();
        assert_eq!(r.unplaced_vars, vec!["nosym".to_string()]);
        assert_eq!(r.percpu_datasecs_out, 0);
        assert_eq!(b.types().len(), 1, "VAR and the empty DATASEC are gone");
        assert!(r.warning().unwrap().contains("nosym"));
    }
}
