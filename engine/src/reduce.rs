//! Topic reduction: `nr_topics = auto | N`.
