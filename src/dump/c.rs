//! C header output, byte-identical to bpftool 7.1 `format c` (issue #5). Not implemented yet.
