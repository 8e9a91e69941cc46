//! The BTF type model: one enum variant per kind, with its extra data.

use std::fmt;

use super::List;

/// A BTF type id. Id 0 is `void`; in split BTF, ids continue after the base's.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The implicit `void` type.
    pub const VOID: TypeId = TypeId(0);
}

impl fmt::Debug for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0)
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An offset into a BTF string section: where a name (or a tag's value)
/// starts. Offset 0 is the empty string, which names nothing (an anonymous
/// type or member). In split BTF, offsets continue after the base's string
/// section. A plain `u32` in the encoding; this type keeps offsets apart
/// from type ids, sizes and counts in signatures, at no cost
/// (`#[repr(transparent)]`). Look a string up with [`crate::Btf::name`] or
/// [`crate::Btf::str_bytes`].
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct StrOff(pub u32);

impl StrOff {
    /// The empty string, offset 0: no name.
    pub const EMPTY: StrOff = StrOff(0);

    /// The raw offset, as stored in the encoding.
    #[inline(always)]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// True for offset 0 (the empty string: no name).
    #[inline(always)]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for StrOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "str@{}", self.0)
    }
}

impl fmt::Display for StrOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The numeric BTF kind, as stored in bits 24..29 of `info`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Kind {
    /// Kind 0, `BTF_KIND_UNKN`: no valid type has it (id 0, `void`, is implicit).
    Unknown = 0,
    /// `BTF_KIND_INT`: an integer, char or bool.
    Int = 1,
    /// `BTF_KIND_PTR`: a pointer.
    Ptr = 2,
    /// `BTF_KIND_ARRAY`: a fixed-size array.
    Array = 3,
    /// `BTF_KIND_STRUCT`.
    Struct = 4,
    /// `BTF_KIND_UNION`.
    Union = 5,
    /// `BTF_KIND_ENUM`: an enum with 32-bit values.
    Enum = 6,
    /// `BTF_KIND_FWD`: a forward declaration of a struct or union.
    Fwd = 7,
    /// `BTF_KIND_TYPEDEF`.
    Typedef = 8,
    /// `BTF_KIND_VOLATILE` qualifier.
    Volatile = 9,
    /// `BTF_KIND_CONST` qualifier.
    Const = 10,
    /// `BTF_KIND_RESTRICT` qualifier.
    Restrict = 11,
    /// `BTF_KIND_FUNC`: a function (name and linkage), pointing at its FUNC_PROTO.
    Func = 12,
    /// `BTF_KIND_FUNC_PROTO`: a function signature.
    FuncProto = 13,
    /// `BTF_KIND_VAR`: a global or static variable.
    Var = 14,
    /// `BTF_KIND_DATASEC`: an ELF data section and the variables in it.
    Datasec = 15,
    /// `BTF_KIND_FLOAT`: a floating-point type.
    Float = 16,
    /// `BTF_KIND_DECL_TAG`: a string tag on a declaration or one of its members/params.
    DeclTag = 17,
    /// `BTF_KIND_TYPE_TAG`: a string tag on a pointee type.
    TypeTag = 18,
    /// `BTF_KIND_ENUM64`: an enum with 64-bit values.
    Enum64 = 19,
}

impl Kind {
    /// Kinds in numeric order, index = kind number.
    pub const ALL: [Kind; 20] = [
        Kind::Unknown,
        Kind::Int,
        Kind::Ptr,
        Kind::Array,
        Kind::Struct,
        Kind::Union,
        Kind::Enum,
        Kind::Fwd,
        Kind::Typedef,
        Kind::Volatile,
        Kind::Const,
        Kind::Restrict,
        Kind::Func,
        Kind::FuncProto,
        Kind::Var,
        Kind::Datasec,
        Kind::Float,
        Kind::DeclTag,
        Kind::TypeTag,
        Kind::Enum64,
    ];

    /// The kind for a raw kind number, if known.
    pub fn from_u32(k: u32) -> Option<Kind> {
        Kind::ALL.get(k as usize).copied().filter(|k| *k != Kind::Unknown)
    }

    /// Upper-case name, as bpftool prints it (`STRUCT`, `FUNC_PROTO`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Unknown => "UNKNOWN",
            Kind::Int => "INT",
            Kind::Ptr => "PTR",
            Kind::Array => "ARRAY",
            Kind::Struct => "STRUCT",
            Kind::Union => "UNION",
            Kind::Enum => "ENUM",
            Kind::Fwd => "FWD",
            Kind::Typedef => "TYPEDEF",
            Kind::Volatile => "VOLATILE",
            Kind::Const => "CONST",
            Kind::Restrict => "RESTRICT",
            Kind::Func => "FUNC",
            Kind::FuncProto => "FUNC_PROTO",
            Kind::Var => "VAR",
            Kind::Datasec => "DATASEC",
            Kind::Float => "FLOAT",
            Kind::DeclTag => "DECL_TAG",
            Kind::TypeTag => "TYPE_TAG",
            Kind::Enum64 => "ENUM64",
        }
    }
}

/// INT encoding bits.
pub mod int_encoding {
    /// `BTF_INT_SIGNED`: the integer is signed.
    pub const SIGNED: u8 = 1;
    /// `BTF_INT_CHAR`: the integer is a character type.
    pub const CHAR: u8 = 2;
    /// `BTF_INT_BOOL`: the integer is a boolean.
    pub const BOOL: u8 = 4;
}

/// FUNC linkage values (stored in vlen).
pub mod func_linkage {
    /// `BTF_FUNC_STATIC`: file-local function.
    pub const STATIC: u16 = 0;
    /// `BTF_FUNC_GLOBAL`: function visible outside its object.
    pub const GLOBAL: u16 = 1;
    /// `BTF_FUNC_EXTERN`: function defined elsewhere.
    pub const EXTERN: u16 = 2;
}

/// VAR linkage values.
pub mod var_linkage {
    /// `BTF_VAR_STATIC`: file-local variable.
    pub const STATIC: u32 = 0;
    /// `BTF_VAR_GLOBAL_ALLOCATED`: global variable defined (allocated) here.
    pub const GLOBAL_ALLOCATED: u32 = 1;
    /// `BTF_VAR_GLOBAL_EXTERN`: global variable defined elsewhere.
    pub const GLOBAL_EXTERN: u32 = 2;
}

/// Extra data of an INT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Int {
    /// Storage size in bytes (1, 2, 4, 8 or 16).
    pub size: u32,
    /// `int_encoding::{SIGNED, CHAR, BOOL}` (at most one bit is set in
    /// kernel-valid BTF; any 4-bit value with libbpf-level validation).
    pub encoding: u8,
    /// Bit offset of the value within its storage (`BTF_INT_OFFSET`; 0 in practice).
    pub offset: u8,
    /// Number of value bits (`BTF_INT_BITS`), at most `size * 8`.
    pub bits: u8,
}

impl Int {
    /// The raw u32 that follows `struct btf_type`.
    pub fn raw(&self) -> u32 {
        ((self.encoding as u32) << 24) | ((self.offset as u32) << 16) | self.bits as u32
    }
}

/// Extra data of an ARRAY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Array {
    /// Element type.
    pub elem: TypeId,
    /// Index type (usually an INT; only its existence matters).
    pub index: TypeId,
    /// Number of elements (0 for a flexible array).
    pub nelems: u32,
}

/// A STRUCT or UNION member. `offset` is the raw field: with the parent's
/// kind_flag set, the top 8 bits are the bitfield size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// Member name ([`StrOff::EMPTY`] for an anonymous member).
    pub name_off: StrOff,
    /// Member type.
    pub ty: TypeId,
    /// Bit offset within the struct; with kind_flag, also the bitfield size in the top 8 bits (see [`Composite::bit_offset`]).
    pub offset: u32,
}

/// Extra data of a STRUCT or UNION.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Composite {
    /// Size of the struct or union in bytes.
    pub size: u32,
    /// kind_flag: member offsets carry bitfield sizes.
    pub kflag: bool,
    /// The members, in declaration order (`vlen` of them).
    pub members: List<Member>,
}

impl Composite {
    /// Bit offset of a member.
    pub fn bit_offset(&self, m: &Member) -> u32 {
        if self.kflag { m.offset & 0x00ff_ffff } else { m.offset }
    }
    /// Bitfield size of a member (0 when not a bitfield).
    pub fn bitfield_size(&self, m: &Member) -> u32 {
        if self.kflag { m.offset >> 24 } else { 0 }
    }
}

/// One ENUM value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnumValue {
    /// Enumerator name.
    pub name_off: StrOff,
    /// Enumerator value (reinterpret as `i32` when the enum is signed).
    pub val: u32,
}

/// Extra data of an ENUM.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Enum {
    /// Size of the enum in bytes (1, 2, 4 or 8).
    pub size: u32,
    /// kind_flag: values are signed.
    pub signed: bool,
    /// The enumerators (`vlen` of them).
    pub values: List<EnumValue>,
}

/// One ENUM64 value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Enum64Value {
    /// Enumerator name.
    pub name_off: StrOff,
    /// Enumerator value, from the `val_lo32`/`val_hi32` pair (reinterpret as `i64` when signed).
    pub val: u64,
}

/// Extra data of an ENUM64.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Enum64 {
    /// Size of the enum in bytes (1, 2, 4 or 8).
    pub size: u32,
    /// kind_flag: values are signed.
    pub signed: bool,
    /// The enumerators (`vlen` of them).
    pub values: List<Enum64Value>,
}

/// One FUNC_PROTO parameter (type 0 as the last one means `...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// Parameter name ([`StrOff::EMPTY`] when unnamed).
    pub name_off: StrOff,
    /// Parameter type (`void` only for a trailing `...`).
    pub ty: TypeId,
}

/// Extra data of a FUNC_PROTO.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncProto {
    /// Return type (`void` for none).
    pub ret: TypeId,
    /// The parameters, in order (`vlen` of them).
    pub params: List<Param>,
}

/// One DATASEC entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarSecinfo {
    /// The VAR (or, for extern functions, FUNC) placed in the section.
    pub ty: TypeId,
    /// Byte offset of the variable within the section.
    pub offset: u32,
    /// Size of the variable in bytes.
    pub size: u32,
}

/// Extra data of a DATASEC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datasec {
    /// Section size in bytes (0 until filled in, e.g. before linking).
    pub size: u32,
    /// The section's variables (`vlen` of them), normally sorted by offset.
    pub vars: List<VarSecinfo>,
}

/// The per-kind part of a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeKind {
    /// INT.
    Int(Int),
    /// PTR to the given type.
    Ptr(TypeId),
    /// ARRAY.
    Array(Array),
    /// STRUCT.
    Struct(Composite),
    /// UNION.
    Union(Composite),
    /// ENUM (32-bit values).
    Enum(Enum),
    /// Forward declaration; `union` is the kind_flag.
    Fwd {
        /// kind_flag: true for `union X;`, false for `struct X;`.
        union: bool,
    },
    /// TYPEDEF of the given type.
    Typedef(TypeId),
    /// VOLATILE of the given type.
    Volatile(TypeId),
    /// CONST of the given type.
    Const(TypeId),
    /// RESTRICT of the given type.
    Restrict(TypeId),
    /// `linkage` is stored in vlen (`func_linkage`).
    Func {
        /// The FUNC_PROTO giving the signature.
        proto: TypeId,
        /// One of [`func_linkage`], stored in vlen.
        linkage: u16,
    },
    /// FUNC_PROTO.
    FuncProto(FuncProto),
    /// VAR: a named variable.
    Var {
        /// The variable's type.
        ty: TypeId,
        /// One of [`var_linkage`], stored after `struct btf_type`.
        linkage: u32,
    },
    /// DATASEC.
    Datasec(Datasec),
    /// FLOAT.
    Float {
        /// Size in bytes (2, 4, 8, 12 or 16).
        size: u32,
    },
    /// `component_idx` is -1 for the type itself; `attr` is the kind_flag
    /// (the tag is an attribute, newer kernels).
    DeclTag {
        /// The tagged type (a STRUCT, UNION, VAR, FUNC or TYPEDEF).
        ty: TypeId,
        /// Index of the tagged member or parameter, or -1 for the type itself.
        component_idx: i32,
        /// kind_flag: the tag is a compiler attribute, not a string annotation.
        attr: bool,
    },
    /// TYPE_TAG: a string tag (the type's name) applied to a pointee type.
    TypeTag {
        /// The tagged type.
        ty: TypeId,
        /// kind_flag: the tag is a compiler attribute, not a string annotation.
        attr: bool,
    },
    /// ENUM64 (64-bit values).
    Enum64(Enum64),
}

/// Bits of a type's encoding that its kind does not use. The kernel wants
/// them zero; libbpf ignores them (gcc 12 sets some), so a BTF parsed with
/// [`crate::parse::Validation::Libbpf`] keeps them here and the writer puts
/// them back unchanged. Consumers other than the writer and the dedup's
/// libbpf-style equality ignore them, as libbpf and bpftool do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Quirks {
    /// ORed into `info`: bits 16..23 and 29..30, kind_flag for kinds without
    /// one, vlen for kinds without one.
    pub info: u32,
    /// The size/type word of ARRAY and FWD (unused by those kinds).
    pub size_or_type: u32,
    /// ORed into an INT's data word: bits 8..15 and 28..31.
    pub int_data: u32,
}

impl Quirks {
    /// True when no unused bits are set (kernel-valid type).
    pub fn is_empty(&self) -> bool {
        *self == Quirks::default()
    }
}

/// One BTF type: its name (a string offset, 0 for anonymous) and its kind data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    /// Type name ([`StrOff::EMPTY`] for anonymous).
    pub name_off: StrOff,
    /// The kind and its extra data.
    pub kind: TypeKind,
    /// Unused-field bits kept from lenient input (`None` for kernel-valid types).
    pub quirks: Option<Box<Quirks>>,
}

impl Type {
    /// A type with no quirks.
    pub fn new(name_off: StrOff, kind: TypeKind) -> Type {
        Type { name_off, kind, quirks: None }
    }

    /// The unused-field bits (all zero for kernel-valid types).
    #[inline]
    pub fn quirks(&self) -> Quirks {
        self.quirks.as_deref().copied().unwrap_or_default()
    }

    /// A FWD's non-zero size/type word (zero in kernel-valid BTF). libbpf's
    /// type-id iterator counts it as a type id, so `btf__add_btf` shifts it
    /// and `btf__dedup` remaps it; the merge and dedup do the same.
    pub fn fwd_word_mut(&mut self) -> Option<&mut u32> {
        match (&self.kind, self.quirks.as_deref_mut()) {
            (TypeKind::Fwd { .. }, Some(q)) if q.size_or_type != 0 => Some(&mut q.size_or_type),
            _ => None,
        }
    }

    /// An INT's raw data word (with its unused bits), 0 for other kinds.
    pub fn int_data(&self) -> u32 {
        match &self.kind {
            TypeKind::Int(i) => i.raw() | self.quirks().int_data,
            _ => 0,
        }
    }

    /// The numeric kind.
    pub fn kind(&self) -> Kind {
        match &self.kind {
            TypeKind::Int(_) => Kind::Int,
            TypeKind::Ptr(_) => Kind::Ptr,
            TypeKind::Array(_) => Kind::Array,
            TypeKind::Struct(_) => Kind::Struct,
            TypeKind::Union(_) => Kind::Union,
            TypeKind::Enum(_) => Kind::Enum,
            TypeKind::Fwd { .. } => Kind::Fwd,
            TypeKind::Typedef(_) => Kind::Typedef,
            TypeKind::Volatile(_) => Kind::Volatile,
            TypeKind::Const(_) => Kind::Const,
            TypeKind::Restrict(_) => Kind::Restrict,
            TypeKind::Func { .. } => Kind::Func,
            TypeKind::FuncProto(_) => Kind::FuncProto,
            TypeKind::Var { .. } => Kind::Var,
            TypeKind::Datasec(_) => Kind::Datasec,
            TypeKind::Float { .. } => Kind::Float,
            TypeKind::DeclTag { .. } => Kind::DeclTag,
            TypeKind::TypeTag { .. } => Kind::TypeTag,
            TypeKind::Enum64(_) => Kind::Enum64,
        }
    }

    /// vlen as stored in `info`.
    pub fn vlen(&self) -> u32 {
        match &self.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => c.members.len() as u32,
            TypeKind::Enum(e) => e.values.len() as u32,
            TypeKind::Enum64(e) => e.values.len() as u32,
            TypeKind::FuncProto(p) => p.params.len() as u32,
            TypeKind::Datasec(d) => d.vars.len() as u32,
            TypeKind::Func { linkage, .. } => *linkage as u32,
            _ => 0,
        }
    }

    /// kind_flag as stored in `info`.
    pub fn kflag(&self) -> bool {
        match &self.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => c.kflag,
            TypeKind::Enum(e) => e.signed,
            TypeKind::Enum64(e) => e.signed,
            TypeKind::Fwd { union } => *union,
            TypeKind::DeclTag { attr, .. } | TypeKind::TypeTag { attr, .. } => *attr,
            _ => false,
        }
    }

    /// The raw `info` word.
    pub fn info(&self) -> u32 {
        ((self.kflag() as u32) << 31) | ((self.kind() as u32) << 24) | (self.vlen() & 0xffff) | self.quirks().info
    }

    /// The raw `size`/`type` union word of `struct btf_type`.
    pub fn size_or_type(&self) -> u32 {
        match &self.kind {
            TypeKind::Int(i) => i.size,
            TypeKind::Struct(c) | TypeKind::Union(c) => c.size,
            TypeKind::Enum(e) => e.size,
            TypeKind::Enum64(e) => e.size,
            TypeKind::Datasec(d) => d.size,
            TypeKind::Float { size } => *size,
            TypeKind::Array(_) | TypeKind::Fwd { .. } => self.quirks().size_or_type,
            TypeKind::Ptr(t)
            | TypeKind::Typedef(t)
            | TypeKind::Volatile(t)
            | TypeKind::Const(t)
            | TypeKind::Restrict(t) => t.0,
            TypeKind::Func { proto, .. } => proto.0,
            TypeKind::FuncProto(p) => p.ret.0,
            TypeKind::Var { ty, .. } => ty.0,
            TypeKind::DeclTag { ty, .. } | TypeKind::TypeTag { ty, .. } => ty.0,
        }
    }

    /// Encoded size in bytes (12-byte header plus extra data).
    pub fn encoded_len(&self) -> usize {
        12 + match &self.kind {
            TypeKind::Int(_) | TypeKind::Var { .. } | TypeKind::DeclTag { .. } => 4,
            TypeKind::Array(_) => 12,
            TypeKind::Struct(c) | TypeKind::Union(c) => 12 * c.members.len(),
            TypeKind::Enum(e) => 8 * e.values.len(),
            TypeKind::Enum64(e) => 12 * e.values.len(),
            TypeKind::FuncProto(p) => 8 * p.params.len(),
            TypeKind::Datasec(d) => 12 * d.vars.len(),
            _ => 0,
        }
    }

    /// Calls `f` on every type id this type references (in encoding order).
    pub fn for_each_ref(&self, mut f: impl FnMut(TypeId)) {
        match &self.kind {
            TypeKind::Int(_) | TypeKind::Fwd { .. } | TypeKind::Float { .. } => {}
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {}
            TypeKind::Ptr(t)
            | TypeKind::Typedef(t)
            | TypeKind::Volatile(t)
            | TypeKind::Const(t)
            | TypeKind::Restrict(t) => f(*t),
            TypeKind::Func { proto, .. } => f(*proto),
            TypeKind::Var { ty, .. } | TypeKind::DeclTag { ty, .. } | TypeKind::TypeTag { ty, .. } => f(*ty),
            TypeKind::Array(a) => {
                f(a.elem);
                f(a.index);
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => c.members.iter().for_each(|m| f(m.ty)),
            TypeKind::FuncProto(p) => {
                f(p.ret);
                p.params.iter().for_each(|p| f(p.ty));
            }
            TypeKind::Datasec(d) => d.vars.iter().for_each(|v| f(v.ty)),
        }
    }

    /// Calls `f` on every type id field, mutably (for remapping).
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut TypeId)) {
        match &mut self.kind {
            TypeKind::Int(_) | TypeKind::Fwd { .. } | TypeKind::Float { .. } => {}
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {}
            TypeKind::Ptr(t)
            | TypeKind::Typedef(t)
            | TypeKind::Volatile(t)
            | TypeKind::Const(t)
            | TypeKind::Restrict(t) => f(t),
            TypeKind::Func { proto, .. } => f(proto),
            TypeKind::Var { ty, .. } | TypeKind::DeclTag { ty, .. } | TypeKind::TypeTag { ty, .. } => f(ty),
            TypeKind::Array(a) => {
                f(&mut a.elem);
                f(&mut a.index);
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => c.members.iter_mut().for_each(|m| f(&mut m.ty)),
            TypeKind::FuncProto(p) => {
                f(&mut p.ret);
                p.params.iter_mut().for_each(|p| f(&mut p.ty));
            }
            TypeKind::Datasec(d) => d.vars.iter_mut().for_each(|v| f(&mut v.ty)),
        }
    }

    /// Calls `f` on every string offset field (the type's name first, then
    /// members/values/params in order), mutably.
    pub fn for_each_str_mut(&mut self, mut f: impl FnMut(&mut StrOff)) {
        f(&mut self.name_off);
        match &mut self.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => c.members.iter_mut().for_each(|m| f(&mut m.name_off)),
            TypeKind::Enum(e) => e.values.iter_mut().for_each(|v| f(&mut v.name_off)),
            TypeKind::Enum64(e) => e.values.iter_mut().for_each(|v| f(&mut v.name_off)),
            TypeKind::FuncProto(p) => p.params.iter_mut().for_each(|p| f(&mut p.name_off)),
            _ => {}
        }
    }

    /// Calls `f` on every string offset field, with what it names.
    pub fn for_each_str(&self, mut f: impl FnMut(StrOff, &'static str)) {
        f(self.name_off, "type name");
        match &self.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => c.members.iter().for_each(|m| f(m.name_off, "member name")),
            TypeKind::Enum(e) => e.values.iter().for_each(|v| f(v.name_off, "enum value name")),
            TypeKind::Enum64(e) => e.values.iter().for_each(|v| f(v.name_off, "enum value name")),
            TypeKind::FuncProto(p) => p.params.iter().for_each(|p| f(p.name_off, "param name")),
            _ => {}
        }
    }

    /// For modifiers, typedefs, type tags, VAR, DECL_TAG: the one referenced type.
    pub fn ref_target(&self) -> Option<TypeId> {
        match &self.kind {
            TypeKind::Ptr(t)
            | TypeKind::Typedef(t)
            | TypeKind::Volatile(t)
            | TypeKind::Const(t)
            | TypeKind::Restrict(t) => Some(*t),
            TypeKind::TypeTag { ty, .. } | TypeKind::Var { ty, .. } | TypeKind::DeclTag { ty, .. } => Some(*ty),
            TypeKind::Func { proto, .. } => Some(*proto),
            _ => None,
        }
    }

    /// The struct/union data when this is a STRUCT or UNION, else `None`.
    pub fn as_composite(&self) -> Option<&Composite> {
        match &self.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => Some(c),
            _ => None,
        }
    }
}
