//! Class-based TF-IDF exactly as BERTopic's `ClassTfidfTransformer`.
