//! Merge (append) and deduplication, byte-identical to libbpf (issue #3). Not implemented yet.
