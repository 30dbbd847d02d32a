//! Conformance checks, group B: segments (S), the Tasks section (P), the record (R),
//! batches (X3), notices (N1, N2) and the live stream (B1).
