//! Model files: `model.safetensors` (tensors) + `config.json` (everything else), and import of
//! models saved by Python BERTopic.
