//! Tokenisation and term counting as BERTopic's `CountVectorizer(stop_words="english")`.
