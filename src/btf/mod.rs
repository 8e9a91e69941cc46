//! The BTF container: types, strings, an optional base (split BTF), and the
//! builder API (`add_*`, like libbpf's `btf__add_*`).

mod edit;
pub mod list;
pub mod query;
mod strings;
mod types;
pub mod unchecked;

use std::sync::{Arc, OnceLock};

pub use list::List;
pub use query::{Layout, MemberLoc, TypeIndex};
pub(crate) use strings::StrHasher;
pub use strings::StringTable;
pub use types::*;

use crate::error::{Error, Result};

/// Size of the classic BTF header (up to and including `str_len`).
pub const HEADER_LEN: u32 = 24;
/// Size of the header with the kind-layout fields (`layout_off`, `layout_len`).
pub const HEADER_LEN_LAYOUT: u32 = 32;
/// BTF magic.
pub const MAGIC: u16 = 0xeb9f;
/// Largest valid type id (libbpf's BTF_MAX_NR_TYPES).
pub const MAX_TYPE_ID: u32 = 0x7fff_ffff;
/// Largest string offset (libbpf's BTF_MAX_STR_OFFSET).
pub const MAX_STR_OFFSET: u32 = 0x7fff_ffff;

/// The byte order of a BTF blob (and of the integers it holds).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endianness {
    /// Least significant byte first (x86, arm64, ...).
    Little,
    /// Most significant byte first (s390x, ...).
    Big,
}

impl Default for Endianness {
    /// The host's byte order.
    fn default() -> Self {
        if cfg!(target_endian = "little") { Endianness::Little } else { Endianness::Big }
    }
}

/// One entry of the optional kind-layout section (`struct btf_layout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KindLayout {
    /// Size in bytes of the kind's fixed part after `struct btf_type` (e.g. 4 for INT).
    pub info_sz: u8,
    /// Size in bytes of each of the kind's `vlen` trailing records (e.g. 12 for a member).
    pub elem_sz: u8,
    /// Per-kind flags of the layout entry, kept as read.
    pub flags: u16,
}

/// A BTF object: its own types and strings, on top of an optional base.
///
/// Type ids of a split BTF start at `base.type_count()`; its string offsets
/// start at the base's string section length.
#[derive(Clone, Debug)]
pub struct Btf {
    types: Vec<Type>,
    strings: StringTable,
    base: Option<Arc<Btf>>,
    /// Cached from the (immutable) base: first own type id, first own string offset.
    start_id: u32,
    start_str_off: u32,
    endian: Endianness,
    /// Header length to write (24, or larger with a zero or layout tail).
    hdr_len: u32,
    layout: Option<Vec<KindLayout>>,
    /// Whether the string section is known to hold each string once
    /// (libbpf's `strs_deduped`): true for a BTF built from scratch with
    /// the builder or `append`, and after `dedup`; false for parsed data
    /// (unless its string section is empty or just ""). When false, dedup
    /// rebuilds the string section in first-reference order.
    strs_deduped: bool,
    /// Own type names → the first own id with that name, built by the first
    /// [`Btf::find_by_name`] and dropped by every change to the own types
    /// or strings.
    names: OnceLock<NameIndex>,
}

/// See [`Btf::find_by_name`].
type NameIndex = std::collections::HashMap<Box<[u8]>, TypeId, std::hash::BuildHasherDefault<StrHasher>>;

impl PartialEq for Btf {
    fn eq(&self, other: &Self) -> bool {
        self.types == other.types
            && self.strings == other.strings
            && self.start_id == other.start_id
            && self.hdr_len == other.hdr_len
            && self.layout == other.layout
    }
}

impl Default for Btf {
    fn default() -> Self {
        Btf::new()
    }
}

impl Btf {
    /// An empty base BTF (no types, string section holding "").
    pub fn new() -> Btf {
        Btf {
            types: Vec::new(),
            strings: StringTable::with_empty(),
            base: None,
            start_id: 1,
            start_str_off: 0,
            endian: Endianness::Little,
            hdr_len: HEADER_LEN,
            layout: None,
            strs_deduped: true,
            names: OnceLock::new(),
        }
    }

    /// An empty split BTF on top of `base`.
    pub fn new_split(base: Arc<Btf>) -> Btf {
        Btf {
            types: Vec::new(),
            strings: StringTable::empty(),
            endian: base.endian,
            start_id: base.type_count(),
            start_str_off: base.start_str_off + base.strings.len() as u32,
            base: Some(base),
            hdr_len: HEADER_LEN,
            layout: None,
            strs_deduped: true,
            names: OnceLock::new(),
        }
    }

    /// Assembles a BTF from parts (the parser's entry point; no validation).
    pub(crate) fn from_parts(
        types: Vec<Type>,
        strings: StringTable,
        base: Option<Arc<Btf>>,
        endian: Endianness,
        hdr_len: u32,
        layout: Option<Vec<KindLayout>>,
    ) -> Btf {
        // As libbpf: data whose string section is empty (split) or only ""
        // counts as deduplicated.
        let strs_deduped = strings.is_empty() || (base.is_none() && strings.len() == 1);
        let (start_id, start_str_off) = match &base {
            Some(b) => (b.type_count(), b.start_str_off + b.strings.len() as u32),
            None => (1, 0),
        };
        Btf {
            types,
            strings,
            base,
            start_id,
            start_str_off,
            endian,
            hdr_len,
            layout,
            strs_deduped,
            names: OnceLock::new(),
        }
    }

    /// Whether the string section is known to be free of duplicates
    /// (libbpf's `strs_deduped`; see the field's documentation).
    pub fn strs_deduped(&self) -> bool {
        self.strs_deduped
    }

    /// Marks the string section as deduplicated (or not).
    pub(crate) fn set_strs_deduped(&mut self, v: bool) {
        self.strs_deduped = v;
    }

    /// The base BTF this one is split from, if any.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// The byte order this BTF was read in and is written in.
    pub fn endian(&self) -> Endianness {
        self.endian
    }

    /// Sets the byte order used when writing.
    pub fn set_endian(&mut self, e: Endianness) {
        self.endian = e;
    }

    /// The header length read from the input (24 for BTF built in memory); the
    /// writer writes a header at least this long.
    pub fn hdr_len(&self) -> u32 {
        self.hdr_len
    }

    /// The kind-layout section read from the input, if it had one.
    pub fn layout(&self) -> Option<&[KindLayout]> {
        self.layout.as_deref()
    }

    /// The first id of this BTF's own types (1 without a base; for split
    /// BTF, the base's [`Btf::type_count`]).
    #[inline]
    pub fn start_id(&self) -> TypeId {
        TypeId(self.start_id)
    }

    /// One past the last valid type id (libbpf's `btf__type_cnt`).
    pub fn type_count(&self) -> u32 {
        self.start_id + self.types.len() as u32
    }

    /// Offset at which this BTF's own strings start: the length of the
    /// base's string section (0 without a base). Own offsets are this plus
    /// an offset into [`Btf::strings`].
    #[inline]
    pub fn start_str_off(&self) -> u32 {
        self.start_str_off
    }

    /// This BTF's own types, in id order starting at `start_id()`.
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// Mutable access to this BTF's own types (inside the crate; outside,
    /// [`unchecked::types_mut`] says what it is).
    pub(crate) fn types_mut(&mut self) -> &mut Vec<Type> {
        self.names.take();
        &mut self.types
    }

    /// Size in bytes of this BTF's own types as encoded (the type section's length).
    pub fn type_section_len(&self) -> usize {
        self.types.iter().map(Type::encoded_len).sum()
    }

    /// This BTF's own string section.
    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    /// Mutable access to this BTF's own string section (inside the crate;
    /// outside, [`unchecked::strings_mut`] says what it is).
    pub(crate) fn strings_mut(&mut self) -> &mut StringTable {
        self.names.take();
        &mut self.strings
    }

    /// Iterates `(id, type)` over this BTF's own types.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &Type)> {
        let start = self.start_id;
        self.types.iter().enumerate().map(move |(i, t)| (TypeId(start + i as u32), t))
    }

    /// The type with this id (looking into the base for lower ids). None for
    /// void (id 0) and out-of-range ids.
    pub fn type_by_id(&self, id: TypeId) -> Option<&Type> {
        let start = self.start_id;
        if id.0 >= start { self.types.get((id.0 - start) as usize) } else { self.base.as_ref()?.type_by_id(id) }
    }

    /// Whether `id` is 0 or names a type of this BTF or its base.
    pub fn is_valid_id(&self, id: TypeId) -> bool {
        id.0 < self.type_count()
    }

    /// The string at `off` (base strings first for split BTF), without NUL.
    pub fn str_bytes(&self, off: StrOff) -> Option<&[u8]> {
        let start = self.start_str_off();
        if off.0 >= start { self.strings.get(StrOff(off.0 - start)) } else { self.base.as_ref()?.str_bytes(off) }
    }

    /// Whether `off` points into this BTF's or its base's string section
    /// (both end with a NUL once parsed, so such an offset names a string).
    pub fn is_valid_str_off(&self, off: StrOff) -> bool {
        let start = self.start_str_off();
        if off.0 >= start {
            ((off.0 - start) as usize) < self.strings.len()
        } else {
            self.base.as_ref().is_some_and(|b| b.is_valid_str_off(off))
        }
    }

    /// The string at `off` as UTF-8 (lossy), "" when invalid.
    pub fn name(&self, off: StrOff) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.str_bytes(off).unwrap_or(b""))
    }

    /// Finds a string in the base (whole strings only) or in own strings.
    pub fn find_str(&self, s: &[u8]) -> Option<StrOff> {
        if let Some(b) = &self.base
            && let Some(off) = b.find_str(s)
        {
            return Some(off);
        }
        self.strings.find(s).map(|o| StrOff(o.0 + self.start_str_off()))
    }

    /// Interns a string (libbpf `btf__add_str`): the base's copy if it has
    /// one, else this BTF's, appended if new. Returns the offset.
    pub fn add_str(&mut self, s: &str) -> Result<StrOff> {
        self.add_str_bytes(s.as_bytes())
    }

    /// Like [`Btf::add_str`] for raw bytes (which need not be UTF-8 but must contain no NUL).
    pub fn add_str_bytes(&mut self, s: &[u8]) -> Result<StrOff> {
        if let Some(at) = s.iter().position(|&b| b == 0) {
            return Err(Error::NulInString { at });
        }
        if let Some(b) = &self.base
            && let Some(off) = b.find_str(s)
        {
            return Ok(off);
        }
        let start = self.start_str_off();
        if self.strings.is_empty() && self.base.is_some() {
            // libbpf's strset for split BTF starts with "" too.
            self.strings.push_unique(b"");
        }
        let off = self.strings.add(s).get() as u64 + start as u64;
        if off > MAX_STR_OFFSET as u64 {
            return Err(Error::StringsTooLarge(off as usize));
        }
        Ok(StrOff(off as u32))
    }

    /// The first type named `name`, in id order (a base's types come first).
    ///
    /// One hash lookup per BTF (this one and its bases) in an index of the
    /// own type names, built by the first call (one pass over the types) and
    /// kept until the types or strings change. For lookups by kind, or every
    /// type of a name, build a [`TypeIndex`] with [`Btf::index`].
    pub fn find_by_name(&self, name: &str) -> Option<TypeId> {
        if let Some(b) = &self.base
            && let Some(id) = b.find_by_name(name)
        {
            return Some(id);
        }
        let names = self.names.get_or_init(|| {
            let mut m = NameIndex::default();
            for (id, t) in self.iter() {
                if !t.name_off.is_empty()
                    && let Some(s) = self.str_bytes(t.name_off)
                {
                    m.entry(s.into()).or_insert(id);
                }
            }
            m
        });
        names.get(name.as_bytes()).copied()
    }

    /// Appends a type as it is, checked as the builder checks: every string
    /// offset must name a string of this BTF or its base, and type ids may
    /// point at types added later (up to [`MAX_TYPE_ID`]); [`Btf::validate`]
    /// checks the whole once it is complete. Returns its id.
    /// ([`unchecked::push_type`] appends without any check.)
    pub fn push_type(&mut self, t: Type) -> Result<TypeId> {
        let id = self.type_count();
        let mut bad_str = None;
        t.for_each_str(|off, what| {
            if bad_str.is_none() && !self.is_valid_str_off(off) {
                bad_str = Some(Error::BadStringOffset { id: TypeId(id), what, str_off: off });
            }
        });
        let mut bad_id = None;
        t.for_each_ref(|r| {
            if bad_id.is_none() && r.0 > MAX_TYPE_ID {
                bad_id = Some(Error::BadTypeId { id: TypeId(id), target: r, max: MAX_TYPE_ID });
            }
        });
        if let Some(e) = bad_str.or(bad_id) {
            return Err(e);
        }
        self.push_type_unchecked(t)
    }

    /// Appends a type without looking at it (see [`unchecked::push_type`]).
    pub(crate) fn push_type_unchecked(&mut self, t: Type) -> Result<TypeId> {
        let id = self.type_count();
        if id > MAX_TYPE_ID {
            return Err(Error::TooManyTypes(id as usize));
        }
        self.names.take();
        self.types.push(t);
        Ok(TypeId(id))
    }

    fn name_off(&mut self, name: &str) -> Result<StrOff> {
        if name.is_empty() { Ok(StrOff::EMPTY) } else { self.add_str(name) }
    }

    /// `id` as a reference of the type `op` adds.
    fn check_ref(&self, op: &'static str, id: TypeId) -> Result<TypeId> {
        if id.0 > MAX_TYPE_ID {
            return Err(self.build_err(op, format!("referenced type id {} is too large", id.0)));
        }
        Ok(id)
    }

    /// `id` as a reference of the last type, which `op` extends.
    fn check_last_ref(&self, op: &'static str, id: TypeId) -> Result<TypeId> {
        if id.0 > MAX_TYPE_ID {
            return Err(self.last_err(op, format!("referenced type id {} is too large", id.0)));
        }
        Ok(id)
    }

    /// A builder error about the type the call would add (the next id).
    fn build_err(&self, op: &'static str, why: impl Into<String>) -> Error {
        Error::Build { op, id: TypeId(self.type_count()), why: why.into() }
    }

    fn add_named(&mut self, name: &str, kind: TypeKind) -> Result<TypeId> {
        let name_off = self.name_off(name)?;
        self.push_type_unchecked(Type::new(name_off, kind))
    }

    // ---- builder API, in the spirit of libbpf's btf__add_*() ----

    /// INT with `encoding` from [`int_encoding`]; `size` in bytes.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: u8) -> Result<TypeId> {
        if name.is_empty() {
            return Err(self.build_err("add_int", "INT needs a name"));
        }
        if !matches!(size, 1 | 2 | 4 | 8 | 16) {
            return Err(self.build_err("add_int", format!("INT size {size} is not 1, 2, 4, 8 or 16")));
        }
        if !matches!(encoding, 0 | int_encoding::SIGNED | int_encoding::CHAR | int_encoding::BOOL) {
            return Err(self.build_err("add_int", format!("INT encoding {encoding:#x} is invalid")));
        }
        self.add_named(name, TypeKind::Int(Int { size, encoding, offset: 0, bits: (size * 8) as u8 }))
    }

    /// Adds a FLOAT named `name` of `size` bytes; returns its id.
    pub fn add_float(&mut self, name: &str, size: u32) -> Result<TypeId> {
        if !matches!(size, 2 | 4 | 8 | 12 | 16) {
            return Err(self.build_err("add_float", format!("FLOAT size {size} is invalid")));
        }
        self.add_named(name, TypeKind::Float { size })
    }

    /// Adds a PTR to `target`; returns its id.
    pub fn add_ptr(&mut self, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_ptr", target)?;
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::Ptr(t)))
    }

    /// Adds a CONST qualifier of `target`; returns its id.
    pub fn add_const(&mut self, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_const", target)?;
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::Const(t)))
    }

    /// Adds a VOLATILE qualifier of `target`; returns its id.
    pub fn add_volatile(&mut self, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_volatile", target)?;
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::Volatile(t)))
    }

    /// Adds a RESTRICT qualifier of `target`; returns its id.
    pub fn add_restrict(&mut self, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_restrict", target)?;
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::Restrict(t)))
    }

    /// Adds a TYPEDEF `name` for `target`; returns its id.
    pub fn add_typedef(&mut self, name: &str, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_typedef", target)?;
        self.add_named(name, TypeKind::Typedef(t))
    }

    /// Adds a TYPE_TAG with string `value` applied to `target`; returns its id.
    pub fn add_type_tag(&mut self, value: &str, target: TypeId) -> Result<TypeId> {
        let t = self.check_ref("add_type_tag", target)?;
        self.add_named(value, TypeKind::TypeTag { ty: t, attr: false })
    }

    /// Adds an ARRAY of `nelems` elements of type `elem`, indexed by type `index`; returns its id.
    pub fn add_array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> Result<TypeId> {
        let (elem, index) = (self.check_ref("add_array", elem)?, self.check_ref("add_array", index)?);
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::Array(Array { elem, index, nelems })))
    }

    /// STRUCT with no members yet: follow with [`Btf::add_field`].
    pub fn add_struct(&mut self, name: &str, size: u32) -> Result<TypeId> {
        self.add_named(name, TypeKind::Struct(Composite { size, kflag: false, members: List::new() }))
    }

    /// UNION with no members yet: follow with [`Btf::add_field`].
    pub fn add_union(&mut self, name: &str, size: u32) -> Result<TypeId> {
        self.add_named(name, TypeKind::Union(Composite { size, kflag: false, members: List::new() }))
    }

    /// The last own type, which `op` extends.
    fn last_mut(&mut self, op: &'static str) -> Result<&mut Type> {
        let id = self.type_count();
        self.types.last_mut().ok_or_else(|| Error::Build { op, id: TypeId(id), why: "no type to add to".into() })
    }

    /// A builder error about the last type (which `op` extends).
    fn last_err(&self, op: &'static str, why: impl Into<String>) -> Error {
        Error::Build { op, id: TypeId(self.type_count().saturating_sub(1)), why: why.into() }
    }

    /// Adds a member to the last added STRUCT/UNION. A non-zero
    /// `bitfield_size` switches the struct to kind_flag encoding (as libbpf).
    pub fn add_field(&mut self, name: &str, ty: TypeId, bit_offset: u32, bitfield_size: u32) -> Result<()> {
        let ty = self.check_last_ref("add_field", ty)?;
        let name_off = self.name_off(name)?;
        if bitfield_size > 255 || bit_offset > 0x00ff_ffff {
            return Err(self.last_err("add_field", "bitfield size or offset too large"));
        }
        let last = self.type_count().saturating_sub(1);
        let t = self.last_mut("add_field")?;
        let c = match &mut t.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => c,
            _ => {
                return Err(Error::Build {
                    op: "add_field",
                    id: TypeId(last),
                    why: "the last type is not a struct or union".into(),
                });
            }
        };
        if c.members.len() >= 0xffff {
            return Err(Error::Build { op: "add_field", id: TypeId(last), why: "too many members".into() });
        }
        if bitfield_size != 0 && !c.kflag {
            if c.members.iter().any(|m| m.offset > 0x00ff_ffff) {
                return Err(Error::Build {
                    op: "add_field",
                    id: TypeId(last),
                    why: "member offset too large for bitfield encoding".into(),
                });
            }
            c.kflag = true;
        }
        let offset = if c.kflag { (bitfield_size << 24) | bit_offset } else { bit_offset };
        c.members.push(Member { name_off, ty, offset });
        Ok(())
    }

    /// ENUM (size 1, 2, 4 or 8) with no values yet: follow with [`Btf::add_enum_value`].
    pub fn add_enum(&mut self, name: &str, size: u32) -> Result<TypeId> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(self.build_err("add_enum", format!("ENUM size {size} is invalid")));
        }
        self.add_named(name, TypeKind::Enum(Enum { size, signed: false, values: List::new() }))
    }

    /// Adds a value to the last ENUM; a negative value makes it signed.
    pub fn add_enum_value(&mut self, name: &str, value: i64) -> Result<()> {
        if name.is_empty() {
            return Err(self.last_err("add_enum_value", "enum value needs a name"));
        }
        if value < i32::MIN as i64 || value > u32::MAX as i64 {
            return Err(self.last_err("add_enum_value", format!("enum value {value} does not fit 32 bits")));
        }
        let name_off = self.add_str(name)?;
        let last = self.type_count().saturating_sub(1);
        let t = self.last_mut("add_enum_value")?;
        let TypeKind::Enum(e) = &mut t.kind else {
            return Err(Error::Build {
                op: "add_enum_value",
                id: TypeId(last),
                why: "the last type is not an ENUM".into(),
            });
        };
        if e.values.len() >= 0xffff {
            return Err(Error::Build { op: "add_enum_value", id: TypeId(last), why: "too many enum values".into() });
        }
        if value < 0 {
            e.signed = true;
        }
        e.values.push(EnumValue { name_off, val: value as u32 });
        Ok(())
    }

    /// ENUM64 with no values yet: follow with [`Btf::add_enum64_value`].
    pub fn add_enum64(&mut self, name: &str, size: u32, signed: bool) -> Result<TypeId> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(self.build_err("add_enum64", format!("ENUM64 size {size} is invalid")));
        }
        self.add_named(name, TypeKind::Enum64(Enum64 { size, signed, values: List::new() }))
    }

    /// Adds a value to the last added ENUM64.
    pub fn add_enum64_value(&mut self, name: &str, value: u64) -> Result<()> {
        let name_off = self.add_str(name)?;
        let last = self.type_count().saturating_sub(1);
        let t = self.last_mut("add_enum64_value")?;
        let TypeKind::Enum64(e) = &mut t.kind else {
            return Err(Error::Build {
                op: "add_enum64_value",
                id: TypeId(last),
                why: "the last type is not an ENUM64".into(),
            });
        };
        if e.values.len() >= 0xffff {
            return Err(Error::Build { op: "add_enum64_value", id: TypeId(last), why: "too many enum values".into() });
        }
        e.values.push(Enum64Value { name_off, val: value });
        Ok(())
    }

    /// FWD of a struct (`union == false`) or union.
    pub fn add_fwd(&mut self, name: &str, union: bool) -> Result<TypeId> {
        if name.is_empty() {
            return Err(self.build_err("add_fwd", "FWD needs a name"));
        }
        self.add_named(name, TypeKind::Fwd { union })
    }

    /// FUNC_PROTO with no params yet: follow with [`Btf::add_param`].
    pub fn add_func_proto(&mut self, ret: TypeId) -> Result<TypeId> {
        let ret = self.check_ref("add_func_proto", ret)?;
        self.push_type_unchecked(Type::new(StrOff::EMPTY, TypeKind::FuncProto(FuncProto { ret, params: List::new() })))
    }

    /// Adds a parameter to the last added FUNC_PROTO (an unnamed `void` one means `...`).
    pub fn add_param(&mut self, name: &str, ty: TypeId) -> Result<()> {
        let ty = self.check_last_ref("add_param", ty)?;
        let name_off = self.name_off(name)?;
        let last = self.type_count().saturating_sub(1);
        let t = self.last_mut("add_param")?;
        let TypeKind::FuncProto(p) = &mut t.kind else {
            return Err(Error::Build {
                op: "add_param",
                id: TypeId(last),
                why: "the last type is not a FUNC_PROTO".into(),
            });
        };
        if p.params.len() >= 0xffff {
            return Err(Error::Build { op: "add_param", id: TypeId(last), why: "too many params".into() });
        }
        p.params.push(Param { name_off, ty });
        Ok(())
    }

    /// Adds a FUNC `name` with linkage `linkage` (see [`func_linkage`]) and prototype `proto`; returns its id.
    pub fn add_func(&mut self, name: &str, linkage: u16, proto: TypeId) -> Result<TypeId> {
        if name.is_empty() {
            return Err(self.build_err("add_func", "FUNC needs a name"));
        }
        if linkage > func_linkage::EXTERN {
            return Err(self.build_err("add_func", format!("FUNC linkage {linkage} is invalid")));
        }
        let proto = self.check_ref("add_func", proto)?;
        self.add_named(name, TypeKind::Func { proto, linkage })
    }

    /// Adds a VAR `name` of type `ty` with linkage `linkage` (see [`var_linkage`]); returns its id.
    pub fn add_var(&mut self, name: &str, linkage: u32, ty: TypeId) -> Result<TypeId> {
        if name.is_empty() {
            return Err(self.build_err("add_var", "VAR needs a name"));
        }
        let ty = self.check_ref("add_var", ty)?;
        self.add_named(name, TypeKind::Var { ty, linkage })
    }

    /// DATASEC with no vars yet: follow with [`Btf::add_datasec_var`].
    pub fn add_datasec(&mut self, name: &str, size: u32) -> Result<TypeId> {
        self.add_named(name, TypeKind::Datasec(Datasec { size, vars: List::new() }))
    }

    /// Adds a variable at byte `offset`, `size` bytes long, to the last added DATASEC.
    pub fn add_datasec_var(&mut self, ty: TypeId, offset: u32, size: u32) -> Result<()> {
        let ty = self.check_last_ref("add_datasec_var", ty)?;
        let last = self.type_count().saturating_sub(1);
        let t = self.last_mut("add_datasec_var")?;
        let TypeKind::Datasec(d) = &mut t.kind else {
            return Err(Error::Build {
                op: "add_datasec_var",
                id: TypeId(last),
                why: "the last type is not a DATASEC".into(),
            });
        };
        d.vars.push(VarSecinfo { ty, offset, size });
        Ok(())
    }

    /// DECL_TAG on a type (`component_idx` -1) or on a member/param.
    pub fn add_decl_tag(&mut self, value: &str, ty: TypeId, component_idx: i32) -> Result<TypeId> {
        if value.is_empty() {
            return Err(self.build_err("add_decl_tag", "DECL_TAG needs a value"));
        }
        if component_idx < -1 {
            return Err(self.build_err("add_decl_tag", "component_idx below -1"));
        }
        let ty = self.check_ref("add_decl_tag", ty)?;
        self.add_named(value, TypeKind::DeclTag { ty, component_idx, attr: false })
    }
}
