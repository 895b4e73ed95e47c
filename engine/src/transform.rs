//! Tagging new documents with a model's active topics (cosine to topic embeddings).
