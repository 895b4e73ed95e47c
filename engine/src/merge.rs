//! Merging a day model into a long-lived model with stable topic ids.
