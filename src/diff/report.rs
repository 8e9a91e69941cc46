//! From classes to a report: grouping by name, pairing, describing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::change::{Change, MemberRef, Subject, Via, ViaWhat, What};
use super::partition::Graph;
use super::{FxMap, FxSet, Side, Universe};
use crate::btf::{Kind, StrOff, Type, TypeKind};

/// A type (or group of structurally equal types) present in only one BTF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The BTF kind of the type(s).
    pub kind: Kind,
    /// `struct foo`, `var bar`, `anon func_proto 'int (void *)'`, ...
    pub title: String,
    /// How many structurally equal copies.
    pub count: u32,
    /// When the other BTF has a same-named type of the same kind that
    /// matches another copy: how this copy differs from it.
    pub changes: Vec<Change>,
}

/// A type present in both BTFs under the same name, with a different structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// `struct foo`, `typedef bar`, ...: the kind and name shared by both sides.
    pub title: String,
    /// The type's kind in BTF A.
    pub kind_a: Kind,
    /// The type's kind in BTF B (differs from `kind_a` e.g. for a STRUCT that became a UNION).
    pub kind_b: Kind,
    /// How many structurally equal copies of it BTF A has.
    pub count_a: u32,
    /// How many structurally equal copies of it BTF B has.
    pub count_b: u32,
    /// Differences of the type itself (and of its anonymous inner types);
    /// displayed, each is a line such as
    /// `struct foo: member 'bar' type 'int' → 'long'`.
    pub changes: Vec<Change>,
    /// References whose targets have the same name on both sides but differ
    /// (the difference is reported on the target itself).
    pub via: Vec<Via>,
}

impl Changed {
    /// Whether the type itself changed (not only what it references).
    pub fn is_direct(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// A type present in both BTFs with a different number of copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dup {
    /// The BTF kind of the type.
    pub kind: Kind,
    /// `struct foo`, or a description of an anonymous type.
    pub title: String,
    /// Number of copies in BTF A.
    pub count_a: u32,
    /// Number of copies in BTF B.
    pub count_b: u32,
}

/// The result of [`super::diff`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every structural class has as many types in A as in B.
    pub equivalent: bool,
    /// Number of types in BTF A, not counting `void`.
    pub types_a: u32,
    /// Number of types in BTF B, not counting `void`.
    pub types_b: u32,
    /// Distinct structural classes over both BTFs.
    pub classes: u32,
    /// Types found only in BTF A.
    pub only_a: Vec<Entry>,
    /// Types found only in BTF B.
    pub only_b: Vec<Entry>,
    /// Named types whose structure differs between A and B.
    pub changed: Vec<Changed>,
    /// Named types with differing copy counts.
    pub duplicates: Vec<Dup>,
    /// Anonymous types (described) with differing copy counts.
    pub anon_duplicates: Vec<Dup>,
    /// Anonymous types without a counterpart that are reached from a named
    /// type (their difference is described on that type), A + B.
    pub anon_covered: u32,
}

/// Most description lines for one pair of types.
const MAX_PAIRS_PER_DESCRIBE: usize = 64;
/// Up to this many candidate pairs in a name group, pairs are chosen by the
/// fewest differences; beyond, in order.
const MAX_PAIRING_WORK: usize = 4096;
/// Modifier steps followed when naming a type.
const MAX_DISPLAY_STEPS: usize = 16;
/// Length after which a prototype's parameter list is cut short.
const MAX_DISPLAY_LEN: usize = 4096;

fn kind_word(k: Kind) -> String {
    k.name().to_ascii_lowercase()
}

struct Ctx<'u, 'a> {
    u: &'u Universe<'a>,
    cls: &'u [u32],
}

/// One structural class within a name group: (class, representative node, copies).
#[derive(Clone, Copy)]
struct Var {
    class: u32,
    rep: u32,
    count: u32,
}

struct Desc {
    changes: Vec<Change>,
    via: Vec<Via>,
    stack: Vec<(u32, u32, String)>,
}

impl<'u, 'a> Ctx<'u, 'a> {
    fn ty(&self, node: u32) -> Option<&'a Type> {
        self.u.get(node).map(|(_, t)| t)
    }

    fn name(&self, node: u32) -> String {
        match self.u.get(node) {
            Some((btf, t)) => btf.name(t.name_off).into_owned(),
            None => String::new(),
        }
    }

    fn str_of(&self, node: u32, off: StrOff) -> String {
        match self.u.get(node) {
            Some((btf, _)) => btf.name(off).into_owned(),
            None => String::new(),
        }
    }

    fn kind(&self, node: u32) -> Kind {
        self.ty(node).map_or(Kind::Unknown, |t| t.kind())
    }

    fn ref_node(&self, from: u32, id: crate::btf::TypeId) -> u32 {
        self.u.node_like(from, id)
    }

    /// Named for reporting: has a name, and is not a TYPE_TAG (a modifier).
    fn is_named(&self, node: u32) -> bool {
        self.ty(node).is_some_and(|t| !t.name_off.is_empty() && !matches!(t.kind, TypeKind::TypeTag { .. }))
    }

    /// C-like name of a type: `const char *`, `struct foo`, `int [16]`,
    /// `union {a, b}`, `int (struct sock *, int) *`. Bounded work.
    fn display(&self, node: u32) -> String {
        self.display_depth(node, 2)
    }

    fn display_depth(&self, node: u32, depth: u32) -> String {
        enum M {
            Ptr,
            Q(&'static str),
            Arr(u32),
            Tag(String),
        }
        let mut mods = Vec::new();
        let mut cur = node;
        let base = loop {
            if mods.len() >= MAX_DISPLAY_STEPS {
                break "…".to_string();
            }
            let Some(t) = self.ty(cur) else { break "void".to_string() };
            match &t.kind {
                TypeKind::Ptr(x) => {
                    mods.push(M::Ptr);
                    cur = self.ref_node(cur, *x);
                }
                TypeKind::Const(x) => {
                    mods.push(M::Q("const"));
                    cur = self.ref_node(cur, *x);
                }
                TypeKind::Volatile(x) => {
                    mods.push(M::Q("volatile"));
                    cur = self.ref_node(cur, *x);
                }
                TypeKind::Restrict(x) => {
                    mods.push(M::Q("restrict"));
                    cur = self.ref_node(cur, *x);
                }
                TypeKind::TypeTag { ty, .. } => {
                    mods.push(M::Tag(self.name(cur)));
                    cur = self.ref_node(cur, *ty);
                }
                TypeKind::Array(a) => {
                    mods.push(M::Arr(a.nelems));
                    cur = self.ref_node(cur, a.elem);
                }
                _ => break self.base_display(cur, t, depth),
            }
        };
        let mut s = base;
        let mut bare = true;
        for m in mods.iter().rev() {
            match m {
                M::Ptr => s.push_str(if s.ends_with('*') { "*" } else { " *" }),
                M::Q(q) if bare => s = format!("{q} {s}"),
                M::Q(q) => {
                    s.push(' ');
                    s.push_str(q);
                }
                M::Arr(n) => {
                    let _ = write!(s, "[{n}]");
                }
                M::Tag(t) => {
                    let _ = write!(s, " __tag({t})");
                }
            }
            bare = false;
        }
        s
    }

    fn base_display(&self, node: u32, t: &Type, depth: u32) -> String {
        let name = self.name(node);
        match &t.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let kw = if t.kind() == Kind::Struct { "struct" } else { "union" };
                if !name.is_empty() {
                    return format!("{kw} {name}");
                }
                let mut s = format!("{kw} {{");
                for (i, m) in c.members.iter().enumerate() {
                    if i == 4 {
                        s.push_str(", ...");
                        break;
                    }
                    if i > 0 {
                        s.push_str(", ");
                    }
                    let n = self.str_of(node, m.name_off);
                    s.push_str(if n.is_empty() { "(anon)" } else { &n });
                }
                s.push('}');
                s
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) if name.is_empty() => {
                let mut s = "enum {".to_string();
                let names: Vec<StrOff> = match &t.kind {
                    TypeKind::Enum(e) => e.values.iter().map(|v| v.name_off).collect(),
                    TypeKind::Enum64(e) => e.values.iter().map(|v| v.name_off).collect(),
                    _ => Vec::new(),
                };
                for (i, off) in names.iter().enumerate() {
                    if i == 3 {
                        s.push_str(", ...");
                        break;
                    }
                    if i > 0 {
                        s.push_str(", ");
                    }
                    s.push_str(&self.str_of(node, *off));
                }
                s.push('}');
                s
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => format!("enum {name}"),
            TypeKind::Fwd { union } => format!("{} {name}", if *union { "union" } else { "struct" }),
            TypeKind::FuncProto(p) => {
                if depth == 0 {
                    return "(function)".to_string();
                }
                let mut s = self.display_depth(self.ref_node(node, p.ret), depth - 1);
                s.push_str(" (");
                for (i, prm) in p.params.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    // Parameters may be prototypes with 65535 parameters
                    // each: without a cap one title could take gigabytes.
                    if s.len() > MAX_DISPLAY_LEN {
                        s.push_str("...");
                        break;
                    }
                    if prm.ty.0 == 0 {
                        s.push_str("...");
                    } else {
                        s.push_str(&self.display_depth(self.ref_node(node, prm.ty), depth - 1));
                    }
                }
                s.push(')');
                s
            }
            TypeKind::Func { .. } => format!("func {name}"),
            TypeKind::Var { .. } => format!("var {name}"),
            TypeKind::Datasec(_) => format!("datasec {name}"),
            TypeKind::DeclTag { .. } => format!("decl_tag {name}"),
            _ => name, // INT, FLOAT, TYPEDEF
        }
    }

    /// Report title of a type.
    fn title(&self, node: u32) -> String {
        let Some(t) = self.ty(node) else { return "void".into() };
        if let TypeKind::DeclTag { ty, component_idx, .. } = &t.kind {
            let target = self.display(self.ref_node(node, *ty));
            let comp = if *component_idx >= 0 { format!(" (component {component_idx})") } else { String::new() };
            return format!("decl_tag '{}' on {target}{comp}", self.name(node));
        }
        if self.is_named(node) {
            format!("{} {}", kind_word(t.kind()), self.name(node))
        } else {
            format!("anon {} '{}'", kind_word(t.kind()), self.display(node))
        }
    }

    /// Grouping key of a named type: its name (kinds share it, so that a
    /// FWD can pair with the STRUCT it replaced); DECL_TAGs by tag and target.
    fn group_key(&self, node: u32) -> Cow<'a, [u8]> {
        let Some((btf, t)) = self.u.get(node) else { return Cow::Borrowed(b"") };
        let name = btf.str_bytes(t.name_off).unwrap_or(b"");
        let TypeKind::DeclTag { ty, component_idx, .. } = &t.kind else { return Cow::Borrowed(name) };
        let mut k = name.to_vec();
        {
            k.push(0);
            k.extend_from_slice(self.display(self.ref_node(node, *ty)).as_bytes());
            k.extend_from_slice(&component_idx.to_le_bytes());
        }
        Cow::Owned(k)
    }

    // ---- describing a pair ----

    fn describe(&self, title: &str, a: u32, b: u32) -> (Vec<Change>, Vec<Via>) {
        let mut d = Desc { changes: Vec::new(), via: Vec::new(), stack: vec![(a, b, String::new())] };
        let mut steps = 0;
        while let Some((x, y, path)) = d.stack.pop() {
            steps += 1;
            if steps > MAX_PAIRS_PER_DESCRIBE {
                d.changes.push(Change { at: title.to_string(), what: What::MoreNotShown });
                break;
            }
            self.describe_one(&mut d, title, x, y, &path);
        }
        if d.changes.is_empty() && d.via.is_empty() && self.cls.get(a as usize) != self.cls.get(b as usize) {
            d.via.push(Via { at: title.to_string(), what: ViaWhat::ReferencedTypes });
        }
        (d.changes, d.via)
    }

    /// Compares a reference `x` (of a) with `y` (of b); `label` names the
    /// edge in the path of an anonymous inner type.
    #[allow(clippy::too_many_arguments)]
    fn cmp_ref(&self, d: &mut Desc, title: &str, path: &str, subject: Subject, label: &str, x: u32, y: u32) {
        if self.cls.get(x as usize) == self.cls.get(y as usize) {
            return;
        }
        if let (Some(tx), Some(ty)) = (self.ty(x), self.ty(y)) {
            let inline =
                matches!(tx.kind, TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::Enum(_) | TypeKind::Enum64(_));
            if inline && tx.name_off.is_empty() && ty.name_off.is_empty() && tx.kind() == ty.kind() {
                d.stack.push((x, y, format!("{path}.{label}")));
                return;
            }
        }
        let (dx, dy) = (self.display(x), self.display(y));
        let at = format!("{title}{path}");
        if dx != dy {
            d.changes.push(Change { at, what: What::Retyped { subject, from: dx, to: dy } });
        } else {
            d.via.push(Via { at, what: ViaWhat::Reference { subject, ty: dx } });
        }
    }

    fn describe_one(&self, d: &mut Desc, title: &str, a: u32, b: u32, path: &str) {
        let at = |what: What| Change { at: format!("{title}{path}"), what };
        let (Some(ta), Some(tb)) = (self.ty(a), self.ty(b)) else {
            d.changes.push(at(What::Replaced { from: self.display(a), to: self.display(b) }));
            return;
        };
        if ta.kind() != tb.kind() {
            d.changes.push(at(What::Kind { from: ta.kind(), to: tb.kind() }));
            return;
        }
        let (na, nb) = (self.name(a), self.name(b));
        if na != nb {
            d.changes.push(at(What::Name { from: na, to: nb }));
        }
        let r = |from: u32, id| self.ref_node(from, id);
        match (&ta.kind, &tb.kind) {
            (TypeKind::Int(x), TypeKind::Int(y)) => {
                if x.size != y.size {
                    d.changes.push(at(What::Size { from: x.size, to: y.size }));
                }
                if x.encoding != y.encoding {
                    d.changes.push(at(What::Encoding { from: x.encoding, to: y.encoding }));
                }
                if x.bits != y.bits {
                    d.changes.push(at(What::Bits { from: x.bits, to: y.bits }));
                }
                if x.offset != y.offset {
                    d.changes.push(at(What::BitOffset { from: x.offset, to: y.offset }));
                }
            }
            (TypeKind::Float { size: x }, TypeKind::Float { size: y }) if x != y => {
                d.changes.push(at(What::Size { from: *x, to: *y }));
            }
            (TypeKind::Ptr(x), TypeKind::Ptr(y))
            | (TypeKind::Const(x), TypeKind::Const(y))
            | (TypeKind::Volatile(x), TypeKind::Volatile(y))
            | (TypeKind::Restrict(x), TypeKind::Restrict(y))
            | (TypeKind::Typedef(x), TypeKind::Typedef(y))
            | (TypeKind::TypeTag { ty: x, .. }, TypeKind::TypeTag { ty: y, .. }) => {
                let (rx, ry) = (r(a, *x), r(b, *y));
                let label = format!("({})", kind_word(self.kind(rx)));
                self.cmp_ref(d, title, path, Subject::Target, &label, rx, ry);
            }
            (TypeKind::Array(x), TypeKind::Array(y)) => {
                if x.nelems != y.nelems {
                    d.changes.push(at(What::Elements { from: x.nelems, to: y.nelems }));
                }
                self.cmp_ref(d, title, path, Subject::Element, "[]", r(a, x.elem), r(b, y.elem));
                self.cmp_ref(d, title, path, Subject::Index, "(index)", r(a, x.index), r(b, y.index));
            }
            (TypeKind::Struct(x), TypeKind::Struct(y)) | (TypeKind::Union(x), TypeKind::Union(y)) => {
                if x.size != y.size {
                    d.changes.push(at(What::Size { from: x.size, to: y.size }));
                }
                let before = d.changes.len() + d.via.len();
                let anon_ref = |node: u32, ty, index: usize| {
                    let k = self.kind(r(node, ty));
                    let what = match k {
                        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => kind_word(k),
                        _ => "member".to_string(),
                    };
                    MemberRef::Anon { what, index }
                };
                let mut bnamed: FxMap<String, usize> = FxMap::default();
                let mut banon = Vec::new();
                for (i, m) in y.members.iter().enumerate() {
                    let n = self.str_of(b, m.name_off);
                    if n.is_empty() {
                        banon.push(i);
                    } else {
                        bnamed.entry(n).or_insert(i);
                    }
                }
                let mut seen: FxSet<String> = FxSet::default();
                let mut aanon = Vec::new();
                for (i, ma) in x.members.iter().enumerate() {
                    let n = self.str_of(a, ma.name_off);
                    if n.is_empty() {
                        aanon.push(i);
                        continue;
                    }
                    let Some(&j) = bnamed.get(&n) else {
                        d.changes.push(at(What::MemberRemoved { member: MemberRef::Named(n) }));
                        continue;
                    };
                    seen.insert(n.clone());
                    let mb = &y.members[j];
                    let label = n.clone();
                    self.cmp_member(d, title, path, MemberRef::Named(n), &label, (a, x, ma), (b, y, mb));
                }
                for m in &y.members {
                    let n = self.str_of(b, m.name_off);
                    if !n.is_empty() && !seen.contains(&n) {
                        let ty = self.display(r(b, m.ty));
                        let placed = Some((ty, y.bit_offset(m)));
                        d.changes.push(at(What::MemberAdded { member: MemberRef::Named(n.clone()), placed }));
                        seen.insert(n);
                    }
                }
                for (k, &i) in aanon.iter().enumerate() {
                    let ma = &x.members[i];
                    let member = anon_ref(a, ma.ty, k + 1);
                    match banon.get(k) {
                        Some(&j) => {
                            let mb = &y.members[j];
                            let label = member.to_string();
                            self.cmp_member(d, title, path, member, &label, (a, x, ma), (b, y, mb));
                        }
                        None => d.changes.push(at(What::MemberRemoved { member })),
                    }
                }
                for (k, &j) in banon.iter().enumerate().skip(aanon.len()) {
                    let member = anon_ref(b, y.members[j].ty, k + 1);
                    d.changes.push(at(What::MemberAdded { member, placed: None }));
                }
                if d.changes.len() + d.via.len() == before {
                    let order = |node: u32, c: &crate::btf::Composite| -> Vec<String> {
                        c.members.iter().map(|m| self.str_of(node, m.name_off)).collect()
                    };
                    if order(a, x) != order(b, y) {
                        d.changes.push(at(What::MemberOrder));
                    }
                }
            }
            (TypeKind::Enum(x), TypeKind::Enum(y)) => {
                let va: Vec<(String, i128)> = x
                    .values
                    .iter()
                    .map(|v| (self.str_of(a, v.name_off), if x.signed { v.val as i32 as i128 } else { v.val as i128 }))
                    .collect();
                let vb: Vec<(String, i128)> = y
                    .values
                    .iter()
                    .map(|v| (self.str_of(b, v.name_off), if y.signed { v.val as i32 as i128 } else { v.val as i128 }))
                    .collect();
                self.cmp_enum(d, &at, (x.size, x.signed, &va), (y.size, y.signed, &vb));
            }
            (TypeKind::Enum64(x), TypeKind::Enum64(y)) => {
                let va: Vec<(String, i128)> = x
                    .values
                    .iter()
                    .map(|v| (self.str_of(a, v.name_off), if x.signed { v.val as i64 as i128 } else { v.val as i128 }))
                    .collect();
                let vb: Vec<(String, i128)> = y
                    .values
                    .iter()
                    .map(|v| (self.str_of(b, v.name_off), if y.signed { v.val as i64 as i128 } else { v.val as i128 }))
                    .collect();
                self.cmp_enum(d, &at, (x.size, x.signed, &va), (y.size, y.signed, &vb));
            }
            (TypeKind::Fwd { union: x }, TypeKind::Fwd { union: y }) if x != y => {
                d.changes.push(at(What::FwdUnion { from: *x, to: *y }));
            }
            (TypeKind::Func { proto: x, linkage: la }, TypeKind::Func { proto: y, linkage: lb }) => {
                if la != lb {
                    d.changes.push(at(What::Linkage { from: u32::from(*la), to: u32::from(*lb) }));
                }
                let (px, py) = (r(a, *x), r(b, *y));
                let both_proto = self.kind(px) == Kind::FuncProto && self.kind(py) == Kind::FuncProto;
                if self.cls.get(px as usize) != self.cls.get(py as usize) {
                    if both_proto {
                        d.stack.push((px, py, path.to_string()));
                    } else {
                        self.cmp_ref(d, title, path, Subject::Prototype, "(proto)", px, py);
                    }
                }
            }
            (TypeKind::FuncProto(x), TypeKind::FuncProto(y)) => {
                self.cmp_ref(d, title, path, Subject::Return, "(return)", r(a, x.ret), r(b, y.ret));
                if x.params.len() != y.params.len() {
                    d.changes.push(at(What::Parameters { from: x.params.len(), to: y.params.len() }));
                }
                for (i, (pa, pb)) in x.params.iter().zip(&y.params).enumerate() {
                    let (sa, sb) = (self.str_of(a, pa.name_off), self.str_of(b, pb.name_off));
                    if sa != sb {
                        d.changes.push(at(What::ParamName { index: i + 1, from: sa, to: sb.clone() }));
                    }
                    let subject = Subject::Param { index: i + 1, name: sb };
                    self.cmp_ref(d, title, path, subject, &format!("(param {})", i + 1), r(a, pa.ty), r(b, pb.ty));
                }
            }
            (TypeKind::Var { ty: x, linkage: la }, TypeKind::Var { ty: y, linkage: lb }) => {
                if la != lb {
                    d.changes.push(at(What::Linkage { from: *la, to: *lb }));
                }
                self.cmp_ref(d, title, path, Subject::Type, "(type)", r(a, *x), r(b, *y));
            }
            (TypeKind::Datasec(x), TypeKind::Datasec(y)) => {
                if x.size != y.size {
                    d.changes.push(at(What::Size { from: x.size, to: y.size }));
                }
                let vars = |node: u32, ds: &crate::btf::Datasec| -> BTreeMap<String, (u32, u32, u32)> {
                    let mut m = BTreeMap::new();
                    for v in &ds.vars {
                        let vn = r(node, v.ty);
                        m.entry(self.name(vn)).or_insert((v.offset, v.size, vn));
                    }
                    m
                };
                let (ma, mb) = (vars(a, x), vars(b, y));
                let removed: Vec<String> = ma.keys().filter(|k| !mb.contains_key(*k)).cloned().collect();
                let added: Vec<String> = mb.keys().filter(|k| !ma.contains_key(*k)).cloned().collect();
                if !removed.is_empty() {
                    d.changes.push(at(What::VarsRemoved { names: removed }));
                }
                if !added.is_empty() {
                    d.changes.push(at(What::VarsAdded { names: added }));
                }
                for (n, (oa, sa, va)) in &ma {
                    let Some((ob, sb, vb)) = mb.get(n) else { continue };
                    if oa != ob {
                        d.changes.push(at(What::VarOffset { name: n.clone(), from: *oa, to: *ob }));
                    }
                    if sa != sb {
                        d.changes.push(at(What::VarSize { name: n.clone(), from: *sa, to: *sb }));
                    }
                    if self.cls.get(*va as usize) != self.cls.get(*vb as usize) {
                        d.via.push(Via { at: format!("{title}{path}"), what: ViaWhat::Var { name: n.clone() } });
                    }
                }
            }
            (
                TypeKind::DeclTag { ty: x, component_idx: ca, .. },
                TypeKind::DeclTag { ty: y, component_idx: cb, .. },
            ) => {
                if ca != cb {
                    d.changes.push(at(What::Component { from: *ca, to: *cb }));
                }
                self.cmp_ref(d, title, path, Subject::Target, "(target)", r(a, *x), r(b, *y));
            }
            _ => {}
        }
        if ta.kflag() != tb.kflag() && matches!(ta.kind, TypeKind::DeclTag { .. } | TypeKind::TypeTag { .. }) {
            d.changes.push(at(What::AttributeFlag { from: ta.kflag(), to: tb.kflag() }));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn cmp_member(
        &self,
        d: &mut Desc,
        title: &str,
        path: &str,
        member: MemberRef,
        label: &str,
        (a, x, ma): (u32, &crate::btf::Composite, &crate::btf::Member),
        (b, y, mb): (u32, &crate::btf::Composite, &crate::btf::Member),
    ) {
        let (oa, ob) = (x.bit_offset(ma), y.bit_offset(mb));
        if oa != ob {
            let what = What::MemberOffset { member: member.clone(), from: oa, to: ob };
            d.changes.push(Change { at: format!("{title}{path}"), what });
        }
        let (ba, bb) = (x.bitfield_size(ma), y.bitfield_size(mb));
        if ba != bb {
            let what = What::BitfieldSize { member: member.clone(), from: ba, to: bb };
            d.changes.push(Change { at: format!("{title}{path}"), what });
        }
        let (ra, rb) = (self.ref_node(a, ma.ty), self.ref_node(b, mb.ty));
        self.cmp_ref(d, title, path, Subject::Member(member), label, ra, rb);
    }

    fn cmp_enum(
        &self,
        d: &mut Desc,
        at: &dyn Fn(What) -> Change,
        (sa, ga, va): (u32, bool, &[(String, i128)]),
        (sb, gb, vb): (u32, bool, &[(String, i128)]),
    ) {
        if sa != sb {
            d.changes.push(at(What::Size { from: sa, to: sb }));
        }
        if ga != gb {
            d.changes.push(at(What::Signedness { from: ga, to: gb }));
        }
        let mb: FxMap<&str, i128> = vb.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let ma: FxMap<&str, i128> = va.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        for (n, v) in va {
            match mb.get(n.as_str()) {
                None => d.changes.push(at(What::EnumValueRemoved { name: n.clone() })),
                Some(w) if w != v => d.changes.push(at(What::EnumValueChanged { name: n.clone(), from: *v, to: *w })),
                _ => {}
            }
        }
        for (n, v) in vb {
            if !ma.contains_key(n.as_str()) {
                d.changes.push(at(What::EnumValueAdded { name: n.clone(), value: *v }));
            }
        }
        if d.changes.is_empty() {
            let na: Vec<&String> = va.iter().map(|(n, _)| n).collect();
            let nb: Vec<&String> = vb.iter().map(|(n, _)| n).collect();
            if na != nb {
                d.changes.push(at(What::EnumValueOrder));
            }
        }
    }

    // ---- grouping and pairing ----

    /// The classes of `nodes` with their copy counts, sorted by kind, class.
    fn variants(&self, nodes: &[u32]) -> Vec<Var> {
        let mut m: FxMap<u32, Var> = FxMap::default();
        for &n in nodes {
            let c = self.cls[n as usize];
            m.entry(c).and_modify(|v| v.count += 1).or_insert(Var { class: c, rep: n, count: 1 });
        }
        let mut v: Vec<Var> = m.into_values().collect();
        v.sort_by_key(|x| (self.kind(x.rep), x.rep));
        v
    }

    /// Compares one group (a name, or an anonymous description) and adds
    /// its entries to the report.
    fn group(&self, rep: &mut Report, a_nodes: &[u32], b_nodes: &[u32], named: bool) {
        let va = self.variants(a_nodes);
        let vb = self.variants(b_nodes);
        let in_b: FxMap<u32, &Var> = vb.iter().map(|v| (v.class, v)).collect();
        let in_a: FxMap<u32, &Var> = va.iter().map(|v| (v.class, v)).collect();
        let mut ua = Vec::new();
        for v in &va {
            match in_b.get(&v.class) {
                Some(w) => {
                    if w.count != v.count {
                        let d = Dup {
                            kind: self.kind(v.rep),
                            title: self.title(v.rep),
                            count_a: v.count,
                            count_b: w.count,
                        };
                        if named { rep.duplicates.push(d) } else { rep.anon_duplicates.push(d) }
                    }
                }
                None => ua.push(*v),
            }
        }
        let mut ub: Vec<Var> = vb.iter().filter(|v| !in_a.contains_key(&v.class)).copied().collect();
        let matched: Vec<&Var> = va.iter().filter(|v| in_b.contains_key(&v.class)).collect();

        // Pair unmatched variants: same kind by fewest differences, then any kind.
        let mut pairs: Vec<(Var, Var)> = Vec::new();
        let cheap = ua.len() * ub.len() <= MAX_PAIRING_WORK;
        let mut rest_a = Vec::new();
        if cheap {
            for x in ua {
                let mut best: Option<(usize, (usize, usize))> = None;
                let same_kind = ub.iter().filter(|y| self.kind(y.rep) == self.kind(x.rep)).count();
                for (j, y) in ub.iter().enumerate() {
                    if self.kind(y.rep) != self.kind(x.rep) {
                        continue;
                    }
                    if same_kind == 1 {
                        best = Some((j, (0, 0)));
                        break;
                    }
                    let (c, v) = self.describe("", x.rep, y.rep);
                    let cost = (c.len(), v.len());
                    if best.is_none_or(|(_, bc)| cost < bc) {
                        best = Some((j, cost));
                    }
                }
                match best {
                    Some((j, _)) => pairs.push((x, ub.remove(j))),
                    None => rest_a.push(x),
                }
            }
        } else {
            // Many variants: pair in order within each kind (linear).
            let mut buckets: BTreeMap<Kind, Vec<Var>> = BTreeMap::new();
            for y in ub.drain(..).rev() {
                buckets.entry(self.kind(y.rep)).or_default().push(y);
            }
            for x in ua {
                match buckets.get_mut(&self.kind(x.rep)).and_then(|b| b.pop()) {
                    Some(y) => pairs.push((x, y)),
                    None => rest_a.push(x),
                }
            }
            ub = buckets.into_values().flat_map(|b| b.into_iter().rev()).collect();
        }
        let mut only_a = Vec::new();
        ub.reverse();
        for x in rest_a {
            match if named { ub.pop() } else { None } {
                Some(y) => pairs.push((x, y)),
                None => only_a.push(x),
            }
        }
        ub.reverse();
        for (x, y) in pairs {
            let title = self.title(x.rep);
            let (changes, via) = self.describe(&title, x.rep, y.rep);
            rep.changed.push(Changed {
                title,
                kind_a: self.kind(x.rep),
                kind_b: self.kind(y.rep),
                count_a: x.count,
                count_b: y.count,
                changes,
                via,
            });
        }
        let similar = |v: &Var, side: Side| -> Option<u32> {
            matched.iter().find(|m| self.kind(m.rep) == self.kind(v.rep)).map(|m| {
                // m.rep is A's representative; find B's for describing a B entry.
                match side {
                    Side::B => in_b.get(&m.class).map_or(m.rep, |w| w.rep),
                    _ => m.rep,
                }
            })
        };
        for (list, side) in [(only_a, Side::A), (ub, Side::B)] {
            for v in list {
                let title = self.title(v.rep);
                let changes = match similar(&v, side).filter(|_| self.kind(v.rep) != Kind::Datasec) {
                    Some(other) if side == Side::A => self.describe(&title, v.rep, other).0,
                    Some(other) => self.describe(&title, other, v.rep).0,
                    None => Vec::new(),
                };
                let e = Entry { kind: self.kind(v.rep), title, count: v.count, changes };
                if side == Side::A { rep.only_a.push(e) } else { rep.only_b.push(e) }
            }
        }
    }
}

/// Builds the report from the classes.
pub(crate) fn build(u: &Universe, g: &Graph, cls: &[u32]) -> Report {
    let n = u.len();
    let ncls = cls.iter().copied().max().unwrap_or(0) as usize + 1;
    let mut ca = vec![0u32; ncls];
    let mut cb = vec![0u32; ncls];
    for node in 1..n as u32 {
        match u.side(node) {
            Side::A => ca[cls[node as usize] as usize] += 1,
            Side::B => cb[cls[node as usize] as usize] += 1,
            Side::Void => {}
        }
    }
    let classes = (0..ncls).filter(|&c| ca[c] + cb[c] > 0).count() as u32;
    let mut rep = Report { equivalent: ca == cb, types_a: u.na - 1, types_b: u.nb - 1, classes, ..Default::default() };
    if rep.equivalent {
        return rep;
    }
    let ctx = Ctx { u, cls };
    let differs = |node: u32| {
        let c = cls[node as usize] as usize;
        ca[c] != cb[c]
    };

    // Named types: groups (by name) that hold a differing class.
    let mut gid: FxMap<Cow<[u8]>, u32> = FxMap::with_capacity_and_hasher(n, Default::default());
    let mut groups: Vec<(Vec<u32>, Vec<u32>, bool)> = Vec::new();
    let mut keys: Vec<Cow<[u8]>> = Vec::new();
    for node in 1..n as u32 {
        if !ctx.is_named(node) {
            continue;
        }
        let k = ctx.group_key(node);
        let g = match gid.get(&k) {
            Some(&g) => g,
            None => {
                let g = groups.len() as u32;
                gid.insert(k.clone(), g);
                keys.push(k);
                groups.push((Vec::new(), Vec::new(), false));
                g
            }
        };
        let e = &mut groups[g as usize];
        e.2 |= differs(node);
        if u.side(node) == Side::A { e.0.push(node) } else { e.1.push(node) }
    }
    let mut order: Vec<usize> = (0..groups.len()).filter(|&g| groups[g].2).collect();
    order.sort_by(|&x, &y| keys[x].cmp(&keys[y]));
    for g in order {
        let (a_nodes, b_nodes, _) = &groups[g];
        ctx.group(&mut rep, a_nodes, b_nodes, true);
    }

    // Anonymous types: roots (referenced by nothing) are described on their
    // own; the others are covered by whatever references them.
    let mut indeg = vec![false; n];
    for &t in &g.succ {
        indeg[t as usize] = true;
    }
    let mut anon_groups: BTreeMap<String, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
    let mut anon_dup_classes: BTreeMap<u32, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
    for node in 1..n as u32 {
        if ctx.is_named(node) || ctx.ty(node).is_none() {
            continue;
        }
        let c = cls[node as usize] as usize;
        if ca[c] == cb[c] {
            continue;
        }
        let both = ca[c] > 0 && cb[c] > 0;
        if both {
            // Present on both sides with different counts.
            let e = anon_dup_classes.entry(c as u32).or_default();
            if u.side(node) == Side::A { e.0.push(node) } else { e.1.push(node) }
        } else if !indeg[node as usize] {
            let e = anon_groups.entry(ctx.title(node)).or_default();
            if u.side(node) == Side::A { e.0.push(node) } else { e.1.push(node) }
        } else {
            rep.anon_covered += 1;
        }
    }
    for (a_nodes, b_nodes) in anon_groups.values() {
        ctx.group(&mut rep, a_nodes, b_nodes, false);
    }
    for (a_nodes, b_nodes) in anon_dup_classes.values() {
        ctx.group(&mut rep, a_nodes, b_nodes, false);
    }
    rep.only_a.sort_by(|x, y| x.title.cmp(&y.title));
    rep.only_b.sort_by(|x, y| x.title.cmp(&y.title));
    rep.changed.sort_by(|x, y| x.title.cmp(&y.title));
    rep.duplicates.sort_by(|x, y| x.title.cmp(&y.title));
    rep.anon_duplicates.sort_by(|x, y| x.title.cmp(&y.title));
    rep
}

/// Text output: at most this many lines per section of anonymous duplicates
/// and of changes through referenced types.
const TEXT_CAP: usize = 50;

fn kinds_line(kinds: impl Iterator<Item = Kind>) -> String {
    let mut m: BTreeMap<Kind, u32> = BTreeMap::new();
    for k in kinds {
        *m.entry(k).or_default() += 1;
    }
    m.iter().map(|(k, n)| format!("{n} {}", k.name())).collect::<Vec<_>>().join(", ")
}

impl Report {
    /// Changed types whose own structure changed / that differ only through references.
    pub fn direct_count(&self) -> usize {
        self.changed.iter().filter(|c| c.is_direct()).count()
    }

    /// Every change (of changed types, then of one-sided variants).
    pub fn all_changes(&self) -> impl Iterator<Item = &Change> {
        self.changed
            .iter()
            .flat_map(|c| c.changes.iter())
            .chain(self.only_a.iter().chain(&self.only_b).flat_map(|e| e.changes.iter()))
    }

    /// Every reference through which a changed type differs.
    pub fn all_via(&self) -> impl Iterator<Item = &Via> {
        self.changed.iter().flat_map(|c| c.via.iter())
    }

    /// Every description line as the text report prints it (changes, then
    /// references), for searching.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.changed
            .iter()
            .flat_map(|c| c.changes.iter().map(Change::to_string).chain(c.via.iter().map(Via::to_string)))
            .chain(self.only_a.iter().chain(&self.only_b).flat_map(|e| e.changes.iter().map(Change::to_string)))
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let direct = self.direct_count();
        format!(
            "summary: A {} types, B {} types, {} structural classes: {} only in A, {} only in B, \
             {} changed ({} directly, {} only through referenced types), {} duplicate counts differ, \
             {} anonymous duplicate counts differ, {} anonymous types differ inside the above: {}",
            self.types_a,
            self.types_b,
            self.classes,
            self.only_a.len(),
            self.only_b.len(),
            self.changed.len(),
            direct,
            self.changed.len() - direct,
            self.duplicates.len(),
            self.anon_duplicates.len(),
            self.anon_covered,
            if self.equivalent { "EQUIVALENT" } else { "DIFFERENT" }
        )
    }

    /// Human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let count = |n: u32| if n > 1 { format!(" (×{n})") } else { String::new() };
        for (label, list) in [("only in A", &self.only_a), ("only in B", &self.only_b)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{label} ({}: {}):", list.len(), kinds_line(list.iter().map(|e| e.kind)));
            let mut i = 0;
            while i < list.len() {
                let e = &list[i];
                // Same-titled variants without a description: one line.
                let mut j = i + 1;
                while j < list.len() && list[j].title == e.title && e.changes.is_empty() && list[j].changes.is_empty() {
                    j += 1;
                }
                if j - i > 1 {
                    let copies: u32 = list[i..j].iter().map(|e| e.count).sum();
                    let _ = writeln!(s, "  {} ({} distinct variants, {copies} types)", e.title, j - i);
                    i = j;
                    continue;
                }
                let _ = writeln!(s, "  {}{}", e.title, count(e.count));
                for c in &e.changes {
                    let _ = writeln!(s, "      differs from the matching one: {c}");
                }
                i += 1;
            }
        }
        let direct: Vec<&Changed> = self.changed.iter().filter(|c| c.is_direct()).collect();
        if !direct.is_empty() {
            let _ = writeln!(s, "changed ({}: {}):", direct.len(), kinds_line(direct.iter().map(|c| c.kind_a)));
            for c in &direct {
                if c.count_a != 1 || c.count_b != 1 {
                    let _ = writeln!(s, "  {}: {} in A, {} in B", c.title, c.count_a, c.count_b);
                }
                for l in &c.changes {
                    let _ = writeln!(s, "  {l}");
                }
            }
        }
        let via: Vec<&Changed> = self.changed.iter().filter(|c| !c.is_direct()).collect();
        if !via.is_empty() {
            let _ = writeln!(
                s,
                "changed only through referenced types ({}: {}):",
                via.len(),
                kinds_line(via.iter().map(|c| c.kind_a))
            );
            for c in via.iter().take(TEXT_CAP) {
                let first = c.via.first().map_or_else(String::new, Via::to_string);
                let more = if c.via.len() > 1 { format!(" (+{} more)", c.via.len() - 1) } else { String::new() };
                let _ = writeln!(s, "  {first}{more}");
            }
            if via.len() > TEXT_CAP {
                let _ = writeln!(s, "  ... and {} more (see --format json)", via.len() - TEXT_CAP);
            }
        }
        for (label, list, cap) in [
            ("duplicate counts", &self.duplicates, usize::MAX),
            ("anonymous duplicate counts", &self.anon_duplicates, TEXT_CAP),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{label} ({}):", list.len());
            for d in list.iter().take(cap) {
                let _ = writeln!(s, "  {}: {} in A, {} in B", d.title, d.count_a, d.count_b);
            }
            if list.len() > cap {
                let _ = writeln!(s, "  ... and {} more (see --format json)", list.len() - cap);
            }
        }
        let _ = writeln!(s, "{}", self.summary());
        s
    }

    /// Machine-readable report: one JSON document (compact).
    pub fn to_json(&self) -> String {
        self.json_value().to_string()
    }

    fn json_value(&self) -> Value {
        let lines = |l: &[Change]| -> Vec<String> { l.iter().map(Change::to_string).collect() };
        let entries = |l: &[Entry]| -> Value {
            l.iter()
                .map(|e| json!({"kind": e.kind.name(), "title": e.title, "count": e.count, "changes": lines(&e.changes)}))
                .collect()
        };
        let dups = |l: &[Dup]| -> Value {
            l.iter()
                .map(|d| json!({"kind": d.kind.name(), "title": d.title, "count_a": d.count_a, "count_b": d.count_b}))
                .collect()
        };
        let changed: Value = self
            .changed
            .iter()
            .map(|c| {
                json!({
                    "title": c.title,
                    "kind_a": c.kind_a.name(),
                    "kind_b": c.kind_b.name(),
                    "count_a": c.count_a,
                    "count_b": c.count_b,
                    "direct": c.is_direct(),
                    "changes": lines(&c.changes),
                    "via": c.via.iter().map(Via::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let direct = self.direct_count();
        json!({
            "equivalent": self.equivalent,
            "summary": {
                "types_a": self.types_a,
                "types_b": self.types_b,
                "classes": self.classes,
                "only_in_a": self.only_a.len(),
                "only_in_b": self.only_b.len(),
                "changed": self.changed.len(),
                "changed_directly": direct,
                "changed_via_references": self.changed.len() - direct,
                "duplicate_counts": self.duplicates.len(),
                "anonymous_duplicate_counts": self.anon_duplicates.len(),
                "anonymous_covered": self.anon_covered,
            },
            "only_in_a": entries(&self.only_a),
            "only_in_b": entries(&self.only_b),
            "changed": changed,
            "duplicates": dups(&self.duplicates),
            "anonymous_duplicates": dups(&self.anon_duplicates),
        })
    }
}
