//! Names (libbpf btf_dump.c's name resolution: `___N` suffixes for clashes,
//! in the tag and the identifier namespaces).

use super::*;

impl<'a> Dumper<'a> {
    pub(super) fn name_dups(map: &mut HashMap<&'a [u8], usize, Fnv>, name: &'a [u8]) -> usize {
        let e = map.entry(name).or_insert(0);
        *e += 1;
        *e
    }

    pub(super) fn resolve_name(&mut self, id: u32, ident: bool) -> Name<'a> {
        let Some(t) = self.t(id) else { return Name::Orig(b"") };
        if t.name_off.is_empty() {
            return Name::Orig(b"");
        }
        let orig = self.name(t.name_off);
        let s = self.state(id);
        if s.name_resolved {
            return if self.cached.contains_key(&id) { Name::Cached(id) } else { Name::Orig(orig) };
        }
        let skip = match &t.kind {
            TypeKind::Fwd { .. } => true,
            TypeKind::Enum(e) => e.values.is_empty(),
            _ => false,
        };
        s.name_resolved = true;
        if skip {
            return Name::Orig(orig);
        }
        let map = if ident { &mut self.ident_names } else { &mut self.type_names };
        let dup = Self::name_dups(map, orig);
        if dup > 1 {
            let mut n = orig.to_vec();
            n.extend_from_slice(format!("___{dup}").as_bytes());
            n.truncate(255); // snprintf into char[256]
            self.cached.insert(id, n);
            return Name::Cached(id);
        }
        Name::Orig(orig)
    }

    pub(super) fn name_bytes(&self, n: Name<'a>) -> &[u8] {
        match n {
            Name::Orig(s) => s,
            Name::Cached(id) => self.cached.get(&id).map(|v| &v[..]).unwrap_or(b""),
        }
    }

    pub(super) fn type_name(&mut self, id: u32) -> Vec<u8> {
        let n = self.resolve_name(id, false);
        self.name_bytes(n).to_vec()
    }

    pub(super) fn push_name(&mut self, n: Name<'a>) {
        match n {
            Name::Orig(s) => self.out.extend_from_slice(s),
            Name::Cached(id) => {
                if let Some(v) = self.cached.get(&id) {
                    self.out.extend_from_slice(v);
                }
            }
        }
    }

    pub(super) fn emit_type_name(&mut self, id: u32) {
        let n = self.resolve_name(id, false);
        self.push_name(n);
    }

    pub(super) fn emit_ident_name(&mut self, id: u32) {
        let n = self.resolve_name(id, true);
        self.push_name(n);
    }

    pub(super) fn is_blacklisted(&self, id: u32) -> bool {
        match self.t(id) {
            Some(t) if !t.name_off.is_empty() => self.name(t.name_off) == b"__builtin_va_list",
            _ => false,
        }
    }
}
