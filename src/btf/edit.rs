//! Removing types from a [`Btf`] and renumbering the rest.
//!
//! Used by transformations that drop types after a dedup (for example
//! [`crate::kernel`], which removes per-object DATASECs, duplicate VARs and
//! FUNCs): the kept types keep their order, their ids close up, and every
//! reference is rewritten.

use std::collections::HashMap;

use super::{Btf, TypeId};
use crate::error::{Error, Result};

impl Btf {
    /// Removes the own types listed in `remove` (ids of the base, if any, and
    /// void cannot be removed) and renumbers the others, keeping their order.
    ///
    /// A reference to a removed type is rewritten to `replace[id]` when that
    /// exists (the replacement must itself be kept, or void, or a base type);
    /// a reference to a removed type without a replacement is an error naming
    /// the referencing type. On error the BTF is unchanged.
    ///
    /// Returns the new id of every old own type (`None` for removed ones),
    /// indexed by `old_id - start_id`.
    pub fn remove_types(
        &mut self,
        remove: &[TypeId],
        replace: &HashMap<TypeId, TypeId>,
    ) -> Result<Vec<Option<TypeId>>> {
        let start = self.start_id;
        let n = self.types.len();
        let own = |id: TypeId| -> Option<usize> { (id.0 >= start).then(|| (id.0 - start) as usize).filter(|&i| i < n) };
        let mut removed = vec![false; n];
        for &id in remove {
            match own(id) {
                Some(i) => removed[i] = true,
                None => {
                    return Err(Error::NotOwnType { id });
                }
            }
        }
        // New ids of the kept types.
        let mut map: Vec<Option<TypeId>> = Vec::with_capacity(n);
        let mut next = start;
        for &r in &removed {
            if r {
                map.push(None);
            } else {
                map.push(Some(TypeId(next)));
                next += 1;
            }
        }
        // Where a reference to `id` goes, or None if it has nowhere to go.
        let target = |id: TypeId| -> Option<TypeId> {
            let Some(i) = own(id) else { return Some(id) };
            if let Some(m) = map[i] {
                return Some(m);
            }
            let r = *replace.get(&id)?;
            match own(r) {
                Some(j) => map[j],
                None => Some(r),
            }
        };
        // Check every reference of a kept type before changing anything.
        for (i, t) in self.types.iter().enumerate() {
            if removed[i] {
                continue;
            }
            let mut bad = None;
            t.for_each_ref(|r| {
                if bad.is_none() && target(r).is_none() {
                    bad = Some(r);
                }
            });
            if let Some(r) = bad {
                return Err(Error::RemovedTarget { id: TypeId(start + i as u32), target: r });
            }
        }
        let old = std::mem::take(self.types_mut());
        let mut kept = Vec::with_capacity(next.saturating_sub(start) as usize);
        for (i, mut t) in old.into_iter().enumerate() {
            if removed[i] {
                continue;
            }
            t.for_each_ref_mut(|r| {
                // Checked above: every reference has a target.
                if let Some(new) = target(*r) {
                    *r = new;
                }
            });
            kept.push(t);
        }
        self.types = kept;
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::TypeKind;

    fn sample() -> Btf {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 1).unwrap(); // 1
        let p = b.add_ptr(int).unwrap(); // 2
        let proto = b.add_func_proto(int).unwrap(); // 3
        b.add_param("x", p).unwrap();
        b.add_func("f", 1, proto).unwrap(); // 4
        let dup = b.add_int("int", 4, 1).unwrap(); // 5
        b.add_ptr(dup).unwrap(); // 6
        b
    }

    #[test]
    fn removes_and_renumbers() {
        let mut b = sample();
        let map = b.remove_types(&[TypeId(2)], &HashMap::from([(TypeId(2), TypeId(6))])).unwrap();
        assert_eq!(
            map,
            vec![Some(TypeId(1)), None, Some(TypeId(2)), Some(TypeId(3)), Some(TypeId(4)), Some(TypeId(5))]
        );
        assert_eq!(b.type_count(), 6);
        // The proto's parameter pointed at [2]; it now points at old [6], new [5].
        let TypeKind::FuncProto(fp) = &b.types()[1].kind else { panic!() };
        assert_eq!(fp.params[0].ty, TypeId(5));
        assert_eq!(fp.ret, TypeId(1));
        assert_eq!(b.types()[2].kind, TypeKind::Func { proto: TypeId(2), linkage: 1 });
        assert_eq!(b.types()[4].kind, TypeKind::Ptr(TypeId(4)));
    }

    #[test]
    fn replacement_that_is_removed_too_is_refused() {
        let mut b = sample();
        let before = b.clone();
        let e = b.remove_types(&[TypeId(2), TypeId(6)], &HashMap::from([(TypeId(2), TypeId(6))])).unwrap_err();
        assert!(e.to_string().contains("type [3] refers to type [2]"), "{e}");
        assert_eq!(b, before, "unchanged on error");
    }

    #[test]
    fn dangling_reference_is_refused_and_out_of_range_ids_too() {
        let mut b = sample();
        assert!(b.remove_types(&[TypeId(3)], &HashMap::new()).is_err(), "FUNC [4] refers to [3]");
        assert!(b.remove_types(&[TypeId(0)], &HashMap::new()).is_err());
        assert!(b.remove_types(&[TypeId(7)], &HashMap::new()).is_err());
        // Removing a FUNC and its proto together is fine; replacing with void too.
        let map = b.remove_types(&[TypeId(3), TypeId(4), TypeId(1)], &HashMap::from([(TypeId(1), TypeId(0))])).unwrap();
        assert_eq!(map[1], Some(TypeId(1)));
        assert_eq!(b.types()[0].kind, TypeKind::Ptr(TypeId(0)));
        assert_eq!(b.type_count(), 4);
    }
}
