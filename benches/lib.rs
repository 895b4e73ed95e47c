//! Shared helpers for the benchmarks (data loading from ../shared/datasets).
