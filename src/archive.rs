//! BTF archives: concatenated BTF blobs (see issue #4). Not implemented yet.
