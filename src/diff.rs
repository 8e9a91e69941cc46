//! Semantic comparison of two BTFs (issue #6). Not implemented yet.
