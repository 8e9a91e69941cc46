//! The differences [`super::diff`] finds, as values: what changed, where,
//! from what to what. The text and JSON reports only render them (their
//! [`Display`](std::fmt::Display) is the line `btfkit diff` prints).

use std::fmt;

use crate::btf::Kind;

/// One difference between a type of A and its counterpart in B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Where: the type's title, followed by the path to an anonymous inner
    /// type when the difference is inside one (`struct foo`,
    /// `struct sk_buff.(anon union #2)`).
    pub at: String,
    /// What differs.
    pub what: What,
}

/// A reference of a type whose target differs between A and B while the
/// target keeps its name (the difference itself is reported on the target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Where the reference is (as [`Change::at`]).
    pub at: String,
    /// Which reference.
    pub what: ViaWhat,
}

/// A member of a STRUCT/UNION as the report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberRef {
    /// A named member.
    Named(String),
    /// The `index`-th (from 1) anonymous member; `what` is the lowercase
    /// kind of its type (`struct`, `union`, `enum`, `enum64`) or `member`.
    Anon {
        /// Lowercase kind word of the member's type, or `member`.
        what: String,
        /// Position among the anonymous members, from 1.
        index: usize,
    },
}

/// Which reference of a type (the edge that points at a differing type).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// The target of a PTR, modifier, TYPEDEF, TYPE_TAG or DECL_TAG.
    Target,
    /// An ARRAY's element type.
    Element,
    /// An ARRAY's index type.
    Index,
    /// A STRUCT/UNION member's type.
    Member(MemberRef),
    /// A FUNC's prototype (when one side's is not a FUNC_PROTO).
    Prototype,
    /// A FUNC_PROTO's return type.
    Return,
    /// A FUNC_PROTO parameter's type: its position from 1 and B's name for it.
    Param {
        /// Position from 1.
        index: usize,
        /// The parameter's name in B (may be empty).
        name: String,
    },
    /// A VAR's type.
    Type,
}

/// What differs, with the values on each side (`from` is A's, `to` B's).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum What {
    /// One side is not a type at all (void or out of range): both displayed.
    Replaced {
        /// A's value.
        from: String,
        /// B's value.
        to: String,
    },
    /// The kind changed.
    Kind {
        /// A's value.
        from: Kind,
        /// B's value.
        to: Kind,
    },
    /// The name changed (anonymous inner types, paired by position).
    Name {
        /// A's value.
        from: String,
        /// B's value.
        to: String,
    },
    /// The byte size changed (INT, FLOAT, STRUCT/UNION, ENUM, DATASEC).
    Size {
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// An INT's encoding bits changed.
    Encoding {
        /// A's value.
        from: u8,
        /// B's value.
        to: u8,
    },
    /// An INT's bit width changed.
    Bits {
        /// A's value.
        from: u8,
        /// B's value.
        to: u8,
    },
    /// An INT's bit offset changed.
    BitOffset {
        /// A's value.
        from: u8,
        /// B's value.
        to: u8,
    },
    /// An ARRAY's element count changed.
    Elements {
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// A reference now points at a differently named or shaped type;
    /// `from`/`to` are the two targets as C-like text.
    Retyped {
        /// Which reference.
        subject: Subject,
        /// A's value.
        from: String,
        /// B's value.
        to: String,
    },
    /// A member is only in A.
    MemberRemoved {
        /// The member.
        member: MemberRef,
    },
    /// A member is only in B; for a named member, its type (as text) and
    /// bit offset.
    MemberAdded {
        /// The member.
        member: MemberRef,
        /// For a named member: its type (C-like text) and bit offset.
        placed: Option<(String, u32)>,
    },
    /// A member's bit offset changed.
    MemberOffset {
        /// The member.
        member: MemberRef,
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// A member's bitfield size changed (0: not a bitfield).
    BitfieldSize {
        /// The member.
        member: MemberRef,
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// Same members, another order.
    MemberOrder,
    /// An ENUM/ENUM64 changed signedness (`true`: signed).
    Signedness {
        /// A's value.
        from: bool,
        /// B's value.
        to: bool,
    },
    /// An enumerator is only in A.
    EnumValueRemoved {
        /// The name.
        name: String,
    },
    /// An enumerator's value changed.
    EnumValueChanged {
        /// The name.
        name: String,
        /// A's value.
        from: i128,
        /// B's value.
        to: i128,
    },
    /// An enumerator is only in B.
    EnumValueAdded {
        /// The name.
        name: String,
        /// Its value in B.
        value: i128,
    },
    /// Same enumerators, another order.
    EnumValueOrder,
    /// A FWD now declares the other of struct/union (`true`: union).
    FwdUnion {
        /// A's value.
        from: bool,
        /// B's value.
        to: bool,
    },
    /// A FUNC's or VAR's linkage changed (BTF's numeric linkage).
    Linkage {
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// A FUNC_PROTO's parameter count changed.
    Parameters {
        /// A's value.
        from: usize,
        /// B's value.
        to: usize,
    },
    /// A parameter (position from 1) was renamed.
    ParamName {
        /// Position from 1.
        index: usize,
        /// A's value.
        from: String,
        /// B's value.
        to: String,
    },
    /// VARs only in A's DATASEC (by name, sorted).
    VarsRemoved {
        /// The names, sorted.
        names: Vec<String>,
    },
    /// VARs only in B's DATASEC (by name, sorted).
    VarsAdded {
        /// The names, sorted.
        names: Vec<String>,
    },
    /// A DATASEC entry's offset changed.
    VarOffset {
        /// The name.
        name: String,
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// A DATASEC entry's size changed.
    VarSize {
        /// The name.
        name: String,
        /// A's value.
        from: u32,
        /// B's value.
        to: u32,
    },
    /// A DECL_TAG's component index changed (-1: the type itself).
    Component {
        /// A's value.
        from: i32,
        /// B's value.
        to: i32,
    },
    /// A DECL_TAG/TYPE_TAG's attribute flag (kind_flag) changed.
    AttributeFlag {
        /// A's value.
        from: bool,
        /// B's value.
        to: bool,
    },
    /// The description stopped here: more differences exist.
    MoreNotShown,
}

/// Which reference leads to a same-named type that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViaWhat {
    /// A reference (`ty` is its target as C-like text, the same on both sides).
    Reference {
        /// Which reference.
        subject: Subject,
        /// The target as C-like text (the same on both sides).
        ty: String,
    },
    /// A DATASEC entry (by the VAR's name).
    Var {
        /// The name.
        name: String,
    },
    /// No single reference could be named.
    ReferencedTypes,
}

/// Most names listed in a [`What::VarsRemoved`]/[`What::VarsAdded`] line.
const MAX_VAR_NAMES: usize = 12;

fn linkage_word(l: u32) -> &'static str {
    match l {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "?",
    }
}

fn var_names(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    for (i, n) in names.iter().take(MAX_VAR_NAMES).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(n)?;
    }
    if names.len() > MAX_VAR_NAMES {
        f.write_str(", ...")?;
    }
    Ok(())
}

impl fmt::Display for MemberRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberRef::Named(n) => write!(f, "'{n}'"),
            MemberRef::Anon { what, index } => write!(f, "(anon {what} #{index})"),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Target => f.write_str("target"),
            Subject::Element => f.write_str("element"),
            Subject::Index => f.write_str("index"),
            Subject::Member(m) => write!(f, "member {m}"),
            Subject::Prototype => f.write_str("prototype"),
            Subject::Return => f.write_str("return"),
            Subject::Param { index, name } => write!(f, "parameter {index} '{name}'"),
            Subject::Type => f.write_str("type"),
        }
    }
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::Replaced { from, to } => write!(f, "'{from}' → '{to}'"),
            What::Kind { from, to } => write!(f, "kind {} → {}", from.name(), to.name()),
            What::Name { from, to } => write!(f, "name '{from}' → '{to}'"),
            What::Size { from, to } => write!(f, "size {from} → {to}"),
            What::Encoding { from, to } => write!(f, "encoding {from:#x} → {to:#x}"),
            What::Bits { from, to } => write!(f, "bits {from} → {to}"),
            What::BitOffset { from, to } => write!(f, "bit offset {from} → {to}"),
            What::Elements { from, to } => write!(f, "elements {from} → {to}"),
            What::Retyped { subject, from, to } => write!(f, "{subject} type '{from}' → '{to}'"),
            What::MemberRemoved { member } => write!(f, "member {member} removed"),
            What::MemberAdded { member, placed: Some((ty, off)) } => {
                write!(f, "member {member} added ('{ty}' at bit offset {off})")
            }
            What::MemberAdded { member, placed: None } => write!(f, "member {member} added"),
            What::MemberOffset { member, from, to } => write!(f, "member {member} offset {from} → {to}"),
            What::BitfieldSize { member, from, to } => write!(f, "member {member} bitfield size {from} → {to}"),
            What::MemberOrder => f.write_str("member order changed"),
            What::Signedness { from, to } => {
                let w = |s: bool| if s { "signed" } else { "unsigned" };
                write!(f, "{} → {}", w(*from), w(*to))
            }
            What::EnumValueRemoved { name } => write!(f, "enum value '{name}' removed"),
            What::EnumValueChanged { name, from, to } => write!(f, "enum value '{name}' changed {from} → {to}"),
            What::EnumValueAdded { name, value } => write!(f, "enum value '{name}' added (= {value})"),
            What::EnumValueOrder => f.write_str("enum value order changed"),
            What::FwdUnion { from, to } => {
                let w = |u: bool| if u { "union" } else { "struct" };
                write!(f, "forward declaration of a {} → of a {}", w(*from), w(*to))
            }
            What::Linkage { from, to } => write!(f, "linkage {} → {}", linkage_word(*from), linkage_word(*to)),
            What::Parameters { from, to } => write!(f, "parameters {from} → {to}"),
            What::ParamName { index, from, to } => write!(f, "parameter {index} name '{from}' → '{to}'"),
            What::VarsRemoved { names } => {
                write!(f, "{} vars removed: ", names.len())?;
                var_names(f, names)
            }
            What::VarsAdded { names } => {
                write!(f, "{} vars added: ", names.len())?;
                var_names(f, names)
            }
            What::VarOffset { name, from, to } => write!(f, "var '{name}' offset {from} → {to}"),
            What::VarSize { name, from, to } => write!(f, "var '{name}' size {from} → {to}"),
            What::Component { from, to } => write!(f, "component {from} → {to}"),
            What::AttributeFlag { from, to } => write!(f, "attribute flag {from} → {to}"),
            What::MoreNotShown => f.write_str("(more differences not shown)"),
        }
    }
}

impl fmt::Display for ViaWhat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViaWhat::Reference { subject, ty } => write!(f, "{subject} ('{ty}')"),
            ViaWhat::Var { name } => write!(f, "var '{name}'"),
            ViaWhat::ReferencedTypes => f.write_str("referenced types differ"),
        }
    }
}

/// The report line: `at: what`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

/// The report line: `at: reference`.
impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}
