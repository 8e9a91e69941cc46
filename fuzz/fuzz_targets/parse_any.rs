//! Shared by several targets (`#[path = "parse_any.rs"] mod parse_any;`).

/// Parses at the libbpf validation level (a superset of the kernel level),
/// or at the kernel level for what only it accepts.
pub fn parse_any(data: &[u8]) -> btfkit::Result<btfkit::Btf> {
    let opts = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Libbpf);
    btfkit::parse::parse_with(data, &opts).map(|(b, _)| b).or_else(|_| {
        let kernel = btfkit::parse::ParseOptions::new().with_validation(btfkit::parse::Validation::Kernel);
        btfkit::parse::parse_with(data, &kernel).map(|(b, _)| b)
    })
}
