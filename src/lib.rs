//! btfkit: read, validate, write, deduplicate, dump and compare BPF Type
//! Format (BTF) data.
//!
//! Data flows one way: bytes ([`input`], [`elf`]) → validated model
//! ([`parse`] → [`Btf`]) → transformations → bytes ([`write`](mod@write)) or text
//! ([`dump`]).

#![deny(missing_docs)]

pub mod archive;
pub mod btf;
pub mod dedup;
pub mod diff;
pub mod dump;
pub mod elf;
pub mod error;
pub mod feed;
pub mod input;
pub mod kernel;
pub mod output;
pub mod parse;
pub mod stat;
pub mod validate;
pub mod write;

pub use btf::{Btf, Kind, StrOff, Type, TypeId, TypeKind};
pub use error::{Error, Result};

// The README's code blocks are compiled as doctests (`cargo test --doc`), so
// its library section cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
