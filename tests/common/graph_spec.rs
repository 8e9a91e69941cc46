//! Random "compilation units" for property tests: a list of [`Spec`]s, each
//! read as one type of the unit by the test's own `add_unit`.
//! Include with `#[path = "common/graph_spec.rs"] mod graph_spec;`.
#![allow(dead_code)]

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
