#!/usr/bin/env python3
"""A plain numpy reference encoder of all-MiniLM-L6-v2, the baseline for issue 5.

    numpy_encoder.py [--model models/all-MiniLM-L6-v2] [--data DIR] [--n 2000]
                     [--batch-size 64] [--repeats 3] [--max-tokens 256]

Reads model.safetensors with `safetensors.numpy`, tokenises with the `tokenizers` package and the
model's tokenizer.json (truncation at --max-tokens), and runs the standard BERT forward pass in
float32: batches of --batch-size texts in input order, each padded to its longest text, with the
attention mask; mean pooling over the mask, L2 normalisation -- what sentence-transformers does.
Matrix products go through numpy's BLAS (whatever thread count it uses by default).

Encodes the first 64 texts as a warm-up (as encode_bench does), then the first --n CLINC150 texts
--repeats times, and prints sentences/s per pass (wall clock, and per second of process CPU
time, all threads) and the median, then min / mean cosine against clinc150.npy
(sentence-transformers' embeddings of the same texts). BLAS threads: numpy's default; set
OPENBLAS_NUM_THREADS=1 to pin one.

Needs numpy, tokenizers and safetensors (benches/python/requirements.txt).
"""

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def find_data_dir(explicit):
    candidates = [explicit] if explicit else []
    shared = os.environ.get("TOPICD_SHARED_DIR")
    if shared:
        candidates.append(os.path.join(shared, "datasets", "clinc150"))
    here = os.path.dirname(os.path.abspath(__file__))
    candidates += [
        os.path.join(here, "..", "..", "..", "shared", "datasets", "clinc150"),
        "/work/shared/datasets/clinc150",
    ]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "clinc150.jsonl")):
            return c
    raise SystemExit("CLINC150 not found (give --data DIR holding clinc150.jsonl / clinc150.npy)")


def erf(x):
    """erf in numpy (which has none): Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, below float32
    resolution of the GELU output. Vectorised, so the reference is not slowed by a Python loop."""
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = (
        (((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
         - np.float32(0.284496736)) * t
        + np.float32(0.254829592)
    ) * t
    return s * (1.0 - poly * np.exp(-a * a))


ERF_IMPL = "Abramowitz-Stegun 7.1.26"


def gelu(x):
    """BERT's "gelu": the exact erf form."""
    return 0.5 * x * (1.0 + erf(x * np.float32(1.0 / math.sqrt(2.0))))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class NumpyBert:
    def __init__(self, model_dir, max_tokens):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.h = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.layers = cfg["num_hidden_layers"]
        self.eps = np.float32(cfg.get("layer_norm_eps", 1e-12))
        assert self.h % self.heads == 0
        self.dh = self.h // self.heads
        w = load_file(os.path.join(model_dir, "model.safetensors"))
        # Some exports prefix every name with "bert.".
        w = {k[5:] if k.startswith("bert.") else k: v.astype(np.float32) for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.pos = w["embeddings.position_embeddings.weight"]
        self.typ = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            g = lambda n: w[p + n]  # noqa: E731
            self.blocks.append(
                dict(
                    # torch Linear stores (out, in); keep x @ W.T as torch does.
                    q=(g("attention.self.query.weight").T.copy(), g("attention.self.query.bias")),
                    k=(g("attention.self.key.weight").T.copy(), g("attention.self.key.bias")),
                    v=(g("attention.self.value.weight").T.copy(), g("attention.self.value.bias")),
                    o=(g("attention.output.dense.weight").T.copy(), g("attention.output.dense.bias")),
                    ln1=(g("attention.output.LayerNorm.weight"), g("attention.output.LayerNorm.bias")),
                    i=(g("intermediate.dense.weight").T.copy(), g("intermediate.dense.bias")),
                    out=(g("output.dense.weight").T.copy(), g("output.dense.bias")),
                    ln2=(g("output.LayerNorm.weight"), g("output.LayerNorm.bias")),
                )
            )
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.enable_truncation(max_length=min(max_tokens, cfg.get("max_position_embeddings", 512)))
        self.tok.no_padding()

    def forward(self, ids, mask):
        """Hidden states (b, t, h) of a padded batch. Linear layers run as one 2-D matrix product
        over all b*t rows (faster in numpy than b stacked products)."""
        b, t = ids.shape
        n, h = b * t, self.h
        x = self.word[ids.reshape(-1)] + np.tile(self.pos[:t], (b, 1)) + self.typ[0]
        x = layer_norm(x, *self.emb_ln, self.eps)
        # Additive mask: 0 for tokens, a large negative for padding (as transformers does).
        add_mask = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        scale = np.float32(1.0 / math.sqrt(self.dh))
        for blk in self.blocks:
            def heads(y):
                return y.reshape(b, t, self.heads, self.dh).transpose(0, 2, 1, 3)

            q = heads(x @ blk["q"][0] + blk["q"][1])
            k = heads(x @ blk["k"][0] + blk["k"][1])
            v = heads(x @ blk["v"][0] + blk["v"][1])
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + add_mask
            s = s - s.max(-1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(-1, keepdims=True)
            ctx = (p @ v).transpose(0, 2, 1, 3).reshape(n, h)
            x = layer_norm(ctx @ blk["o"][0] + blk["o"][1] + x, *blk["ln1"], self.eps)
            inter = gelu(x @ blk["i"][0] + blk["i"][1])
            x = layer_norm(inter @ blk["out"][0] + blk["out"][1] + x, *blk["ln2"], self.eps)
        return x.reshape(b, t, h)

    def encode(self, texts, batch_size):
        out = np.empty((len(texts), self.h), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            encs = self.tok.encode_batch(texts[start : start + batch_size])
            t = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), t), dtype=np.int64)
            mask = np.zeros((len(encs), t), dtype=np.int64)
            for r, e in enumerate(encs):
                ids[r, : len(e.ids)] = e.ids
                mask[r, : len(e.ids)] = 1
            hidden = self.forward(ids, mask)
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[start : start + len(encs)] = pooled / norms
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
    ap.add_argument("--data", default=None, help="directory with clinc150.jsonl / clinc150.npy")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=256)
    args = ap.parse_args()
    if args.n <= 0 or args.repeats <= 0 or args.batch_size <= 0:
        raise SystemExit("--n, --repeats and --batch-size must be positive")

    data = find_data_dir(args.data)
    texts = []
    with open(os.path.join(data, "clinc150.jsonl")) as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if len(texts) == args.n:
                break
    ref = np.load(os.path.join(data, "clinc150.npy"), mmap_mode="r")[: len(texts)]

    t0 = time.perf_counter()
    model = NumpyBert(args.model, args.max_tokens)
    load_s = time.perf_counter() - t0
    print(
        f"numpy encoder ({np.__version__}, erf: {ERF_IMPL}) {args.model}: dim {model.h}, "
        f"loaded in {load_s:.2f} s; {len(texts)} texts, batch {args.batch_size}"
    )
    model.encode(texts[:64], args.batch_size)  # warm-up
    rates, cpu_rates = [], []
    emb = None
    for r in range(args.repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        emb = model.encode(texts, args.batch_size)
        s, cpu = time.perf_counter() - t0, time.process_time() - c0
        rates.append(len(texts) / s)
        cpu_rates.append(len(texts) / cpu)
        print(
            f"  pass {r + 1}: {s:.2f} s, {rates[-1]:.0f} sentences/s; {cpu:.2f} CPU s, "
            f"{cpu_rates[-1]:.0f} sentences per CPU s"
        )
    print(
        f"median: {statistics.median(rates):.0f} sentences/s "
        f"({statistics.median(cpu_rates):.0f} sentences per CPU second)"
    )
    cos = (emb * np.asarray(ref, dtype=np.float32)).sum(1) / (
        np.linalg.norm(emb, axis=1) * np.linalg.norm(ref, axis=1)
    )
    print(f"cosine to the reference embeddings: min {cos.min():.6f}, mean {cos.mean():.6f}")


if __name__ == "__main__":
    main()
