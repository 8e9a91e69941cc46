//! Summary statistics of a BTF (`btfkit stat`).

use crate::btf::{Btf, Kind};

/// Counts and sizes of one BTF (own types only for split BTF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Id of the first own type (1 for standalone BTF).
    pub start_id: crate::btf::TypeId,
    /// Number of own types (not counting `void`).
    pub types: usize,
    /// Count per kind number (index 0 unused).
    pub per_kind: [usize; 20],
    /// Header length in bytes.
    pub hdr_len: u32,
    /// Size of the type section in bytes, as it would be written.
    pub type_bytes: usize,
    /// Size of the string section in bytes.
    pub str_bytes: usize,
    /// Number of strings (NUL bytes), counting the leading empty string.
    pub strings: usize,
    /// Entries in the kind-layout section (0 when absent).
    pub layout_entries: usize,
    /// True for split BTF (it has a base).
    pub split: bool,
}

impl Stats {
    /// Computes the statistics of `btf`.
    pub fn of(btf: &Btf) -> Stats {
        let mut per_kind = [0usize; 20];
        for t in btf.types() {
            per_kind[t.kind() as usize] += 1;
        }
        let s = btf.strings().as_bytes();
        Stats {
            start_id: btf.start_id(),
            types: btf.types().len(),
            per_kind,
            hdr_len: btf.hdr_len(),
            type_bytes: btf.type_section_len(),
            str_bytes: s.len(),
            strings: s.iter().filter(|&&b| b == 0).count(),
            layout_entries: btf.layout().map_or(0, |l| l.len()),
            split: btf.base().is_some(),
        }
    }

    /// Human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        use std::fmt::Write;
        let last = self.start_id.0 as usize + self.types - 1;
        let _ = writeln!(
            s,
            "types: {} (ids {}..{}){}",
            self.types,
            self.start_id,
            last,
            if self.split { ", split BTF" } else { "" }
        );
        for k in Kind::ALL.iter().skip(1) {
            let n = self.per_kind[*k as usize];
            if n != 0 {
                let _ = writeln!(s, "  {:<11} {n}", k.name());
            }
        }
        let _ = writeln!(s, "header: {} bytes", self.hdr_len);
        let _ = writeln!(s, "type section: {} bytes", self.type_bytes);
        if self.layout_entries != 0 {
            let _ = writeln!(s, "layout section: {} entries", self.layout_entries);
        }
        let _ = writeln!(s, "string section: {} bytes, {} strings", self.str_bytes, self.strings);
        s
    }

    /// JSON report: one JSON document (compact).
    pub fn to_json(&self) -> String {
        self.json_value().to_string()
    }

    fn json_value(&self) -> serde_json::Value {
        let kinds: serde_json::Map<String, serde_json::Value> =
            Kind::ALL.iter().skip(1).map(|k| (k.name().to_string(), self.per_kind[*k as usize].into())).collect();
        serde_json::json!({
            "types": self.types,
            "start_id": self.start_id.0,
            "split": self.split,
            "kinds": kinds,
            "hdr_len": self.hdr_len,
            "type_bytes": self.type_bytes,
            "layout_entries": self.layout_entries,
            "str_bytes": self.str_bytes,
            "strings": self.strings,
        })
    }
}
