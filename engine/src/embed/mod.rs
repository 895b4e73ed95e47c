//! The local sentence encoder (BERT / MiniLM on candle), the offline default embedding provider.
