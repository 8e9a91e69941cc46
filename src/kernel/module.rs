//! Module BTF: a kernel module's `.BTF` finished as `pahole -J --btf_base vmlinux`
//! finishes it (kbuild's `scripts/Makefile.modfinal`), from per-object BTF.
//!
//! With per-object BTF every object of a module carries its own standalone
//! BTF and `ld -r` concatenates them: the `.ko`'s `.BTF` is a BTF archive.
//! [`module_btf`] turns it into what the kernel expects of a module:
//!
//! 1. the members are appended in order to an empty split BTF over the base
//!    (vmlinux's BTF; libbpf's `btf__add_btf`) and deduplicated against it,
//!    with [`DedupOptions::base_typedef_fix`] on: module BTF must not carry a
//!    typedef equal to one of vmlinux's (libbpf 1.7.0's split dedup leaves
//!    those, which btfkit reproduces only where libbpf's bytes are asked for);
//! 2. [`crate::kernel::finish`] with the module's own symbols
//!    ([`module_symbols`]): ONE `.data..percpu` DATASEC whose VAR offsets are
//!    the `st_value`s of the module's per-CPU symbols (in a relocatable `.ko`
//!    they are offsets in its `.data..percpu` section, which is what pahole
//!    encodes and the module loader adds to the module's per-CPU area), and
//!    pahole's function set from the `.ko`'s `STT_FUNC` symbols. As pahole,
//!    the DATASEC's size is the end of its last entry;
//! 3. optionally kfunc DECL_TAGs from `.BTF_ids` ([`crate::kernel::kfunc`]).
//!
//! A `.BTF` that holds one BTF already split over the base (a module that was
//! finished before, by btfkit or by pahole) is read as such and finished
//! again: on btfkit's own output that gives the same bytes. It is told from a
//! standalone per-object BTF by its string section, which for split BTF does
//! not start with the empty string (a standalone BTF's must), or else by
//! failing to parse standalone while parsing over the base.
//!
//! [`finish_module_file`] rewrites a `.ko` in place, crash-safe: the new file
//! is written next to it and renamed over it, so on any error the module is
//! untouched. [`finish_modules`] does many modules in parallel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use rayon::prelude::*;

use super::kfunc::{self, KfuncReport};
use super::{ImageSymbols, KernelOptions, KernelReport, PERCPU_SECTION, PercpuSymbol};
use crate::btf::{Btf, TypeKind};
use crate::dedup::{DedupOptions, DedupStats, Merger};
use crate::error::{Error, Result};
use crate::parse::{self, ParseOptions, Validation};

/// Options of [`module_btf`] and the functions built on it:
/// `ModuleOptions::new()` (or `Default`) and the `with_*` methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModuleOptions {
    /// How [`finish`](super::finish) chooses the module's FUNCs (pahole's
    /// inconsistent-prototype and optimized-function rules).
    pub kernel: KernelOptions,
    /// Add kfunc DECL_TAGs from the module's `.BTF_ids` (pahole ≥ 1.27's `decl_tag_kfuncs`).
    pub kfunc_tags: bool,
    /// How strictly the input BTF (the members) is checked.
    pub validation: Validation,
    /// Refuse (an error, nothing written) a result that the kernel's BTF
    /// verifier would reject; otherwise the problems are only counted in the
    /// report ([`ModuleReport::kernel_problems`]).
    pub refuse_kernel_rejects: bool,
}

impl ModuleOptions {
    /// pahole 1.24's rules, the libbpf level for the input, kernel rejects only counted.
    pub fn new() -> ModuleOptions {
        ModuleOptions::default()
    }

    /// Sets [`ModuleOptions::kernel`].
    pub fn with_kernel(mut self, kernel: KernelOptions) -> ModuleOptions {
        self.kernel = kernel;
        self
    }

    /// Sets [`ModuleOptions::kfunc_tags`].
    pub fn with_kfunc_tags(mut self, on: bool) -> ModuleOptions {
        self.kfunc_tags = on;
        self
    }

    /// Sets [`ModuleOptions::validation`].
    pub fn with_validation(mut self, v: Validation) -> ModuleOptions {
        self.validation = v;
        self
    }

    /// Sets [`ModuleOptions::refuse_kernel_rejects`].
    pub fn with_refuse_kernel_rejects(mut self, on: bool) -> ModuleOptions {
        self.refuse_kernel_rejects = on;
        self
    }
}

/// What the module's `.BTF` held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleBtfForm {
    /// Standalone BTFs, one per object (or one standalone BTF).
    PerObject,
    /// One BTF already split over the base (a finished module).
    Split,
}

/// What [`module_btf`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleReport {
    /// What the `.BTF` held.
    pub form: ModuleBtfForm,
    /// BTFs in the `.BTF` section.
    pub members: usize,
    /// Types in all members together.
    pub types_in: usize,
    /// The merge's dedup.
    pub dedup: DedupStats,
    /// The per-CPU DATASEC and function set.
    pub kernel: KernelReport,
    /// kfunc tags (with [`ModuleOptions::kfunc_tags`]).
    pub kfuncs: Option<KfuncReport>,
    /// Problems the kernel's BTF verifier would find in the result (0 normally).
    pub kernel_problems: usize,
    /// The first of them, as the kernel logs it.
    pub first_problem: Option<String>,
    /// Size of the `.BTF` section before, in bytes.
    pub btf_bytes_in: usize,
    /// Size of the new `.BTF`, in bytes.
    pub btf_bytes_out: usize,
    /// Whether the written `.BTF` equals the old one byte for byte.
    pub unchanged: bool,
}

impl ModuleReport {
    /// One line on what was done (for a log).
    pub fn summary(&self) -> String {
        let k = &self.kernel;
        let form = match self.form {
            ModuleBtfForm::PerObject => format!("{} per-object BTFs", self.members),
            ModuleBtfForm::Split => "split BTF (finished before)".to_string(),
        };
        let kf = match &self.kfuncs {
            Some(r) => format!(", kfunc tags {} (+{} bpf_fastcall)", r.tagged + r.already_tagged, r.fastcall),
            None => String::new(),
        };
        format!(
            "{form}, types {} -> {}, {} per-CPU VARs in one .data..percpu DATASEC, FUNCs {} -> {}{kf}, .BTF {} -> {} bytes{}",
            self.types_in,
            k.types_out,
            k.percpu_vars_out,
            k.funcs_in,
            k.funcs_out,
            self.btf_bytes_in,
            self.btf_bytes_out,
            if self.unchanged { " (unchanged)" } else { "" }
        )
    }

    /// One line when something is off: the kernel would reject the result, or
    /// per-CPU VARs and symbols do not match. (Global functions without a FUNC
    /// are normal in a module, `init_module` and `cleanup_module` being aliases,
    /// and are only counted in [`KernelReport`].)
    pub fn warning(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(p) = &self.first_problem {
            parts.push(format!(
                "the kernel would reject this module BTF ({} problems), the first: {p}",
                self.kernel_problems
            ));
        }
        let k = &self.kernel;
        if k.percpu_symbols_without_var > 0 {
            parts.push(format!(
                "{} per-CPU symbols have no VAR (no BTF for their object)",
                k.percpu_symbols_without_var
            ));
        }
        if !k.unplaced_vars.is_empty() {
            parts.push(format!(
                "{} VARs had no matching per-CPU symbol and were dropped ({})",
                k.unplaced_vars.len(),
                k.unplaced_vars.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// The per-CPU symbols and functions of a module (a relocatable `.ko`): the
/// `STT_OBJECT` symbols of non-zero size in the section `.data..percpu`, at
/// their `st_value` (an offset in that section), and the defined `STT_FUNC`
/// symbols. The per-CPU area's size is the section's size.
pub fn module_symbols(data: &[u8]) -> Result<ImageSymbols> {
    let file = object::File::parse(data).map_err(|e| Error::NotElf { why: e.to_string() })?;
    let percpu = file.section_by_name(PERCPU_SECTION);
    let percpu_idx = percpu.as_ref().map(|s| s.index());
    let mut out =
        ImageSymbols { percpu_size: percpu.as_ref().map_or(0, |s| s.size()), relocatable: true, ..Default::default() };
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
            SymbolKind::Data if sym.size() > 0 && Some(idx) == percpu_idx => out.percpu.push(PercpuSymbol {
                name: name.to_string(),
                offset: sym.address(),
                size: sym.size(),
                local: sym.is_local(),
                in_subsection: Some(false),
            }),
            _ => {}
        }
    }
    Ok(out)
}

/// Whether a single BTF blob is split BTF: its string section does not start
/// with the empty string (or is empty). None when the header is unreadable.
fn strings_look_split(blob: &[u8]) -> Option<bool> {
    let magic: [u8; 2] = blob.get(0..2)?.try_into().ok()?;
    let little = match magic {
        [0x9f, 0xeb] => true,
        [0xeb, 0x9f] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let w: [u8; 4] = blob.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(w) } else { u32::from_be_bytes(w) })
    };
    let (hdr_len, str_off, str_len) = (u32_at(4)?, u32_at(16)?, u32_at(20)?);
    if str_len == 0 {
        return Some(true);
    }
    let at = (hdr_len as usize).checked_add(str_off as usize)?;
    Some(*blob.get(at)? != 0)
}

/// The module's BTF, built from the `.ko` bytes `elf` (see the module
/// documentation), and what was done. `elf`'s `.BTF` is an archive of
/// standalone per-object BTFs or one BTF split over `base`.
pub fn module_btf(elf: &[u8], base: &Arc<Btf>, opts: &ModuleOptions) -> Result<(Btf, ModuleReport)> {
    if !crate::elf::is_elf(elf) {
        return Err(Error::NotElf { why: "a compressed module must be finished before compression".into() });
    }
    let range = crate::elf::find_btf_section(elf, Path::new("")).map_err(|e| match e {
        Error::NoBtfSection { .. } => Error::ModuleWithoutBtf,
        Error::Elf { why, .. } => Error::ElfData { why },
        e => e,
    })?;
    let data = &elf[range.offset..range.offset + range.size];
    let layout = crate::archive::walk(data, range.offset, false)?;
    if layout.members.is_empty() {
        return Err(Error::EmptyBtfSection { offset: range.offset });
    }
    let popts = |base: Option<Arc<Btf>>, m: &crate::archive::Member| ParseOptions {
        base,
        allow_trailing: false,
        file_offset: range.offset + m.offset,
        validation: opts.validation,
    };
    let mut form = ModuleBtfForm::PerObject;
    let mut merger = Merger::new(Btf::new_split(base.clone()));
    let types_in;
    let mut btf = if let [m] = layout.members.as_slice() {
        let blob = &data[m.offset..m.offset + m.size];
        let split_parse = || parse::parse_with(blob, &popts(Some(base.clone()), m)).map(|(b, _)| b);
        let one = if strings_look_split(blob) == Some(true) {
            form = ModuleBtfForm::Split;
            split_parse()?
        } else {
            match parse::parse_with(blob, &popts(None, m)) {
                Ok((b, _)) => b,
                Err(e) => match split_parse() {
                    Ok(b) => {
                        form = ModuleBtfForm::Split;
                        b
                    }
                    Err(_) => return Err(e),
                },
            }
        };
        types_in = one.types().len();
        if form == ModuleBtfForm::Split {
            one
        } else {
            merger.append(one)?;
            merger.finish()
        }
    } else {
        let members = crate::archive::parse_members(
            data,
            &layout,
            &crate::parse::ParseOptions::new().with_validation(opts.validation).with_file_offset(range.offset),
        )?;
        types_in = members.iter().map(|b| b.types().len()).sum();
        for (i, b) in members.into_iter().enumerate() {
            merger.append(b).map_err(|e| Error::Member {
                index: i,
                offset: range.offset + layout.members[i].offset,
                source: Box::new(e),
            })?;
        }
        merger.finish()
    };
    let dopts = DedupOptions { base_typedef_fix: true, ..Default::default() };
    let mut dedup = btf.dedup(&dopts)?;
    // One pass of libbpf's dedup can leave a module copy of a base struct
    // that a second pass resolves to the base (e.g. `struct crypto_tfm` in the
    // 6.1 crypto modules); repeat while types go away (a few passes at most),
    // so the module carries no such copy and a second run changes nothing.
    for _ in 0..4 {
        let before = btf.types().len();
        let again = btf.dedup(&dopts)?;
        dedup.types_out = again.types_out;
        dedup.str_bytes_out = again.str_bytes_out;
        if btf.types().len() == before {
            break;
        }
    }

    let mut syms = module_symbols(elf)?;
    if syms.functions.is_empty() {
        // pahole without an ELF function list keeps the external functions.
        for (_, t) in btf.iter() {
            if let TypeKind::Func { linkage: 1, .. } = t.kind {
                syms.functions.insert(btf.name(t.name_off).into_owned());
            }
        }
    }
    let kernel = super::finish(&mut btf, &syms, &opts.kernel)?;
    // pahole adds the DATASEC after all other types: move it to the end.
    let percpu = btf
        .iter()
        .find(|(_, t)| {
            matches!(t.kind, TypeKind::Datasec(_)) && btf.str_bytes(t.name_off) == Some(PERCPU_SECTION.as_bytes())
        })
        .map(|(id, t)| (id, t.clone()));
    if let Some((id, t)) = percpu {
        btf.push_type(t)?;
        btf.remove_types(&[id], &Default::default())?;
    }
    // pahole: the DATASEC's size is its last entry's end.
    let start = btf.start_id().0;
    let percpu_ids: Vec<usize> = btf
        .iter()
        .filter(|(_, t)| {
            matches!(t.kind, TypeKind::Datasec(_)) && btf.str_bytes(t.name_off) == Some(PERCPU_SECTION.as_bytes())
        })
        .map(|(id, _)| (id.0 - start) as usize)
        .collect();
    for i in percpu_ids {
        if let Some(TypeKind::Datasec(d)) = btf.types_mut().get_mut(i).map(|t| &mut t.kind) {
            d.size = d.vars.iter().map(|v| v.offset.saturating_add(v.size)).max().unwrap_or(0);
        }
    }
    let kfuncs = if opts.kfunc_tags { Some(kfunc::tag_kfuncs(&mut btf, &kfunc::kfuncs_from_elf(elf)?)?) } else { None };
    // Drop the strings only removed types used (finish renumbers types, not
    // strings), so that finishing the result again gives the same bytes.
    btf.compact_strings()?;
    let problems = btf.validate(Validation::Kernel);
    let first_problem = problems.first().map(|p| p.to_string().replace('\n', " "));
    if opts.refuse_kernel_rejects
        && let Some(first) = &first_problem
    {
        return Err(Error::KernelWouldReject {
            what: "the module BTF".into(),
            problems: problems.len(),
            first: first.clone(),
        });
    }
    let rep = ModuleReport {
        form,
        members: layout.members.len(),
        types_in,
        dedup,
        kernel,
        kfuncs,
        kernel_problems: problems.len(),
        first_problem,
        btf_bytes_in: range.size,
        btf_bytes_out: 0,
        unchanged: false,
    };
    Ok((btf, rep))
}

/// The module ELF `elf` with its `.BTF` replaced by the finished module BTF
/// (see [`module_btf`]); `path` names the file in errors. Everything outside
/// `.BTF` keeps its bytes; `.BTF` is written over the old one when it fits,
/// else appended (see [`crate::elf::replace_section`]).
pub fn finish_module_bytes(
    elf: &[u8],
    path: &Path,
    base: &Arc<Btf>,
    opts: &ModuleOptions,
) -> Result<(Vec<u8>, ModuleReport)> {
    // Refuse a .BTF that cannot be rewritten before doing any work.
    crate::elf::check_replaceable(elf, path, ".BTF", false)?;
    let (btf, mut rep) = module_btf(elf, base, opts).map_err(|e| e.in_file(path))?;
    let bytes = crate::write::to_bytes(&btf);
    rep.btf_bytes_out = bytes.len();
    let (out, _) = crate::elf::replace_section(elf, path, ".BTF", &bytes)?;
    rep.unchanged = out == elf;
    Ok((out, rep))
}

/// Finishes the module file `path` in place (crash-safe: nothing changes on
/// error). An unchanged result is not written at all.
pub fn finish_module_file(path: &Path, base: &Arc<Btf>, opts: &ModuleOptions) -> Result<ModuleReport> {
    let elf = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let (out, rep) = finish_module_bytes(&elf, path, base, opts)?;
    if !rep.unchanged {
        crate::output::write_atomic(path, &out)?;
    }
    Ok(rep)
}

/// [`finish_module_file`] on every path, in parallel on the current rayon
/// pool; results in the order of `paths`. `done` is called once per module
/// as it finishes (from worker threads), e.g. for a progress line. One
/// module's failure does not stop the others.
pub fn finish_modules(
    paths: &[PathBuf],
    base: &Arc<Btf>,
    opts: &ModuleOptions,
    done: impl Fn(&Path, &Result<ModuleReport>) + Sync,
) -> Vec<Result<ModuleReport>> {
    paths
        .par_iter()
        .map(|p| {
            let r = finish_module_file(p, base, opts);
            done(p, &r);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_strings_are_told_apart() {
        let mut b = Btf::new();
        b.add_int("int", 4, 1).unwrap();
        let standalone = crate::write::to_bytes(&b);
        assert_eq!(strings_look_split(&standalone), Some(false));
        // A split BTF made as libbpf makes it (btf__add_btf into an empty split BTF).
        let mut other = Btf::new();
        other.add_int("long", 8, 1).unwrap();
        let mut s = Btf::new_split(Arc::new(b));
        s.append(&other).unwrap();
        assert_eq!(strings_look_split(&crate::write::to_bytes(&s)), Some(true));
        assert_eq!(strings_look_split(b"\x00\x01"), None);
    }
}
